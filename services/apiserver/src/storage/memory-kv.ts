import type { Compare, KvClient, Op, RangeRequest, RangeResult, RawKeyValue, TxnResult } from "./etcd-kv.js";

/**
 * etcd's KV semantics in memory (revisions, create and mod revisions, compare-and-swap), enough
 * for the registry's unit tests. Not for production: no history, no watch.
 */
export class MemoryKv implements KvClient {
  revision = 1n;
  private readonly data = new Map<string, RawKeyValue>();

  async range(req: RangeRequest): Promise<RangeResult> {
    const from = Buffer.from(req.key).toString("latin1");
    const end = req.rangeEnd ? Buffer.from(req.rangeEnd).toString("latin1") : undefined;
    const keys = [...this.data.keys()].filter((k) => (end === undefined ? k === from : k >= from && k < end)).sort();
    const limit = req.limit ?? 0;
    const picked = limit > 0 ? keys.slice(0, limit) : keys;
    return {
      revision: this.revision,
      kvs: picked.map((k) => ({ ...this.data.get(k)!, value: req.keysOnly ? Buffer.alloc(0) : this.data.get(k)!.value })),
      more: picked.length < keys.length,
    };
  }

  async txn(compare: Compare[], success: Op[]): Promise<TxnResult> {
    const ok = compare.every((c) => {
      const kv = this.data.get(Buffer.from(c.key).toString("latin1"));
      return c.target === "create" ? (kv?.createRevision ?? 0n) === c.createRevision : (kv?.modRevision ?? 0n) === c.modRevision;
    });
    if (!ok) return { revision: this.revision, succeeded: false };
    this.revision++;
    for (const op of success) {
      if ("put" in op) {
        const key = Buffer.from(op.put.key);
        const k = key.toString("latin1");
        const prev = this.data.get(k);
        this.data.set(k, { key, value: Buffer.from(op.put.value), createRevision: prev?.createRevision ?? this.revision, modRevision: this.revision });
      } else {
        this.data.delete(Buffer.from(op.deleteRange.key).toString("latin1"));
      }
    }
    return { revision: this.revision, succeeded: true };
  }
}
