/**
 * The kubelet's crash-loop back-off: a container that exits is restarted at once the first time,
 * then after base, 2×base, 4×base… up to max since it last finished. A container that ran
 * cleanly for 2×max forgets its history. Pure: the clock is passed in.
 */
export class RestartBackoff {
  private readonly entries = new Map<string, { delayMs: number; at: number }>();

  constructor(
    readonly baseMs = 10_000,
    readonly maxMs = 300_000,
  ) {}

  /** Milliseconds still to wait before restarting a container that finished at `finishedAt`. */
  remaining(key: string, finishedAt: number, now: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    if (now - e.at > 2 * this.maxMs) {
      this.entries.delete(key);
      return 0;
    }
    return Math.max(0, finishedAt + e.delayMs - now);
  }

  /** The current delay (for the CrashLoopBackOff message). */
  delay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** Records a restart: the next one waits twice as long. */
  next(key: string, now: number): void {
    const e = this.entries.get(key);
    this.entries.set(key, { delayMs: e ? Math.min(this.maxMs, e.delayMs * 2) : this.baseMs, at: now });
  }

  forgetPod(uid: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(`${uid}/`)) this.entries.delete(k);
  }
}

export function backoffKey(uid: string, container: string): string {
  return `${uid}/${container}`;
}
