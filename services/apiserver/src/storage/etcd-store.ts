import { EtcdError, type KvClient, type RawKeyValue } from "./etcd-kv.js";
import { prefixEnd } from "./keys.js";

export interface KeyValue {
  key: string;
  value: Buffer;
  modRevision: bigint;
  createRevision: bigint;
}

export interface RangeResult {
  kvs: KeyValue[];
  more: boolean;
  /** The store revision the range was read at. */
  revision: bigint;
}

/** Thrown when a read asks for a revision etcd has already compacted away. */
export class CompactedError extends Error {}

export type EtcdObserver = (operation: string, seconds: number) => void;

function toKeyValue(kv: RawKeyValue): KeyValue {
  return { key: kv.key.toString(), value: kv.value, modRevision: kv.modRevision, createRevision: kv.createRevision };
}

/**
 * The apiserver's only door to etcd: single-key reads and compare-and-swap writes on raw bytes.
 * Every write is conditional on the key's mod_revision, which is what makes resourceVersion
 * an optimistic-concurrency token.
 */
export class EtcdStore {
  constructor(
    private readonly kv: KvClient,
    private readonly observe: EtcdObserver = () => {},
  ) {}

  private async timed<T>(op: string, p: Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await p;
    } finally {
      this.observe(op, (performance.now() - t) / 1000);
    }
  }

  /**
   * One key. `serializable`: answered by the etcd member from its own state, without the quorum
   * round trip of a linearizable read (it may trail the cluster on a multi-member etcd).
   */
  async get(key: string, serializable = false): Promise<KeyValue | undefined> {
    const res = await this.timed("get", this.kv.range({ key: Buffer.from(key), serializable }));
    const kv = res.kvs[0];
    return kv ? toKeyValue(kv) : undefined;
  }

  /** Reads keys in [from, end of prefix) at a revision (0 = now), at most `limit` (0 = all). */
  async range(prefix: string, opts: { from?: string; limit?: number; revision?: bigint } = {}): Promise<RangeResult> {
    try {
      const res = await this.timed(
        "range",
        this.kv.range({ key: Buffer.from(opts.from ?? prefix), rangeEnd: prefixEnd(prefix), limit: opts.limit ?? 0, revision: opts.revision }),
      );
      return { kvs: res.kvs.map(toKeyValue), more: res.more, revision: res.revision };
    } catch (err) {
      if (err instanceof EtcdError && /compacted/i.test(err.message)) throw new CompactedError(err.message);
      throw err;
    }
  }

  /** True when at least one key has this prefix. */
  async anyWithPrefix(prefix: string): Promise<boolean> {
    const res = await this.timed("range", this.kv.range({ key: Buffer.from(prefix), rangeEnd: prefixEnd(prefix), limit: 1, keysOnly: true }));
    return res.kvs.length > 0;
  }

  async currentRevision(): Promise<bigint> {
    const res = await this.timed("range", this.kv.range({ key: Buffer.from("/corral/"), limit: 1, keysOnly: true }));
    return res.revision;
  }

  /** Puts only if the key does not exist. Returns the new revision, or undefined if it exists. */
  async create(key: string, value: Uint8Array): Promise<bigint | undefined> {
    const k = Buffer.from(key);
    const res = await this.timed("create", this.kv.txn([{ target: "create", key: k, createRevision: 0n }], [{ put: { key: k, value } }]));
    return res.succeeded ? res.revision : undefined;
  }

  /** Puts only if the key's mod_revision is still `expected`. Returns the new revision, or undefined on conflict. */
  async update(key: string, value: Uint8Array, expected: bigint): Promise<bigint | undefined> {
    const k = Buffer.from(key);
    const res = await this.timed("update", this.kv.txn([{ target: "mod", key: k, modRevision: expected }], [{ put: { key: k, value } }]));
    return res.succeeded ? res.revision : undefined;
  }

  /** Deletes only if the key's mod_revision is still `expected`. Returns the revision, or undefined on conflict. */
  async delete(key: string, expected: bigint): Promise<bigint | undefined> {
    const k = Buffer.from(key);
    const res = await this.timed("delete", this.kv.txn([{ target: "mod", key: k, modRevision: expected }], [{ deleteRange: { key: k } }]));
    return res.succeeded ? res.revision : undefined;
  }
}
