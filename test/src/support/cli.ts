import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** The `corral` command as a user runs it. */
export const CORRAL = join(ROOT, "bin", "corral");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time of the command. */
  ms: number;
}

/** A runner of `corral ARGS...` with the given environment (its config and state dir); never rejects. */
export function corralRunner(env: () => NodeJS.ProcessEnv, timeoutMs = 60_000) {
  return (...args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      const t = performance.now();
      execFile(CORRAL, args, { env: env(), timeout: timeoutMs }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: performance.now() - t }),
      );
    });
}
