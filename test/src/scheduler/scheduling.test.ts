// The scheduler against a real apiserver (etcd and NATS in containers), with simulated nodes.
import { Events, Nodes, Pods, type Event, type Pod } from "@corral/api";
import { createLogger } from "@corral/logging";
import { Scheduler } from "@corral/scheduler";
import { SimulatedNodes, type SimulatedNodesOptions } from "@corral/simnode";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";
import { pod, TOLERATE_SIMULATED } from "./fixtures.js";
import { Watched } from "./until.js";

const log = createLogger("scheduler-test", { level: process.env.CORRAL_LOG_LEVEL ?? "warn" });

const brief = (ps: Pod[]) => ps.map((p) => `${p.metadata?.name}@${p.spec?.nodeName || "-"}:${p.status?.phase}`);

describe("scheduler", () => {
  let cp: ControlPlane;
  let scheduler: Scheduler;
  let pods: Watched<Pod>;
  let events: Watched<Event>;
  const sims: SimulatedNodes[] = [];

  before(async () => {
    cp = await startControlPlane();
    scheduler = await Scheduler.start({ clients: cp.connect(), leaderElect: false, log });
    pods = await Watched.start(cp.clients.for(Pods));
    events = await Watched.start(cp.clients.for(Events));
  });

  after(async () => {
    await Promise.allSettled(sims.map((s) => s.stop()));
    await pods?.stop();
    await events?.stop();
    await scheduler?.stop();
    await cp?.stop();
  });

  /** Simulated nodes, with the scheduler's cache holding exactly the nodes expected afterwards. */
  async function simNodes(o: Omit<SimulatedNodesOptions, "clients">, expectNodes: number): Promise<SimulatedNodes> {
    const s = await SimulatedNodes.start({ runningDelayMs: 0, log, ...o, clients: cp.connect() });
    sims.push(s);
    await settled(expectNodes);
    return s;
  }

  async function removeNodes(...ss: SimulatedNodes[]): Promise<void> {
    for (const s of ss) {
      await s.stop({ deleteNodes: true });
      sims.splice(sims.indexOf(s), 1);
    }
  }

  /** Waits (following the node watch) until the apiserver and then the scheduler have `n` nodes. */
  async function settled(n: number): Promise<void> {
    const nodes = await Watched.start(cp.clients.for(Nodes));
    try {
      await nodes.until(`${n} nodes`, (items) => items.length === n);
    } finally {
      await nodes.stop();
    }
    // The scheduler follows its own watch of the same stream; give it the moment it needs.
    const end = Date.now() + 10_000;
    while (scheduler.cache.nodeCount !== n) {
      if (Date.now() > end) assert.fail(`the scheduler sees ${scheduler.cache.nodeCount} nodes, not ${n}`);
      await new Promise((r) => setImmediate(r));
    }
  }

  async function deletePods(names: string[], namespace = "default"): Promise<void> {
    await Promise.all(names.map((name) => cp.clients.for(Pods).delete({ namespace, name })));
    await pods.until(`pods ${names.join(",")} gone`, (items) => !items.some((p) => names.includes(p.metadata!.name)), 30_000, brief);
  }

  function failedScheduling(name: string, message: string): Promise<Event> {
    return events.until(
      `FailedScheduling for ${name}: "${message}"`,
      (items) => items.find((e) => e.involvedObject?.name === name && e.reason === "FailedScheduling" && e.message === message),
      30_000,
      (items) => items.filter((e) => e.involvedObject?.name === name).map((e) => `${e.reason}: ${e.message}`),
    );
  }

  it("spreads the pods of one owner across nodes, and the nodes run them with pod IPs from their podCIDR", async () => {
    const sim = await simNodes({ count: 3, prefix: "spread-", cpu: "4", memory: "8Gi" }, 3);
    const owner = { name: "web-5d8f", uid: randomUUID() };
    const names = Array.from({ length: 6 }, (_, i) => `web-${i}`);
    await Promise.all(names.map((n) => cp.clients.for(Pods).create(pod(n, { owner, cpu: "100m", memory: "128Mi", labels: { app: "web" } }))));
    const running = await pods.until(
      "6 web pods Running",
      (items) => {
        const web = items.filter((p) => names.includes(p.metadata!.name));
        return web.length === 6 && web.every((p) => p.status?.phase === "Running") && web;
      },
      30_000,
      brief,
    );
    const perNode = new Map<string, number>();
    for (const p of running) perNode.set(p.spec!.nodeName, (perNode.get(p.spec!.nodeName) ?? 0) + 1);
    assert.deepEqual([...perNode.entries()].sort(), [["spread-0", 2], ["spread-1", 2], ["spread-2", 2]]);
    for (const p of running) {
      const node = await cp.clients.for(Nodes).get({ name: p.spec!.nodeName });
      const subnet = node.spec!.podCidr.replace(/\.0\/24$/, ".");
      assert.ok(p.status!.podIp.startsWith(subnet), `${p.status!.podIp} is in ${node.spec!.podCidr}`);
      assert.equal(p.status!.hostIp, node.status!.addresses.find((a) => a.type === "InternalIP")!.address);
      assert.equal(p.status!.conditions.find((c) => c.type === "Ready")?.status, "True");
    }
    assert.equal(new Set(running.map((p) => p.status!.podIp)).size, 6, "every pod has its own IP");
    const scheduled = await events.until("a Scheduled event for web-0", (items) =>
      items.find((e) => e.involvedObject?.name === "web-0" && e.reason === "Scheduled"),
    );
    assert.equal(scheduled.message, `Successfully assigned default/web-0 to ${running.find((p) => p.metadata!.name === "web-0")!.spec!.nodeName}`);
    // Deleting a pod on a simulated node removes it: the node finishes the graceful deletion.
    await deletePods(names);
    await removeNodes(sim);
  });

  it("keeps a pod too big for every node Pending with the reason, and schedules it once a big enough node joins", async () => {
    const small = await simNodes({ count: 3, prefix: "small-", cpu: "4", memory: "8Gi" }, 3);
    await cp.clients.for(Pods).create(pod("huge", { cpu: "1", memory: "32Gi" }));
    const message = "0/3 nodes are available: 3 Insufficient memory.";
    await failedScheduling("huge", message);
    const pending = await pods.until("huge marked unschedulable", (items) => {
      const p = items.find((x) => x.metadata!.name === "huge");
      const c = p?.status?.conditions.find((x) => x.type === "PodScheduled");
      return c?.status === "False" && p;
    });
    const cond = pending.status!.conditions.find((x) => x.type === "PodScheduled")!;
    assert.equal(cond.reason, "Unschedulable");
    assert.equal(cond.message, message);
    assert.equal(pending.spec!.nodeName, "");
    assert.equal(pending.status!.phase, "Pending");

    const big = await simNodes({ count: 1, prefix: "big-", cpu: "16", memory: "64Gi" }, 4);
    const running = await pods.until("huge Running", (items) => items.find((p) => p.metadata!.name === "huge" && p.status?.phase === "Running"), 30_000, brief);
    assert.equal(running.spec!.nodeName, "big-0");
    assert.equal(running.status!.conditions.find((c) => c.type === "PodScheduled")?.status, "True");
    // Retried with back-off, not in a loop: the one FailedScheduling Event counts few attempts.
    const ev = events.list().filter((e) => e.involvedObject?.name === "huge" && e.reason === "FailedScheduling");
    assert.equal(ev.length, 1);
    assert.ok(ev[0]!.count < 6, `FailedScheduling count ${ev[0]!.count}`);
    await deletePods(["huge"]);
    await removeNodes(small, big);
  });

  it("honours taints: NoSchedule keeps pods that do not tolerate them away", async () => {
    const plain = await simNodes({ count: 2, prefix: "plain-" }, 2);
    const gpu = await simNodes(
      { count: 1, prefix: "gpu-", labels: { accelerator: "gpu" }, taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] },
      3,
    );
    // An ordinary pod tolerates nothing: simulated nodes are not for it.
    await cp.clients.for(Pods).create(pod("ordinary", { tolerations: [] }));
    await failedScheduling("ordinary", "0/3 nodes are available: 3 node(s) had untolerated taint {corral.dev/simulated: true}.");

    const batch = ["batch-0", "batch-1", "batch-2", "batch-3"];
    await Promise.all(batch.map((n) => cp.clients.for(Pods).create(pod(n, { cpu: "100m" }))));
    const dedicated = { key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" };
    await cp.clients.for(Pods).create(pod("trainer", { tolerations: [TOLERATE_SIMULATED, dedicated], nodeSelector: { accelerator: "gpu" } }));
    await cp.clients.for(Pods).create(pod("wants-gpu", { nodeSelector: { accelerator: "gpu" } }));

    const bound = await pods.until(
      "batch pods and trainer bound",
      (items) => {
        const b = items.filter((p) => [...batch, "trainer"].includes(p.metadata!.name) && p.spec?.nodeName);
        return b.length === 5 && b;
      },
      30_000,
      brief,
    );
    for (const p of bound) {
      if (p.metadata!.name === "trainer") assert.equal(p.spec!.nodeName, "gpu-0");
      else assert.match(p.spec!.nodeName, /^plain-/, `${p.metadata!.name} avoided the tainted node`);
    }
    await failedScheduling(
      "wants-gpu",
      "0/3 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}.",
    );
    assert.equal(pods.list().find((p) => p.metadata!.name === "ordinary")?.spec?.nodeName, "");
    await deletePods(["ordinary", "wants-gpu", "trainer", ...batch]);
    await removeNodes(plain, gpu);
  });
});
