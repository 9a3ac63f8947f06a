// Small formatting helpers shared by the table printer and describe, following kubectl's.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { IntOrString, LabelSelector } from "@corral/api";

export type TimeLike = Timestamp | Date | undefined | null;

/** The Date of a timestamp; undefined for unset or zero (0001-01-01 / epoch zero) timestamps. */
export function toDate(t: TimeLike): Date | undefined {
  if (!t) return undefined;
  if (t instanceof Date) return Number.isNaN(t.getTime()) ? undefined : t;
  if (t.seconds === 0n && t.nanos === 0) return undefined;
  return timestampDate(t);
}

/** kubectl's AGE: `5s`, `3m20s`, `2d4h`, `<unknown>` for no timestamp (translateTimestampSince). */
export function formatAge(from: TimeLike, now: Date): string {
  const d = toDate(from);
  if (!d) return "<unknown>";
  return humanDuration(now.getTime() - d.getTime());
}

/** Kubernetes' duration.HumanDuration, for a duration in milliseconds. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Go's time.RFC1123Z in UTC: "Mon, 02 Jan 2006 15:04:05 +0000"; "<unset>" without a time. */
export function formatTime(t: TimeLike): string {
  const d = toDate(t);
  if (!d) return "<unset>";
  const p = (n: number) => String(n).padStart(2, "0");
  return (
    `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
  );
}

/** "a=1,b=2" sorted by key, "<none>" when empty (labels.FormatLabels). */
export function formatLabels(m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  if (keys.length === 0) return "<none>";
  return keys.map((k) => `${k}=${m![k]}`).join(",");
}

/** metav1.FormatLabelSelector: "app=web,tier in (a,b),!legacy"; "<none>" when empty. */
export function formatSelector(s: LabelSelector | undefined): string {
  if (!s) return "<none>";
  const parts = Object.keys(s.matchLabels)
    .sort()
    .map((k) => `${k}=${s.matchLabels[k]}`);
  for (const e of s.matchExpressions) {
    const values = [...e.values].sort().join(",");
    switch (e.operator) {
      case "In":
        parts.push(`${e.key} in (${values})`);
        break;
      case "NotIn":
        parts.push(`${e.key} notin (${values})`);
        break;
      case "Exists":
        parts.push(e.key);
        break;
      case "DoesNotExist":
        parts.push(`!${e.key}`);
        break;
      default:
        parts.push(`${e.key} ${e.operator} (${values})`);
    }
  }
  return parts.length ? parts.join(",") : "<none>";
}

/** The text of an IntOrString ("80", "http", "25%"); `fallback` when unset. */
export function intOrString(v: IntOrString | undefined, fallback = ""): string {
  switch (v?.value.case) {
    case "intVal":
      return String(v.value.value);
    case "strVal":
      return v.value.value;
    default:
      return fallback;
  }
}

/** Display width of a string: code points (enough for the ASCII that tables hold). */
export function textWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** net.JoinHostPort: brackets around IPv6 addresses. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
