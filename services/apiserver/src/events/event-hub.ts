import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { StoredEventSchema, type StoredEvent } from "@corral/api";
import type { Logger } from "@corral/logging";
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from "nats";
import { namespacedName, watchEventBytes, withoutResourceVersion } from "../storage/wire.js";
import { HDR_REVISION, STREAM, SUBJECT_ROOT, subjectToken } from "./subjects.js";
import type { WatchSource } from "./watch-source.js";

// Watch fan-out, decoded once. Every watch used to read the stream through its own JetStream
// consumer and decode and encode each event for itself: with the scheduler, the simulated nodes
// and a few clients all watching pods, each event crossed from NATS, was decoded and re-encoded
// once per watcher. A hub reads the events of one kind once (one consumer on
// corral.v1.<resource>.>, while that kind has watchers), keeps the recent ones in memory in stream
// order, and the kind's watchers read them from there: an event's object is decoded at most once
// (and only if some watcher has a selector), and its WatchEvent bytes are built once per type,
// straight from the stored bytes. A watch from a resourceVersion older than what the hub holds, or
// one that falls behind it, reads from its own consumer until it catches up.

const PREFIX = `${SUBJECT_ROOT}.`;

/** One change, as watchers see it: decoded and encoded lazily, at most once for all of them. */
export class FeedEvent {
  private decoded?: unknown;
  private decodedPrev?: unknown;
  private encoded?: Map<string, Uint8Array>;

  constructor(
    readonly stored: StoredEvent,
    /** Keep what is decoded and encoded for the next watcher (false for an event read by one). */
    private shared = false,
  ) {}

  get type(): string {
    return this.stored.type;
  }

  get revision(): bigint {
    return this.stored.revision;
  }

  /** The object after the change (its last state for DELETED). Shared: read it, never change it. */
  object<D extends DescMessage>(schema: D): MessageShape<D> {
    if (this.decoded) return this.decoded as MessageShape<D>;
    const obj = fromBinary(schema, this.stored.object);
    if (this.shared) this.decoded = obj;
    return obj;
  }

  /** The object before a MODIFIED change, if the event has it. Shared, like object(). */
  prevObject<D extends DescMessage>(schema: D): MessageShape<D> | undefined {
    if (this.stored.prevObject.length === 0) return undefined;
    if (this.decodedPrev) return this.decodedPrev as MessageShape<D>;
    const obj = fromBinary(schema, this.stored.prevObject);
    if (this.shared) this.decodedPrev = obj;
    return obj;
  }

  /** `<Kind>WatchEvent { type, object }` for this change, as a watcher is sent it. */
  watchEvent(type: string): Uint8Array {
    let b = this.encoded?.get(type);
    if (b) return b;
    b = watchEventBytes(type, this.stored.object);
    if (this.shared) (this.encoded ??= new Map()).set(type, b);
    return b;
  }

  /** Drops what was decoded and encoded, once no watcher is likely to need it again. */
  forget(): void {
    this.shared = false;
    this.decoded = this.decodedPrev = this.encoded = undefined;
  }
}

interface HubEntry {
  event: FeedEvent;
  /** When it arrived (ms): the stream's max age applies to the hub too. */
  at: number;
  /** "<resource>.<namespace token>" of the subject, to match watchers without parsing again. */
  scope: string;
  size: number;
  /** "<namespace>/<name>" of the object, for latest(); "" when unreadable. */
  key: string;
}

/** The hub dropped events this watcher had not read yet: it continues from its own consumer. */
class FellBehind extends Error {}

export interface HubLimits {
  /** Events kept in memory (the oldest go first). */
  maxEvents: number;
  /** Bytes of stored events kept in memory. */
  maxBytes: number;
  /** The newest events whose decoded objects and encoded watch events are kept for more watchers. */
  cacheEvents: number;
}

// Modest: the stream on disk holds the history; the hub is for watchers that are about caught up,
// and a big old-generation heap makes every major garbage collection pause longer.
export const DEFAULT_HUB_LIMITS: HubLimits = { maxEvents: 10_000, maxBytes: 16 * 1024 * 1024, cacheEvents: 1024 };

