import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { node, pod, T0 } from "../shared/test-fixtures.js";
import { desiredTaints, evictionTimeMs, silentNodeConditions } from "./logic.js";

const keys = (ts: { key: string; effect: string }[]) => ts.map((t) => `${t.key}:${t.effect}`).sort();

describe("node lifecycle", () => {
  it("a silent node's conditions become Unknown (once), keeping their last heartbeat", () => {
    const n = node("n", { ready: "True" });
    n.status!.conditions[0]!.lastHeartbeatTime = timestampFromMs(T0);
    const conds = silentNodeConditions(n, T0 + 30_000)!;
    const r = conds.find((c) => c.type === "Ready")!;
    assert.deepEqual([r.status, r.reason, r.message], ["Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."]);
    assert.equal(r.lastHeartbeatTime!.seconds, timestampFromMs(T0).seconds);
    n.status!.conditions = conds;
    assert.equal(silentNodeConditions(n, T0 + 40_000), undefined, "nothing more to change");
    const never = silentNodeConditions(node("m", { ready: "" }), T0)!;
    assert.equal(never[0]!.reason, "NodeStatusNeverUpdated");
  });
  it("taints follow Ready and the pressure conditions; other taints stay; a kept taint keeps its timeAdded", () => {
    assert.deepEqual(keys(desiredTaints(node("n", { ready: "True" }), T0)), []);
    assert.deepEqual(keys(desiredTaints(node("n", { ready: "False" }), T0)), ["node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/not-ready:NoSchedule"]);
    const unknown = node("n", { ready: "Unknown", taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }, { key: "node.kubernetes.io/not-ready", effect: "NoExecute" }] });
    const t = desiredTaints(unknown, T0);
    assert.deepEqual(keys(t), ["dedicated:NoSchedule", "node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"]);
    assert.equal(t.find((x) => x.effect === "NoExecute")!.timeAdded!.seconds, timestampFromMs(T0).seconds);
    unknown.spec!.taints = t;
    assert.equal(desiredTaints(unknown, T0 + 5_000).find((x) => x.effect === "NoExecute")!.timeAdded!.seconds, timestampFromMs(T0).seconds);
    const pressured = node("n", { unschedulable: true });
    pressured.status!.conditions.push({ $typeName: "corral.v1.NodeCondition", type: "MemoryPressure", status: "True", reason: "", message: "" });
    assert.deepEqual(keys(desiredTaints(pressured, T0)), ["node.kubernetes.io/memory-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule"]);
  });
  it("evicts a pod when its tolerations of the node's NoExecute taints run out", () => {
    const unreachable = [{ $typeName: "corral.v1.Taint" as const, key: "node.kubernetes.io/unreachable", value: "", effect: "NoExecute", timeAdded: timestampFromMs(T0) }];
    const none = () => T0;
    // No toleration for it: the default tolerationSeconds.
    assert.equal(evictionTimeMs(pod("a"), unreachable, 10, none), T0 + 10_000);
    // Its own tolerationSeconds, or for ever without one.
    const tol = (seconds?: bigint) => pod("b", { spec: { tolerations: [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: seconds }] } });
    assert.equal(evictionTimeMs(tol(30n), unreachable, 10, none), T0 + 30_000);
    assert.equal(evictionTimeMs(tol(undefined), unreachable, 10, none), Infinity);
    // Another NoExecute taint it does not tolerate: at once. NoSchedule taints evict nothing.
    const other = [{ $typeName: "corral.v1.Taint" as const, key: "maintenance", value: "", effect: "NoExecute" }];
    assert.equal(evictionTimeMs(pod("c"), other, 10, none), -Infinity);
    assert.equal(evictionTimeMs(pod("c"), [{ ...other[0]!, effect: "NoSchedule" }], 10, none), Infinity);
    // A taint without timeAdded counts from when it was first seen.
    assert.equal(evictionTimeMs(pod("a"), [{ ...unreachable[0]!, timeAdded: undefined }], 10, () => T0 + 1_000), T0 + 11_000);
  });
});
