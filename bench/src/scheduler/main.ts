// bench/scheduler: how fast pods get a node. For each cluster size (5,000 and 500 simulated
// nodes) it runs real etcd, NATS, the apiserver, the simulated nodes and the scheduler as separate
// processes and measures, as seen by a watch of the bindings:
//   - end to end: 10,000 pods created at full speed while the scheduler runs, from the first
//     create to the last binding stored (kube-scheduler's scheduler_perf measures this shape);
//   - scheduling alone: 10,000 pods created first, then the scheduler started: bindings per
//     second from its first binding to its last (the apiserver's create rate is out of the way);
// in two settings of the simulated nodes:
//   - "perf": nodes registered, then silent, pods never started: scheduler_perf's shape (its nodes
//     are bare Node objects), so the apiserver serves only the creates and the bindings;
//   - "kwok": nodes renew their Lease every 10 s and report their pods Running after 1 s, as real
//     node agents would: the apiserver serves those writes too;
// and, in this process, the scheduling decision alone per pod (filters and scores on the cache,
// no I/O). Prints the figures beside the references'.
import { create } from "@bufbuild/protobuf";
import { Leases, NamespaceSchema, Namespaces, NodeSchema, Nodes, PodSchema, Pods, type Pod } from "@corral/api";
import { Clientset } from "@corral/client";
import { buildFrameworks, DEFAULT_SCHEDULER_NAME, FitError, newPodInfo, SchedulerCache } from "@corral/scheduler";
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { closedLoop, percentile } from "../support/stats.js";
import { histogramTotals, startServers, type Servers, waitForApi } from "../support/servers.js";

const NODE_COUNTS = (process.env.BENCH_SCHED_NODES ?? "5000,500").split(",").map(Number);
const PODS = Number(process.env.BENCH_SCHED_PODS ?? 10_000);
const CONCURRENCY = 32;
interface Mode {
  name: string;
  /** Simulated node heartbeat period (the kubelet renews its Lease every 10 s). */
  leaseRenewSeconds: number;
  /** Bound pods are reported Running after this; -1 keeps them Pending (no status writes). */
  runningDelayMs: number;
  /** Also measure scheduling alone over pre-created pods. */
  precreate: boolean;
}
const MODES: Mode[] = [
  { name: "perf", leaseRenewSeconds: 86_400, runningDelayMs: -1, precreate: true },
  { name: "kwok", leaseRenewSeconds: Number(process.env.BENCH_SIM_LEASE_SECONDS ?? 10), runningDelayMs: Number(process.env.BENCH_SIM_RUNNING_DELAY_MS ?? 1000), precreate: false },
].filter((m) => (process.env.BENCH_SCHED_MODES ?? "perf,kwok").split(",").includes(m.name));
const OWNERS = 100;

const SIM_TAINT = { key: "corral.dev/simulated", operator: "Equal", value: "true", effect: "NoSchedule" };
const NODE_CPU = "32";
const NODE_MEMORY = "256Gi";

const schedulerMain = join(dirname(fileURLToPath(import.meta.resolve("@corral/scheduler"))), "main.js");
const simnodeMain = join(dirname(fileURLToPath(import.meta.resolve("@corral/simnode"))), "main.js");

const log = (s: string) => process.stderr.write(`${s}\n`);

function benchPod(namespace: string, i: number): Pod {
  const owner = i % OWNERS;
  return create(PodSchema, {
    metadata: {
      name: `p-${i}`,
      namespace,
      labels: { app: `app-${owner}` },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `app-${owner}`, uid: `${namespace}-owner-${owner}`, controller: true }],
    },
    spec: {
      containers: [{ name: "app", image: "registry.example/app:1", resources: { requests: { cpu: "100m", memory: "64Mi" } } }],
      tolerations: [SIM_TAINT],
    },
  });
}

// ---- CPU per component, from /proc (so a bottleneck is visible) ----

function pidsMatching(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, "utf8").includes(needle)) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return 0;
  }
}

