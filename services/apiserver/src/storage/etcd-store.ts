import type { Etcd3 } from "etcd3";
import type { IKeyValue } from "etcd3/lib/rpc.js";
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

function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value,
    modRevision: BigInt(kv.mod_revision),
    createRevision: BigInt(kv.create_revision),
  };
}

/**
 * The apiserver's only door to etcd: single-key reads and compare-and-swap writes on raw bytes.
 * Every write is conditional on the key's mod_revision, which is what makes resourceVersion
 * an optimistic-concurrency token.
 */
export class EtcdStore {
  constructor(
    private readonly etcd: Etcd3,
    private readonly observe: EtcdObserver = () => {},
  ) {}

  private async timed<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.observe(op, (performance.now() - t) / 1000);
    }
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const res = await this.timed("get", () => this.etcd.kv.range({ key: Buffer.from(key) }));
    const kv = res.kvs[0];
    return kv ? toKeyValue(kv) : undefined;
  }

  /** Reads keys in [from, end of prefix) at a revision (0 = now), at most `limit` (0 = all). */
  async range(prefix: string, opts: { from?: string; limit?: number; revision?: bigint } = {}): Promise<RangeResult> {
    try {
      const res = await this.timed("range", () =>
        this.etcd.kv.range({
          key: Buffer.from(opts.from ?? prefix),
          range_end: prefixEnd(prefix),
          limit: opts.limit ?? 0,
          revision: opts.revision ? opts.revision.toString() : 0,
        }),
      );
      return { kvs: res.kvs.map(toKeyValue), more: res.more, revision: BigInt(res.header.revision) };
    } catch (err) {
      if (err instanceof Error && /compacted/i.test(err.message)) throw new CompactedError(err.message);
      throw err;
    }
  }

  /** True when at least one key has this prefix. */
  async anyWithPrefix(prefix: string): Promise<boolean> {
    const res = await this.timed("range", () =>
      this.etcd.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), limit: 1, keys_only: true }),
    );
    return res.kvs.length > 0;
  }

  async currentRevision(): Promise<bigint> {
    const res = await this.timed("range", () => this.etcd.kv.range({ key: Buffer.from("/corral/"), limit: 1, keys_only: true }));
    return BigInt(res.header.revision);
  }

  /** Puts only if the key does not exist. Returns the new revision, or undefined if it exists. */
  async create(key: string, value: Uint8Array): Promise<bigint | undefined> {
    const k = Buffer.from(key);
    const res = await this.timed("create", () =>
      this.etcd.kv.txn({
        compare: [{ key: k, target: "Create", result: "Equal", create_revision: 0 }],
        success: [{ request_put: { key: k, value: Buffer.from(value) } }],
        failure: [],
      }),
    );
    return res.succeeded ? BigInt(res.header.revision) : undefined;
  }

  /** Puts only if the key's mod_revision is still `expected`. Returns the new revision, or undefined on conflict. */
  async update(key: string, value: Uint8Array, expected: bigint): Promise<bigint | undefined> {
    const k = Buffer.from(key);
    const res = await this.timed("update", () =>
      this.etcd.kv.txn({
        compare: [{ key: k, target: "Mod", result: "Equal", mod_revision: expected.toString() }],
        success: [{ request_put: { key: k, value: Buffer.from(value) } }],
        failure: [],
      }),
    );
    return res.succeeded ? BigInt(res.header.revision) : undefined;
  }

  /** Deletes only if the key's mod_revision is still `expected`. Returns the revision, or undefined on conflict. */
  async delete(key: string, expected: bigint): Promise<bigint | undefined> {
    const k = Buffer.from(key);
    const res = await this.timed("delete", () =>
      this.etcd.kv.txn({
        compare: [{ key: k, target: "Mod", result: "Equal", mod_revision: expected.toString() }],
        success: [{ request_delete_range: { key: k } }],
        failure: [],
      }),
    );
    return res.succeeded ? BigInt(res.header.revision) : undefined;
  }
}