export class EventHub {
  /** The events held are ring[head..]; the ones before head are dropped (compacted now and then). */
  private ring: HubEntry[] = [];
  private head = 0;
  /** Hub sequence number of ring[head]; sequence numbers only grow, across restarts too. */
  private base = 0;
  private bytes = 0;
  /** Every event with a revision above this is (or will be) in the ring, as long as it is ready. */
  private coveredFrom = 0n;
  private lastRevision = 0n;
  private ready = false;
  private generation = 0;
  private messages?: ConsumerMessages;
  /** The newest event held for each object ("<namespace>/<name>"); objects deleted since are not in it. */
  private readonly latestByKey = new Map<string, HubEntry>();
  private waiters: (() => void)[] = [];
  private readonly stopped = new AbortController();
  /** The stream's own limits, so the hub never resumes a watch the stream could not (OUT_OF_RANGE stays as documented). */
  private maxEvents: number;
  private maxAgeMs = Infinity;

  constructor(
    /** The kind's resource ("pods"): the hub holds its events only. */
    private readonly resource: string,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly currentRevision: () => Promise<bigint>,
    private readonly log: Logger,
    private readonly limits: HubLimits = DEFAULT_HUB_LIMITS,
  ) {
    this.maxEvents = limits.maxEvents;
  }