class CpuMeter {
  private start = new Map<string, number>();
  constructor(private readonly procs: Record<string, number[]>) {}
  begin(): void {
    this.start = new Map(Object.entries(this.procs).map(([k, pids]) => [k, pids.reduce((s, p) => s + cpuSeconds(p), 0)]));
    this.start.set("bench", process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6);
  }
  /** Cores used per component over `seconds`. */
  end(seconds: number): string {
    const parts: string[] = [];
    for (const [k, pids] of Object.entries(this.procs)) {
      const used = pids.reduce((s, p) => s + cpuSeconds(p), 0) - (this.start.get(k) ?? 0);
      parts.push(`${k} ${(used / seconds).toFixed(2)}`);
    }
    const u = process.cpuUsage();
    parts.push(`bench ${((u.user / 1e6 + u.system / 1e6 - this.start.get("bench")!) / seconds).toFixed(2)}`);
    return parts.join(", ");
  }
}

// ---- processes ----

function startProcess(name: string, args: string[], logLevel = process.env.CORRAL_LOG_LEVEL ?? "warn", onLine?: (line: string) => void): ChildProcess {
  const nodeArgs = (process.env[`BENCH_${name.toUpperCase()}_NODE_ARGS`] ?? "").split(" ").filter(Boolean);
  const p = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, CORRAL_LOG_LEVEL: logLevel } });
  let tail = "";
  p.stderr!.on("data", (b: Buffer) => {
    const text = b.toString();
    if (onLine) for (const line of (tail.slice(tail.lastIndexOf("\n") + 1) + text).split("\n").slice(0, -1)) onLine(line);
    tail = (tail + text).slice(-4000);
  });
  p.once("exit", (code, signal) => {
    if (code !== 0 && signal !== "SIGTERM" && signal !== "SIGKILL" && code !== null) log(`${name} exited with ${code}: ${tail}`);
  });
  return p;
}

async function stopProcess(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once("exit", r));
  p.kill("SIGTERM");
  const t = setTimeout(() => p.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(t);
}


async function waitForNodes(cs: Clientset, n: number, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let count = 0;
    let cont = "";
    do {
      const page = await cs.for(Nodes).list({ limit: 1000n, continue: cont });
      count += page.items.length;
      cont = page.metadata?.continue ?? "";
    } while (cont);
    if (count >= n) return;
    if (Date.now() > end) throw new Error(`only ${count}/${n} nodes registered`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Follows bindings in a namespace: when each pod got its node, as the watch delivers it. */
class BindingWatch {
  readonly boundAt = new Map<string, number>();
  private readonly ac = new AbortController();
  private waiter?: { n: number; resolve: () => void };
  private readonly done: Promise<void>;

  constructor(cs: Clientset, namespace: string, rv: string) {
    this.done = (async () => {
      try {
        for await (const ev of cs.for(Pods).watch({ namespace, fieldSelector: "spec.nodeName!=", resourceVersion: rv }, { signal: this.ac.signal })) {
          if (ev.type !== "ADDED" || !ev.object?.metadata) continue;
          if (!this.boundAt.has(ev.object.metadata.name)) this.boundAt.set(ev.object.metadata.name, performance.now());
          if (this.waiter && this.boundAt.size >= this.waiter.n) this.waiter.resolve();
        }
      } catch (err) {
        if (!this.ac.signal.aborted) log(`binding watch broke: ${String(err)}`);
      }
    })();
  }

  until(n: number, timeoutMs: number): Promise<void> {
    if (this.boundAt.size >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`only ${this.boundAt.size}/${n} pods bound after ${timeoutMs} ms`)), timeoutMs);
      this.waiter = {
        n,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      };
    });
  }

  get first(): number {
    return Math.min(...this.boundAt.values());
  }
  get last(): number {
    return Math.max(...this.boundAt.values());
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.done;
  }
}

