import type { Logger } from "@corral/logging";

/**
 * Retries a start-up step with exponential back-off (capped at 5 s) until it succeeds or the
 * deadline passes, logging each failure: the apiserver waits for etcd and NATS instead of crashing.
 */
export async function retry<T>(what: string, log: Logger, fn: () => Promise<T>, deadlineMs = 60_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  let delay = 100;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() + delay > until) throw new Error(`could not ${what} within ${deadlineMs / 1000}s: ${(err as Error).message}`);
      log.warn({ err: (err as Error).message, retryInMs: delay }, `cannot ${what} yet; retrying`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}
