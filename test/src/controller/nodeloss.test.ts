// Losing a node: the real node agent is stopped for good while a Deployment (behind a Service)
// runs there; its pods come back on the other (simulated) node, with the controller manager's
// default timings. Then the agent comes back: the node is Ready again and its stale pods go.
import { create } from "@bufbuild/protobuf";
import { Deployments, EndpointsKind, Nodes, Services, ServiceSchema, type Endpoints, type Node } from "@corral/api";
import { SimulatedNodes } from "@corral/simnode";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Watched } from "../scheduler/until.js";
import { deployment, describePods, isReady, live, log, podsOf, startCluster, TOLERATE_SIMULATED, webSpec, type Cluster } from "./cluster.js";

const NS = "default";

describe("a node lost for good", { timeout: 600_000 }, () => {
  let c: Cluster;
  let sim: SimulatedNodes | undefined;
  let nodes: Watched<Node>;
  let eps: Watched<Endpoints>;

  before(async () => {
    // The controller manager's defaults: 20 s grace, then 10 s of toleration.
    c = await startCluster();
    nodes = await Watched.start(c.clients.for(Nodes));
    eps = await Watched.start(c.clients.for(EndpointsKind), { namespace: NS });
  });
  after(async () => {
    await Promise.allSettled([nodes?.stop(), eps?.stop()]);
    await sim?.stop({ deleteNodes: true });
    await c?.stop();
  });

  const appPods = () => podsOf(c.pods.list(), NS, "survivor");
  const node = (name: string) => nodes.list().find((n) => n.metadata?.name === name);
  const ready = (n: Node | undefined) => n?.status?.conditions.find((x) => x.type === "Ready")?.status;
  const taints = (n: Node | undefined) => (n?.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

  it("its pods come back on the other node in well under a minute, and the Service follows them", async () => {
    await c.clients.for(Deployments).create(deployment(NS, "survivor", 2, webSpec(c.image, { tolerations: [TOLERATE_SIMULATED] })));
    await c.clients.for(Services).create(
      create(ServiceSchema, { metadata: { name: "survivor", namespace: NS }, spec: { selector: { app: "survivor" }, ports: [{ port: 80, targetPort: { value: { case: "strVal", value: "http" } } }] } }),
    );
    // Both pods on the real node first; then a second node joins.
    const first = await c.pods.until("2 ready pods on the real node", () => {
      const ps = appPods();
      return ps.length === 2 && ps.every((p) => isReady(p) && p.spec!.nodeName === c.node.nodeName) && ps;
    }, 90_000);
    sim = await SimulatedNodes.start({ clients: c.node.cp.connect(), count: 1, prefix: "spare-", runningDelayMs: 200, leaseRenewSeconds: 2, log });
    const spare = sim.nodeNames[0]!;
    const lost = c.node.nodeName;

    const t0 = Date.now();
    await c.node.stopAgent();
    const marked = await nodes.until("the node marked Unknown and tainted unreachable", () => {
      const n = node(lost);
      return ready(n) === "Unknown" && taints(n).includes("node.kubernetes.io/unreachable:NoExecute") && n;
    }, 60_000, () => node(lost)?.status?.conditions);
    const tUnknown = Date.now() - t0;
    assert.deepEqual(taints(marked), ["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"]);
    assert.equal(marked.status!.conditions.find((x) => x.type === "Ready")!.reason, "NodeStatusUnknown");

    const moved = await c.pods.until("2 ready pods on the spare node", () => {
      const ps = appPods().filter(live);
      return ps.length === 2 && ps.every((p) => isReady(p) && p.spec!.nodeName === spare) && ps;
    }, 60_000, () => describePods(appPods()));
    const tMoved = Date.now() - t0;
    const e = await eps.until("the Service's endpoints on the spare node only", (all) => {
      const ep = all.find((x) => x.metadata?.name === "survivor");
      const ips = ep?.subsets.flatMap((s) => s.addresses.map((a) => a.ip)).sort() ?? [];
      return ips.length === 2 && ips.join() === moved.map((p) => p.status!.podIp).sort().join() && ep;
    }, 30_000);
    const tServed = Date.now() - t0;
    assert.ok(e.subsets.every((s) => s.addresses.every((a) => a.nodeName === spare)));
    // The old pods were evicted (they stay Terminating: nothing on the lost node can confirm).
    for (const p of first) {
      const now = c.pods.list().find((x) => x.metadata!.uid === p.metadata!.uid);
      assert.ok(!now || now.metadata!.deletionTimestamp, `${p.metadata!.name} evicted`);
    }
    console.log(`node loss: Unknown after ${(tUnknown / 1000).toFixed(1)} s, pods ready elsewhere after ${(tMoved / 1000).toFixed(1)} s, Service endpoints moved after ${(tServed / 1000).toFixed(1)} s`);
    assert.ok(tServed < 60_000, `recovered in ${tServed} ms`);

    // The agent comes back: Ready again, taints gone, and it cleans up the evicted pods.
    await c.node.startAgent();
    await nodes.until("the node Ready again, untainted", () => {
      const n = node(lost);
      return ready(n) === "True" && taints(n).length === 0;
    }, 60_000, () => [node(lost)?.status?.conditions, taints(node(lost))]);
    await c.pods.until("the stale pods gone", () => !appPods().some((p) => first.some((f) => f.metadata!.uid === p.metadata!.uid)), 60_000, () => describePods(appPods()));
    await c.clients.for(Deployments).delete({ namespace: NS, name: "survivor" });
    await c.pods.until("survivor's pods gone", () => appPods().length === 0, 60_000, () => describePods(appPods()));
  });
});