/** Waits until the scheduler holds its Lease (it schedules from then on). */
async function waitForLeader(cs: Clientset): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      const l = await cs.for(Leases).get({ namespace: "corral-system", name: "corral-scheduler" });
      if (l.spec?.holderIdentity) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the scheduler did not become leader");
}

async function currentRv(cs: Clientset, namespace: string): Promise<string> {
  return (await cs.for(Pods).list({ namespace, limit: 1n })).metadata!.resourceVersion;
}

interface SizeResult {
  nodes: number;
  mode: string;
  registerSeconds: number;
  createRate: number;
  precreated?: { bindingsPerSecond: number; seconds: number; cpu: string };
  endToEnd: { podsPerSecond: number; seconds: number; p50: number; p99: number; cpu: string; createRate: number };
  /** Mean decision time inside the scheduler process while it ran (cache misses and GC included). */
  decisionMs: number;
}

/** Mean latency and count of the pod calls and etcd operations between two readings of the apiserver's metrics. */
function insideApiserver(a: Map<string, { sum: number; count: number }>, b: Map<string, { sum: number; count: number }>): string {
  const parts: string[] = [];
  for (const [key, v] of b) {
    const m = /^corral_apiserver_(request|etcd_request)_duration_seconds\{(?:method="(PodService\/\w+)"|operation="(\w+)")\}$/.exec(key);
    if (!m) continue;
    const u = a.get(key) ?? { sum: 0, count: 0 };
    const n = v.count - u.count;
    if (n > 0 && m[2] !== "PodService/Watch") parts.push(`${m[2] ?? `etcd ${m[3]}`} ${(((v.sum - u.sum) / n) * 1000).toFixed(1)} (${n})`);
  }
  return parts.join(", ");
}

