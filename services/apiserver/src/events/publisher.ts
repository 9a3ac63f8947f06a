import { create, toBinary } from "@bufbuild/protobuf";
import { ResourceVersionPatchSchema, StoredEventSchema, type KindInfo } from "@corral/api";
import type { Logger } from "@corral/logging";
import type { Etcd3, Watcher } from "etcd3";
import type { IEvent, IKeyValue } from "etcd3/lib/rpc.js";
import { headers, type JetStreamClient, type JetStreamManager, type NatsConnection, type PubAck } from "nats";
import { KEY_ROOT, parseKey } from "../storage/keys.js";
import { HDR_KIND, HDR_REVISION, HDR_TYPE, MARKER_SUBJECT, STREAM, eventSubject } from "./subjects.js";

const ELECTION = "corral-event-publisher";
const MAX_IN_FLIGHT = 512;

/** The revision and message id of the newest event in the stream, or undefined when the stream is empty. */
export async function lastPublished(jsm: JetStreamManager): Promise<{ revision: bigint; msgId: string } | undefined> {
  const info = await jsm.streams.info(STREAM);
  if (info.state.messages === 0) return undefined;
  const msg = await jsm.streams.getMessage(STREAM, { seq: info.state.last_seq });
  return { revision: BigInt(msg.header.get(HDR_REVISION)), msgId: msg.header.get("Nats-Msg-Id") };
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
  private readonly inFlight = new Set<Promise<PubAck>>();
  private restarting = false;
  /** Each publish expects this id to be the stream's last: a lost message can never be skipped over. */
  private lastMsgId = "";
  private readonly js: JetStreamClient;

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
          await Promise.allSettled([...this.inFlight]);
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
    this.watcher = watcher;
    watcher.on("data", (res) => {
      for (const ev of res.events) this.publishEvent(ev);
    });
    watcher.on("error", (err) => {
      this.log.warn({ err: err.message }, "etcd watch failed; restarting the publisher");
      void this.publishLoop();
    });
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

  private publishEvent(ev: IEvent): void {
    const key = ev.kv.key.toString();
    const parsed = parseKey(key);
    const kind = parsed && this.kinds.get(parsed.resource);
    if (!parsed || !kind) return; // not an API object (allocations, elections)
    const revision = BigInt(ev.kv.mod_revision);
    let type: string;
    let object: Uint8Array;
    let prev: Uint8Array = new Uint8Array();
    if (ev.type === "Delete") {
      if (!ev.prev_kv) return;
      type = "DELETED";
      object = withResourceVersion(ev.prev_kv, revision);
    } else {
      type = ev.kv.create_revision === ev.kv.mod_revision ? "ADDED" : "MODIFIED";
      object = withResourceVersion(ev.kv, revision);
      if (ev.prev_kv) prev = withResourceVersion(ev.prev_kv, BigInt(ev.prev_kv.mod_revision));
    }
    const h = headers();
    h.set(HDR_REVISION, revision.toString());
    h.set(HDR_KIND, kind.kind);
    h.set(HDR_TYPE, type);
    const body = toBinary(
      StoredEventSchema,
      create(StoredEventSchema, { type, kind: kind.kind, revision, object, prevObject: prev }),
    );
    // Published without waiting: one connection keeps the order, and acks are checked below.
    const msgID = `${revision}/${key}`;
    const ack = this.js.publish(eventSubject(kind.resource, parsed.namespace, parsed.name), body, {
      headers: h,
      msgID,
      expect: { lastMsgID: this.lastMsgId },
    });
    this.lastMsgId = msgID;
    this.track(ack, revision);
  }

  private track(ack: Promise<PubAck>, revision: bigint): void {
    this.inFlight.add(ack);
    ack.then(
      () => {
        this.inFlight.delete(ack);
        this.onPublished(revision);
      },
      (err: Error) => {
        this.inFlight.delete(ack);
        if (!this.elected || this.stopped) return;
        // Re-read the stream's end and resume from there: nothing is skipped, copies are dropped.
        this.log.warn({ err: err.message, revision: revision.toString() }, "publishing an event failed; resuming");
        void this.publishLoop();
      },
    );
    if (this.inFlight.size > MAX_IN_FLIGHT) this.log.debug({ inFlight: this.inFlight.size }, "publisher backlog");
  }

  private stopWatcher(): void {
    const w = this.watcher;
    this.watcher = undefined;
    if (w) void w.cancel().catch(() => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.elected = false;
    this.stopWatcher();
    await Promise.allSettled([...this.inFlight]);
    if (this.campaign) await this.campaign.resign().catch(() => {});
  }
}

/**
 * The stored bytes with metadata.resourceVersion set, without decoding: protobuf merges a
 * repeated embedded message field, so appending `metadata { resource_version }` to the encoded
 * object sets that one field. Saves a decode and an encode per event on the publisher's hot path.
 */
function withResourceVersion(kv: IKeyValue, revision: bigint): Uint8Array {
  const patch = toBinary(ResourceVersionPatchSchema, create(ResourceVersionPatchSchema, { metadata: { resourceVersion: revision.toString() } }));
  const out = new Uint8Array(kv.value.length + patch.length);
  out.set(kv.value, 0);
  out.set(patch, kv.value.length);
  return out;
}
