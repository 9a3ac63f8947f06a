// bench/pod-startup: create-to-Running latency of pods on one real node, as a watch sees it,
// for 30 pods created at once and 30 created one at a time, and the same pods driven by direct
// CRI calls (RunPodSandbox → CreateContainer → StartContainer) in the same run, for reference.
import { create } from "@bufbuild/protobuf";
import { Pods, PodSchema, type Pod } from "@corral/api";
import { Clientset } from "@corral/client";
import { startNodeHost, stopNodeHost, type NodeHostOptions } from "@corral/cli/cluster/node-host";
import { connectCri, ContainerConfigSchema, PodSandboxConfigSchema, type CriClient } from "@corral/cri";
import { createLogger } from "@corral/logging";
import { NodeAgent } from "@corral/nodeagent";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startServers } from "../support/servers.js";
import { percentile } from "../support/stats.js";

const N = Number(process.env.BENCH_PODS ?? 30);
const progress = (s: string) => process.stderr.write(s + "\n");

interface Row {
  what: string;
  latencies: number[];
}

async function main(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), "corral-bench-node-"));
  const hostOpts: NodeHostOptions = {
    stateDir,
    registryPort: await freePort(),
    podCidr: "10.246.0.0/24",
    bridge: "corralbench0",
    cgroupParent: "corralbench",
  };
  progress("starting etcd, NATS, apiserver, registry and containerd...");
  const cleanups: (() => Promise<unknown>)[] = [];
  const rows: Row[] = [];
  try {
    const [servers, host] = await Promise.all([
      startServers().then((s) => (cleanups.unshift(() => s.stop()), s)),
      startNodeHost(hostOpts).then((h) => (cleanups.unshift(() => stopNodeHost(hostOpts, () => {})), h)),
    ]);
    const agent = await NodeAgent.start({
      apiserver: servers.apiAddress,
      nodeName: "bench-node",
      nodeIP: "127.0.0.1",
      podCIDR: host.podCidr,
      criSocket: host.criSocket,
      rootDir: join(stateDir, "nodeagent"),
      cgroupRoot: host.cgroupParent,
      listen: "127.0.0.1:0",
      log: createLogger("nodeagent", { level: process.env.CORRAL_LOG_LEVEL ?? "warn" }),
    });
    cleanups.unshift(() => agent.stop());
    const clients = Clientset.connect(servers.apiAddress);
    const cri = connectCri(host.criSocket);
    cleanups.unshift(async () => (clients.close(), cri.close()));
    cleanups.unshift(() => deleteAll(clients));
    // Pods deleted with grace 0 vanish from the API at once; their teardown in containerd goes
    // on. Each row starts on a quiet node, so its figures are not the previous row's cleanup.
    const drain = async () => {
      await deleteAll(clients);
      for (let i = 0; i < 600; i++) {
        const { items } = await cri.runtime.listPodSandbox({ filter: { labelSelector: { "io.kubernetes.pod.namespace": "default" } } });
        if (items.length === 0) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const image = host.busyboxImage;
    // Warm-up: the image is pulled once, as it would be on a node that has run the app before.
    await runPods(clients, image, "warm", 1, true);
    await drain();
    rows.push({ what: `Corral: ${N} pods created at once`, latencies: await runPods(clients, image, "burst", N, false) });
    await drain();
    rows.push({ what: `Corral: ${N} pods one at a time`, latencies: await runPods(clients, image, "seq", N, true) });
    await drain();
    rows.push({ what: `direct CRI: ${N} pods at once`, latencies: await criPods(cri, image, host.cgroupParent, stateDir, N, false) });
    rows.push({ what: `direct CRI: ${N} pods one at a time`, latencies: await criPods(cri, image, host.cgroupParent, stateDir, N, true) });
  } finally {
    // Last started first; a failed start still takes down whatever did start.
    for (const c of cleanups) await c().catch((err) => progress(`cleanup: ${String(err)}`));
    await rm(stateDir, { recursive: true, force: true });
  }
  print(rows);
}

function pod(name: string, image: string): Pod {
  return create(PodSchema, {
    metadata: { name, namespace: "default", labels: { bench: "pod-startup" } },
    spec: {
      nodeName: "bench-node",
      terminationGracePeriodSeconds: 0n,
      containers: [{ name: "app", image, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
    },
  });
}

/** Creates n pods (all at once, or each after the previous runs); latency = create sent → Running seen. */
async function runPods(clients: Clientset, image: string, prefix: string, n: number, sequential: boolean): Promise<number[]> {
  const created = new Map<string, number>();
  const running = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const ac = new AbortController();
  const watching = (async () => {
    try {
      for await (const ev of clients.for(Pods).watch({ namespace: "default", labelSelector: "bench=pod-startup", resourceVersion: "" }, { signal: ac.signal })) {
        const p = ev.object;
        const name = p?.metadata?.name ?? "";
        if (p?.status?.phase === "Running" && !running.has(name)) {
          running.set(name, performance.now());
          waiters.get(name)?.();
        }
      }
    } catch {
      // cancelled
    }
  })();
  const one = async (i: number) => {
    const name = `${prefix}-${i}`;
    const done = new Promise<void>((r) => waiters.set(name, r));
    created.set(name, performance.now());
    await clients.for(Pods).create(pod(name, image));
    await done;
  };
  if (sequential) for (let i = 0; i < n; i++) await one(i);
  else await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  ac.abort();
  await watching;
  progress(`  ${prefix}: ${n} pods running`);
  if (process.env.BENCH_VERBOSE) progress(`    ${[...created].map(([name, t]) => `${name}=${Math.round(running.get(name)! - t)}`).join(" ")}`);
  return [...created].map(([name, t]) => running.get(name)! - t);
}

async function deleteAll(clients: Clientset): Promise<void> {
  const list = await clients.for(Pods).list({ namespace: "default", labelSelector: "bench=pod-startup" });
  if (list.items.length === 0) return;
  const gone = new Set<string>();
  const ac = new AbortController();
  const watching = (async () => {
    try {
      for await (const ev of clients.for(Pods).watch({ namespace: "default", labelSelector: "bench=pod-startup", resourceVersion: list.metadata!.resourceVersion }, { signal: ac.signal })) {
        if (ev.type === "DELETED") gone.add(ev.object!.metadata!.name);
        if (gone.size >= list.items.length) return;
      }
    } catch {
      // cancelled
    }
  })();
  await Promise.all(list.items.map((p) => clients.for(Pods).delete({ namespace: "default", name: p.metadata!.name })));
  const timer = setTimeout(() => ac.abort(), 120_000);
  await watching;
  clearTimeout(timer);
}

/** The same pods through CRI alone: latency = RunPodSandbox sent → StartContainer returned. */
async function criPods(cri: CriClient, image: string, cgroupParent: string, dir: string, n: number, sequential: boolean): Promise<number[]> {
  const sandboxes: string[] = [];
  const one = async (i: number) => {
    const uid = `cri-${sequential ? "seq" : "burst"}-${i}-${Date.now()}`;
    const t0 = performance.now();
    const config = create(PodSandboxConfigSchema, {
      metadata: { name: uid, namespace: "bench", uid, attempt: 0 },
      hostname: uid,
      logDirectory: join(dir, "cri-logs", uid),
      linux: { cgroupParent: `/${cgroupParent}/pod${uid}` },
    });
    const { podSandboxId } = await cri.runtime.runPodSandbox({ config });
    sandboxes.push(podSandboxId);
    const { containerId } = await cri.runtime.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: create(ContainerConfigSchema, { metadata: { name: "app" }, image: { image }, command: ["sleep", "3600"], logPath: "app/0.log" }),
    });
    await cri.runtime.startContainer({ containerId });
    return performance.now() - t0;
  };
  const latencies: number[] = [];
  if (sequential) for (let i = 0; i < n; i++) latencies.push(await one(i));
  else latencies.push(...(await Promise.all(Array.from({ length: n }, (_, i) => one(i)))));
  for (const id of sandboxes) {
    await cri.runtime.stopPodSandbox({ podSandboxId: id });
    await cri.runtime.removePodSandbox({ podSandboxId: id });
  }
  progress(`  direct CRI (${sequential ? "one at a time" : "at once"}): ${n} pods running`);
  return latencies;
}

function print(rows: Row[]): void {
  const f = (ms: number) => `${Math.round(ms)} ms`;
  console.log(`\nbench/pod-startup: create → Running, ${N} pods per row (busybox, image already on the node)\n`);
  console.log(`${"".padEnd(36)}${"p50".padStart(10)}${"p99".padStart(10)}${"max".padStart(10)}`);
  for (const r of rows) {
    console.log(`${r.what.padEnd(36)}${f(percentile(r.latencies, 50)).padStart(10)}${f(percentile(r.latencies, 99)).padStart(10)}${f(Math.max(...r.latencies)).padStart(10)}`);
  }
  const ratio = (a: number, b: number) => (percentile(rows[a]!.latencies, 50) / percentile(rows[b]!.latencies, 50)).toFixed(2);
  console.log(`\nCorral / direct CRI, p50: at once ${ratio(0, 2)}×, one at a time ${ratio(1, 3)}× (target ≤ 1.5×)`);
  console.log("Targets: p50 ≤ 500 ms, p99 ≤ 1.5 s. Kubernetes' own SLO: p99 ≤ 5 s.");
}

await main();
