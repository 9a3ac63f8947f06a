// Simulated nodes: many in one process, marked as simulated, heartbeating through their Leases.
import { Leases, Nodes, type Lease, type Node } from "@corral/api";
import { createLogger } from "@corral/logging";
import { NODE_LEASE_NAMESPACE, SimulatedNodes } from "@corral/simnode";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";
import { Watched } from "./until.js";

const log = createLogger("simnode-test", { level: process.env.CORRAL_LOG_LEVEL ?? "warn" });
const COUNT = 300;

describe("simulated nodes", () => {
  let cp: ControlPlane;
  let nodes: Watched<Node>;
  let leases: Watched<Lease>;

  before(async () => {
    cp = await startControlPlane();
    nodes = await Watched.start(cp.clients.for(Nodes));
    leases = await Watched.start(cp.clients.for(Leases), { namespace: NODE_LEASE_NAMESPACE });
  });
  after(async () => {
    await Promise.allSettled([nodes?.stop(), leases?.stop()]);
    await cp?.stop();
  });

  it(`registers ${COUNT} nodes in one process, marked simulated, Ready, each renewing its Lease; and removes them`, async () => {
    const sim = await SimulatedNodes.start({ clients: cp.connect(), count: COUNT, prefix: "many-", leaseRenewSeconds: 1, log });
    try {
      const all = await nodes.until(`${COUNT} nodes`, (items) => items.length === COUNT && items);
      for (const n of all) {
        assert.equal(n.metadata!.labels["corral.dev/simulated"], "true");
        assert.equal(n.metadata!.labels.type, "simulated");
        assert.deepEqual(n.spec!.taints.map((t) => `${t.key}=${t.value}:${t.effect}`), ["corral.dev/simulated=true:NoSchedule"]);
        assert.equal(n.status!.conditions.find((c) => c.type === "Ready")?.status, "True");
        assert.equal(n.status!.allocatable.pods, "110");
      }
      assert.equal(new Set(all.map((n) => n.spec!.podCidr)).size, COUNT, "a podCIDR each");
      // Every node's Lease exists, then is renewed again (its renewTime moves on).
      const first = await leases.until(`${COUNT} Leases`, (items) => items.length === COUNT && new Map(items.map((l) => [l.metadata!.name, l.metadata!.resourceVersion])));
      await leases.until(
        "every Lease renewed",
        (items) => items.length === COUNT && items.every((l) => l.spec!.holderIdentity === l.metadata!.name && l.metadata!.resourceVersion !== first.get(l.metadata!.name)),
        15_000,
      );
    } finally {
      await sim.stop({ deleteNodes: true });
    }
    await nodes.until("nodes removed", (items) => items.length === 0);
    await leases.until("Leases removed", (items) => items.length === 0);
  });
});
