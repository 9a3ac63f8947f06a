// The scheduling queue, in the manner of kube-scheduler's: pods waiting for a node are in one of
//  - active: ready to be tried now, highest priority first, then oldest;
//  - backoff: failed recently, waiting out an exponential back-off (1 s doubling to 10 s);
//  - unschedulable: fit no node last time; they wait for a cluster change that may let them fit
//    (a node added or changed, a pod removed), and are retried anyway after a long timeout.
// A cluster change moves an unschedulable pod only if one of the plugins that rejected it cares
// about that kind of change, and never before its back-off is over: no busy loop, whatever happens.
import type { ClusterEvent } from "./framework/types.js";

type Where = "active" | "backoff" | "unschedulable" | "inflight";

export interface QueuedPod {
  readonly key: string;
  priority: number;
  /** When it entered the active queue (FIFO among equal priorities). */
  timestamp: number;
  /** Failed attempts so far. */
  attempts: number;
  backoffUntil: number;
  /** Plugins that rejected it on its last attempt. */
  rejectedBy: ReadonlySet<string>;
  unschedulableSince: number;
  where: Where;
  seq: number;
}

export interface QueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** An unschedulable pod is retried after this long even without a cluster change (kube-scheduler: 5 min). */
  maxUnschedulableMs?: number;
  now?: () => number;
}

class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
  }
  push(x: T): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
  clear(): void {
    this.items.length = 0;
  }
}

export class SchedulingQueue {
  private readonly entries = new Map<string, QueuedPod>();
  // Heaps hold stale entries after a pod moves or goes; pop skips them (lazy deletion).
  private readonly active = new Heap<QueuedPod>((a, b) =>
    a.priority !== b.priority ? a.priority > b.priority : a.timestamp !== b.timestamp ? a.timestamp < b.timestamp : a.seq < b.seq,
  );
  private readonly backoff = new Heap<QueuedPod>((a, b) => a.backoffUntil < b.backoffUntil);
  private readonly unschedulablePods = new Map<string, QueuedPod>();
  private activeCount = 0;
  private waiters: ((qp: QueuedPod | undefined) => void)[] = [];
  private backoffTimer?: NodeJS.Timeout;
  private backoffTimerAt = Infinity;
  private readonly flushTimer: NodeJS.Timeout;
  private closed = false;
  private seq = 0;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;
  private readonly now: () => number;

  constructor(opts: QueueOptions = {}) {
    this.initialBackoffMs = opts.initialBackoffMs ?? 1_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.maxUnschedulableMs = opts.maxUnschedulableMs ?? 300_000;
    this.now = opts.now ?? Date.now;
    this.flushTimer = setInterval(() => this.flushUnschedulable(), Math.min(30_000, this.maxUnschedulableMs / 2));
    this.flushTimer.unref();
  }

