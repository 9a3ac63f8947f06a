import type { Logger } from "pino";

/**
 * How every Corral service ends: on the first SIGTERM or SIGINT it logs `message`, runs `stop`,
 * and exits 0 (1 if stopping failed). A second signal while stopping is ignored.
 */
export function stopOnSignals(log: Logger, message: string, stop: () => Promise<unknown>): void {
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, message);
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
