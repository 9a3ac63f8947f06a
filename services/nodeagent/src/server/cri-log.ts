// The CRI log format containerd writes for each container (one file per restart):
//   2024-01-01T00:00:00.000000000Z stdout F a complete line
//   2024-01-01T00:00:00.000000000Z stderr P the start of a long line, continued by the next
// Parsing and formatting here are pure; the file I/O is in ./logs.ts.

export interface CriLogLine {
  timestamp: string;
  stream: string;
  /** false for a "P" (partial) line: its content continues in the next line of the same stream. */
  complete: boolean;
  content: string;
}

/** One raw line (without its "\n"); undefined when it is not in CRI format. */
export function parseCriLine(line: string): CriLogLine | undefined {
  const a = line.indexOf(" ");
  const b = a < 0 ? -1 : line.indexOf(" ", a + 1);
  if (a <= 0 || b < 0) return undefined;
  const c = line.indexOf(" ", b + 1);
  const tags = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const content = c < 0 ? "" : line.slice(c + 1);
  // Tags are ":"-separated; the first is P or F.
  const tag = tags.split(":")[0];
  if (tag !== "P" && tag !== "F") return undefined;
  return { timestamp: line.slice(0, a), stream: line.slice(a + 1, b), complete: tag === "F", content };
}

/**
 * Turns raw bytes of a CRI log file into the lines a user reads: partial lines joined with the rest
 * of their line (per stream), optionally prefixed with their timestamp (the first piece's). Bytes
 * may arrive in any slices: an unfinished raw line waits for the rest.
 */
export class CriLogDecoder {
  private rest = "";
  private readonly partial = new Map<string, { timestamp: string; content: string }>();
  private readonly decoder = new TextDecoder("utf-8");

  constructor(private readonly timestamps: boolean) {}

  /** The complete lines (each ending in "\n") that these bytes finish. */
  push(bytes: Uint8Array): string[] {
    const text = this.rest + this.decoder.decode(bytes, { stream: true });
    const lines = text.split("\n");
    this.rest = lines.pop()!;
    const out: string[] = [];
    for (const raw of lines) {
      const l = parseCriLine(raw);
      if (!l) {
        // Not CRI format (a file written by something else): pass it through as it is.
        if (raw) out.push(`${raw}\n`);
        continue;
      }
      const prior = this.partial.get(l.stream);
      const timestamp = prior?.timestamp ?? l.timestamp;
      const content = (prior?.content ?? "") + l.content;
      if (!l.complete) {
        this.partial.set(l.stream, { timestamp, content });
        continue;
      }
      this.partial.delete(l.stream);
      out.push(this.timestamps ? `${timestamp} ${content}\n` : `${content}\n`);
    }
    return out;
  }

  /** At the end of a file that will not grow: what is left of partial lines, as lines. */
  flush(): string[] {
    const out: string[] = [];
    if (this.rest) out.push(...this.push(new TextEncoder().encode("\n")));
    for (const p of this.partial.values()) out.push(this.timestamps ? `${p.timestamp} ${p.content}\n` : `${p.content}\n`);
    this.partial.clear();
    return out;
  }
}

/**
 * Where the last `n` logical lines start in `buf` (raw CRI lines, the first of which may be cut
 * when `atFileStart` is false): the offset after the (n+1)-th complete ("F") line from the end.
 * Returns undefined when `buf` holds fewer than n+1 complete lines and more of the file precedes it.
 */
export function tailOffset(buf: Uint8Array, n: number, atFileStart: boolean): number | undefined {
  if (n < 0) return 0;
  let count = 0;
  let end = buf.length;
  // A trailing raw line without "\n" is still being written: it is not a line yet.
  if (end > 0 && buf[end - 1] !== 0x0a) {
    const nl = buf.lastIndexOf(0x0a);
    end = nl < 0 ? 0 : nl + 1;
  }
  while (end > 0) {
    const nl = end >= 2 ? buf.lastIndexOf(0x0a, end - 2) : -1;
    const start = nl < 0 ? 0 : nl + 1;
    if (nl < 0 && !atFileStart) return undefined; // the first raw line may be cut: read more first
    const l = parseCriLine(Buffer.from(buf.subarray(start, end - 1)).toString("utf8"));
    if (!l || l.complete) {
      count++;
      if (count === n + 1) return end;
    }
    end = start;
  }
  return atFileStart ? 0 : undefined;
}
