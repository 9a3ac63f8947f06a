import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { StoredEventSchema, type KindInfo } from "@corral/api";
import type { Logger } from "@corral/logging";
import type { Etcd3, Watcher } from "etcd3";
import type { IEvent } from "etcd3/lib/rpc.js";
import { createInbox, headers, type JetStreamClient, type JetStreamManager, type Msg, type NatsConnection, type Subscription } from "nats";
import { KEY_ROOT, parseKey } from "../storage/keys.js";
import { withResourceVersion } from "../storage/wire.js";
import { HDR_KIND, HDR_REVISION, HDR_TYPE, MARKER_SUBJECT, STREAM, eventSubject } from "./subjects.js";

const ELECTION = "corral-event-publisher";
/** An event not acknowledged by JetStream within this time counts as lost: the publisher resumes. */
const ACK_TIMEOUT_MS = 5000;
const HDR_MSG_ID = "Nats-Msg-Id";
const HDR_EXPECTED_LAST_MSG_ID = "Nats-Expected-Last-Msg-Id";

/** The revision and message id of the newest event in the stream, or undefined when the stream is empty. */
export async function lastPublished(jsm: JetStreamManager): Promise<{ revision: bigint; msgId: string } | undefined> {
  const info = await jsm.streams.info(STREAM);
  if (info.state.messages === 0) return undefined;
  const msg = await jsm.streams.getMessage(STREAM, { seq: info.state.last_seq });
  return { revision: BigInt(msg.header.get(HDR_REVISION)), msgId: msg.header.get("Nats-Msg-Id") };
}

interface PendingAck {
  revision: bigint;
  epoch: number;
  sentAt: number;
}

/**
 * Turns etcd's change stream into JetStream messages. Every apiserver replica runs one, but only
 * the one elected through etcd publishes; it resumes after the newest event already in the stream,
 * so a restart of the apiserver or of NATS loses nothing, and Nats-Msg-Id drops the copies two
 * leaders may both send during a hand-over.
 */
export class EventPublisher {
  private watcher?: Watcher;
  private stopped = false;
  private elected = false;
  private campaign?: ReturnType<ReturnType<Etcd3["election"]>["campaign"]>;
  private restarting = false;
  /** Each publish expects this id to be the stream's last: a lost message can never be skipped over. */
  private lastMsgId = "";
  private readonly js: JetStreamClient;
  /**
   * Bumped at every (re)start of the etcd watch: events and acks of an earlier watch are dropped,
   * so nothing from before a restart can be published after it (out of order) or restart it again.
   */
  private epoch = 0;
  /** Events of the current watch received from etcd, published together on the next turn of the event loop. */
  private queue: IEvent[] = [];
  private flushScheduled = false;
  /**
   * Publishes are pipelined: JetStream acks them on one inbox subscription (by a token in the
   * reply subject) instead of a request, a timer and an error object per message.
   */
  private readonly inbox = createInbox();
  private ackSub?: Subscription;
  private nextToken = 1;
  private readonly pending = new Map<number, PendingAck>();
  private ackTimer?: NodeJS.Timeout;
  private readonly settled: (() => void)[] = [];

  constructor(
    private readonly etcd: Etcd3,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly kinds: ReadonlyMap<string, KindInfo>,
    private readonly identity: string,
    private readonly log: Logger,
    private readonly onPublished: (revision: bigint) => void = () => {},
  ) {
    this.js = nc.jetstream();
  }

  get isLeader(): boolean {
    return this.elected;
  }

