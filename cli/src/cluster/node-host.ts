// The node's host runtime: an image registry with Corral's images in it, and a containerd of the
// cluster's own with CNI set up. `corral up` starts it as two of its components; `corral down`
// takes it apart again, down to the bridge, iptables rules, mounts and cgroups its pods left.
// The test harness (test/src/support/node-host.ts) runs the same code in a temporary state dir.
// @corral/cri and @corral/oci are loaded when first needed: every `corral` command imports this module.
import { BUSYBOX_REPOSITORY, BUSYBOX_TAGS, PAUSE_REPOSITORY, PAUSE_TAG } from "@corral/oci/names";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { CNI_CONFLIST_FILE, parseCidr, renderCniConflist } from "./cni.js";
import { containerdPaths, renderContainerdConfig, renderRegistryHosts } from "./containerd.js";
import { mountsUnder, planIptablesCleanup } from "./host-cleanup.js";
import { ensureRunning, isAlive, readPid, stopComponent, type ComponentSpec } from "./process.js";
import { registryPaths, renderRegistryConfig } from "./registry.js";

const run = promisify(execFile);

/** What makes one node's host runtime distinct from another's on the same machine. */
export interface NodeHostOptions {
  /** The cluster's state directory: everything the node host writes goes below it. */
  stateDir: string;
  /** The registry listens on 127.0.0.1:registryPort; images are named localhost:registryPort/... */
  registryPort: number;
  /** The node's pod CIDR: host-local hands out pod IPs from it. */
  podCidr: string;
  /** The CNI bridge (at most 15 characters); also the CNI network's name. */
  bridge: string;
  /** The cgroup parent the node agent puts pods under (/sys/fs/cgroup/<controller>/<cgroupParent>/...). */
  cgroupParent: string;
}

export const NODE_HOST_DEFAULTS = {
  registryPort: 5000,
  podCidr: "10.244.0.0/24",
  bridge: "corral0",
  cgroupParent: "corral",
} as const;

/** Everything a node agent or a test needs to know about a running node host. */
export interface NodeHostInfo {
  stateDir: string;
  /** host:port pods' images are named with, e.g. localhost:5000. */
  registry: string;
  /** containerd's CRI socket (a path, no unix:// prefix). */
  criSocket: string;
  /** The CRI namespace containerd keeps pods in. */
  criNamespace: "k8s.io";
  podCidr: string;
  bridge: string;
  cgroupParent: string;
  pauseImage: string;
  busyboxImage: string;
}

export function nodeHostInfo(o: NodeHostOptions): NodeHostInfo {
  const registry = `localhost:${o.registryPort}`;
  return {
    stateDir: o.stateDir,
    registry,
    criSocket: containerdPaths(o.stateDir).socket,
    criNamespace: "k8s.io",
    podCidr: o.podCidr,
    bridge: o.bridge,
    cgroupParent: o.cgroupParent,
    pauseImage: `${registry}/${PAUSE_REPOSITORY}:${PAUSE_TAG}`,
    busyboxImage: `${registry}/${BUSYBOX_REPOSITORY}:${BUSYBOX_TAGS[0]}`,
  };
}

/** Checks the options before anything is started, with messages that say what to change. */
export function validateNodeHostOptions(o: NodeHostOptions): void {
  parseCidr(o.podCidr);
  if (!/^[a-zA-Z][a-zA-Z0-9_-]{0,14}$/.test(o.bridge)) throw new Error(`bridge name ${JSON.stringify(o.bridge)}: 1 to 15 letters, digits, - or _`);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(o.cgroupParent)) throw new Error(`cgroup parent ${JSON.stringify(o.cgroupParent)}: one plain directory name`);
  if (!Number.isInteger(o.registryPort) || o.registryPort < 1 || o.registryPort > 65535) throw new Error(`registry port ${o.registryPort}`);
  containerdPaths(o.stateDir);
}

// ---------------------------------------------------------------------------------------------
// The record of what `up` set up, so that `down` undoes exactly that whatever flags it is given.

function recordFile(stateDir: string): string {
  return join(stateDir, "node-host.json");
}

