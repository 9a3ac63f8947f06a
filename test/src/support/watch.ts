import type { ApiObject, WatchEvent } from "@corral/api";
import type { ResourceClient } from "@corral/client";
import { Code, errorCode } from "@corral/grpc";

export interface SeenEvent {
  type: string;
  name: string;
  rv: bigint;
}

/**
 * A watch that resumes from the last resourceVersion it saw whenever its stream breaks, as an
 * informer does: what it records is what a client of Corral would see across restarts.
 */
export class ResumingWatch<T extends ApiObject> {
  readonly events: SeenEvent[] = [];
  private readonly ac = new AbortController();
  private waiters: { n: number; resolve: () => void }[] = [];
  /** Errors other than the stream breaking (they end the watch). */
  error?: unknown;
  reconnects = 0;
  /** The last error that broke the stream (it was resumed after it). */
  lastBreak?: unknown;
  private readonly done: Promise<void>;

  constructor(
    private readonly client: ResourceClient<T>,
    private rv: string,
    private readonly req: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    while (!this.ac.signal.aborted) {
      try {
        for await (const ev of this.client.watch({ ...this.req, resourceVersion: this.rv }, { signal: this.ac.signal })) {
          this.record(ev);
        }
      } catch (err) {
        if (this.ac.signal.aborted) return;
        const code = errorCode(err);
        this.lastBreak = err;
        if (code !== Code.UNAVAILABLE && code !== Code.INTERNAL && code !== Code.CANCELLED && code !== Code.UNKNOWN) {
          this.error = err;
          this.wake();
          return;
        }
      }
      this.reconnects++;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private record(ev: WatchEvent<T>): void {
    const m = ev.object?.metadata;
    if (!m || ev.type === "BOOKMARK") return;
    this.events.push({ type: ev.type, name: m.name, rv: BigInt(m.resourceVersion) });
    this.rv = m.resourceVersion;
    this.wake();
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.events.length >= w.n || this.error) w.resolve();
      return !(this.events.length >= w.n || this.error);
    });
  }

  /** Resolves once `n` events have arrived (or rejects after `timeoutMs`). */
  async waitFor(n: number, timeoutMs = 20_000): Promise<SeenEvent[]> {
    if (this.events.length < n && !this.error) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(
          () =>
            reject(
              new Error(
                `timed out with ${this.events.length}/${n} events after ${this.reconnects} reconnects` +
                  (this.lastBreak ? `; last break: ${String(this.lastBreak)}` : ""),
              ),
            ),
          timeoutMs,
        );
        this.waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    }
    if (this.error) throw this.error;
    return this.events;
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.done;
  }
}

/** Asserts resourceVersions strictly increase (in order, no duplicates). */
export function strictlyIncreasing(events: readonly SeenEvent[]): boolean {
  return events.every((e, i) => i === 0 || e.rv > events[i - 1]!.rv);
}
