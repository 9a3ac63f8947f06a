import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  nanos,
  type JetStreamManager,
  type StreamConfig,
} from "nats";
import { STREAM, SUBJECT_ROOT } from "./subjects.js";

export interface RetentionOptions {
  /** How long events stay resumable. */
  maxAgeSeconds: number;
  /** At most this many events are kept; the oldest go first. */
  maxMessages: number;
}

export const DEFAULT_RETENTION: RetentionOptions = { maxAgeSeconds: 24 * 3600, maxMessages: 1_000_000 };

/** Creates the event stream, or brings an existing one to the wanted retention. Idempotent. */
export async function ensureStream(jsm: JetStreamManager, retention: RetentionOptions): Promise<void> {
  const config: Partial<StreamConfig> = {
    name: STREAM,
    subjects: [`${SUBJECT_ROOT}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(retention.maxAgeSeconds * 1000),
    max_msgs: retention.maxMessages,
    // Replicas of the apiserver may publish the same event while leadership changes hands;
    // the Nats-Msg-Id window drops the second copy.
    duplicate_window: nanos(120_000),
  };
  try {
    const info = await jsm.streams.info(STREAM);
    const c = info.config;
    if (c.max_age !== config.max_age || c.max_msgs !== config.max_msgs) {
      await jsm.streams.update(STREAM, { ...c, max_age: config.max_age!, max_msgs: config.max_msgs! });
    }
  } catch (err) {
    if (!(err instanceof Error) || !/stream not found/i.test(err.message)) throw err;
    await jsm.streams.add(config);
  }
}