export async function readNodeHostRecord(stateDir: string): Promise<NodeHostOptions | undefined> {
  try {
    const r = JSON.parse(await readFile(recordFile(stateDir), "utf8")) as Partial<NodeHostOptions>;
    if (typeof r.registryPort !== "number" || typeof r.podCidr !== "string" || typeof r.bridge !== "string" || typeof r.cgroupParent !== "string") return undefined;
    return { stateDir, registryPort: r.registryPort, podCidr: r.podCidr, bridge: r.bridge, cgroupParent: r.cgroupParent };
  } catch {
    return undefined;
  }
}

async function writeNodeHostRecord(o: NodeHostOptions): Promise<void> {
  await mkdir(o.stateDir, { recursive: true });
  const { stateDir: _, ...rest } = o;
  await writeFile(recordFile(o.stateDir), `${JSON.stringify(rest, null, 2)}\n`);
}

/** Command lines of all processes, by pid. */
async function processes(): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      out.set(Number(entry), (await readFile(`/proc/${entry}/cmdline`, "utf8")).split("\0"));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * The other node hosts running on this machine (another `corral up`, a test's): each containerd
 * started with a config at <stateDir>/containerd/config.toml beside a node-host.json record.
 */
export async function otherNodeHosts(stateDir: string): Promise<NodeHostOptions[]> {
  const ours = containerdPaths(stateDir).config;
  const found: NodeHostOptions[] = [];
  for (const argv of (await processes()).values()) {
    if (!argv[0]?.endsWith("containerd")) continue;
    const config = argv[argv.indexOf("--config") + 1];
    if (!argv.includes("--config") || !config || config === ours || !config.endsWith("/containerd/config.toml")) continue;
    const record = await readNodeHostRecord(dirname(dirname(config)));
    if (record) found.push(record);
  }
  return found;
}

/** What of ours another live node host shares: the parts `up` must refuse and `down` must leave alone. */
function sharedWith(o: NodeHostOptions, others: NodeHostOptions[]): { network?: NodeHostOptions; cgroups?: NodeHostOptions } {
  const overlaps = (a: string, b: string) => {
    const [ba, bb] = [parseCidr(a), parseCidr(b)];
    const bits = Math.min(ba.bits, bb.bits);
    const mask = (0xffffffff << (32 - bits)) >>> 0;
    return ((ba.base & mask) >>> 0) === ((bb.base & mask) >>> 0);
  };
  return {
    network: others.find((x) => x.bridge === o.bridge || overlaps(x.podCidr, o.podCidr)),
    cgroups: others.find((x) => x.cgroupParent === o.cgroupParent),
  };
}

/**
 * Fails when the node host is running with other settings than asked for (changing the pod CIDR
 * or bridge under running pods would strand them); otherwise records these settings for `down`.
 */
export async function recordNodeHostOptions(o: NodeHostOptions): Promise<void> {
  validateNodeHostOptions(o);
  const prev = await readNodeHostRecord(o.stateDir);
  if (prev) {
    const pids = await Promise.all(NODE_HOST_COMPONENTS.map((n) => readPid(o.stateDir, n)));
    const alive = pids.some((pid) => pid !== undefined && isAlive(pid));
    const diff = (["registryPort", "podCidr", "bridge", "cgroupParent"] as const).filter((k) => prev[k] !== o[k]);
    if (alive && diff.length > 0) {
      throw new Error(
        `the node host is running with ${diff.map((k) => `${k} ${prev[k]}`).join(", ")}; run \`corral down\` before changing ${diff.join(", ")}`,
      );
    }
  }
  const { network } = sharedWith(o, await otherNodeHosts(o.stateDir));
  if (network) {
    throw new Error(
      `bridge ${network.bridge} and pod CIDR ${network.podCidr} belong to the cluster running from ${network.stateDir}; ` +
        `give this one another --bridge and --pod-cidr (now ${o.bridge}, ${o.podCidr})`,
    );
  }
  await writeNodeHostRecord(o);
}

// ---------------------------------------------------------------------------------------------
// Components.

export const NODE_HOST_COMPONENTS = ["registry", "containerd"] as const;

/** Debian's locations first, then PATH. */
function program(name: string, pkg: string, candidates: string[]): string {
  const dirs = [...candidates, ...(process.env.PATH ?? "").split(":").filter(Boolean).map((d) => join(d, name))];
  const found = dirs.find((p) => existsSync(p));
  if (!found) throw new Error(`${name} is not installed: install the Debian package ${pkg} (make deps does)`);
  return found;
}

/** Children (runc, the shims, the CNI plugins, iptables) find their programs whatever PATH `corral` was run with. */
function childPath(): string {
  const dirs = new Set([...(process.env.PATH ?? "").split(":").filter(Boolean), "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
  return [...dirs].join(":");
}

/** True when something accepts connections on 127.0.0.1:port. */
function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(500, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

export type Progress = (line: string) => void;

/** The registry: docker-registry serving filesystem storage on 127.0.0.1:registryPort; once ready, Corral's images are pushed to it. */
export function registryComponent(o: NodeHostOptions): ComponentSpec {
  const paths = registryPaths(o.stateDir);
  return {
    name: "registry",
    command: program("docker-registry", "docker-registry", ["/usr/bin/docker-registry"]),
    args: ["serve", paths.config],
    env: {
      // A fixed secret per state dir would do as well; random is fine for a single instance.
      REGISTRY_HTTP_SECRET: randomBytes(16).toString("hex"),
    },
    ready: async () => {
      const { RegistryClient } = await import("@corral/oci");
      return new RegistryClient({ registry: `127.0.0.1:${o.registryPort}`, timeoutMs: 1000 }).ping();
    },
    prepare: async () => {
      if (await portAnswers(o.registryPort)) {
        throw new Error(`port ${o.registryPort} on 127.0.0.1 is in use: another registry (another cluster's?); choose one with --registry-port`);
      }
      await mkdir(paths.storage, { recursive: true });
      await writeFile(paths.config, renderRegistryConfig({ rootDirectory: paths.storage, addr: `127.0.0.1:${o.registryPort}` }));
    },
    afterReady: async (progress) => {
      const t = performance.now();
      const { publishCorralImages } = await import("@corral/oci");
      const results = await publishCorralImages(`127.0.0.1:${o.registryPort}`);
      const pushed = results.filter((r) => r.pushed).length;
      const names = [...new Set(results.map((r) => r.ref.replace(/^[^/]+\//, "").replace(/:.*$/, "")))].join(", ");
      const secs = ((performance.now() - t) / 1000).toFixed(1);
      progress(`  ${"images".padEnd(10)} ${names} ${pushed > 0 ? `pushed (${pushed} tags)` : "up to date"} in ${secs}s`);
    },
  };
}

/** Writes containerd's config, the registry hosts files and the CNI network config. */
export async function writeContainerdConfig(o: NodeHostOptions): Promise<void> {
  const p = containerdPaths(o.stateDir);
  const info = nodeHostInfo(o);
  await Promise.all([p.root, p.state, p.runcRoot, p.cniConfDir, p.cniDataDir].map((d) => mkdir(d, { recursive: true })));
  await writeFile(p.config, renderContainerdConfig({ paths: p, sandboxImage: info.pauseImage }));
  // The registry is reachable under both names; containerd matches hosts.toml by the image name's host.
  for (const host of [info.registry, `127.0.0.1:${o.registryPort}`]) {
    await mkdir(join(p.certsDir, host), { recursive: true });
    await writeFile(join(p.certsDir, host, "hosts.toml"), renderRegistryHosts(host));
  }
  await writeFile(join(p.cniConfDir, CNI_CONFLIST_FILE), renderCniConflist({ name: o.bridge, bridge: o.bridge, subnet: o.podCidr, dataDir: p.cniDataDir }));
}

/** containerd, ready once its CRI answers on the socket. */
export function containerdComponent(o: NodeHostOptions): ComponentSpec {
  const p = containerdPaths(o.stateDir);
  return {
    name: "containerd",
    command: program("containerd", "containerd", ["/usr/bin/containerd"]),
    args: ["--config", p.config],
    env: { PATH: childPath() },
    ready: async () => {
      if (!existsSync(p.socket)) return false;
      const { connectCri } = await import("@corral/cri");
      const cri = connectCri(p.socket);
      try {
        const v = await cri.runtime.version({}, { timeoutMs: 1000 });
        return v.runtimeName === "containerd";
      } finally {
        cri.close();
      }
    },
    prepare: () => writeContainerdConfig(o),
  };
}

export function nodeHostComponents(o: NodeHostOptions): ComponentSpec[] {
  return [registryComponent(o), containerdComponent(o)];
}

/**
 * Starts the node host on its own (what `corral up` does for these two components): the registry,
 * Corral's images pushed to it, and containerd. Components already running are left alone.
 */
export async function startNodeHost(o: NodeHostOptions, progress: Progress = () => {}): Promise<NodeHostInfo> {
  await recordNodeHostOptions(o);
  for (const spec of nodeHostComponents(o)) await ensureRunning(o.stateDir, spec, progress);
  return nodeHostInfo(o);
}

// ---------------------------------------------------------------------------------------------
// Taking it apart.

export interface TeardownReport {
  sandboxes: number;
  processes: number;
  mounts: number;
  iptablesRules: number;
  bridge: boolean;
  cgroups: number;
}

/** Stops and removes every pod sandbox (and so every container) containerd runs in the k8s.io namespace. */
async function removeSandboxes(socket: string): Promise<number> {
  const { connectCri } = await import("@corral/cri");
  const cri = connectCri(socket);
  try {
    const { items } = await cri.runtime.listPodSandbox({}, { timeoutMs: 5000 });
    await Promise.all(
      items.map(async (sb) => {
        await cri.runtime.stopPodSandbox({ podSandboxId: sb.id }, { timeoutMs: 30_000 });
        await cri.runtime.removePodSandbox({ podSandboxId: sb.id }, { timeoutMs: 30_000 });
      }),
    );
    return items.length;
  } finally {
    cri.close();
  }
}

/** Pids of processes whose command line contains all of the given arguments. */
async function processesWith(args: string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const [pid, argv] of await processes()) if (args.every((a) => argv.includes(a))) pids.push(pid);
  return pids;
}

/** Shims (and the containers under them) that outlived containerd: killed, then runc deletes the containers. */
async function killLeftovers(o: NodeHostOptions): Promise<number> {
  const p = containerdPaths(o.stateDir);
  let killed = 0;
  for (const pid of await processesWith(["-address", p.socket])) {
    try {
      process.kill(pid, "SIGKILL");
      killed++;
    } catch {
      // already gone
    }
  }
  // runc keeps one root per containerd namespace under the Root option.
  const namespaces = await readdir(p.runcRoot).catch(() => [] as string[]);
  for (const ns of namespaces) {
    const root = join(p.runcRoot, ns);
    const ids = await run("runc", ["--root", root, "list", "-q"], { env: { ...process.env, PATH: childPath() } }).then(
      (r) => r.stdout.split("\n").filter(Boolean),
      () => [] as string[],
    );
    for (const id of ids) {
      await run("runc", ["--root", root, "delete", "--force", id], { env: { ...process.env, PATH: childPath() } }).catch(() => undefined);
      killed++;
    }
  }
  return killed;
}

async function unmountUnder(dir: string): Promise<number> {
  let count = 0;
  // Mounts can stack and propagate; a few passes catch what the first one uncovers.
  for (let pass = 0; pass < 3; pass++) {
    const points = mountsUnder(await readFile("/proc/self/mountinfo", "utf8"), dir);
    if (points.length === 0) break;
    for (const point of points) {
      const ok = await run("umount", [point]).then(
        () => true,
        () => run("umount", ["-l", point]).then(() => true, () => false),
      );
      if (ok) count++;
    }
  }
  return count;
}

async function removeBridge(bridge: string): Promise<boolean> {
  if (!existsSync(`/sys/class/net/${bridge}`)) return false;
  await run("ip", ["link", "del", bridge]).catch(() => undefined);
  return !existsSync(`/sys/class/net/${bridge}`);
}

async function removeIptablesRules(o: NodeHostOptions): Promise<number> {
  let count = 0;
  for (const table of ["nat", "filter"] as const) {
    const saved = await run("iptables-save", ["-t", table], { env: { ...process.env, PATH: childPath() } }).then(
      (r) => r.stdout,
      () => "",
    );
    for (const cmd of planIptablesCleanup(table, saved, o.bridge, o.podCidr)) {
      const ok = await run("iptables", ["-w", "5", "-t", table, ...cmd], { env: { ...process.env, PATH: childPath() } }).then(
        () => true,
        () => false,
      );
      if (ok && cmd[0] === "-D") count++;
    }
  }
  return count;
}

/** Removes the cgroup parent's directories in every hierarchy, children first; a cgroup with processes in it stays. */
async function removeCgroups(parent: string): Promise<number> {
  let removed = 0;
  const rmTree = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) await rmTree(join(dir, e.name));
    await rmdir(dir).then(
      () => void removed++,
      () => undefined,
    );
  };
  const hierarchies = await readdir("/sys/fs/cgroup").catch(() => [] as string[]);
  for (const h of hierarchies) {
    const dir = join("/sys/fs/cgroup", h, parent);
    if (existsSync(dir)) await rmTree(dir);
  }
  return removed;
}

/**
 * Stops the node host and removes what it and its pods made: every pod sandbox (through the CRI,
 * so CNI releases addresses and rules), containerd, the registry, then whatever a crash could have
 * left: shims and runc containers, mounts under the state dir, the bridge, this network's iptables
 * rules, host-local's allocations and the pods' cgroup directories. Safe to run at any time, twice.
 */
export async function stopNodeHost(o: NodeHostOptions, progress: Progress): Promise<TeardownReport> {
  const p = containerdPaths(o.stateDir);
  const report: TeardownReport = { sandboxes: 0, processes: 0, mounts: 0, iptablesRules: 0, bridge: false, cgroups: 0 };
  const containerdPid = await readPid(o.stateDir, "containerd");
  const stopContainerd = async () => {
    if (containerdPid !== undefined && isAlive(containerdPid) && existsSync(p.socket)) {
      try {
        report.sandboxes = await removeSandboxes(p.socket);
      } catch (err) {
        progress(`  ${"containerd".padEnd(10)} could not remove pods through the CRI (${(err as Error).message}); killing them`);
      }
    }
    const stopped = await stopComponent(o.stateDir, "containerd");
    progress(`  ${"containerd".padEnd(10)} ${stopped ? "stopped" : "not running"}${report.sandboxes ? ` (removed ${report.sandboxes} pod sandboxes)` : ""}`);
  };
  const stopRegistry = async () => {
    const stopped = await stopComponent(o.stateDir, "registry");
    progress(`  ${"registry".padEnd(10)} ${stopped ? "stopped" : "not running"}`);
  };
  await Promise.all([stopContainerd(), stopRegistry()]);

  report.processes = await killLeftovers(o);
  report.mounts = await unmountUnder(o.stateDir);
  await rm(join(p.cniDataDir, o.bridge), { recursive: true, force: true });
  // Another cluster on the machine with the same bridge or cgroup parent (two `corral up`s with the
  // same defaults) keeps what it shares with this one.
  const shared = sharedWith(o, await otherNodeHosts(o.stateDir));
  if (shared.network) {
    progress(`  ${"host".padEnd(10)} left bridge ${o.bridge} and its rules to the cluster running from ${shared.network.stateDir}`);
  } else {
    report.bridge = await removeBridge(o.bridge);
    report.iptablesRules = await removeIptablesRules(o);
  }
  if (!shared.cgroups) report.cgroups = await removeCgroups(o.cgroupParent);
  const parts = [
    report.bridge ? `bridge ${o.bridge}` : "",
    report.iptablesRules ? `${report.iptablesRules} iptables rules` : "",
    report.mounts ? `${report.mounts} mounts` : "",
    report.cgroups ? `${report.cgroups} cgroups` : "",
    report.processes ? `${report.processes} leftover processes` : "",
  ].filter(Boolean);
  progress(`  ${"host".padEnd(10)} ${parts.length ? `removed ${parts.join(", ")}` : "nothing left to remove"}`);
  return report;
}
