import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** A long-running program that `corral up` starts detached and `corral down` stops, tracked by a pid file. */
export interface ComponentSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Resolves true once the component answers. */
  ready: () => Promise<boolean>;
  /** Runs before each start (e.g. writes the component's config); a failure stops `up`. */
  prepare?: () => Promise<void>;
  /** Runs once the component answers, whether just started or found running (e.g. pushes images to the registry). */
  afterReady?: (progress: (line: string) => void) => Promise<void>;
}

export function pidFile(stateDir: string, name: string): string {
  return join(stateDir, "run", `${name}.pid`);
}

export function logFile(stateDir: string, name: string): string {
  return join(stateDir, "logs", `${name}.log`);
}

/** True while the process runs. An exited process its parent has not reaped (a zombie) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // "pid (comm) S ...": the state follows the last ')' (comm may itself hold parentheses).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

export async function readPid(stateDir: string, name: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(pidFile(stateDir, name), "utf8")).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the component if it is running now. */
export async function runningPid(stateDir: string, name: string): Promise<number | undefined> {
  const pid = await readPid(stateDir, name);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

export interface Started {
  pid: number;
  /** True once the child has exited (a dead child of ours stays a zombie, so kill(pid, 0) cannot tell). */
  exited(): boolean;
}

/** Starts the component in its own session, output appended to its log file, and records its pid. */
export async function startDetached(stateDir: string, spec: ComponentSpec): Promise<Started> {
  await mkdir(join(stateDir, "run"), { recursive: true });
  await mkdir(join(stateDir, "logs"), { recursive: true });
  const log = await open(logFile(stateDir, spec.name), "a");
  const child = spawn(spec.command, spec.args, {
    detached: true,
    stdio: ["ignore", log.fd, log.fd],
    env: { ...process.env, ...spec.env },
  });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once("error", (err) => reject(new Error(`cannot start ${spec.name} (${spec.command}): ${err.message}`)));
    child.once("spawn", () => resolve(child.pid!));
  });
  let exited = false;
  child.once("exit", () => (exited = true));
  child.unref();
  await log.close();
  await writeFile(pidFile(stateDir, spec.name), `${pid}\n`);
  return { pid, exited: () => exited };
}

/** Waits until `ready` answers true, or fails naming the log to read. */
export async function waitReady(stateDir: string, spec: ComponentSpec, started: Started, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let delay = 50;
  while (Date.now() < until) {
    if (await spec.ready().catch(() => false)) return;
    if (started.exited()) {
      throw new Error(`${spec.name} exited during start-up; see ${logFile(stateDir, spec.name)}`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
  throw new Error(`${spec.name} was not ready after ${timeoutMs / 1000}s; see ${logFile(stateDir, spec.name)}`);
}

/** SIGTERM, then SIGKILL after the grace period; removes the pid file. */
export async function stopComponent(stateDir: string, name: string, graceMs = 10_000): Promise<boolean> {
  const pid = await readPid(stateDir, name);
  await rm(pidFile(stateDir, name), { force: true });
  if (pid === undefined || !isAlive(pid)) return false;
  process.kill(pid, "SIGTERM");
  const until = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
  return true;
}

/**
 * Starts the component unless it is running and answering: runs `prepare`, starts it detached,
 * waits until it is ready, then runs `afterReady` (also when it was found running).
 */
export async function ensureRunning(stateDir: string, spec: ComponentSpec, progress: (line: string) => void): Promise<void> {
  const t = performance.now();
  const pid = await runningPid(stateDir, spec.name);
  if (pid !== undefined && (await spec.ready().catch(() => false))) {
    progress(`  ${spec.name.padEnd(10)} already running (pid ${pid})`);
    await spec.afterReady?.(progress);
    return;
  }
  if (pid !== undefined) await stopComponent(stateDir, spec.name, 5000);
  progress(`  ${spec.name.padEnd(10)} starting...`);
  await spec.prepare?.();
  const started = await startDetached(stateDir, spec);
  await waitReady(stateDir, spec, started);
  progress(`  ${spec.name.padEnd(10)} ready (pid ${started.pid}) in ${((performance.now() - t) / 1000).toFixed(1)}s`);
  await spec.afterReady?.(progress);
}
