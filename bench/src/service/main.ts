// bench/service: Services on one real node, in one run.
//  1. `ab -c 50`, 100,000 requests (in 10 runs of -n 10000, interleaved) against a Service with one endpoint (an HTTP server in a pod) and against
//     that pod directly, with the ratio (target ≥ 0.9; early Kubernetes' userspace proxy: 0.05).
//  2. Network programming latency with 1,000 and 10,000 Services: an Endpoints update sent to the
//     apiserver → the proxy's nft transaction for it committed, p50/p99, and the nft statements
//     each update issued (target p99 ≤ 100 ms at 10,000).
// Its own everything: etcd, NATS and apiserver processes (Service CIDR 10.112.0.0/16), a node host
// (bridge corralsvcb0, pods in 10.247.0.0/24), the proxy's table corralbench. Traffic goes only to
// the pod and to the Service addresses of that range.
import { create } from "@bufbuild/protobuf";
import { EndpointsKind, EndpointsSchema, Pods, PodSchema, ServiceSchema, Services, type Endpoints, type Pod } from "@corral/api";
import { startNodeHost, stopNodeHost, type NodeHostOptions } from "@corral/cli/cluster/node-host";
import { Clientset } from "@corral/client";
import { createLogger } from "@corral/logging";
import { NodeAgent } from "@corral/nodeagent";
import { Proxy, type SyncStats } from "@corral/proxy";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, startServers } from "../support/servers.js";
import { closedLoop, percentile } from "../support/stats.js";

const exec = promisify(execFile);
const progress = (s: string) => process.stderr.write(s + "\n");
const AB_N = Number(process.env.BENCH_AB_REQUESTS ?? 100_000);
const AB_C = 50;
const SIZES = (process.env.BENCH_SERVICES ?? "1000,10000").split(",").map(Number);
const UPDATES = Number(process.env.BENCH_UPDATES ?? 200);
const SERVICE_CIDR = "10.112.0.0/16";
const TABLE = "corralbench";
const NODE = "bench-node";

interface AbResult {
  rps: number;
  seconds: number;
  /** Connections the pod's accept queue dropped during the run (each costs the client a 1 s SYN retransmit). */
  overflows: number;
  failed: number;
  p50: number;
  p99: number;
}

async function ab(url: string, n: number): Promise<AbResult> {
  const { stdout } = await exec("ab", ["-q", "-c", String(AB_C), "-n", String(n), "-s", "10", "-r", url], { maxBuffer: 16 * 1024 * 1024 });
  const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? NaN);
  return {
    rps: num(/Requests per second:\s+([\d.]+)/),
    seconds: num(/Time taken for tests:\s+([\d.]+)/),
    overflows: 0,
    failed: num(/Failed requests:\s+(\d+)/) + (num(/Non-2xx responses:\s+(\d+)/) || 0),
    p50: num(/^\s+50%\s+(\d+)/m),
    p99: num(/^\s+99%\s+(\d+)/m),
  };
}

