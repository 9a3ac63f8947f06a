import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SchedulerCache } from "../cache.js";
import { CycleState, SKIP } from "../framework/types.js";
import { makeNode, makePod, podInfo, type AffinityTermInit } from "../test-fixtures.js";
import {
  affinityFilter,
  computeAffinityState,
  interPodAffinity,
  REASON_AFFINITY,
  REASON_ANTI_AFFINITY,
  REASON_EXISTING_ANTI_AFFINITY,
} from "./inter-pod-affinity.js";

/** Three nodes: a and b in zone z1, c in zone z2. */
function cluster(): SchedulerCache {
  const c = new SchedulerCache();
  c.setNode(makeNode("a", { labels: { zone: "z1" } }));
  c.setNode(makeNode("b", { labels: { zone: "z1" } }));
  c.setNode(makeNode("c", { labels: { zone: "z2" } }));
  return c;
}

const bind = (c: SchedulerCache, name: string, node: string, o: Parameters<typeof makePod>[1] = {}) => c.addPod(makePod(name, { ...o, nodeName: node }));
const hostname = "kubernetes.io/hostname";
const byApp = (app: string, topologyKey = hostname): AffinityTermInit => ({ labelSelector: { matchLabels: { app } }, topologyKey });

function verdicts(c: SchedulerCache, pod: ReturnType<typeof podInfo>): Record<string, string | undefined> {
  const s = computeAffinityState(pod, c);
  const out: Record<string, string | undefined> = {};
  for (const n of c.nodeInfos()) out[n.name] = s ? (affinityFilter(s, n) as string | undefined) : undefined;
  return out;
}

describe("InterPodAffinity: required anti-affinity", () => {
  it("keeps a pod off nodes holding pods its terms match (hostname topology)", () => {
    const c = cluster();
    bind(c, "web-1", "a", { labels: { app: "web" } });
    const pod = podInfo("web-2", { labels: { app: "web" }, antiAffinity: [byApp("web")] });
    assert.deepEqual(verdicts(c, pod), { a: REASON_ANTI_AFFINITY, b: undefined, c: undefined });
  });

  it("works across a wider topology key (zone)", () => {
    const c = cluster();
    bind(c, "web-1", "a", { labels: { app: "web" } });
    const pod = podInfo("web-2", { labels: { app: "web" }, antiAffinity: [byApp("web", "zone")] });
    assert.deepEqual(verdicts(c, pod), { a: REASON_ANTI_AFFINITY, b: REASON_ANTI_AFFINITY, c: undefined });
  });

  it("only looks in the term's namespaces (the pod's own by default)", () => {
    const c = cluster();
    bind(c, "web-1", "a", { labels: { app: "web" }, namespace: "other" });
    assert.deepEqual(verdicts(c, podInfo("web-2", { antiAffinity: [byApp("web")] })), { a: undefined, b: undefined, c: undefined });
    const inOther = podInfo("web-3", { antiAffinity: [{ ...byApp("web"), namespaces: ["other"] }] });
    assert.equal(verdicts(c, inOther).a, REASON_ANTI_AFFINITY);
  });

  it("is symmetric: an existing pod's anti-affinity keeps matching pods away", () => {
    const c = cluster();
    bind(c, "db-1", "c", { labels: { app: "db" }, antiAffinity: [byApp("web", "zone")] });
    assert.deepEqual(verdicts(c, podInfo("web-1", { labels: { app: "web" } })), { a: undefined, b: undefined, c: REASON_EXISTING_ANTI_AFFINITY });
    assert.equal(computeAffinityState(podInfo("api-1", { labels: { app: "api" } }), c), undefined, "unaffected pods skip the filter");
  });

  it("sees assumed pods, and forgets removed ones", () => {
    const c = cluster();
    c.assume(podInfo("web-1", { labels: { app: "web" } }), "b");
    const pod = podInfo("web-2", { labels: { app: "web" }, antiAffinity: [byApp("web")] });
    assert.equal(verdicts(c, pod).b, REASON_ANTI_AFFINITY);
    c.forget("default/web-1");
    assert.equal(verdicts(c, pod).b, undefined);
  });
});

describe("InterPodAffinity: required affinity", () => {
  it("needs a matching pod in the node's domain", () => {
    const c = cluster();
    bind(c, "cache-1", "c", { labels: { app: "cache" } });
    const pod = podInfo("web-1", { affinity: [byApp("cache", "zone")] });
    assert.deepEqual(verdicts(c, pod), { a: REASON_AFFINITY, b: REASON_AFFINITY, c: undefined });
  });

  it("lets the first pod of a self-affine group go anywhere", () => {
    const c = cluster();
    const pod = podInfo("web-1", { labels: { app: "web" }, affinity: [byApp("web", "zone")] });
    assert.deepEqual(verdicts(c, pod), { a: undefined, b: undefined, c: undefined });
    const other = podInfo("api-1", { labels: { app: "api" }, affinity: [byApp("web", "zone")] });
    assert.deepEqual(verdicts(c, other), { a: REASON_AFFINITY, b: REASON_AFFINITY, c: REASON_AFFINITY });
  });

  it("rejects nodes without the topology label", () => {
    const c = cluster();
    c.setNode(makeNode("bare"));
    bind(c, "cache-1", "a", { labels: { app: "cache" } });
    assert.equal(verdicts(c, podInfo("web-1", { affinity: [byApp("cache", "zone")] })).bare, REASON_AFFINITY);
  });
});

describe("InterPodAffinity plugin", () => {
  it("skips the filter for unconstrained pods", () => {
    assert.equal(interPodAffinity().preFilter!(new CycleState(), podInfo("p"), cluster()), SKIP);
  });
});
