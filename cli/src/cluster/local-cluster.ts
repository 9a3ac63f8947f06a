import { Leases, Namespaces, Nodes } from "@corral/api";
import { removeDnsAddress } from "@corral/dns";
import { removeProxyTable } from "@corral/proxy";
import { Clientset, writeConfig } from "@corral/client";
import { execFile } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, hostname } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NODE_HOST_DEFAULTS, nodeHostComponents, nodeHostInfo, readNodeHostRecord, recordNodeHostOptions, stopNodeHost, type NodeHostOptions } from "./node-host.js";
import { formatIp, parseCidr } from "./cni.js";
import { ensureRunning, stopComponent, type ComponentSpec } from "./process.js";

export interface LocalClusterOptions {
  /** Everything the cluster keeps: data, logs, pid files. */
  stateDir: string;
  etcdPort: number;
  natsPort: number;
  apiPort: number;
  metricsPort: number;
  /** The image registry's port on 127.0.0.1 (images are named localhost:PORT/...); default 5000. */
  registryPort?: number;
  /** The node's pod CIDR; default 10.244.0.0/24. */
  podCidr?: string;
  /** The CNI bridge (and network) name; default corral0. */
  bridge?: string;
  /** The cgroup parent of pods; default corral. */
  cgroupParent?: string;
  /** The node agent's logs/exec endpoint on 127.0.0.1; default 10250. */
  agentPort?: number;
  /** Where Services get their ClusterIPs; the cluster DNS is its tenth address. Default 10.96.0.0/16. */
  serviceCidr?: string;
}

export const DEFAULT_SERVICE_CIDR = "10.96.0.0/16";

/** The cluster DNS's address: the tenth of the service CIDR, as in Kubernetes (10.96.0.10). */
export function dnsAddress(serviceCidr: string): string {
  const { base } = parseCidr(serviceCidr);
  return formatIp(base + 10);
}

/** The proxy's nftables table: named after the bridge, so clusters side by side never share one. */
export function proxyTable(o: LocalClusterOptions): string {
  return nodeHostOptions(o).bridge;
}

/** The node host's settings: those given, else the defaults. */
export function nodeHostOptions(o: LocalClusterOptions): NodeHostOptions {
  return {
    stateDir: o.stateDir,
    registryPort: o.registryPort ?? NODE_HOST_DEFAULTS.registryPort,
    podCidr: o.podCidr ?? NODE_HOST_DEFAULTS.podCidr,
    bridge: o.bridge ?? NODE_HOST_DEFAULTS.bridge,
    cgroupParent: o.cgroupParent ?? NODE_HOST_DEFAULTS.cgroupParent,
  };
}

export function defaultStateDir(): string {
  return process.env.CORRAL_STATE_DIR || join(homedir(), ".corral", "cluster");
}

export const DEFAULT_PORTS = { etcdPort: 12379, natsPort: 14222, apiPort: 6443, metricsPort: 9443 } as const;

/** Finds a program on PATH, or in the sbin directories Debian puts servers in. */
function findProgram(name: string, pkg: string): string {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"];
  for (const d of dirs) {
    const p = join(d, name);
    if (d && existsSync(p)) return p;
  }
  throw new Error(`${name} is not installed: install the Debian package ${pkg} (make deps does)`);
}

async function httpOk(url: string, body?: RegExp): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  if (!res.ok) return false;
  return body ? body.test(await res.text()) : true;
}

/** The main.js of a Corral service package (they sit beside each other in node_modules). */
function serviceMain(pkg: string): string {
  return join(dirname(fileURLToPath(import.meta.resolve(pkg))), "main.js");
}

/** The components `down` stops, in start order (it needs no installed program to do so). */
export const COMPONENT_NAMES = ["etcd", "nats", "registry", "containerd", "apiserver", "controller", "scheduler", "dns", "proxy", "nodeagent"] as const;