  /** Starts following the stream (and keeps doing so, restarting after failures) until stop(). */
  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped.abort();
    this.ready = false;
    this.messages?.stop();
    this.wake();
  }

  /** Resolves once the hub follows the stream, or after `timeoutMs` (a new hub is ready in a few ms). */
  async whenReady(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.ready && !this.stopped.signal.aborted && !signal.aborted && Date.now() < until) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, until - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * The object as of the newest event held for it, with that event's revision (its
   * mod_revision), if the hub has one. It may trail etcd by the watch latency: a read for a
   * compare-and-swap, never an answer.
   */
  latest(key: string): { value: Uint8Array; modRevision: bigint } | undefined {
    if (!this.ready) return undefined;
    const e = this.latestByKey.get(key);
    if (!e) return undefined;
    // The event carries the object with its resourceVersion; the caller wants it as stored.
    const value = withoutResourceVersion(e.event.stored.object, e.event.revision);
    return value && { value, modRevision: e.event.revision };
  }

  /** True when the hub holds every event after `rv` (or will, as they arrive). */
  covers(rv: bigint): boolean {
    if (!this.ready) return false;
    this.drop(Date.now());
    return rv >= this.coveredFrom;
  }

  private async run(): Promise<void> {
    let delay = 200;
    while (!this.stopped.signal.aborted) {
      try {
        await this.follow();
        delay = 200;
      } catch (err) {
        if (this.stopped.signal.aborted) break;
        this.log.warn({ resource: this.resource, err: (err as Error).message, retryInMs: delay }, "watch hub lost the event stream; restarting it");
      }
      this.ready = false;
      this.wake();
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }

  /**
   * One life of the hub's consumer: from the stream's end now, until it fails. The stream is in
   * revision order, so every event of the kind after the stream's last one (revision L) comes
   * after it: the hub covers every version from L on.
   */
  private async follow(): Promise<void> {
    const { state, config } = await this.jsm.streams.info(STREAM);
    this.maxEvents = config.max_msgs > 0 ? Math.min(this.limits.maxEvents, config.max_msgs) : this.limits.maxEvents;
    this.maxAgeMs = config.max_age > 0 ? config.max_age / 1e6 : Infinity;
    let coveredFrom: bigint;
    if (state.messages > 0) {
      const last = await this.jsm.streams.getMessage(STREAM, { seq: state.last_seq });
      coveredFrom = BigInt(last.header.get(HDR_REVISION));
    } else {
      // Nothing published yet: the publisher replays etcd from its first revision. Everything aged
      // out: what comes next is newer than the store's revision now.
      coveredFrom = state.last_seq === 0 ? 0n : await this.currentRevision();
    }
    const consumer = await this.js.consumers.get(STREAM, {
      filterSubjects: `${SUBJECT_ROOT}.${this.resource}.>`,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: state.last_seq + 1,
    });
    // A new life starts empty: watchers on the old one move to their own consumers (FellBehind).
    this.generation++;
    this.base += this.ring.length - this.head;
    this.ring = [];
    this.latestByKey.clear();
    this.head = 0;
    this.bytes = 0;
    this.coveredFrom = coveredFrom;
    this.lastRevision = coveredFrom;
    const messages = await consumer.consume({ max_messages: 1024, callback: (m) => this.append(m) });
    this.messages = messages;
    if (this.stopped.signal.aborted) messages.stop();
    this.ready = true;
    this.wake();
    const closed = await messages.closed();
    if (closed instanceof Error) throw closed;
    if (!this.stopped.signal.aborted) throw new Error("the hub's consumer stopped");
  }

  private append(m: JsMsg): void {
    let stored: StoredEvent;
    try {
      stored = fromBinary(StoredEventSchema, m.data);
    } catch (err) {
      this.log.error({ err: (err as Error).message, seq: m.seq }, "unreadable event in the stream; skipped");
      return;
    }
    // A publisher replaying an empty stream from etcd's start repeats old revisions: skip them.
    // (Equal revisions are kept: one etcd transaction may change several objects.)
    if (stored.revision < this.lastRevision) return;
    this.lastRevision = stored.revision;
    // Decoded bytes fields are views into the connection's read buffer: copy them out so a held
    // event does not hold a whole buffer of other messages.
    stored.object = stored.object.slice();
    if (stored.prevObject.length > 0) stored.prevObject = stored.prevObject.slice();
    const subject = m.subject;
    const scope = subject.startsWith(PREFIX) ? subject.slice(PREFIX.length, subject.lastIndexOf(".")) : "";
    const size = stored.object.length + stored.prevObject.length;
    const now = Date.now();
    const entry: HubEntry = { event: new FeedEvent(stored, true), at: now, scope, size, key: namespacedName(stored.object) ?? "" };
    this.ring.push(entry);
    if (entry.key) {
      if (stored.type === "DELETED") this.latestByKey.delete(entry.key);
      else this.latestByKey.set(entry.key, entry);
    }
    this.bytes += size;
    const stale = this.ring.length - 1 - this.limits.cacheEvents;
    if (stale >= this.head) this.ring[stale]!.event.forget();
    this.drop(now);
    this.wake();
  }

  /** Drops the oldest events beyond the limits (count, bytes, the stream's max age). */
  private drop(now: number): void {
    const oldest = now - this.maxAgeMs;
    while (
      this.ring.length - this.head > 0 &&
      (this.ring.length - this.head > this.maxEvents ||
        (this.bytes > this.limits.maxBytes && this.ring.length - this.head > 1) ||
        this.ring[this.head]!.at < oldest)
    ) {
      const e = this.ring[this.head++]!;
      if (e.key && this.latestByKey.get(e.key) === e) this.latestByKey.delete(e.key);
      this.bytes -= e.size;
      this.base++;
      this.coveredFrom = e.event.revision;
    }
    if (this.head >= 4096 && this.head * 2 >= this.ring.length) {
      this.ring = this.ring.slice(this.head);
      this.head = 0;
    }
  }

  private wake(): void {
    const w = this.waiters;
    if (w.length === 0) return;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  private changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** The hub sequence number of the first event with a revision above `rv`. */
  private seqAfter(rv: bigint): number {
    let lo = this.head;
    let hi = this.ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ring[mid]!.event.revision > rv) hi = mid;
      else lo = mid + 1;
    }
    return this.base + (lo - this.head);
  }

  /**
   * Yields the events in `scope` ("<resource>." or "<resource>.<namespace token>") after `rv`,
   * from memory. Throws FellBehind when the hub dropped or lost events this reader still needed.
   */
  async *read(scope: string, rv: bigint, signal: AbortSignal): AsyncGenerator<FeedEvent> {
    if (!this.covers(rv)) throw new FellBehind();
    const generation = this.generation;
    const prefixOnly = scope.endsWith(".");
    let seq = this.seqAfter(rv);
    for (;;) {
      if (signal.aborted) return;
      if (!this.ready || this.generation !== generation || seq < this.base) throw new FellBehind();
      if (seq >= this.base + this.ring.length - this.head) {
        await this.changed(signal);
        continue;
      }
      const e = this.ring[this.head + seq - this.base]!;
      seq++;
      if (prefixOnly ? e.scope.startsWith(scope) : e.scope === scope) yield e.event;
    }
  }
}