  start(): void {
    this.ackSub = this.nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => (err ? undefined : this.onAck(msg)) });
    this.ackTimer = setInterval(() => this.checkAckTimeouts(), 1000);
    this.ackTimer.unref();
    this.runCampaign();
  }

  private runCampaign(): void {
    if (this.stopped) return;
    const campaign = this.etcd.election(ELECTION, 5).campaign(this.identity);
    this.campaign = campaign;
    campaign.on("elected", () => {
      this.elected = true;
      this.log.info({ identity: this.identity }, "elected event publisher");
      void this.publishLoop();
    });
    campaign.on("error", (err: Error) => {
      this.log.warn({ err: err.message }, "event publisher election lost or failed; campaigning again");
      this.elected = false;
      this.stopWatcher();
      setTimeout(() => this.runCampaign(), 1000).unref();
    });
  }

  /** Start (or restart) streaming from the revision after the last published one. */
  private async publishLoop(): Promise<void> {
    // Several failed publishes of one burst all ask for a restart; one is enough.
    if (this.restarting) return;
    this.restarting = true;
    this.stopWatcher();
    let delay = 200;
    try {
      while (this.elected && !this.stopped) {
        try {
          // Let the acks still in flight settle so the stream's end is where we resume.
          await this.acksSettled();
          await this.startWatcher();
          return;
        } catch (err) {
          this.log.warn({ err: (err as Error).message, retryInMs: delay }, "cannot start publishing events; retrying");
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5000);
        }
      }
    } finally {
      this.restarting = false;
    }
  }

  private async startWatcher(): Promise<void> {
    this.stopWatcher();
    const epoch = this.epoch;
    const last = await lastPublished(this.jsm);
    // An empty stream replays etcd's whole history, so writes made before any publisher was
    // elected still reach watchers.
    let from = 0n;
    this.lastMsgId = "";
    if (last) {
      from = last.revision;
      this.lastMsgId = last.msgId;
    }
    const current = await this.currentRevision();
    if (from + 1n <= current && (await this.compacted(from + 1n))) {
      // etcd no longer has the revisions after the last published one: the marker makes
      // watchers that are behind it relist instead of silently missing events.
      this.log.warn({ fromRevision: (from + 1n).toString(), current: current.toString() }, "etcd compacted unpublished revisions");
      await this.publishMarker(current);
      from = current;
    }
    this.log.info({ fromRevision: (from + 1n).toString() }, "publishing etcd changes to NATS");
    const watcher = await this.etcd
      .watch()
      .prefix(KEY_ROOT)
      .withPreviousKV()
      .startRevision((from + 1n).toString())
      .create();
    if (epoch !== this.epoch) {
      // Stopped or restarted meanwhile.
      void watcher.cancel().catch(() => {});
      return;
    }
    this.watcher = watcher;
    watcher.on("data", (res) => {
      if (epoch !== this.epoch) return;
      for (const ev of res.events) this.queue.push(ev);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
    watcher.on("error", (err) => {
      if (epoch !== this.epoch) return;
      this.log.warn({ err: err.message }, "etcd watch failed; restarting the publisher");
      void this.publishLoop();
    });
  }

  /**
   * Publishes what etcd sent since the last turn: one write to NATS for all of it. The queue only
   * ever holds events of the current watch (a restart empties it, and an earlier watch's events
   * are refused), so they are published in order and after the right message.
   */
  private flush(): void {
    this.flushScheduled = false;
    const events = this.queue;
    this.queue = [];
    const epoch = this.epoch;
    for (const ev of events) {
      try {
        this.publishEvent(ev, epoch);
      } catch (err) {
        // Not sent (e.g. the connection is closed): the ack never comes, and the chain stops here.
        this.fail(epoch, err as Error, BigInt(ev.kv.mod_revision));
        return;
      }
    }
  }

  private async currentRevision(): Promise<bigint> {
    const res = await this.etcd.kv.range({ key: Buffer.from(KEY_ROOT), limit: 1, keys_only: true });
    return BigInt(res.header.revision);
  }

  /** True when etcd has compacted `revision` away (a read at it fails). */
  private async compacted(revision: bigint): Promise<boolean> {
    try {
      await this.etcd.kv.range({ key: Buffer.from(KEY_ROOT), limit: 1, keys_only: true, revision: revision.toString() });
      return false;
    } catch (err) {
      if (err instanceof Error && /compacted/i.test(err.message)) return true;
      throw err;
    }
  }

  private async publishMarker(revision: bigint): Promise<void> {
    const h = headers();
    h.set(HDR_REVISION, revision.toString());
    h.set(HDR_TYPE, "MARKER");
    const body = toBinary(StoredEventSchema, create(StoredEventSchema, { type: "MARKER", revision }));
    const msgID = `marker/${revision}`;
    await this.js.publish(MARKER_SUBJECT, body, { headers: h, msgID });
    this.lastMsgId = msgID;
  }

  private publishEvent(ev: IEvent, epoch: number): void {
    const key = ev.kv.key.toString();
    const parsed = parseKey(key);
    const kind = parsed && this.kinds.get(parsed.resource);
    if (!parsed || !kind) return; // not an API object (allocations, elections)
    const rv = ev.kv.mod_revision;
    let type: string;
    let object: Uint8Array;
    let prev: Uint8Array | undefined;
    if (ev.type === "Delete") {
      if (!ev.prev_kv) return;
      type = "DELETED";
      object = withResourceVersion(ev.prev_kv.value, rv);
    } else {
      type = ev.kv.create_revision === ev.kv.mod_revision ? "ADDED" : "MODIFIED";
      object = withResourceVersion(ev.kv.value, rv);
      if (ev.prev_kv) prev = withResourceVersion(ev.prev_kv.value, ev.prev_kv.mod_revision);
    }
    const revision = BigInt(rv);
    // corral.v1.StoredEvent { type = 1; kind = 2; revision = 3; object = 4; prev_object = 5; }
    const w = new BinaryWriter()
      .tag(1, WireType.LengthDelimited)
      .string(type)
      .tag(2, WireType.LengthDelimited)
      .string(kind.kind)
      .tag(3, WireType.Varint)
      .int64(revision)
      .tag(4, WireType.LengthDelimited)
      .bytes(object);
    if (prev) w.tag(5, WireType.LengthDelimited).bytes(prev);
    const msgID = `${rv}/${key}`;
    const h = headers();
    h.set(HDR_REVISION, rv);
    h.set(HDR_KIND, kind.kind);
    h.set(HDR_TYPE, type);
    h.set(HDR_MSG_ID, msgID);
    if (this.lastMsgId) h.set(HDR_EXPECTED_LAST_MSG_ID, this.lastMsgId);
    const token = this.nextToken++;
    // One connection keeps the order; the ack arrives on the inbox (onAck).
    this.nc.publish(eventSubject(kind.resource, parsed.namespace, parsed.name), w.finish(), { headers: h, reply: `${this.inbox}.${token}` });
    this.pending.set(token, { revision, epoch, sentAt: Date.now() });
    this.lastMsgId = msgID;
  }

  private onAck(msg: Msg): void {
    const token = Number(msg.subject.slice(this.inbox.length + 1));
    const p = this.pending.get(token);
    if (!p) return; // timed out already, or from before a restart
    this.pending.delete(token);
    let error: string | undefined;
    if (msg.headers && msg.headers.code >= 400) {
      error = `${msg.headers.code} ${msg.headers.description}`; // 503: no stream to take it
    } else {
      try {
        const ack = JSON.parse(new TextDecoder().decode(msg.data)) as { error?: { description?: string; err_code?: number } };
        if (ack.error) error = `${ack.error.description ?? "rejected"} (${ack.error.err_code ?? "?"})`;
      } catch {
        error = "unreadable acknowledgement";
      }
    }
    if (error) this.fail(p.epoch, new Error(error), p.revision);
    else this.onPublished(p.revision);
    if (this.pending.size === 0) for (const resolve of this.settled.splice(0)) resolve();
  }

  /** A lost or refused publish: re-read the stream's end and resume from there (nothing is skipped, copies are dropped). */
  private fail(epoch: number, err: Error, revision: bigint): void {
    if (epoch !== this.epoch || !this.elected || this.stopped) return;
    this.log.warn({ err: err.message, revision: revision.toString() }, "publishing an event failed; resuming");
    void this.publishLoop();
  }

  private checkAckTimeouts(): void {
    const oldest = this.pending.values().next().value as PendingAck | undefined;
    if (!oldest || Date.now() - oldest.sentAt < ACK_TIMEOUT_MS) return;
    this.pending.clear();
    for (const resolve of this.settled.splice(0)) resolve();
    this.fail(oldest.epoch, new Error(`no acknowledgement from JetStream within ${ACK_TIMEOUT_MS} ms`), oldest.revision);
  }

  /** Resolves once every publish sent so far is acknowledged or given up on. */
  private acksSettled(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.settled.push(resolve));
  }

  private stopWatcher(): void {
    this.epoch++;
    this.queue = [];
    const w = this.watcher;
    this.watcher = undefined;
    if (w) void w.cancel().catch(() => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.elected = false;
    this.stopWatcher();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.acksSettled(), new Promise((r) => (timer = setTimeout(r, ACK_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (this.ackTimer) clearInterval(this.ackTimer);
    this.ackSub?.unsubscribe();
    if (this.campaign) await this.campaign.resign().catch(() => {});
  }
}
