// Restart safety: the controller manager (its own process, as in production) is killed with
// SIGKILL in the middle of a rolling update; the next one resumes it without creating a pod or a
// ReplicaSet too many.
import { Deployments, Leases, ReplicaSets, type Deployment, type ReplicaSet } from "@corral/api";
import { LEASE_NAME, LEASE_NAMESPACE } from "@corral/controller";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Watched } from "../scheduler/until.js";
import { createNamespace, deployment, describePods, editDeployment, isReady, live, podsOf, startCluster, webSpec, type Cluster } from "./cluster.js";

const NS = "restart-e2e";
const MAIN = join(createRequire(import.meta.url).resolve("@corral/controller"), "..", "main.js");

describe("the controller manager killed in the middle of a rolling update", { timeout: 600_000 }, () => {
  let c: Cluster;
  let deps: Watched<Deployment>;
  let rss: Watched<ReplicaSet>;
  const children: ChildProcess[] = [];

  const spawnManager = () => {
    const child = spawn(
      process.execPath,
      [MAIN, "--apiserver", c.node.cp.servers[0]!.address, "--identity", "cm-restart-test", "--lease-duration-seconds", "15", "--lease-retry-ms", "500"],
      { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CORRAL_LOG_LEVEL: process.env.CORRAL_LOG_LEVEL ?? "warn" } },
    );
    children.push(child);
    return child;
  };

  before(async () => {
    c = await startCluster({ inProcessControllers: false });
    await createNamespace(c.clients, NS);
    deps = await Watched.start(c.clients.for(Deployments), { namespace: NS });
    rss = await Watched.start(c.clients.for(ReplicaSets), { namespace: NS });
  });
  after(async () => {
    for (const ch of children) if (ch.exitCode === null && ch.signalCode === null) ch.kill("SIGKILL");
    await Promise.allSettled([deps?.stop(), rss?.stop()]);
    await c?.stop();
  });

  it("resumes the rollout with exactly one new ReplicaSet and never more than replicas + maxSurge pods", async () => {
    const first = spawnManager();
    // Slow steps (minReadySeconds) leave time to kill it half-way.
    await c.clients.for(Deployments).create(
      deployment(NS, "steady", 6, webSpec(c.image), {
        minReadySeconds: 2,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: { value: { case: "intVal", value: 2 } }, maxUnavailable: { value: { case: "intVal", value: 0 } } } },
      }),
    );
    const done = (since: Deployment) => (ds: Deployment[]) => {
      const d = ds.find((x) => x.metadata?.name === "steady");
      const s = d?.status;
      return s && s.observedGeneration >= since.metadata!.generation && s.updatedReplicas === 6 && s.replicas === 6 && s.availableReplicas === 6 && d;
    };
    const created = await c.clients.for(Deployments).get({ namespace: NS, name: "steady" });
    await deps.until("steady rolled out", done(created), 120_000);
    const lease = await c.clients.for(Leases).get({ namespace: LEASE_NAMESPACE, name: LEASE_NAME });
    assert.equal(lease.spec!.holderIdentity, "cm-restart-test");

    // From here on, every pod and ReplicaSet event is checked.
    let maxLive = 0;
    const newPods = new Set<string>();
    let newHash = "";
    const check = () => {
      const ps = podsOf(c.pods.list(), NS, "steady");
      maxLive = Math.max(maxLive, ps.filter(live).length);
      if (newHash) for (const p of ps) if (p.metadata!.labels["pod-template-hash"] === newHash) newPods.add(p.metadata!.uid);
    };
    c.pods.informer.addEventHandler({ add: check, update: check, delete: check });
    let maxRS = 0;
    rss.informer.addEventHandler({ add: () => (maxRS = Math.max(maxRS, rss.list().length)) });

    const edited = await editDeployment(c.clients, NS, "steady", (d) => (d.spec!.template!.spec!.containers[0]!.image = c.image2));
    // Half-way: the new ReplicaSet has some replicas, the old one still has some.
    const half = await rss.until("half-way through", (all) => {
      const fresh = all.find((r) => r.spec!.template!.spec!.containers[0]!.image === c.image2);
      const old = all.find((r) => r.spec!.template!.spec!.containers[0]!.image === c.image);
      return fresh && old && (fresh.status?.availableReplicas ?? 0) >= 2 && (old.spec?.replicas ?? 0) > 0 && (old.spec?.replicas ?? 0) < 6 && fresh;
    }, 120_000, (all) => all.map((r) => [r.metadata?.name, r.spec?.replicas, r.status?.availableReplicas]));
    newHash = half.metadata!.labels["pod-template-hash"]!;
    check();
    first.kill("SIGKILL");
    await once(first, "exit");
    spawnManager();

    await deps.until("steady rolled out after the restart", done(edited), 180_000, (ds) => ds.map((x) => x.status));
    const pods = await c.pods.until("6 ready pods of the new template", () => {
      const ps = podsOf(c.pods.list(), NS, "steady");
      return ps.length === 6 && ps.every((p) => live(p) && isReady(p) && p.metadata!.labels["pod-template-hash"] === newHash) && ps;
    }, 90_000, () => describePods(podsOf(c.pods.list(), NS, "steady")));
    check();
    assert.equal(rss.list().length, 2, "one old and one new ReplicaSet");
    assert.ok(maxRS <= 2, `${maxRS} ReplicaSets at once`);
    assert.ok(maxLive <= 8, `${maxLive} pods at once (replicas 6 + maxSurge 2)`);
    assert.equal(newPods.size, 6, `${newPods.size} pods of the new template were ever made (no extra ones)`);
    assert.ok(pods.every((p) => newPods.has(p.metadata!.uid)));
  });
});
