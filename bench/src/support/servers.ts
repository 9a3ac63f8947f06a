import { spawn, type ChildProcess } from "node:child_process";
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
  stop(): Promise<void>;
}

/** Real etcd, NATS (from their Debian packages) and the apiserver as separate processes in a temp dir. */
export async function startServers(): Promise<Servers> {
  const dir = await mkdtemp(join(tmpdir(), "corral-bench-"));
  const [etcdPort, etcdPeer, natsPort, natsMon, apiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const procs: ChildProcess[] = [];
  const run = (cmd: string, args: string[]) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "ignore", "ignore"] });
    procs.push(p);
    return p;
  };
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  run("etcd", [
    "--data-dir", join(dir, "etcd"),
    "--listen-client-urls", etcdUrl, "--advertise-client-urls", etcdUrl,
    "--listen-peer-urls", `http://127.0.0.1:${etcdPeer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${etcdPeer}`,
    "--initial-cluster", `default=http://127.0.0.1:${etcdPeer}`,
  ]);
  run(process.env.NATS_SERVER ?? "/usr/sbin/nats-server", ["-a", "127.0.0.1", "-p", String(natsPort), "-m", String(natsMon), "-js", "-sd", join(dir, "nats")]);
  await until("etcd", async () => (await fetch(`${etcdUrl}/health`)).ok);
  await until("nats", async () => (await fetch(`http://127.0.0.1:${natsMon}/healthz`)).ok);
  const apiMain = join(dirname(fileURLToPath(import.meta.resolve("@corral/apiserver"))), "main.js");
  const apiAddress = `127.0.0.1:${apiPort}`;
  run(process.execPath, [...(process.env.BENCH_APISERVER_NODE_ARGS ?? "").split(" ").filter(Boolean), apiMain, "--etcd", etcdUrl, "--nats", `nats://127.0.0.1:${natsPort}`, "--listen", apiAddress, "--metrics-listen", ""]);
  return {
    etcdUrl,
    natsUrl: `nats://127.0.0.1:${natsPort}`,
    apiAddress,
    async stop() {
      for (const p of procs.reverse()) p.kill("SIGTERM");
      await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once("exit", r)) : undefined)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
