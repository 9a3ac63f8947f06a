// bench/controllers: a Deployment of 1,000 replicas on 100 simulated nodes, from create to all
// pods Running, and scaled to 0 until all are gone; beside the same work done by direct API calls
// from one client (1,000 pod creates spread over the nodes, then 1,000 deletes) in the same run.
import { create } from "@bufbuild/protobuf";
import { Deployments, DeploymentSchema, Namespaces, NamespaceSchema, Pods, PodSchema, type Pod } from "@corral/api";
import { Clientset } from "@corral/client";
import { ControllerManager } from "@corral/controller";
import { createLogger } from "@corral/logging";
import { Scheduler } from "@corral/scheduler";
import { SimulatedNodes } from "@corral/simnode";
import { startServers, waitForApi } from "../support/servers.js";

const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 1000);
const NODES = Number(process.env.BENCH_NODES ?? 100);
const progress = (s: string) => process.stderr.write(s + "\n");
const TOLERATE = [{ key: "corral.dev/simulated", operator: "Exists", effect: "NoSchedule" }];

/** Counts pods with a label that are Running, following a watch; resolves when `done(count)` holds. */
function countPods(clients: Clientset, selector: string, done: (running: number, total: number) => boolean): { until: Promise<void>; stop(): void } {
  const ac = new AbortController();
  const phase = new Map<string, string>();
  const until = (async () => {
    for await (const ev of clients.for(Pods).watch({ namespace: "bench", labelSelector: selector }, { signal: ac.signal })) {
      const name = ev.object!.metadata!.name;
      if (ev.type === "DELETED") phase.delete(name);
      else if (ev.type !== "BOOKMARK") phase.set(name, ev.object!.status?.phase ?? "");
      let running = 0;
      for (const p of phase.values()) if (p === "Running") running++;
      if (done(running, phase.size)) return;
    }
  })().catch((err) => {
    if (!ac.signal.aborted) throw err;
  });
  return { until, stop: () => ac.abort() };
}

async function timed(what: string, work: () => Promise<unknown>, until: Promise<void>): Promise<number> {
  const t0 = performance.now();
  await work();
  await until;
  const s = (performance.now() - t0) / 1000;
  progress(`  ${what}: ${s.toFixed(1)} s`);
  return s;
}

async function main(): Promise<void> {
  progress(`starting etcd, NATS, apiserver; ${NODES} simulated nodes, scheduler, controller manager...`);
  const servers = await startServers();
  const log = createLogger("bench", { level: "warn" });
  const clients = Clientset.connect(servers.apiAddress);
  await waitForApi(clients);
  await clients.for(Namespaces).create(create(NamespaceSchema, { metadata: { name: "bench" } }));
  const nodes = await SimulatedNodes.start({ clients, count: NODES, prefix: "sim-", runningDelayMs: 0, log });
  const scheduler = await Scheduler.start({ clients, leaderElect: false, log });
  const cm = await ControllerManager.start({ clients, leaderElect: false, log });
  await cm.whenLeading();
  const rows: [string, number, number][] = [];
  try {
    // Corral: a Deployment, then scaled to zero.
    let watch = countPods(clients, "app=bench-deploy", (running) => running >= REPLICAS);
    const deployUp = await timed(`Deployment of ${REPLICAS}: all Running`, () =>
      clients.for(Deployments).create(
        create(DeploymentSchema, {
          metadata: { name: "bench", namespace: "bench" },
          spec: {
            replicas: REPLICAS,
            selector: { matchLabels: { app: "bench-deploy" } },
            template: {
              metadata: { labels: { app: "bench-deploy" } },
              spec: { tolerations: TOLERATE, containers: [{ name: "app", image: "localhost:5000/corral/busybox", command: ["sleep", "3600"] }] },
            },
          },
        }),
      ), watch.until);
    watch.stop();
    let seen = false;
    watch = countPods(clients, "app=bench-deploy", (_r, total) => (seen ||= total > 0) && total === 0);
    const deployDown = await timed("scaled to 0: all gone", async () => {
      const d = await clients.for(Deployments).get({ namespace: "bench", name: "bench" });
      d.spec!.replicas = 0;
      await clients.for(Deployments).update(d);
    }, watch.until);
    watch.stop();

    // The reference: one client creating the same pods directly, already placed on the nodes.
    watch = countPods(clients, "app=bench-direct", (running) => running >= REPLICAS);
    const directUp = await timed(`${REPLICAS} pods created directly: all Running`, async () => {
      for (let i = 0; i < REPLICAS; i++) {
        const pod: Pod = create(PodSchema, {
          metadata: { name: `direct-${i}`, namespace: "bench", labels: { app: "bench-direct" } },
          spec: {
            nodeName: `sim-${i % NODES}`,
            tolerations: TOLERATE,
            containers: [{ name: "app", image: "localhost:5000/corral/busybox", command: ["sleep", "3600"] }],
          },
        });
        await clients.for(Pods).create(pod);
      }
    }, watch.until);
    watch.stop();
    seen = false;
    watch = countPods(clients, "app=bench-direct", (_r, total) => (seen ||= total > 0) && total === 0);
    const directDown = await timed(`${REPLICAS} pods deleted directly: all gone`, async () => {
      for (let i = 0; i < REPLICAS; i++) await clients.for(Pods).delete({ namespace: "bench", name: `direct-${i}`, gracePeriodSeconds: 0n });
    }, watch.until);
    watch.stop();
    rows.push(["create → all Running", deployUp, directUp], ["scale to 0 → all gone", deployDown, directDown]);
  } finally {
    await cm.stop();
    await scheduler.stop();
    await nodes.stop();
    clients.close();
    await servers.stop();
  }
  console.log(`\nbench/controllers: Deployment of ${REPLICAS} replicas on ${NODES} simulated nodes\n`);
  console.log(`${"".padEnd(26)}${"Corral".padStart(12)}${"direct API".padStart(14)}${"ratio".padStart(8)}`);
  for (const [what, corral, direct] of rows) {
    console.log(`${what.padEnd(26)}${`${corral.toFixed(1)} s`.padStart(12)}${`${direct.toFixed(1)} s`.padStart(14)}${(corral / direct).toFixed(2).padStart(8)}`);
  }
  console.log("\ndirect API: one client, sequential calls, pods already placed on nodes (no controller, no scheduler).");
}

await main();
