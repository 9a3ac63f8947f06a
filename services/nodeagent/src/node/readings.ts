import { availableParallelism } from "node:os";
import { readFile, statfs } from "node:fs/promises";

/** What the node agent reads off the machine for the Node's capacity and pressure conditions. */
export interface MachineReadings {
  cpus: number;
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  diskTotalBytes: number;
  diskAvailableBytes: number;
  pidMax: number;
  pidsInUse: number;
}

async function meminfo(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await readFile("/proc/meminfo", "utf8")).split("\n")) {
    const m = /^(\w+):\s+(\d+)(?: kB)?/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]) * (line.endsWith("kB") ? 1024 : 1));
  }
  return out;
}

export async function readMachine(dataDir: string): Promise<MachineReadings> {
  const [mem, fs, pidMax, loadavg] = await Promise.all([
    meminfo(),
    statfs(dataDir),
    readFile("/proc/sys/kernel/pid_max", "utf8"),
    readFile("/proc/loadavg", "utf8"),
  ]);
  // The fourth field of loadavg is "running/total" scheduling entities (threads).
  const total = Number(loadavg.split(" ")[3]?.split("/")[1] ?? 0);
  return {
    cpus: availableParallelism(),
    memoryTotalBytes: mem.get("MemTotal") ?? 0,
    memoryAvailableBytes: mem.get("MemAvailable") ?? 0,
    diskTotalBytes: fs.blocks * fs.bsize,
    diskAvailableBytes: fs.bavail * fs.bsize,
    pidMax: Number(pidMax.trim()),
    pidsInUse: total,
  };
}