async function runSize(nodes: number, mode: Mode): Promise<SizeResult> {
  log(`--- ${nodes} simulated nodes (${mode.name}), ${PODS} pods ---`);
  const servers: Servers = await startServers();
  let sim: ChildProcess | undefined;
  let sched: ChildProcess | undefined;
  const clients = Array.from({ length: CONCURRENCY }, () => Clientset.connect(servers.apiAddress));
  const cs = clients[0]!;
  try {
    await waitForApi(cs);
    const t0 = performance.now();
    sim = startProcess("simnode", [
      simnodeMain, "--apiserver", servers.apiAddress, "--count", String(nodes), "--prefix", "sim-",
      "--cpu", NODE_CPU, "--memory", NODE_MEMORY, "--pods", "110",
      `--running-delay-ms=${mode.runningDelayMs}`, `--lease-renew-seconds=${mode.leaseRenewSeconds}`,
    ]);
    await waitForNodes(cs, nodes);
    const registerSeconds = (performance.now() - t0) / 1000;
    log(`  ${nodes} nodes registered in ${registerSeconds.toFixed(1)} s`);
    const procs = {
      etcd: pidsMatching(`--listen-client-urls\0${servers.etcdUrl}`),
      nats: pidsMatching(`-p\0${servers.natsUrl.split(":").at(-1)}`),
      apiserver: pidsMatching(`--listen\0${servers.apiAddress}`),
      simnode: sim.pid ? [sim.pid] : [],
      scheduler: [] as number[],
    };
    for (const ns of ["bench-a", "bench-b"]) await cs.for(Namespaces).create(create(NamespaceSchema, { metadata: { name: ns } }));

    // 1. Scheduling alone: pods first, then the scheduler.
    const cpu = new CpuMeter(procs);
    let createRate = NaN;
    let precreated: SizeResult["precreated"];
    if (mode.precreate) {
      log(`  creating ${PODS} pods with no scheduler running...`);
      const created = await closedLoop(PODS, CONCURRENCY, (i) => clients[i % CONCURRENCY]!.for(Pods).create(benchPod("bench-a", i)));
      createRate = PODS / created.seconds;
      log(`  created at ${createRate.toFixed(0)}/s; starting the scheduler`);
    }
    const wa = new BindingWatch(cs, "bench-a", await currentRv(cs, "bench-a"));
    // Its stats line (logged at info when it stops) gives the decision time inside the running scheduler.
    const stats = { decisions: 0, decisionMs: 0 };
    sched = startProcess("scheduler", [schedulerMain, "--apiserver", servers.apiAddress, "--identity", "bench"], "info", (line) => {
      if (line.includes('"scheduler stats"')) Object.assign(stats, JSON.parse(line) as typeof stats);
    });
    procs.scheduler.push(sched.pid!);
    if (mode.precreate) {
      await wa.until(1, 120_000);
      cpu.begin();
      await wa.until(PODS, 600_000);
      const preSeconds = (wa.last - wa.first) / 1000;
      precreated = { bindingsPerSecond: (PODS - 1) / preSeconds, seconds: preSeconds, cpu: cpu.end(preSeconds) };
      log(`  bindings: ${precreated.bindingsPerSecond.toFixed(0)}/s (cores: ${precreated.cpu})`);
    } else {
      await waitForLeader(cs);
    }
    await wa.stop();

    // 2. End to end: the scheduler is running; pods are created as fast as the apiserver takes them.
    log(`  end to end: creating ${PODS} pods while the scheduler runs...`);
    const wb = new BindingWatch(cs, "bench-b", await currentRv(cs, "bench-b"));
    const createdAt = new Map<string, number>();
    const h0 = await histogramTotals(servers.metricsUrl);
    cpu.begin();
    const start = performance.now();
    const e2eCreate = await closedLoop(PODS, CONCURRENCY, async (i) => {
      await clients[i % CONCURRENCY]!.for(Pods).create(benchPod("bench-b", i));
      createdAt.set(`p-${i}`, performance.now());
    });
    await wb.until(PODS, 600_000);
    const seconds = (wb.last - start) / 1000;
    const latencies = [...wb.boundAt].map(([name, at]) => at - (createdAt.get(name) ?? at));
    const endToEnd = {
      podsPerSecond: PODS / seconds,
      seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpu: cpu.end(seconds),
      createRate: PODS / e2eCreate.seconds,
    };
    await wb.stop();
    log(`  end to end: ${endToEnd.podsPerSecond.toFixed(0)} pods/s (cores: ${endToEnd.cpu})`);
    log(`  inside the apiserver meanwhile, mean ms (calls): ${insideApiserver(h0, await histogramTotals(servers.metricsUrl))}`);
    await stopProcess(sched);
    const decisionMs = stats.decisions > 0 ? stats.decisionMs / stats.decisions : NaN;
    log(`  decision inside the running scheduler: ${decisionMs.toFixed(3)} ms mean over ${stats.decisions} pods`);
    return { nodes, mode: mode.name, registerSeconds, createRate, precreated, endToEnd, decisionMs };
  } finally {
    await stopProcess(sched);
    await stopProcess(sim);
    for (const c of clients) c.close();
    await servers.stop();
  }
}

/** The decision alone: filters and scores for each pod on an in-memory cache, then assume; no I/O. */
function decisionTime(nodes: number): { mean: number; p50: number; p99: number; perSecond: number } {
  const cache = new SchedulerCache();
  for (let i = 0; i < nodes; i++) {
    const name = `sim-${i}`;
    const res = { cpu: NODE_CPU, memory: NODE_MEMORY, pods: "110" };
    cache.setNode(
      create(NodeSchema, {
        metadata: { name, labels: { type: "simulated", "corral.dev/simulated": "true", "kubernetes.io/hostname": name } },
        spec: { taints: [{ key: SIM_TAINT.key, value: SIM_TAINT.value, effect: SIM_TAINT.effect }] },
        status: { capacity: res, allocatable: res, conditions: [{ type: "Ready", status: "True" }] },
      }),
    );
  }
  const fw = buildFrameworks().get(DEFAULT_SCHEDULER_NAME)!;
  const pods = Array.from({ length: PODS }, (_, i) => {
    const p = benchPod("bench", i);
    p.metadata!.uid = `uid-${i}`;
    return p;
  });
  // Warm up (JIT), then measure on a fresh cache's worth of pods.
  for (let i = 0; i < 500; i++) fw.schedule(newPodInfo(pods[i]!), cache);
  const times: number[] = [];
  const t0 = performance.now();
  for (const p of pods) {
    const a = performance.now();
    const info = newPodInfo(p);
    const r = fw.schedule(info, cache);
    if (r instanceof FitError) throw new Error(r.message);
    cache.assume(info, r.nodeName);
    times.push(performance.now() - a);
  }
  const total = performance.now() - t0;
  return { mean: total / PODS, p50: percentile(times, 50), p99: percentile(times, 99), perSecond: (PODS / total) * 1000 };
}

