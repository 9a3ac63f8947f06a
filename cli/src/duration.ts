import { UsageError } from "./resource-args.js";

/** "30s", "5m", "1h", "250ms" or a number of seconds; 0 means no timeout. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new UsageError(`invalid duration "${s}" (e.g. 30s, 5m)`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return n * unit;
}
