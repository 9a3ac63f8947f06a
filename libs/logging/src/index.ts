import { pino, type Logger, type LoggerOptions } from "pino";

export type { Logger };

/**
 * The process-wide structured logger: JSON lines on stderr with a `component` key.
 * Children add object keys: `log.child({ namespace, name, kind })`.
 */
export function createLogger(component: string, opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: process.env.CORRAL_LOG_LEVEL ?? "info",
      base: { component, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...opts,
    },
    pino.destination(2),
  );
}

/** The keys every log line about an API object carries. */
export function objectKeys(kind: string, namespace: string | undefined, name: string | undefined) {
  return namespace ? { kind, namespace, name } : { kind, name };
}
export { stopOnSignals } from "./shutdown.js";
