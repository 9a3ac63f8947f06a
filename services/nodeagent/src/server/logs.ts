// Reading (and following) a container's CRI log file: <pod log dir>/<container>/<restartCount>.log.
import { watch, type FSWatcher } from "node:fs";
import { open, readdir, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { CriLogDecoder, tailOffset } from "./cri-log.js";

export interface LogFile {
  restartCount: number;
  path: string;
}

/** The container's log files, oldest (lowest restart count) first; none when the directory is missing. */
export async function listLogFiles(dir: string): Promise<LogFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return names
    .map((n) => /^(\d+)\.log$/.exec(n))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ restartCount: Number(m[1]), path: join(dir, m[0]) }))
    .sort((a, b) => a.restartCount - b.restartCount);
}

const READ_BLOCK = 64 * 1024;
/** Lines are sent in chunks of about this size. */
const CHUNK = 64 * 1024;

/** The offset in the file where its last `n` lines start. */
async function tailStart(fh: FileHandle, size: number, n: number): Promise<number> {
  let pos = size;
  let buf = Buffer.alloc(0);
  for (;;) {
    const len = Math.min(READ_BLOCK, pos);
    pos -= len;
    const block = Buffer.alloc(len);
    await fh.read(block, 0, len, pos);
    buf = Buffer.concat([block, buf]);
    const off = tailOffset(buf, n, pos === 0);
    if (off !== undefined) return pos + off;
  }
}

export interface StreamLogOptions {
  /** The log file to read. */
  file: LogFile;
  /** The container's log directory (watched for writes and for a newer file when following). */
  dir: string;
  follow: boolean;
  /** The last N lines only; undefined or negative: all. */
  tailLines?: number;
  timestamps: boolean;
  send(data: Buffer): Promise<void>;
  signal: AbortSignal;
  /** Whether the container writing this file still runs (asked when following and the file is quiet). */
  isRunning(): Promise<boolean>;
  /** How long the file may stay quiet before isRunning() is asked again. */
  quietMs?: number;
}

/**
 * Sends the file's lines; when following, keeps sending new ones until the client cancels, the
 * container stops, or a newer log file (the container restarted) appears, as the kubelet does.
 */
export async function streamLogFile(o: StreamLogOptions): Promise<void> {
  const fh = await open(o.file.path, "r");
  let watcher: FSWatcher | undefined;
  try {
    const decoder = new CriLogDecoder(o.timestamps);
    const { size } = await fh.stat();
    let offset = o.tailLines !== undefined && o.tailLines >= 0 ? await tailStart(fh, size, o.tailLines) : 0;

    const sendLines = async (lines: string[]) => {
      let batch = "";
      for (const l of lines) {
        batch += l;
        if (batch.length >= CHUNK) {
          await o.send(Buffer.from(batch));
          batch = "";
        }
      }
      if (batch) await o.send(Buffer.from(batch));
    };
    // Without follow the answer is the file as it was when asked: lines written meanwhile would
    // make `--tail N` return more than N.
    const end = o.follow ? Infinity : size;
    const readNew = async () => {
      const buf = Buffer.alloc(READ_BLOCK);
      for (;;) {
        if (o.signal.aborted) return;
        const want = Math.min(buf.length, end - offset);
        if (want <= 0) return;
        const { bytesRead } = await fh.read(buf, 0, want, offset);
        if (bytesRead === 0) return;
        offset += bytesRead;
        await sendLines(decoder.push(buf.subarray(0, bytesRead)));
      }
    };
    const finish = async () => {
      await readNew();
      if (!o.signal.aborted) await sendLines(decoder.flush());
    };

    if (!o.follow) return await finish();

    let dirty = false;
    let newerMaybe = false;
    let wake: (() => void) | undefined;
    const base = `${o.file.restartCount}.log`;
    watcher = watch(o.dir, (_event, filename) => {
      dirty = true;
      if (filename !== base) newerMaybe = true;
      wake?.();
    });
    watcher.on("error", () => {
      newerMaybe = true; // the directory went away: the pod is being removed
      wake?.();
    });
    const onAbort = () => wake?.();
    o.signal.addEventListener("abort", onAbort);
    try {
      await readNew();
      // A restart may have happened before the watch started.
      newerMaybe = true;
      while (!o.signal.aborted) {
        if (newerMaybe) {
          newerMaybe = false;
          const files = await listLogFiles(o.dir);
          if (files.some((f) => f.restartCount > o.file.restartCount) || !files.some((f) => f.restartCount === o.file.restartCount)) {
            return await finish();
          }
        }
        let quiet = false;
        if (!dirty) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(() => {
              quiet = true;
              resolve();
            }, o.quietMs ?? 1000);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          wake = undefined;
        }
        dirty = false;
        if (o.signal.aborted) return;
        await readNew();
        if (quiet) {
          newerMaybe = true;
          if (!(await o.isRunning().catch(() => true))) return await finish();
        }
      }
    } finally {
      o.signal.removeEventListener("abort", onAbort);
    }
  } finally {
    watcher?.close();
    await fh.close();
  }
}
