import { Namespaces } from "@corral/api";
import type { Clientset } from "@corral/client";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not become ready`);
}

export interface Servers {
  etcdUrl: string;
  natsUrl: string;
  apiAddress: string;
  /** The apiserver's Prometheus metrics. */
  metricsUrl: string;
  /** Process ids, for CPU accounting. */
  pids: { etcd: number; nats: number; apiserver: number };
  stop(): Promise<void>;
}

/** Sum and count of each histogram in a Prometheus text page, by name and labels ("name{labels}"). */
export async function histogramTotals(url: string): Promise<Map<string, { sum: number; count: number }>> {
  const text = await (await fetch(url)).text();
  const out = new Map<string, { sum: number; count: number }>();
  for (const line of text.split("\n")) {
    const m = /^(\w+)_(sum|count)(\{[^}]*\})? ([\d.eE+-]+)$/.exec(line);
    if (!m) continue;
    const key = `${m[1]}${m[3] ?? ""}`;
    const e = out.get(key) ?? { sum: 0, count: 0 };
    e[m[2] as "sum" | "count"] = Number(m[4]);
    out.set(key, e);
  }
  return out;
}

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return 0;
  }
}

/** CPU used by each of a set of processes (and this one, as "bench") between begin and end. */
export class CpuMeter {
  private start = new Map<string, number>();
  constructor(private readonly pids: Record<string, number>) {}
  private sample(): Map<string, number> {
    const m = new Map(Object.entries(this.pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const u = process.cpuUsage();
    m.set("bench", (u.user + u.system) / 1e6);
    return m;
  }
  begin(): void {
    this.start = this.sample();
  }
  /** CPU seconds used by each process since begin(). */
  end(): Record<string, number> {
    const now = this.sample();
    return Object.fromEntries([...now].map(([k, v]) => [k, v - (this.start.get(k) ?? 0)]));
  }
}

/** Real etcd, NATS (from their Debian packages) and the apiserver as separate processes in a temp dir. */
export async function startServers(): Promise<Servers> {
  const dir = await mkdtemp(join(tmpdir(), "corral-bench-"));
  const [etcdPort, etcdPeer, natsPort, natsMon, apiPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const procs: ChildProcess[] = [];
  const run = (cmd: string, args: string[]) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "ignore", process.env.BENCH_SERVER_LOGS ? "inherit" : "ignore"] });
    procs.push(p);
    return p;
  };
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcd = run("etcd", [
    "--data-dir", join(dir, "etcd"),
    "--listen-client-urls", etcdUrl, "--advertise-client-urls", etcdUrl,
    "--listen-peer-urls", `http://127.0.0.1:${etcdPeer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${etcdPeer}`,
    "--initial-cluster", `default=http://127.0.0.1:${etcdPeer}`,
  ]);
  const nats = run(process.env.NATS_SERVER ?? "/usr/sbin/nats-server", ["-a", "127.0.0.1", "-p", String(natsPort), "-m", String(natsMon), "-js", "-sd", join(dir, "nats")]);
  await until("etcd", async () => (await fetch(`${etcdUrl}/health`)).ok);
  await until("nats", async () => (await fetch(`http://127.0.0.1:${natsMon}/healthz`)).ok);
  const apiMain = join(dirname(fileURLToPath(import.meta.resolve("@corral/apiserver"))), "main.js");
  const apiAddress = `127.0.0.1:${apiPort}`;
  const apiserver = run(process.execPath, [...(process.env.BENCH_APISERVER_NODE_ARGS ?? "").split(" ").filter(Boolean), apiMain, "--etcd", etcdUrl, "--nats", `nats://127.0.0.1:${natsPort}`, "--listen", apiAddress, "--metrics-listen", `127.0.0.1:${metricsPort}`]);
  return {
    etcdUrl,
    natsUrl: `nats://127.0.0.1:${natsPort}`,
    apiAddress,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    pids: { etcd: etcd.pid!, nats: nats.pid!, apiserver: apiserver.pid! },
    async stop() {
      for (const p of procs.reverse()) p.kill("SIGTERM");
      await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once("exit", r)) : undefined)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the apiserver answers (it starts after etcd and NATS, in its own process). */
export async function waitForApi(cs: Clientset): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      await cs.for(Namespaces).get({ name: "default" }, { timeoutMs: 500 });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error("apiserver not ready");
}