/** TcpExtListenOverflows of the pod's network namespace. */
async function listenOverflows(netns: string | undefined): Promise<number> {
  if (!netns) return NaN;
  try {
    const { stdout } = await exec("nsenter", [`--net=${netns}`, "cat", "/proc/net/netstat"]);
    const lines = stdout.split("\n").filter((l) => l.startsWith("TcpExt:"));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    return Number(values[names.indexOf("ListenOverflows")]);
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), "corral-bench-svc-"));
  const hostOpts: NodeHostOptions = { stateDir, registryPort: await freePort(), podCidr: "10.247.0.0/24", bridge: "corralsvcb0", cgroupParent: "corralsvcbench" };
  const cleanups: (() => Promise<unknown>)[] = [];
  const out: string[] = [];
  try {
    progress("starting etcd, NATS, apiserver, registry and containerd...");
    process.env.CORRAL_SERVICE_CIDR = SERVICE_CIDR; // read by the apiserver process for --service-cluster-ip-range
    const [servers, host] = await Promise.all([
      startServers().then((s) => (cleanups.unshift(() => s.stop()), s)),
      startNodeHost(hostOpts).then((h) => (cleanups.unshift(() => stopNodeHost(hostOpts, () => {})), h)),
    ]);
    const log = createLogger("bench", { level: "warn" });
    const agent = await NodeAgent.start({
      apiserver: servers.apiAddress,
      nodeName: NODE,
      nodeIP: "127.0.0.1",
      podCIDR: host.podCidr,
      criSocket: host.criSocket,
      rootDir: join(stateDir, "nodeagent"),
      cgroupRoot: host.cgroupParent,
      listen: "127.0.0.1:0",
      log,
    });
    cleanups.unshift(() => agent.stop());
    const clients = Clientset.connect(servers.apiAddress);
    cleanups.unshift(async () => clients.close());
    await until(() => clients.for(Pods).list({ namespace: "default" }).then(() => true), "the apiserver");

    let onSync: (s: SyncStats) => void = () => {};
    const proxy = await Proxy.start({
      apiserver: servers.apiAddress,
      nodeName: NODE,
      table: TABLE,
      serviceCidr: SERVICE_CIDR,
      clusterCidr: host.podCidr,
      nodePortAddresses: ["10.247.0.1/32"],
      log,
      onSync: (s) => onSync(s),
    });
    cleanups.unshift(() => proxy.stop({ removeTable: true }));

    // ---- 1. throughput through the Service vs direct ----
    // The pod is a busybox sandbox; the HTTP server is Node's, started in the pod's network
    // namespace (same veth, bridge and addresses as a container of the pod). busybox httpd listens
    // with a backlog of 9: under -c 50 on this 2-core machine its accept queue overflowed hundreds of
    // times per 10,000 requests, each a 1 s SYN retransmit, and ab measured that, not the path.
    const pod = await runPod(clients, host.busyboxImage);
    cleanups.unshift(() => clients.for(Pods).delete({ namespace: "default", name: "web", gracePeriodSeconds: 0n }).catch(() => {}));
    const podIP = pod.status!.podIp;
    const nsDir = join(stateDir, "containerd", "state", "io.containerd.grpc.v1.cri", "netns");
    const netns = (await readdir(nsDir).catch(() => [] as string[])).map((f) => join(nsDir, f))[0];
    if (!netns) throw new Error(`no network namespace under ${nsDir}`);
    const server = spawn("nsenter", [`--net=${netns}`, process.execPath, "-e", SERVER, podIP], { stdio: ["ignore", "ignore", "inherit"] });
    cleanups.unshift(async () => {
      server.kill("SIGKILL");
      if (server.exitCode === null && server.signalCode === null) await new Promise((r) => server.once("exit", r));
    });
    await until(async () => (await fetch(`http://${podIP}:8080/index.html`)).ok, "the server in the pod");
    const svc = await clients.for(Services).create(create(ServiceSchema, { metadata: { name: "web", namespace: "default" }, spec: { ports: [{ port: 80 }] } }));
    // Two ports: :8080 for direct requests, :8081 behind the Service. With one port, direct and NATed
    // connections would share the pod's TIME_WAIT tuples with different TCP timestamp bases, and the
    // pod would refuse SYNs of either (PAWS), a 1 s retransmit each.
    await clients.for(EndpointsKind).create(endpoints("web", [podIP], 8081));
    const vip = svc.spec!.clusterIp;
    const direct = `http://${podIP}:8080/index.html`;
    const viaService = `http://${vip}/index.html`;
    await until(async () => (await fetch(viaService)).ok, "the Service");
    // The machine is shared (2 cores): the two sides are measured in interleaved slices, so that
    // both see the same background load, and added up: AB_N requests per side in all.
    const slices = Math.max(1, Math.round(AB_N / 10_000));
    const per = Math.ceil(AB_N / slices);
    progress(`ab -c ${AB_C}: ${slices} interleaved runs of ${per} requests per side (warm-up first)`);
    await ab(direct, 2000);
    await ab(viaService, 2000);
    const runs: { direct: AbResult[]; service: AbResult[] } = { direct: [], service: [] };
    for (let i = 0; i < slices; i++) {
      // Alternate which side goes first.
      const order: ["direct" | "service", string][] = i % 2 === 0 ? [["direct", direct], ["service", viaService]] : [["service", viaService], ["direct", direct]];
      for (const [side, url] of order) {
        const before = await listenOverflows(netns);
        const r = await ab(url, per);
        r.overflows = (await listenOverflows(netns)) - before;
        runs[side].push(r);
      }
      progress(`  run ${i + 1}/${slices}: direct ${runs.direct[i]!.rps.toFixed(0)} req/s (${runs.direct[i]!.overflows} dropped SYNs), Service ${runs.service[i]!.rps.toFixed(0)} req/s (${runs.service[i]!.overflows})`);
    }
    const total = (rs: AbResult[]) => {
      const seconds = rs.reduce((t, r) => t + r.seconds, 0);
      const med = (xs: number[]) => percentile(xs, 50);
      const best = rs.reduce((a, b) => (b.rps > a.rps ? b : a));
      return {
        rps: (per * rs.length) / seconds,
        best: best.rps,
        p50: med(rs.map((r) => r.p50)),
        p99: med(rs.map((r) => r.p99)),
        failed: rs.reduce((t, r) => t + r.failed, 0),
        overflows: rs.reduce((t, r) => t + r.overflows, 0),
      };
    };
    const d = total(runs.direct);
    const s = total(runs.service);
    const ratios = runs.service.map((r, i) => r.rps / runs.direct[i]!.rps);
    out.push(`\nbench/service: ab -c ${AB_C}, ${per * slices} requests per side in ${slices} interleaved runs of -n ${per} (a new connection per request), one pod (Node's http server in its network namespace)\n`);
    out.push(`${"".padEnd(26)}${"req/s".padStart(10)}${"best run".padStart(10)}${"p50".padStart(8)}${"p99".padStart(9)}${"failed".padStart(8)}${"dropped SYNs".padStart(14)}`);
    const row = (name: string, r: ReturnType<typeof total>) =>
      out.push(
        `${name.padEnd(26)}${r.rps.toFixed(0).padStart(10)}${r.best.toFixed(0).padStart(10)}${`${r.p50} ms`.padStart(8)}${`${r.p99} ms`.padStart(9)}${String(r.failed).padStart(8)}${String(r.overflows).padStart(14)}`,
      );
    row("direct to the pod", d);
    row("via the Service (nft)", s);
    out.push(
      `ratio Service / direct: ${(s.rps / d.rps).toFixed(2)} overall, ${(s.best / d.best).toFixed(2)} best runs, ${percentile(ratios, 50).toFixed(2)} median of the paired runs (target ≥ 0.9; Kubernetes' userspace proxy: 288 / 6,253 = 0.05)`,
    );
    out.push("(p50/p99: median over the runs. Dropped SYNs: the pod's accept queue overflowed, each a 1 s retransmit.)");

    // ---- 2. programming latency ----
    out.push(`\nNetwork programming latency: Endpoints update sent → nft transaction committed (${UPDATES} updates, one at a time)\n`);
    out.push(`${"Services".padEnd(10)}${"full sync".padStart(12)}${"p50".padStart(10)}${"p99".padStart(10)}${"max".padStart(10)}${"stmts/update".padStart(15)}`);
    let made = 0;
    for (const size of SIZES) {
      progress(`creating Services and Endpoints up to ${size}...`);
      const t0 = performance.now();
      await closedLoop(size - made, 32, async (i) => {
        const name = `s${made + i}`;
        await clients.for(Services).create(create(ServiceSchema, { metadata: { name, namespace: "default" }, spec: { ports: [{ port: 80 }] } }));
        await clients.for(EndpointsKind).create(endpoints(name, [fakeIP(made + i, 0)], 8080));
      });
      progress(`  ${size - made} Services + Endpoints created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      made = size;
      // Let the proxy catch up with the burst, then time a full rebuild at this size.
      await until(async () => (await waitQuiet(proxy, 500)) === true, "the proxy to catch up", 300_000);
      const tf = performance.now();
      await proxy.resync();
      const fullMs = performance.now() - tf;
      const lat: number[] = [];
      const stmts: number[] = [];
      for (let u = 0; u < UPDATES; u++) {
        const i = Math.floor(Math.random() * size);
        const name = `s${i}`;
        const cur = await clients.for(EndpointsKind).get({ namespace: "default", name });
        // Alternate between one and two endpoints: each update changes the Service's load-balancing.
        const n = readyCount(cur) === 1 ? 2 : 1;
        const next = endpoints(name, Array.from({ length: n }, (_, k) => fakeIP(i, (u + k) % 200)), 8080);
        next.metadata!.resourceVersion = cur.metadata!.resourceVersion;
        const key = `default/${name}`;
        const done = new Promise<SyncStats>((resolve) => {
          onSync = (st) => {
            if (st.seen.has(key)) resolve(st);
          };
        });
        const t = performance.now();
        await clients.for(EndpointsKind).update(next);
        const st = await done;
        lat.push(st.appliedAt - t);
        stmts.push(st.statements);
        onSync = () => {};
        await new Promise((r) => setTimeout(r, 10));
      }
      const f = (ms: number) => `${ms.toFixed(1)} ms`;
      out.push(
        `${String(size).padEnd(10)}${f(fullMs).padStart(12)}${f(percentile(lat, 50)).padStart(10)}${f(percentile(lat, 99)).padStart(10)}${f(Math.max(...lat)).padStart(10)}${`${percentile(stmts, 50)} (max ${Math.max(...stmts)})`.padStart(15)}`,
      );
      progress(out[out.length - 1]!);
    }
    out.push("\nTarget: p99 ≤ 100 ms at 10,000 Services. An update is a few map elements (the Service's");
    out.push("backends and its entry in the service map) in one `nft -f` transaction, whatever the number of Services.");
  } finally {
    for (const c of cleanups) await c().catch((err) => progress(`cleanup: ${String(err)}`));
    await rm(stateDir, { recursive: true, force: true });
  }
  console.log(out.join("\n"));
}

/** Pod addresses that exist nowhere: the rules are measured, no traffic goes to them. */
function fakeIP(i: number, k: number): string {
  return `10.247.${200 + (k % 50)}.${(i % 250) + 1}`;
}

function readyCount(e: Endpoints): number {
  return e.subsets.reduce((n, s) => n + s.addresses.length, 0);
}

function endpoints(name: string, ips: string[], port: number): Endpoints {
  return create(EndpointsSchema, {
    metadata: { name, namespace: "default" },
    subsets: [{ addresses: ips.map((ip) => ({ ip, nodeName: NODE })), ports: [{ port }] }],
  });
}

/** Node's http server on ports 8080 and 8081 of the address given, with a listen backlog of 4096. */
const SERVER = `
const http = require("node:http");
const host = process.argv[1];
for (const port of [8080, 8081]) http.createServer((req, res) => res.end("ok\\n")).listen({ port, host, backlog: 4096 });
`;

/** A pod whose network namespace holds the server (its container only sleeps). */
async function runPod(clients: Clientset, image: string): Promise<Pod> {
  await clients.for(Pods).create(
    create(PodSchema, {
      metadata: { name: "web", namespace: "default", labels: { app: "web" } },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 0n,
        containers: [{ name: "app", image, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
      },
    }),
  );
  return until(async () => {
    const p = await clients.for(Pods).get({ namespace: "default", name: "web" });
    return p.status?.phase === "Running" && p.status.podIp ? p : false;
  }, "the web pod", 120_000);
}

/** True once the proxy has applied nothing for `ms`. */
async function waitQuiet(proxy: Proxy, ms: number): Promise<boolean> {
  const before = proxy.transactions;
  await new Promise((r) => setTimeout(r, ms));
  return proxy.transactions === before;
}

async function until<T>(fn: () => Promise<T | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn().catch(() => false as const);
    if (v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

await main();
