import { fromBinary } from "@bufbuild/protobuf";
import { StoredEventSchema, type StoredEvent } from "@corral/api";
import { Code, GrpcError } from "@corral/grpc";
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from "nats";
import { HDR_REVISION, HDR_TYPE, STREAM } from "./subjects.js";

/** Too old to resume from: the client has to list again (Kubernetes' "410 Gone"). */
export function tooOld(rv: bigint, detail: string): GrpcError {
  return new GrpcError(
    Code.OUT_OF_RANGE,
    `too old resource version: ${rv} (${detail}); list again and watch from the list's resourceVersion`,
  );
}

/**
 * Reads events for one subject filter out of the JetStream stream, starting after a revision.
 * Each watcher gets its own ordered consumer, so a slow watcher holds back nobody else.
 */
export class WatchSource {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly currentRevision: () => Promise<bigint>,
  ) {}

  private async revisionAt(seq: number): Promise<{ revision: bigint; marker: boolean }> {
    const m = await this.jsm.streams.getMessage(STREAM, { seq });
    return { revision: BigInt(m.header.get(HDR_REVISION)), marker: m.header.get(HDR_TYPE) === "MARKER" };
  }

  /** Throws OUT_OF_RANGE when the stream no longer holds every event after `rv`. */
  async assertResumable(rv: bigint): Promise<void> {
    await this.check(rv);
  }

  private async check(rv: bigint): Promise<{ first_seq: number; last_seq: number; messages: number }> {
    const { state } = await this.jsm.streams.info(STREAM);
    if (state.messages === 0) {
      // Nothing published yet: the publisher will replay etcd from its first revision.
      if (state.last_seq === 0) return state;
      // Everything aged out: only a client that is already up to date can go on.
      if (rv >= (await this.currentRevision())) return state;
      throw tooOld(rv, "the event stream holds no events");
    }
    const first = await this.revisionAt(state.first_seq);
    const oldestResumable = first.marker ? first.revision : first.revision - 1n;
    if (rv < oldestResumable) throw tooOld(rv, `the oldest resumable version is ${oldestResumable}`);
    return state;
  }

  /** The first stream sequence holding an event after `rv`; throws OUT_OF_RANGE when events after `rv` are gone. */
  async startSequence(rv: bigint): Promise<number> {
    const state = await this.check(rv);
    if (state.messages === 0) return state.last_seq === 0 ? 1 : state.last_seq + 1;
    // Revisions grow with the sequence: binary search for the first one above rv.
    let lo = state.first_seq;
    let hi = state.last_seq + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await this.revisionAt(mid)).revision > rv) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Yields the stored events on `subject` after revision `rv`, in order, until `signal` aborts. */
  async *follow(subject: string, rv: bigint, signal: AbortSignal): AsyncGenerator<StoredEvent> {
    const startSeq = await this.startSequence(rv);
    const consumer = await this.js.consumers.get(STREAM, {
      filterSubjects: subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: startSeq,
    });
    const messages = await consumer.consume();
    const stop = () => messages.stop();
    signal.addEventListener("abort", stop, { once: true });
    try {
      for await (const m of messages) {
        if (signal.aborted) break;
        const ev = fromBinary(StoredEventSchema, m.data);
        if (ev.revision <= rv) continue; // already delivered by the list or an earlier event
        yield ev;
      }
    } finally {
      signal.removeEventListener("abort", stop);
      messages.stop();
    }
  }
}
