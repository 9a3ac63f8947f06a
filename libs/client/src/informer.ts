import type { ApiObject, WatchEvent } from "@corral/api";
import { Code, errorCode } from "@corral/grpc";
import type { ResourceClient } from "./resource.js";
import { sleep } from "./sleep.js";

/** "namespace/name" for namespaced objects, "name" for cluster-scoped ones (as client-go). */
export function objectKey(obj: ApiObject): string {
  const m = obj.metadata;
  return m?.namespace ? `${m.namespace}/${m.name}` : (m?.name ?? "");
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export interface EventHandler<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  log?: { warn(obj: object, msg: string): void; debug?(obj: object, msg: string): void };
  /** Back-off between broken watches: doubles from min to max, reset by a healthy stream. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

type IndexFn<T> = (obj: T) => string[];

/**
 * List+watch into a local cache, in the manner of client-go's shared informer. One watch stream:
 * it starts with the current objects (ADDED, then a BOOKMARK), then follows changes. A broken
 * stream resumes from the last resourceVersion seen; a version too old to resume from (OUT_OF_RANGE)
 * starts over and diffs the fresh state against the cache, so handlers see every deletion they
 * missed. Handlers run synchronously, in order; keep them cheap (enqueue a key).
 */
export class Informer<T extends ApiObject> {
  private readonly items = new Map<string, T>();
  private readonly handlers: EventHandler<T>[] = [];
  private readonly indexers = new Map<string, IndexFn<T>>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private readonly ac = new AbortController();
  private rv = "";
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private running?: Promise<void>;

  constructor(
    readonly client: ResourceClient<T>,
    private readonly opts: InformerOptions = {},
  ) {}

  addEventHandler(h: EventHandler<T>): void {
    this.handlers.push(h);
    // A handler added late still hears about what is already cached.
    if (h.add) for (const obj of this.items.values()) h.add(obj);
  }

  /** An index: byIndex(name, value) returns the objects for which fn returned value. */
  addIndex(name: string, fn: IndexFn<T>): void {
    this.indexers.set(name, fn);
    const idx = new Map<string, Set<string>>();
    this.indexes.set(name, idx);
    for (const [key, obj] of this.items) for (const v of fn(obj)) addTo(idx, v, key);
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.indexes.get(name)?.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  get size(): number {
    return this.items.size;
  }

  /** The resourceVersion the cache reflects. */
  get resourceVersion(): string {
    return this.rv;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  start(): this {
    this.running ??= this.run();
    return this;
  }

  /** Resolves once the cache holds every object that existed when it started. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.syncWaiters.push(resolve);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.ac.signal;
    const min = this.opts.retryMinMs ?? 100;
    const max = this.opts.retryMaxMs ?? 5_000;
    let delay = min;
    while (!signal.aborted) {
      const relist = this.rv === "";
      const fresh = relist ? new Map<string, T>() : undefined;
      try {
        const stream = this.client.watch(
          {
            namespace: this.opts.namespace ?? "",
            labelSelector: this.opts.labelSelector ?? "",
            fieldSelector: this.opts.fieldSelector ?? "",
            resourceVersion: this.rv,
            sendInitialEventsBookmark: relist,
          },
          { signal },
        );
        let listing = relist;
        for await (const ev of stream) {
          delay = min;
          if (listing && fresh) {
            if (ev.type === "BOOKMARK") {
              listing = false;
              this.replace(fresh, ev.object?.metadata?.resourceVersion ?? "");
            } else if (ev.object) fresh.set(objectKey(ev.object), ev.object);
            continue;
          }
          this.apply(ev);
        }
      } catch (err) {
        if (signal.aborted) return;
        if (errorCode(err) === Code.OUT_OF_RANGE) {
          this.opts.log?.warn({ kind: this.client.kind.kind, rv: this.rv }, "watch too old to resume; listing again");
          this.rv = "";
          continue;
        }
        this.opts.log?.warn({ kind: this.client.kind.kind, err: String(err) }, "watch broke; resuming");
      }
      if (signal.aborted) return;
      await sleep(delay, signal);
      delay = Math.min(max, delay * 2);
    }
  }

  private apply(ev: WatchEvent<T>): void {
    const obj = ev.object;
    if (!obj?.metadata) return;
    if (ev.type === "BOOKMARK") {
      this.rv = obj.metadata.resourceVersion;
      return;
    }
    const key = objectKey(obj);
    this.rv = obj.metadata.resourceVersion;
    if (ev.type === "DELETED") {
      const old = this.items.get(key);
      this.remove(key);
      this.emitDelete(old ?? obj);
      return;
    }
    const old = this.items.get(key);
    this.put(key, obj);
    if (old) this.emitUpdate(old, obj);
    else this.emitAdd(obj);
  }

  /** Swaps in a fresh listing: adds, updates and deletes are emitted for what changed. */
  private replace(fresh: Map<string, T>, rv: string): void {
    for (const [key, old] of [...this.items]) {
      if (!fresh.has(key)) {
        this.remove(key);
        this.emitDelete(old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.items.get(key);
      this.put(key, obj);
      if (!old) this.emitAdd(obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emitUpdate(old, obj);
    }
    this.rv = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters) w();
      this.syncWaiters = [];
    }
  }

  private put(key: string, obj: T): void {
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    for (const [name, fn] of this.indexers) {
      const idx = this.indexes.get(name)!;
      for (const v of fn(obj)) addTo(idx, v, key);
    }
  }

  private remove(key: string): void {
    const old = this.items.get(key);
    if (!old) return;
    this.unindex(key, old);
    this.items.delete(key);
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const idx = this.indexes.get(name)!;
      for (const v of fn(obj)) {
        const s = idx.get(v);
        if (!s) continue;
        s.delete(key);
        if (s.size === 0) idx.delete(v);
      }
    }
  }

  private emitAdd(obj: T): void {
    for (const h of this.handlers) h.add?.(obj);
  }
  private emitUpdate(oldObj: T, newObj: T): void {
    for (const h of this.handlers) h.update?.(oldObj, newObj);
  }
  private emitDelete(obj: T): void {
    for (const h of this.handlers) h.delete?.(obj);
  }
}

function addTo(idx: Map<string, Set<string>>, v: string, key: string): void {
  let s = idx.get(v);
  if (!s) idx.set(v, (s = new Set()));
  s.add(key);
}
