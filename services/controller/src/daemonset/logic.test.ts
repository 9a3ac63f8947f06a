import { create } from "@bufbuild/protobuf";
import { DaemonSetSchema, type DaemonSet, type Pod } from "@corral/api";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { node, pod, T0 } from "../shared/test-fixtures.js";
import { daemonPodSpec, daemonSetStatus, nodeShouldRunDaemonPod, planManage, planRollingUpdate, REVISION_HASH, targetNode } from "./logic.js";

const ds = (o: { nodeSelector?: Record<string, string>; maxUnavailable?: number; maxSurge?: number; tolerations?: object[] } = {}): DaemonSet =>
  create(DaemonSetSchema, {
    metadata: { name: "agent", namespace: "default", uid: "uid-ds", generation: 2n },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: { metadata: { labels: { app: "agent" } }, spec: { containers: [{ name: "c" }], nodeSelector: o.nodeSelector ?? {}, tolerations: (o.tolerations ?? []) as never } },
      updateStrategy: {
        type: "RollingUpdate",
        rollingUpdate: {
          maxUnavailable: o.maxUnavailable === undefined ? undefined : { value: { case: "intVal", value: o.maxUnavailable } },
          maxSurge: o.maxSurge === undefined ? undefined : { value: { case: "intVal", value: o.maxSurge } },
        },
      },
    },
  });
const dpod = (name: string, nodeName: string, hash: string, ready = true, extra = {}) =>
  pod(name, { node: nodeName, labels: { app: "agent", [REVISION_HASH]: hash }, readySince: ready ? T0 : undefined, created: T0, ...extra });
const byNode = (pods: Pod[]) => {
  const m = new Map<string, Pod[]>();
  for (const p of pods) m.set(targetNode(p)!, [...(m.get(targetNode(p)!) ?? []), p]);
  return m;
};

describe("DaemonSet decisions", () => {
  it("runs on nodes that match and whose taints it tolerates; NoSchedule keeps new pods off, NoExecute removes them", () => {
    assert.deepEqual(nodeShouldRunDaemonPod(node("a"), ds()), { shouldRun: true, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(node("a", { labels: { disk: "hdd" } }), ds({ nodeSelector: { disk: "ssd" } })).shouldRun, false);
    assert.deepEqual(nodeShouldRunDaemonPod(node("a", { taints: [{ key: "x", effect: "NoSchedule" }] }), ds()), { shouldRun: false, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(node("a", { taints: [{ key: "x", effect: "NoExecute" }] }), ds()), { shouldRun: false, shouldContinueRunning: false });
    assert.equal(nodeShouldRunDaemonPod(node("a", { taints: [{ key: "x", effect: "NoSchedule" }] }), ds({ tolerations: [{ key: "x", operator: "Exists" }] })).shouldRun, true);
    // Daemon pods tolerate an unreachable, cordoned or pressured node.
    assert.equal(nodeShouldRunDaemonPod(node("a", { unschedulable: true, taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }, { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }] }), ds()).shouldRun, true);
  });
  it("pins each pod to its node with node affinity, and adds the daemon tolerations", () => {
    const spec = daemonPodSpec(ds(), "n1");
    const term = spec.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!;
    assert.deepEqual(term.matchFields.map((f) => [f.key, f.operator, f.values]), [["metadata.name", "In", ["n1"]]]);
    assert.ok(spec.tolerations.some((t) => t.key === "node.kubernetes.io/not-ready" && t.effect === "NoExecute" && t.operator === "Exists"));
    assert.equal(targetNode(pod("p", { spec })), "n1");
  });
  it("creates where a pod is missing, deletes extra, failed and misplaced ones; waits for a terminating one", () => {
    const nodes = [node("a"), node("b"), node("c"), node("d", { taints: [{ key: "x", effect: "NoExecute" }] }), node("e")];
    const pods = [
      dpod("b1", "b", "h"),
      dpod("b2", "b", "h", true, { created: T0 + 1 }),
      dpod("c1", "c", "h", false, { phase: "Failed" }),
      dpod("d1", "d", "h"),
      dpod("e1", "e", "h", true, { deleting: true }),
    ];
    const plan = planManage(ds(), nodes, byNode(pods), "h", T0);
    assert.deepEqual(plan.create, ["a"]);
    assert.deepEqual(plan.delete.map((p) => p.metadata!.name).sort(), ["b2", "c1", "d1"]);
  });
  it("rolls without surge: old pods go while at most maxUnavailable nodes lack an available pod", () => {
    const nodes = ["a", "b", "c", "d"].map((n) => node(n));
    const d = ds({ maxUnavailable: 2 });
    let plan = planRollingUpdate(d, nodes, byNode(nodes.map((n) => dpod(`old-${n.metadata!.name}`, n.metadata!.name, "old"))), "new", T0);
    assert.equal(plan.delete.length, 2);
    // One node has a new pod not yet ready, one an old pod being deleted: no room left.
    plan = planRollingUpdate(d, nodes, byNode([dpod("n-a", "a", "new", false), dpod("o-b", "b", "old", true, { deleting: true }), dpod("o-c", "c", "old"), dpod("o-d", "d", "old")]), "new", T0);
    assert.deepEqual(plan.delete, []);
    // An old pod that is not available is replaced at once.
    plan = planRollingUpdate(ds({ maxUnavailable: 1 }), nodes, byNode([dpod("n-a", "a", "new", false), dpod("o-b", "b", "old", false), dpod("o-c", "c", "old"), dpod("o-d", "d", "old")]), "new", T0);
    assert.deepEqual(plan.delete.map((p) => p.metadata!.name), ["o-b"]);
  });
  it("rolls with surge: a new pod beside the old one, the old one goes once the new one is available", () => {
    const nodes = ["a", "b", "c"].map((n) => node(n));
    const d = ds({ maxSurge: 1, maxUnavailable: 0 });
    let plan = planRollingUpdate(d, nodes, byNode(nodes.map((n) => dpod(`old-${n.metadata!.name}`, n.metadata!.name, "old"))), "new", T0);
    assert.deepEqual([plan.create.length, plan.delete.length], [1, 0]);
    plan = planRollingUpdate(d, nodes, byNode([dpod("o-a", "a", "old"), dpod("n-a", "a", "new"), dpod("o-b", "b", "old"), dpod("o-c", "c", "old")]), "new", T0);
    assert.deepEqual(plan.delete.map((p) => p.metadata!.name), ["o-a"]);
    assert.deepEqual(plan.create.length, 1);
  });
  it("reports desired, current, ready, available, updated and misscheduled nodes", () => {
    const nodes = [node("a"), node("b"), node("c", { labels: {} })];
    const d = ds({ nodeSelector: {} });
    const st = daemonSetStatus(d, [...nodes, node("x", { taints: [{ key: "k", effect: "NoExecute" }] })], byNode([dpod("a1", "a", "new"), dpod("b1", "b", "old", false), dpod("x1", "x", "new")]), "new", T0);
    assert.deepEqual(
      [st.desiredNumberScheduled, st.currentNumberScheduled, st.numberReady, st.numberAvailable, st.updatedNumberScheduled, st.numberMisscheduled, st.numberUnavailable, st.observedGeneration],
      [3, 2, 1, 1, 1, 1, 2, 2n],
    );
  });
});
