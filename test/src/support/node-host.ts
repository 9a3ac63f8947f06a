// A node's host runtime for tests: the registry with Corral's images and a containerd of its own,
// started by the same code as `corral up`, in a fresh temporary state dir, on a free port, with a
// bridge, pod CIDR and cgroup parent no other test (nor a developer's `corral up`) is using.
// stop() takes it apart as `corral down --purge` would.
import { startNodeHost as start, stopNodeHost, type NodeHostInfo, type NodeHostOptions } from "@corral/cli/cluster/node-host";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "./ports.js";

/** Slots are numbered 1..250: slot n is bridge corraltest<n>, pod CIDR 10.245.<n>.0/24, cgroup parent corraltest<n>. */
const SLOT_DIR = "/run/corral-test-slots";

export interface HostSlot {
  n: number;
  bridge: string;
  podCidr: string;
  cgroupParent: string;
  /** Records the node host using the slot, so that whoever takes the slot after a crash cleans up after it. */
  remember(host: NodeHostOptions): Promise<void>;
  release(): Promise<void>;
}

interface SlotLock {
  pid: number;
  /** The node host that used the slot, so that a later test can clean up after a crashed one. */
  host?: NodeHostOptions;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function slotFile(n: number): string {
  return join(SLOT_DIR, `${n}.json`);
}

/**
 * Reserves a slot: an exclusive lock file per slot, held for as long as this process lives. A slot
 * whose holder died is taken over, after removing whatever its node host left.
 */
export async function reserveHostSlot(): Promise<HostSlot> {
  await mkdir(SLOT_DIR, { recursive: true });
  const candidates = Array.from({ length: 250 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
  for (const n of candidates) {
    const file = slotFile(n);
    try {
      await writeFile(file, JSON.stringify({ pid: process.pid } satisfies SlotLock), { flag: "wx" });
    } catch {
      // Taken: by a live process, or by a dead one whose leftovers we clean up before taking it.
      const lock = await readFile(file, "utf8").then((t) => JSON.parse(t) as SlotLock, () => undefined);
      if (lock === undefined || alive(lock.pid)) continue;
      if (lock.host) {
        await stopNodeHost(lock.host, () => {}).catch(() => undefined);
        await rm(lock.host.stateDir, { recursive: true, force: true });
      }
      await unlink(file).catch(() => undefined);
      try {
        await writeFile(file, JSON.stringify({ pid: process.pid } satisfies SlotLock), { flag: "wx" });
      } catch {
        continue;
      }
    }
    const bridge = `corraltest${n}`;
    if (existsSync(`/sys/class/net/${bridge}`)) {
      // Not ours and not a dead test's: leave it, try another slot.
      await unlink(file).catch(() => undefined);
      continue;
    }
    return {
      n,
      bridge,
      podCidr: `10.245.${n}.0/24`,
      cgroupParent: bridge,
      remember: (host) => writeFile(file, JSON.stringify({ pid: process.pid, host } satisfies SlotLock)),
      release: () => unlink(file).catch(() => undefined),
    };
  }
  throw new Error(`no free test slot in ${SLOT_DIR}`);
}

export interface NodeHost extends NodeHostInfo {
  /** The registry as host:port on loopback (images are named with `registry`, i.e. localhost:PORT). */
  registryAddress: string;
  registryPort: number;
  /** Stops containerd and the registry, removes every pod, the bridge, rules, mounts and cgroups, and the state dir. */
  stop(): Promise<void>;
}

export interface NodeHostTestOptions {
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

export async function startNodeHost(opts: NodeHostTestOptions = {}): Promise<NodeHost> {
  const slot = await reserveHostSlot();
  // A short path: containerd's socket lives below it (a unix socket path has at most 107 bytes).
  const base = tmpdir().length <= 40 ? tmpdir() : "/tmp";
  const stateDir = await mkdtemp(join(base, "corral-node-"));
  const [registryPort] = await freePorts(1);
  const options: NodeHostOptions = {
    stateDir,
    registryPort: registryPort!,
    podCidr: slot.podCidr,
    bridge: slot.bridge,
    cgroupParent: slot.cgroupParent,
  };
  await slot.remember(options);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await stopNodeHost(options, opts.progress ?? (() => {}));
      await rm(stateDir, { recursive: true, force: true });
    } finally {
      await slot.release();
    }
  };
  try {
    const info = await start(options, opts.progress);
    return { ...info, registryAddress: `127.0.0.1:${registryPort}`, registryPort: registryPort!, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
