import { readFile } from "node:fs/promises";

export interface Upstream {
  host: string;
  port: number;
}

/** "10.0.0.2" or "10.0.0.2:5353" → an upstream (port 53 by default). */
export function parseUpstream(s: string): Upstream {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(s.trim());
  if (!m) throw new Error(`invalid upstream resolver "${s}": want IPv4[:port]`);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 53 };
}

/** The IPv4 nameservers of a resolv.conf, without `exclude` (the cluster DNS itself: no loops). */
export function nameservers(text: string, exclude: readonly string[] = []): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m || !/^\d{1,3}(\.\d{1,3}){3}$/.test(m[1]!) || exclude.includes(m[1]!)) continue;
    out.push({ host: m[1]!, port: 53 });
  }
  return out;
}

export async function readNameservers(path = "/etc/resolv.conf", exclude: readonly string[] = []): Promise<Upstream[]> {
  try {
    return nameservers(await readFile(path, "utf8"), exclude);
  } catch {
    return [];
  }
}