/** The control plane's programs, in start order. */
export function components(o: LocalClusterOptions): ComponentSpec[] {
  const etcdPeer = o.etcdPort + 1;
  const natsMonitor = o.natsPort + 4000;
  const etcdUrl = `http://127.0.0.1:${o.etcdPort}`;
  const natsUrl = `nats://127.0.0.1:${o.natsPort}`;
  const apiAddress = `127.0.0.1:${o.apiPort}`;
  const host = nodeHostOptions(o);
  const hostInfo = nodeHostInfo(host);
  const nodeName = hostname().toLowerCase();
  const serviceCidr = o.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  const dnsIP = dnsAddress(serviceCidr);
  return [
    {
      name: "etcd",
      command: findProgram("etcd", "etcd-server"),
      args: [
        "--name", "corral",
        "--data-dir", join(o.stateDir, "etcd"),
        "--listen-client-urls", etcdUrl,
        "--advertise-client-urls", etcdUrl,
        "--listen-peer-urls", `http://127.0.0.1:${etcdPeer}`,
        "--initial-advertise-peer-urls", `http://127.0.0.1:${etcdPeer}`,
        "--initial-cluster", `corral=http://127.0.0.1:${etcdPeer}`,
        "--auto-compaction-mode", "periodic",
        "--auto-compaction-retention", "1h",
      ],
      ready: () => httpOk(`${etcdUrl}/health`, /"health":\s*"true"/),
    },
    {
      name: "nats",
      command: findProgram("nats-server", "nats-server"),
      args: ["-a", "127.0.0.1", "-p", String(o.natsPort), "-m", String(natsMonitor), "-js", "-sd", join(o.stateDir, "nats")],
      ready: () => httpOk(`http://127.0.0.1:${natsMonitor}/healthz?js-enabled-only=true`),
    },
    // The registry (Corral's images are pushed once it answers) and the node's containerd.
    ...nodeHostComponents(nodeHostOptions(o)),
    {
      name: "apiserver",
      command: process.execPath,
      args: [
        serviceMain("@corral/apiserver"),
        "--etcd", etcdUrl,
        "--nats", natsUrl,
        "--listen", apiAddress,
        "--metrics-listen", `127.0.0.1:${o.metricsPort}`,
        "--service-cluster-ip-range", serviceCidr,
      ],
      ready: async () => {
        const cs = Clientset.connect(apiAddress);
        try {
          await cs.for(Namespaces).get({ name: "default" }, { timeoutMs: 1000 });
          return true;
        } finally {
          cs.close();
        }
      },
    },
    {
      name: "controller",
      command: process.execPath,
      args: [serviceMain("@corral/controller"), "--apiserver", apiAddress, "--identity", `${nodeName}-corral-up`],
      ready: () => leaseHeldBy(apiAddress, "corral-controller-manager", `${nodeName}-corral-up`),
    },
    {
      name: "scheduler",
      command: process.execPath,
      // A stable identity: a restarted scheduler takes its own Lease back at once.
      args: [serviceMain("@corral/scheduler"), "--apiserver", apiAddress, "--identity", `${nodeName}-corral-up`],
      ready: () => leaseHeldBy(apiAddress, "corral-scheduler", `${nodeName}-corral-up`),
    },
    {
      name: "dns",
      command: process.execPath,
      args: [serviceMain("@corral/dns"), "--apiserver", apiAddress],
      ready: () => dnsAnswers(dnsIP),
    },
    {
      name: "proxy",
      command: process.execPath,
      args: [
        serviceMain("@corral/proxy"),
        "--apiserver", apiAddress,
        "--node-name", nodeName,
        "--table", proxyTable(o),
        "--service-cidr", serviceCidr,
        "--cluster-cidr", host.podCidr,
      ],
      ready: () => nftTableExists(proxyTable(o)),
    },
    {
      name: "nodeagent",
      command: process.execPath,
      args: [
        serviceMain("@corral/nodeagent"),
        "--apiserver", apiAddress,
        "--node-name", nodeName,
        "--node-ip", "127.0.0.1",
        "--pod-cidr", host.podCidr,
        "--cri-socket", hostInfo.criSocket,
        "--root-dir", join(o.stateDir, "nodeagent"),
        "--cgroup-root", host.cgroupParent,
        "--listen", `127.0.0.1:${o.agentPort ?? DEFAULT_AGENT_PORT}`,
        "--cluster-dns", dnsIP,
      ],
      ready: () => nodeReady(apiAddress, nodeName),
    },
  ];
}

export const DEFAULT_AGENT_PORT = 10250;

async function leaseHeldBy(apiAddress: string, name: string, identity: string): Promise<boolean> {
  const cs = Clientset.connect(apiAddress);
  try {
    const lease = await cs.for(Leases).get({ namespace: "corral-system", name }, { timeoutMs: 1000 });
    return lease.spec?.holderIdentity === identity;
  } finally {
    cs.close();
  }
}