interface HubUse {
  hub: EventHub;
  users: number;
  idle?: NodeJS.Timeout;
}

/**
 * What watches read: from their kind's hub when it holds what they need, from their own
 * JetStream consumer otherwise, switching between the two without a gap or a repeat. A kind's hub
 * runs while the kind has watchers (and a minute longer, for the next one).
 */
export class WatchFeed {
  private readonly hubs = new Map<string, HubUse>();
  private stopped = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly currentRevision: () => Promise<bigint>,
    private readonly source: WatchSource,
    private readonly log: Logger,
    private readonly idleMs = 60_000,
    private readonly limits: HubLimits = DEFAULT_HUB_LIMITS,
  ) {}

  stop(): void {
    this.stopped = true;
    for (const u of this.hubs.values()) {
      clearTimeout(u.idle);
      u.hub.stop();
    }
    this.hubs.clear();
  }

  private acquire(resource: string): EventHub | undefined {
    if (this.stopped) return undefined;
    let u = this.hubs.get(resource);
    if (!u) {
      u = { hub: new EventHub(resource, this.js, this.jsm, this.currentRevision, this.log, this.limits), users: 0 };
      u.hub.start();
      this.hubs.set(resource, u);
    }
    clearTimeout(u.idle);
    u.idle = undefined;
    u.users++;
    return u.hub;
  }

  private release(resource: string): void {
    const u = this.hubs.get(resource);
    if (!u || --u.users > 0) return;
    u.idle = setTimeout(() => {
      if (u.users > 0 || this.hubs.get(resource) !== u) return;
      this.hubs.delete(resource);
      u.hub.stop();
    }, this.idleMs);
    u.idle.unref();
  }

  /**
   * The newest version of an object that a running hub of its kind has seen (see EventHub.latest):
   * a recent copy that spares a compare-and-swap its read from etcd.
   */
  recent(resource: string, namespace: string, name: string): { value: Uint8Array; modRevision: bigint } | undefined {
    return this.hubs.get(resource)?.hub.latest(`${namespace}/${name}`);
  }

  /** Events of one kind (or one kind in one namespace) after revision `rv`, in order, until `signal` aborts. */
  async *follow(resource: string, namespace: string | undefined, rv: bigint, signal: AbortSignal): AsyncGenerator<FeedEvent> {
    // A version the stream no longer holds events after is too old, wherever the events come from.
    await this.source.assertResumable(rv);
    const hub = this.acquire(resource);
    const scope = namespace ? `${resource}.${subjectToken(namespace)}` : `${resource}.`;
    let last = rv;
    try {
      await hub?.whenReady(1000, signal);
      while (!signal.aborted) {
        if (hub?.covers(last)) {
          try {
            for await (const ev of hub.read(scope, last, signal)) {
              last = ev.revision;
              yield ev;
            }
            return;
          } catch (err) {
            if (!(err instanceof FellBehind)) throw err;
          }
        }
        // Catch up from the stream itself until the hub holds what comes next.
        const ac = new AbortController();
        const stop = () => ac.abort();
        signal.addEventListener("abort", stop, { once: true });
        try {
          for await (const stored of this.source.follow(scopeFilter(scope), last, ac.signal)) {
            last = stored.revision;
            yield new FeedEvent(stored);
            if (hub?.covers(last)) break;
          }
        } finally {
          signal.removeEventListener("abort", stop);
          ac.abort();
        }
      }
    } finally {
      this.release(resource);
    }
  }
}

function scopeFilter(scope: string): string {
  return `${SUBJECT_ROOT}.${scope}${scope.endsWith(".") ? ">" : ".>"}`;
}
