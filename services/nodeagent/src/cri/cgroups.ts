import { readFile, readdir, rmdir } from "node:fs/promises";
import { join } from "node:path";

/** Mount points of every cgroup hierarchy (v1 controllers and the v2 unified one). */
export async function cgroupMounts(): Promise<string[]> {
  const text = await readFile("/proc/self/mounts", "utf8");
  return text
    .split("\n")
    .map((l) => l.split(" "))
    .filter((f) => f[2] === "cgroup" || f[2] === "cgroup2")
    .map((f) => f[1]!);
}

/**
 * Removes a pod's cgroup parent directory in every hierarchy, deepest first. containerd removes
 * the containers' own cgroups but leaves the pod-level parent behind (see MACHINE.md).
 */
export async function removeCgroup(relPath: string): Promise<void> {
  for (const m of await cgroupMounts()) await removeTree(join(m, relPath));
}

async function removeTree(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name));
  try {
    await rmdir(dir);
  } catch {
    // Still in use (a process lingers): the next cleanup tries again.
  }
}

/** Pod cgroup directories under the agent's parent, as "pod<uid>" names (for leak sweeps). */
export async function podCgroups(parent: string): Promise<string[]> {
  const found = new Set<string>();
  for (const m of await cgroupMounts()) {
    try {
      for (const e of await readdir(join(m, parent), { withFileTypes: true })) if (e.isDirectory()) found.add(e.name);
    } catch {
      // This hierarchy has none.
    }
  }
  return [...found];
}