const results: SizeResult[] = [];
for (const mode of MODES) for (const n of NODE_COUNTS) results.push(await runSize(n, mode));
const decisions = NODE_COUNTS.map((n) => ({ nodes: n, ...decisionTime(n) }));

const pad = (s: string, n: number) => s.padEnd(n);
const W = 16;
console.log(`bench/scheduler: ${PODS} pods of 100m/64Mi from ${OWNERS} owners, simulated nodes of ${NODE_CPU} cpu/${NODE_MEMORY}; ${CONCURRENCY} clients create`);
console.log(`  ${pad("", 52)}${NODE_COUNTS.map((n) => pad(`${n} nodes`, W)).join("")}reference`);
const line = (label: string, cells: string[], ref = "") => console.log(`  ${pad(label, 52)}${cells.map((c) => pad(c, W)).join("")}${ref}`);
for (const mode of MODES) {
  const rs = NODE_COUNTS.map((n) => results.find((r) => r.nodes === n && r.mode === mode.name)!);
  const what =
    mode.name === "perf"
      ? "perf: nodes silent after registering, pods never started (scheduler_perf's shape)"
      : `kwok: Lease every ${mode.leaseRenewSeconds} s per node, pods reported Running after ${mode.runningDelayMs} ms`;
  console.log(`  ${what}`);
  line("  end to end, pods/s (create -> binding seen)", rs.map((r) => r.endToEnd.podsPerSecond.toFixed(0)),
    mode.name === "perf" ? "target >= 1000 at 5000 nodes; kube-scheduler CI floor 270; Godel ~1000" : "");
  line("    apiserver create rate meanwhile, pods/s", rs.map((r) => r.endToEnd.createRate.toFixed(0)), "an upper bound for the line above");
  line("    latency create -> bound, p50 / p99 s", rs.map((r) => `${(r.endToEnd.p50 / 1000).toFixed(1)} / ${(r.endToEnd.p99 / 1000).toFixed(1)}`));
  if (mode.precreate) {
    line("  scheduling alone, bindings/s (pods pre-created)", rs.map((r) => r.precreated!.bindingsPerSecond.toFixed(0)), "the scheduler's throughput against this apiserver");
    line("    pre-create rate, pods/s", rs.map((r) => r.createRate.toFixed(0)));
  }
  line("  decision inside the running scheduler, mean ms", rs.map((r) => r.decisionMs.toFixed(3)), "the same work amid I/O, GC and other processes");
  line("  nodes registered in, s", rs.map((r) => r.registerSeconds.toFixed(1)));
}
line("decision alone per pod, mean / p99 ms", decisions.map((d) => `${d.mean.toFixed(3)} / ${d.p99.toFixed(3)}`), "in process, no I/O");
line("  = decisions/s on one core", decisions.map((d) => d.perSecond.toFixed(0)));
console.log(`  cores used by each process (2 on this machine):`);
for (const r of results) {
  const label = (what: string) => pad(`${r.mode} ${r.nodes} nodes, ${what}:`, 40);
  if (r.precreated) console.log(`    ${label("scheduling alone")}${r.precreated.cpu}`);
  console.log(`    ${label("end to end")}${r.endToEnd.cpu}`);
}
