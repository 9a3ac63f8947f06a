// DaemonSets: one pod on every node (a real one and simulated ones), following nodes as they
// join and leave, a nodeSelector, and a rolling update that keeps all but maxUnavailable nodes
// served.
import { create } from "@bufbuild/protobuf";
import { DaemonSets, DaemonSetSchema, type DaemonSet, type Pod } from "@corral/api";
import { writeConfig } from "@corral/client";
import { SimulatedNodes } from "@corral/simnode";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Watched } from "../scheduler/until.js";
import { corralRunner } from "../support/cli.js";
import { createNamespace, describePods, isReady, live, log, startCluster, TOLERATE_SIMULATED, webSpec, type Cluster } from "./cluster.js";

const NS = "ds-e2e";

describe("DaemonSets on a real node and simulated ones", { timeout: 600_000 }, () => {
  let c: Cluster;
  let sim: SimulatedNodes;
  let dss: Watched<DaemonSet>;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const corral = corralRunner(() => env, 120_000);

  before(async () => {
    c = await startCluster();
    sim = await SimulatedNodes.start({ clients: c.node.cp.connect(), count: 2, prefix: "ds-sim-", runningDelayMs: 200, leaseRenewSeconds: 2, log });
    await createNamespace(c.clients, NS);
    dss = await Watched.start(c.clients.for(DaemonSets), { namespace: NS });
    dir = await mkdtemp(join(tmpdir(), "corral-ds-e2e-"));
    env = { ...process.env, CORRAL_CONFIG: join(dir, "config") };
    await writeConfig({ server: c.node.cp.servers[0]!.address, namespace: NS }, env.CORRAL_CONFIG);
  });
  after(async () => {
    await dss?.stop();
    await sim?.stop({ deleteNodes: true });
    await c?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const dsPods = (name: string) => c.pods.list().filter((p) => p.metadata?.namespace === NS && p.metadata.labels.ds === name);
  const daemonSet = (name: string, image: string, nodeSelector: Record<string, string> = {}) =>
    create(DaemonSetSchema, {
      metadata: { name, namespace: NS },
      spec: {
        selector: { matchLabels: { ds: name } },
        template: { metadata: { labels: { ds: name } }, spec: webSpec(image, { tolerations: [TOLERATE_SIMULATED], nodeSelector }) },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: { value: { case: "intVal", value: 1 } } } },
      },
    });
  /** One ready pod on each of these nodes, none elsewhere, none terminating. */
  const onNodes = (name: string, nodes: string[], image?: string) =>
    c.pods.until(
      `${name} ready on ${nodes.join(",")}`,
      () => {
        const ps = dsPods(name);
        const ok =
          ps.length === nodes.length &&
          ps.every((p) => live(p) && isReady(p) && (!image || p.spec!.containers[0]!.image === image)) &&
          [...new Set(ps.map((p) => p.spec!.nodeName))].sort().join() === [...nodes].sort().join();
        return ok && ps;
      },
      90_000,
      () => describePods(dsPods(name)),
    );
  const status = (name: string, n: number) =>
    dss.until(`${name} status ${n}`, (all) => {
      const s = all.find((d) => d.metadata?.name === name)?.status;
      return s && s.desiredNumberScheduled === n && s.currentNumberScheduled === n && s.numberReady === n && s.numberAvailable === n && s.updatedNumberScheduled === n && s.numberMisscheduled === 0 && s;
    }, 60_000, (all) => all.map((d) => d.status));

  it("runs one pod on every node, and follows nodes as they join and leave", async () => {
    await c.clients.for(DaemonSets).create(daemonSet("agent", c.image));
    const nodes = [c.node.nodeName, ...sim.nodeNames];
    const pods = await onNodes("agent", nodes);
    await status("agent", 3);
    // Pinned to their node by affinity; the scheduler bound them there.
    for (const p of pods) {
      const term = p.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!;
      assert.deepEqual(term.matchFields.map((f) => [f.key, f.operator, f.values.join()]), [["metadata.name", "In", p.spec!.nodeName]]);
      assert.ok(p.spec!.tolerations.some((t) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoExecute" && t.tolerationSeconds === undefined));
      assert.ok(p.metadata!.labels["controller-revision-hash"]);
    }
    const more = await SimulatedNodes.start({ clients: c.node.cp.connect(), count: 1, prefix: "ds-sim-", startIndex: 2, runningDelayMs: 200, leaseRenewSeconds: 2, log });
    try {
      await onNodes("agent", [...nodes, ...more.nodeNames]);
      await status("agent", 4);
    } finally {
      await more.stop({ deleteNodes: true });
    }
    // The node left: its pod is deleted (pod GC), and the DaemonSet counts 3 again.
    await onNodes("agent", nodes);
    await status("agent", 3);
  });

  it("a nodeSelector limits it to the nodes that match", async () => {
    await c.clients.for(DaemonSets).create(daemonSet("simonly", c.image, { "corral.dev/simulated": "true" }));
    await onNodes("simonly", sim.nodeNames);
    await status("simonly", 2);
    await c.clients.for(DaemonSets).delete({ namespace: NS, name: "simonly" });
    await c.pods.until("simonly's pods gone", () => dsPods("simonly").length === 0, 60_000);
  });

  it("rolls an update out node by node, never more than maxUnavailable nodes without a ready pod", async () => {
    const nodes = [c.node.nodeName, ...sim.nodeNames];
    let minServed = Infinity;
    const check = () => {
      const served = new Set(dsPods("agent").filter((p: Pod) => live(p) && isReady(p)).map((p) => p.spec!.nodeName));
      minServed = Math.min(minServed, served.size);
    };
    c.pods.informer.addEventHandler({ add: check, update: check, delete: check });
    const rollout = corral("rollout", "status", "ds/agent", "--timeout", "2m");
    const cur = await c.clients.for(DaemonSets).get({ namespace: NS, name: "agent" });
    cur.spec!.template!.spec!.containers[0]!.image = c.image2;
    cur.status = undefined;
    await c.clients.for(DaemonSets).update(cur);
    const r = await rollout;
    await onNodes("agent", nodes, c.image2);
    await status("agent", 3);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /daemon set "agent" successfully rolled out\n$/);
    assert.ok(minServed >= 2, `only ${minServed} of 3 nodes had a ready pod (maxUnavailable 1)`);
  });
});