  /** Pods waiting (active, backing off or unschedulable), not counting those being scheduled. */
  get pending(): { active: number; backoff: number; unschedulable: number } {
    let backoff = 0;
    for (const qp of this.entries.values()) if (qp.where === "backoff") backoff++;
    return { active: this.activeCount, backoff, unschedulable: this.unschedulablePods.size };
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** A new pod that needs a node. A pod already queued or being scheduled is left where it is. */
  add(key: string, priority = 0): void {
    if (this.closed || this.entries.has(key)) return;
    const qp: QueuedPod = {
      key,
      priority,
      timestamp: this.now(),
      attempts: 0,
      backoffUntil: 0,
      rejectedBy: new Set(),
      unschedulableSince: 0,
      where: "active",
      seq: this.seq++,
    };
    this.entries.set(key, qp);
    this.toActive(qp);
  }

  /**
   * The pod changed in a way that may change where it fits (its spec or labels): an
   * unschedulable pod is tried again (after its back-off).
   */
  updated(key: string, priority = 0): void {
    const qp = this.entries.get(key);
    if (!qp) return this.add(key, priority);
    qp.priority = priority;
    if (qp.where === "unschedulable") this.release(qp);
  }

  delete(key: string): void {
    const qp = this.entries.get(key);
    if (!qp) return;
    this.entries.delete(key);
    if (qp.where === "active") this.activeCount--;
    if (qp.where === "unschedulable") this.unschedulablePods.delete(key);
  }

  /**
   * The next pod to schedule, waiting for one; undefined once closed or when `signal` aborts.
   * Call done, unschedulable or error with it after.
   */
  pop(signal?: AbortSignal): Promise<QueuedPod | undefined> {
    const qp = this.tryPop();
    if (qp || this.closed || signal?.aborted) return Promise.resolve(qp);
    return new Promise((resolve) => {
      const waiter = (x: QueuedPod | undefined) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(x);
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  tryPop(): QueuedPod | undefined {
    for (;;) {
      const qp = this.active.pop();
      if (!qp) return undefined;
      if (this.entries.get(qp.key) !== qp || qp.where !== "active") continue;
      this.activeCount--;
      qp.where = "inflight";
      return qp;
    }
  }

  /** The pod was placed (its binding is under way): it leaves the queue. */
  done(qp: QueuedPod): void {
    if (this.entries.get(qp.key) === qp) this.entries.delete(qp.key);
  }

  /** The pod fits no node: it waits for a cluster change (and its back-off). */
  unschedulable(qp: QueuedPod, rejectedBy: ReadonlySet<string>): void {
    if (this.closed || this.entries.get(qp.key) !== qp) return;
    qp.attempts++;
    qp.rejectedBy = rejectedBy;
    qp.backoffUntil = this.now() + this.backoffDuration(qp.attempts);
    qp.unschedulableSince = this.now();
    qp.where = "unschedulable";
    this.unschedulablePods.set(qp.key, qp);
  }

  /** Scheduling the pod failed for another reason (its binding, say): retried after its back-off. */
  error(qp: QueuedPod): void {
    if (this.closed) return;
    if (this.entries.get(qp.key) !== qp) {
      // It went away while in flight but still needs a node: start it over.
      if (!this.entries.has(qp.key)) this.entries.set(qp.key, qp);
      else return;
    }
    qp.attempts++;
    qp.backoffUntil = this.now() + this.backoffDuration(qp.attempts);
    this.toBackoff(qp);
  }

  /** A popped pod that was not tried after all (leadership lost): back to active, no back-off. */
  putBack(qp: QueuedPod): void {
    if (this.closed || this.entries.get(qp.key) !== qp || qp.where !== "inflight") return;
    this.toActive(qp);
  }

  /** A cluster change: unschedulable pods rejected by a plugin that cares are tried again. */
  onEvent(event: ClusterEvent, interested: (event: ClusterEvent, rejectedBy: ReadonlySet<string>) => boolean): number {
    let moved = 0;
    for (const qp of [...this.unschedulablePods.values()]) {
      if (!interested(event, qp.rejectedBy)) continue;
      this.release(qp);
      moved++;
    }
    return moved;
  }

  backoffDuration(attempts: number): number {
    return Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  }

  close(): void {
    this.closed = true;
    clearInterval(this.flushTimer);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    for (const w of this.waiters) w(undefined);
    this.waiters = [];
    this.entries.clear();
    this.unschedulablePods.clear();
    this.active.clear();
    this.backoff.clear();
    this.activeCount = 0;
  }

  /** Out of unschedulable: to active if its back-off is over, else to backoff. */
  private release(qp: QueuedPod): void {
    this.unschedulablePods.delete(qp.key);
    if (qp.backoffUntil > this.now()) this.toBackoff(qp);
    else this.toActive(qp);
  }

  private toActive(qp: QueuedPod): void {
    qp.where = "active";
    qp.timestamp = qp.attempts === 0 ? qp.timestamp : this.now();
    const waiter = this.waiters.shift();
    if (waiter) {
      qp.where = "inflight";
      waiter(qp);
      return;
    }
    this.activeCount++;
    this.active.push(qp);
  }

  private toBackoff(qp: QueuedPod): void {
    qp.where = "backoff";
    this.backoff.push(qp);
    this.armBackoffTimer();
  }

  private armBackoffTimer(): void {
    let top = this.backoff.peek();
    while (top && (this.entries.get(top.key) !== top || top.where !== "backoff")) {
      this.backoff.pop();
      top = this.backoff.peek();
    }
    if (!top || this.closed) return;
    if (this.backoffTimer && this.backoffTimerAt <= top.backoffUntil) return;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimerAt = top.backoffUntil;
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.backoffTimerAt = Infinity;
      this.flushBackoff();
    }, Math.max(0, top.backoffUntil - this.now()));
    this.backoffTimer.unref();
  }

  /** Moves pods whose back-off is over to active. */
  flushBackoff(): void {
    const now = this.now();
    for (;;) {
      const top = this.backoff.peek();
      if (!top) break;
      if (this.entries.get(top.key) !== top || top.where !== "backoff") {
        this.backoff.pop();
        continue;
      }
      if (top.backoffUntil > now) break;
      this.backoff.pop();
      this.toActive(top);
    }
    this.armBackoffTimer();
  }

  /** Pods unschedulable for longer than the timeout are tried again. */
  flushUnschedulable(): void {
    const now = this.now();
    for (const qp of [...this.unschedulablePods.values()]) {
      if (now - qp.unschedulableSince >= this.maxUnschedulableMs) this.release(qp);
    }
  }
}
