import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ConditionSchema } from "@corral/api";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pod, rs, T0 } from "../shared/test-fixtures.js";
import { availabilityRecheckMs, planReplicas, replicaSetStatus } from "./logic.js";

describe("ReplicaSet decisions", () => {
  it("creates what is missing and deletes the surplus, least useful pods first, at most a burst at a time", () => {
    const pods = [pod("a", { node: "n", readySince: T0 }), pod("b"), pod("c", { node: "n" })];
    assert.deepEqual(planReplicas(5, pods), { create: 2, delete: [] });
    assert.deepEqual(planReplicas(1, pods).delete.map((p) => p.metadata!.name), ["b", "c"]);
    assert.deepEqual(planReplicas(3, pods), { create: 0, delete: [] });
    assert.equal(planReplicas(2000, []).create, 500);
  });

  it("reports replicas, fully labeled, ready and available (minReadySeconds), and the generation it acted on", () => {
    const r = rs("web", { replicas: 3 });
    r.spec!.minReadySeconds = 10;
    r.metadata!.generation = 4n;
    const pods = [
      pod("a", { labels: { app: "web" }, readySince: T0 }),
      pod("b", { labels: { app: "web" }, readySince: T0 + 8_000 }),
      pod("c", { labels: {} }),
    ];
    const st = replicaSetStatus(r, pods, T0 + 10_000);
    assert.deepEqual([st.replicas, st.fullyLabeledReplicas, st.readyReplicas, st.availableReplicas, st.observedGeneration], [3, 2, 2, 1, 4n]);
    assert.equal(availabilityRecheckMs(r, pods, T0 + 10_000), 8_050, "b becomes available 8 s later");
  });

  it("reports a failed create as ReplicaFailure, and removes it once creates succeed", () => {
    const r = rs("web");
    const failed = replicaSetStatus(r, [], T0, { message: "pods is forbidden: quota", creating: true });
    const c = failed.conditions.find((x) => x.type === "ReplicaFailure")!;
    assert.deepEqual([c.status, c.reason, c.message], ["True", "FailedCreate", "pods is forbidden: quota"]);
    r.status!.conditions = [create(ConditionSchema, { type: "ReplicaFailure", status: "True", reason: "FailedCreate", lastTransitionTime: timestampFromMs(T0) })];
    assert.equal(replicaSetStatus(r, [], T0).conditions.length, 0);
  });
});