async function dnsAnswers(ip: string): Promise<boolean> {
  const r = new Resolver({ timeout: 500, tries: 1 });
  r.setServers([ip]);
  const addrs = await r.resolve4("corral-dns.corral-system.svc.cluster.local");
  return addrs.includes(ip);
}

async function nftTableExists(table: string): Promise<boolean> {
  return new Promise((resolve) => execFile("nft", ["list", "table", "ip", table], (err) => resolve(!err)));
}

async function nodeReady(apiAddress: string, name: string): Promise<boolean> {
  const cs = Clientset.connect(apiAddress);
  try {
    const node = await cs.for(Nodes).get({ name }, { timeoutMs: 1000 });
    return node.status?.conditions.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  } finally {
    cs.close();
  }
}

export type Progress = (line: string) => void;

/**
 * Brings the local control plane up: starts each component that is not running, waits until it
 * answers, and writes the client config. Run again, it only restarts what has stopped.
 */
export async function up(o: LocalClusterOptions, configPath: string, progress: Progress): Promise<void> {
  const t0 = performance.now();
  await recordNodeHostOptions(nodeHostOptions(o));
  // What `down` must undo beyond the node host: the DNS address on lo and the proxy's table.
  await mkdir(o.stateDir, { recursive: true });
  await writeFile(join(o.stateDir, "cluster.json"), JSON.stringify({ serviceCidr: o.serviceCidr ?? DEFAULT_SERVICE_CIDR, proxyTable: proxyTable(o) }));
  for (const spec of components(o)) await ensureRunning(o.stateDir, spec, progress);
  await writeConfig({ server: `127.0.0.1:${o.apiPort}` }, configPath);
  progress(`Cluster up in ${((performance.now() - t0) / 1000).toFixed(1)}s. Config: ${configPath}; state: ${o.stateDir}`);
}

/**
 * Stops every component, last started first; with purge, removes the state directory too. The node
 * host (containerd, registry) goes with everything its pods left on the machine.
 */
export async function down(o: LocalClusterOptions, purge: boolean, progress: Progress): Promise<void> {
  const stop = async (name: string) => {
    const t = performance.now();
    const stopped = await stopComponent(o.stateDir, name);
    progress(`  ${name.padEnd(10)} ${stopped ? `stopped in ${((performance.now() - t) / 1000).toFixed(1)}s` : "not running"}`);
  };
  // What runs on top of containerd and the stores first, last started first (the apiserver needs
  // the stores to shut down cleanly; whatever drives containerd must not recreate pods while they go).
  const containerdAt = COMPONENT_NAMES.indexOf("containerd");
  const apiserverAt = COMPONENT_NAMES.indexOf("apiserver");
  // The apiserver's clients side by side, then the apiserver.
  await Promise.all(COMPONENT_NAMES.slice(apiserverAt + 1).map(stop));
  for (const name of COMPONENT_NAMES.slice(containerdAt + 1, apiserverAt + 1).reverse()) await stop(name);
  // Then the node host (it removes every pod through the CRI before containerd stops) beside the
  // stores: each of those takes about 2 s to stop on SIGTERM.
  // Only what this state dir's `up` recorded: with no record, it set up no bridge, rules or cgroups.
  const cluster = await readFile(join(o.stateDir, "cluster.json"), "utf8").then(
    (t) => JSON.parse(t) as { serviceCidr: string; proxyTable: string },
    () => undefined,
  );
  if (cluster) {
    // Services stop answering only now that their proxy and DNS are gone.
    await removeProxyTable(cluster.proxyTable).catch(() => {});
    if (await removeDnsAddress(dnsAddress(cluster.serviceCidr)).catch(() => false)) progress(`  dns        removed ${dnsAddress(cluster.serviceCidr)} from lo`);
    progress(`  proxy      removed nft table ip ${cluster.proxyTable}`);
  }
  const host = await readNodeHostRecord(o.stateDir);
  await Promise.all([
    host ? stopNodeHost(host, progress) : Promise.all(["containerd", "registry"].map(stop)),
    ...COMPONENT_NAMES.slice(0, containerdAt)
      .filter((n) => n !== "registry")
      .map(stop),
  ]);
  if (purge) {
    await rm(o.stateDir, { recursive: true, force: true });
    progress(`  removed ${o.stateDir}`);
  }
}
