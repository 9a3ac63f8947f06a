import { clone, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ListMetaSchema,
  ListRequestSchema,
  ObjectMetaSchema,
  PodConditionSchema,
  PodSpecSchema,
  PodStatusSchema,
  type ApiObject,
  type Binding,
  type DeleteRequest,
  type GetRequest,
  type KindInfo,
  type ListRequest,
  type ObjectList,
  type Pod,
  type WatchEvent,
  type WatchRequest,
} from "@corral/api";
import { formatFieldErrors, isDNS1123Subdomain, validateObject, validateUpdate } from "@corral/apimachinery";
import { Code, GrpcError } from "@corral/grpc";
import type { Logger } from "@corral/logging";
import { randomUUID } from "node:crypto";
import type { WatchFeed } from "../events/event-hub.js";
import { Encoded } from "../grpc-service.js";
import { CompactedError, type EtcdStore, type KeyValue } from "../storage/etcd-store.js";
import { listPrefix, objectKey } from "../storage/keys.js";
import {
  appendField,
  appendToMetadata,
  field,
  metadataFirstAndOnce,
  watchEventBytes,
  withRepeated,
  withResourceVersion,
} from "../storage/wire.js";
import { decodeContinue, encodeContinue } from "./continue-token.js";
import { compileSelectors, matchAll } from "./filter.js";
import type { NamespaceGuard } from "./namespace-guard.js";
import type { WriteHook } from "./write-hook.js";
import {
  changedByCreateDefaults,
  defaultForCreate,
  finalizersForDeletion,
  mergeForStatusUpdate,
  mergeForUpdateInPlace,
  normalizeContent,
  normalizeMeta,
  prepareForCreate,
  randomSuffix,
  readyToRemove,
  sameContent,
} from "./prepare.js";

export interface RegistryDeps {
  store: EtcdStore;
  feed: WatchFeed;
  namespaces: NamespaceGuard;
  log: Logger;
  /** Largest encoded object accepted (etcd's own limit is 1.5 MiB per value). */
  maxObjectBytes: number;
  now?: () => Date;
  /** Kinds whose writes change more keys than their own (Service: its ClusterIP and NodePorts). */
  hooks?: ReadonlyMap<string, WriteHook>;
}

const UNCONDITIONAL_UPDATE_RETRIES = 5;
const UNCONDITIONAL_BIND_RETRIES = 5;
const LIST_BATCH = 500;

/** An object as written or read, with the bytes a reply carries: as stored, plus its resourceVersion. */
export interface Written<T> {
  obj: T;
  bytes: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function parseVersion(rv: string, field: string): bigint {
  if (!/^\d+$/.test(rv)) throw new GrpcError(Code.INVALID_ARGUMENT, `${field}: Invalid value: "${rv}": must be a resourceVersion returned by the server`);
  return BigInt(rv);
}

/**
 * The seven verbs for one kind, on top of etcd. Everything that is the same for every kind lives
 * here; what differs (defaults, validation, server-owned fields) comes from prepare.ts and
 * @corral/apimachinery.
 */
export class ResourceRegistry<T extends ApiObject = ApiObject> {
  private readonly now: () => Date;
  private readonly hook?: WriteHook;

  constructor(
    readonly kind: KindInfo<T>,
    private readonly deps: RegistryDeps,
  ) {
    this.now = deps.now ?? (() => new Date());
    this.hook = deps.hooks?.get(kind.kind);
  }

  private get k(): KindInfo {
    return this.kind as unknown as KindInfo;
  }

  private ns(namespace: string): string {
    return this.kind.namespaced ? namespace || "default" : "";
  }

  private label(name: string): string {
    return `${this.kind.resource} "${name}"`;
  }

  private notFound(name: string): GrpcError {
    return new GrpcError(Code.NOT_FOUND, `${this.label(name)} not found`);
  }

  decode(kv: { value: Uint8Array; modRevision: bigint }): T {
    const obj = fromBinary(this.kind.schema, kv.value);
    obj.metadata ??= create(ObjectMetaSchema, {});
    obj.metadata.resourceVersion = kv.modRevision.toString();
    return obj;
  }

  private encode(obj: T): Uint8Array {
    return this.checkSize(toBinary(this.kind.schema, obj));
  }

  private checkSize(bytes: Uint8Array): Uint8Array {
    if (bytes.length > this.deps.maxObjectBytes) {
      throw new GrpcError(
        Code.INVALID_ARGUMENT,
        `request entity too large: the ${this.kind.kind} is ${bytes.length} bytes, the limit is ${this.deps.maxObjectBytes}`,
      );
    }
    return bytes;
  }

  private validate(obj: T, old?: T): void {
    const errs = validateObject(this.k, obj);
    if (old) errs.push(...validateUpdate(this.k, old, obj));
    if (errs.length) {
      throw new GrpcError(
        Code.INVALID_ARGUMENT,
        `${this.kind.kind} "${obj.metadata?.name ?? ""}" is invalid: ${formatFieldErrors(errs)}`,
      );
    }
  }

  private async current(namespace: string, name: string): Promise<{ obj: T; rev: bigint; key: string; value: Uint8Array }> {
    const key = objectKey(this.k, namespace, name);
    const kv = await this.deps.store.get(key);
    if (!kv) throw this.notFound(name);
    return { obj: this.decode(kv), rev: kv.modRevision, key, value: kv.value };
  }

  /**
   * The read before a compare-and-swap. Unless `fresh`, it is served by the etcd member without a
   * quorum round trip (a serializable read: under a write load a linearizable one waits behind the
   * writes in flight, tens of milliseconds). It may be stale only on a multi-member etcd, and a
   * stale read cannot be written over: the compare-and-swap on its mod_revision fails. Callers
   * decide again on a fresh read before they fail a request on what a serializable read showed;
   * a missing object is always read again.
   */
  private async readForWrite(namespace: string, name: string, fresh: boolean): Promise<{ obj: T; rev: bigint; key: string; value: Uint8Array }> {
    if (fresh) return this.current(namespace, name);
    const key = objectKey(this.k, namespace, name);
    // The newest version this apiserver's watch of the kind has seen, if it runs (Kubernetes'
    // GuaranteedUpdate starts from its watch cache too); else a serializable read.
    const kv = this.deps.feed.recent(this.kind.resource, namespace, name) ?? (await this.deps.store.get(key, true));
    if (!kv) return this.current(namespace, name);
    return { obj: this.decode(kv), rev: kv.modRevision, key, value: kv.value };
  }

  async create(input: T): Promise<T> {
    return (await this.createOwned(clone(this.kind.schema, input))).obj;
  }

  /**
   * Create from a request decoded for this call alone (it is changed in place, not copied). The
   * object is encoded once: those bytes are stored, and with the resourceVersion appended they
   * are the reply.
   */
  async createOwned(obj: T, request?: Uint8Array): Promise<Written<T>> {
    const generated = !obj.metadata?.name && !!obj.metadata?.generateName;
    const amend = request !== undefined && !this.hook && this.amendable(obj, request);
    normalizeMeta(this.k, obj);
    normalizeContent(this.k, obj);
    const uid = randomUUID();
    defaultForCreate(this.k, obj, uid);
    this.validate(obj);
    const m = obj.metadata!;
    if (this.kind.namespaced) await this.deps.namespaces.assertCanCreateIn(m.namespace);
    prepareForCreate(this.k, obj, this.now(), uid);
    for (let attempt = 0; ; attempt++) {
      const key = objectKey(this.k, m.namespace, m.name);
      let bytes: Uint8Array | undefined;
      let rev: bigint | undefined;
      if (this.hook) {
        rev = await this.hook.create(key, obj, (o) => (bytes = this.encode(o as T)));
      } else {
        bytes = amend ? this.amended(request!, obj) : this.encode(obj);
        rev = await this.deps.store.create(key, bytes);
      }
      if (rev !== undefined) {
        m.resourceVersion = rev.toString();
        return { obj, bytes: withResourceVersion(bytes ?? this.encode(obj), m.resourceVersion) };
      }
      if (!generated || attempt >= 3) throw new GrpcError(Code.ALREADY_EXISTS, `${this.label(m.name)} already exists`);
      m.name = m.generateName + randomSuffix();
    }
  }

  /**
   * True when the object to store will be the request as sent plus what prepareForCreate sets
   * (uid, generation, creationTimestamp, a pod's or namespace's first status) and nothing else:
   * then its bytes are the request's own, amended (see amended), instead of an encode of the whole
   * object. Checked before normalization, on the request as decoded.
   */
  private amendable(obj: T, request: Uint8Array): boolean {
    const m = obj.metadata;
    if (!m || !m.name || this.kind.kind === "Secret") return false; // generated names, Secret's stringData
    if (changedByCreateDefaults(this.k, obj)) return false;
    if (this.kind.namespaced ? !m.namespace : m.namespace !== "") return false;
    if (m.uid || m.resourceVersion || m.generation !== 0n || m.creationTimestamp || m.deletionTimestamp || m.deletionGracePeriodSeconds !== undefined) {
      return false;
    }
    // A status sent with the object is replaced, except a Node's.
    if ((obj as { status?: unknown }).status !== undefined && this.kind.kind !== "Node") return false;
    return metadataFirstAndOnce(request);
  }

  /** The request's bytes with the server's fields added: they decode to exactly `obj` (see amendable). */
  private amended(request: Uint8Array, obj: T): Uint8Array {
    const m = obj.metadata!;
    // ObjectMeta { uid = 4; generation = 6; creation_timestamp = 7 (Timestamp { seconds = 1; nanos = 2 }) }
    const w = new BinaryWriter().tag(4, WireType.LengthDelimited).string(m.uid).tag(6, WireType.Varint).int64(m.generation);
    const ts = m.creationTimestamp;
    if (ts) {
      w.tag(7, WireType.LengthDelimited).fork();
      if (ts.seconds !== 0n) w.tag(1, WireType.Varint).int64(ts.seconds);
      if (ts.nanos !== 0) w.tag(2, WireType.Varint).int32(ts.nanos);
      w.join();
    }
    let bytes = appendToMetadata(request, w.finish())!;
    const status = (obj as { status?: unknown }).status;
    const statusField = this.kind.schema.fields.find((f) => f.localName === "status");
    if (status !== undefined && this.kind.kind !== "Node" && statusField?.fieldKind === "message") {
      bytes = appendField(bytes, statusField.number, toBinary(statusField.message, status as never));
    }
    return this.checkSize(bytes);
  }

  /** Get without decoding: the stored bytes with the resourceVersion appended. */
  async getBytes(req: GetRequest): Promise<Uint8Array> {
    if (!req.name) throw new GrpcError(Code.INVALID_ARGUMENT, "name: Required value");
    const kv = await this.deps.store.get(objectKey(this.k, this.ns(req.namespace), req.name));
    if (!kv) throw this.notFound(req.name);
    return withResourceVersion(kv.value, kv.modRevision);
  }

  async get(req: GetRequest): Promise<T> {
    if (!req.name) throw new GrpcError(Code.INVALID_ARGUMENT, "name: Required value");
    return (await this.current(this.ns(req.namespace), req.name)).obj;
  }

  async update(input: T): Promise<T> {
    return (await this.updateOwned(clone(this.kind.schema, input))).obj;
  }

  async updateStatus(input: T): Promise<T> {
    return (await this.updateStatusOwned(clone(this.kind.schema, input))).obj;
  }

  /** Update from a request decoded for this call alone: merged in place, encoded once. */
  async updateOwned(incoming: T): Promise<Written<T>> {
    return this.write(incoming, (cur, inc) => mergeForUpdateInPlace(this.k, cur, inc) as T, true);
  }

  async updateStatusOwned(incoming: T): Promise<Written<T>> {
    if (!this.kind.hasStatus) throw new GrpcError(Code.UNIMPLEMENTED, `${this.kind.kind} has no status subresource`);
    return this.write(incoming, (cur, inc) => mergeForStatusUpdate(this.k, cur, inc) as T, false);
  }

  /** Read-merge-write with the resourceVersion precondition (or retries when the client gave none). */
  private async write(incoming: T, merge: (current: T, incoming: T) => T, specWrite: boolean): Promise<Written<T>> {
    normalizeMeta(this.k, incoming);
    const m = incoming.metadata!;
    if (!m.name) throw new GrpcError(Code.INVALID_ARGUMENT, "metadata.name: Required value: name is required for update");
    const wanted = m.resourceVersion ? parseVersion(m.resourceVersion, "metadata.resourceVersion") : undefined;
    if (specWrite) normalizeContent(this.k, incoming);
    let fresh = false;
    for (let attempt = 0; ; attempt++) {
      const cur = await this.readForWrite(m.namespace, m.name, fresh);
      let next: T;
      try {
        if (wanted !== undefined && wanted !== cur.rev) throw this.conflict(m.name, wanted, cur.rev);
        // The merge is in place; a kind with a write hook may change the merged object, so it
        // merges a copy (an attempt must not see what an earlier one set).
        next = merge(cur.obj, this.hook ? clone(this.kind.schema, incoming) : incoming);
        this.hook?.mergeUpdate?.(cur.obj, next);
        this.validate(next, cur.obj);
      } catch (err) {
        if (fresh) throw err;
        // Decided on a read that may be stale: decide again on a fresh one.
        fresh = true;
        attempt--;
        continue;
      }
      let bytes: Uint8Array = toBinary(this.kind.schema, next);
      // A no-op write is skipped. Equal bytes mean equal content; equal content with different
      // bytes (maps in another order) has equal length, and only then is compared field by field.
      if (bytes.length === cur.value.length && (sameBytes(bytes, cur.value) || sameContent(this.k, cur.obj, next))) {
        if (fresh) return { obj: cur.obj, bytes: withResourceVersion(cur.value, cur.rev) };
        fresh = true; // "nothing to change" is only answered on a fresh read
        attempt--;
        continue;
      }
      fresh = true; // a failed compare-and-swap reads again from the quorum
      // A Terminating namespace goes only once it is empty, whatever write comes to it meanwhile.
      const removable = readyToRemove(next) && !(this.kind.kind === "Namespace" && (await this.deps.namespaces.hasContent(m.name)));
      if (removable) {
        const rev = this.hook ? await this.hook.delete(cur.key, cur.obj, cur.rev) : await this.deps.store.delete(cur.key, cur.rev);
        if (rev !== undefined) {
          next.metadata!.resourceVersion = rev.toString();
          return { obj: next, bytes: withResourceVersion(bytes, rev) };
        }
      } else {
        const rev = this.hook
          ? await this.hook.update(cur.key, cur.obj, next, cur.rev, (o) => (bytes = this.checkSize(toBinary(this.kind.schema, o as T))))
          : await this.deps.store.update(cur.key, this.checkSize(bytes), cur.rev);
        if (rev !== undefined) {
          next.metadata!.resourceVersion = rev.toString();
          return { obj: next, bytes: withResourceVersion(bytes, rev) };
        }
      }
      if (wanted !== undefined) throw this.conflict(m.name, wanted, undefined);
      if (attempt >= UNCONDITIONAL_UPDATE_RETRIES) {
        throw new GrpcError(Code.ABORTED, `${this.label(m.name)} is being written by others too often; try again`);
      }
    }
  }

  /**
   * Kubernetes' pods/binding: sets spec.nodeName (and PodScheduled=True) of a pod that has no
   * node, in one compare-and-swap on the version just read. Nothing else of the pod comes from
   * the request, so the pod is not validated again: only the node name is.
   */
  async bind(binding: Binding): Promise<Written<T>> {
    if (this.kind.kind !== "Pod") throw new GrpcError(Code.UNIMPLEMENTED, `${this.kind.kind} has no binding subresource`);
    const bm = binding.metadata;
    const name = bm?.name ?? "";
    if (!name) throw new GrpcError(Code.INVALID_ARGUMENT, "metadata.name: Required value: the pod to bind");
    const namespace = this.ns(bm?.namespace ?? "");
    const node = binding.target?.name ?? "";
    if (!node) throw new GrpcError(Code.INVALID_ARGUMENT, "target.name: Required value: the node to bind to");
    const nodeErrs = isDNS1123Subdomain(node);
    if (nodeErrs.length) throw new GrpcError(Code.INVALID_ARGUMENT, `target.name: Invalid value: "${node}": ${nodeErrs.join("; ")}`);
    const wanted = bm?.resourceVersion ? parseVersion(bm.resourceVersion, "metadata.resourceVersion") : undefined;
    let fresh = false;
    for (let attempt = 0; ; attempt++) {
      const cur = await this.readForWrite(namespace, name, fresh);
      const pod = cur.obj as unknown as Pod;
      const pm = pod.metadata!;
      try {
        if (bm?.uid && bm.uid !== pm.uid) {
          throw new GrpcError(Code.ABORTED, `Precondition failed: UID in precondition: ${bm.uid}, UID in object meta: ${pm.uid}`);
        }
        if (wanted !== undefined && wanted !== cur.rev) throw this.conflict(name, wanted, cur.rev);
        if (pm.deletionTimestamp) {
          throw new GrpcError(Code.FAILED_PRECONDITION, `pod ${namespace}/${name} is being deleted, cannot be assigned to a host`);
        }
        if (pod.spec?.nodeName) {
          throw new GrpcError(Code.FAILED_PRECONDITION, `pod ${namespace}/${name} is already assigned to node "${pod.spec.nodeName}"`);
        }
      } catch (err) {
        if (fresh) throw err;
        fresh = true; // refused on a read that may be stale: decide again on a fresh one
        attempt--;
        continue;
      }
      fresh = true;
      (pod.spec ??= create(PodSpecSchema, {})).nodeName = node;
      pm.generation += 1n; // nodeName is spec
      pm.resourceVersion = "";
      const st = (pod.status ??= create(PodStatusSchema, { phase: "Pending" }));
      const prior = st.conditions.find((c) => c.type === "PodScheduled");
      if (!prior) st.conditions.push(create(PodConditionSchema, { type: "PodScheduled", status: "True", lastTransitionTime: timestampFromDate(this.now()) }));
      else if (prior.status !== "True") {
        prior.status = "True";
        prior.reason = "";
        prior.message = "";
        prior.lastTransitionTime = timestampFromDate(this.now());
      }
      const bytes = this.encode(cur.obj);
      const rev = await this.deps.store.update(cur.key, bytes, cur.rev);
      if (rev !== undefined) {
        pm.resourceVersion = rev.toString();
        return { obj: cur.obj, bytes: withResourceVersion(bytes, rev) };
      }
      if (wanted !== undefined) throw this.conflict(name, wanted, undefined);
      if (attempt >= UNCONDITIONAL_BIND_RETRIES) {
        throw new GrpcError(Code.ABORTED, `${this.label(name)} is being written by others too often; try again`);
      }
    }
  }

  private conflict(name: string, wanted: bigint, current: bigint | undefined): GrpcError {
    const detail = current === undefined ? "" : ` (you sent resourceVersion ${wanted}, the current one is ${current})`;
    return new GrpcError(
      Code.ABORTED,
      `Operation cannot be fulfilled on ${this.label(name)}: the object has been modified; ` +
        `please apply your changes to the latest version and try again${detail}`,
    );
  }

  async delete(req: DeleteRequest): Promise<T> {
    if (!req.name) throw new GrpcError(Code.INVALID_ARGUMENT, "name: Required value");
    if (req.propagationPolicy && !["Orphan", "Background", "Foreground"].includes(req.propagationPolicy)) {
      throw new GrpcError(
        Code.INVALID_ARGUMENT,
        `propagationPolicy: Unsupported value: "${req.propagationPolicy}": supported values: "Orphan", "Background", "Foreground"`,
      );
    }
    const namespace = this.ns(req.namespace);
    if (this.kind.kind === "Namespace") this.deps.namespaces.assertDeletable(req.name);
    for (;;) {
      const cur = await this.current(namespace, req.name);
      const pre = req.preconditions;
      if (pre?.uid && pre.uid !== cur.obj.metadata!.uid) {
        throw new GrpcError(Code.ABORTED, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.obj.metadata!.uid}`);
      }
      if (pre?.resourceVersion && parseVersion(pre.resourceVersion, "preconditions.resourceVersion") !== cur.rev) {
        throw this.conflict(req.name, BigInt(pre.resourceVersion), cur.rev);
      }
      const marked = await this.markForDeletion(cur.obj, req);
      if (marked) {
        if (sameContent(this.k, cur.obj, marked)) return cur.obj;
        const rev = await this.deps.store.update(cur.key, this.encode(marked), cur.rev);
        if (rev === undefined) continue; // changed under us: decide again on the new state
        marked.metadata!.resourceVersion = rev.toString();
        return marked;
      }
      const rev = this.hook ? await this.hook.delete(cur.key, cur.obj, cur.rev) : await this.deps.store.delete(cur.key, cur.rev);
      if (rev === undefined) continue;
      this.deps.log.debug({ kind: this.kind.kind, namespace, name: req.name }, "deleted");
      return cur.obj;
    }
  }

  /**
   * Graceful and finalized deletion: returns the object marked with deletionTimestamp when it must
   * stay for now (finalizers, a running pod's grace period, a namespace with content), or undefined
   * when it can be removed at once.
   */
  private async markForDeletion(obj: T, req: DeleteRequest): Promise<T | undefined> {
    const now = this.now();
    const m = obj.metadata!;
    let graceSeconds = 0n;
    if (this.kind.kind === "Pod") {
      const pod = obj as unknown as Pod;
      const finished = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
      // A pod bound to a node is stopped by its node agent, which then deletes it with grace 0.
      if (pod.spec?.nodeName && !finished) {
        graceSeconds = req.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30n;
      }
    }
    const hasContent = this.kind.kind === "Namespace" && (await this.deps.namespaces.hasContent(m.name));
    // propagationPolicy Orphan/Foreground: a finalizer the garbage collector removes once done.
    const finalizers = finalizersForDeletion(this.k, m.finalizers, req.propagationPolicy);
    if (finalizers.length === 0 && graceSeconds <= 0n && !hasContent) return undefined;
    const next = clone(this.kind.schema, obj);
    const nm = next.metadata!;
    nm.finalizers = finalizers;
    const deadline = new Date(now.getTime() + Number(graceSeconds) * 1000);
    // A second delete may shorten the grace period, never lengthen it.
    if (!nm.deletionTimestamp || timestampDate(nm.deletionTimestamp) > deadline) {
      nm.deletionTimestamp = timestampFromDate(deadline);
      nm.deletionGracePeriodSeconds = graceSeconds;
    }
    if (this.kind.kind === "Namespace") {
      this.deps.namespaces.forget(m.name);
      const status = (next as unknown as { status?: { phase: string } }).status;
      if (status) status.phase = "Terminating";
    }
    return next;
  }

  /** Lists with selectors and pages; pages of one list are all read at the first page's revision. */
  async list(req: ListRequest): Promise<ObjectList<T>> {
    const { entries, meta } = await this.listEntries(req, true);
    const list = create(this.kind.listSchema, { metadata: meta });
    list.items = entries.map((e) => e.obj!);
    return list;
  }

  /** list() encoded for a reply: each item is its stored bytes plus its resourceVersion, decoded only to apply selectors. */
  async listBytes(req: ListRequest): Promise<Uint8Array> {
    const { entries, meta } = await this.listEntries(req, false);
    const head = field(1, toBinary(ListMetaSchema, create(ListMetaSchema, meta)));
    return withRepeated(head, 2, entries.map((e) => withResourceVersion(e.kv.value, e.kv.modRevision)));
  }

  private async listEntries(
    req: ListRequest,
    decodeAll: boolean,
  ): Promise<{ entries: { kv: KeyValue; obj?: T }[]; meta: { resourceVersion: string; continue: string } }> {
    const { filter, bytes: bytesFilter } = compileSelectors(this.k, req.labelSelector, req.fieldSelector);
    // Selectors are tested on the stored bytes where they can be; objects are decoded only when asked for.
    const decode = decodeAll || (filter !== matchAll && !bytesFilter);
    const namespace = this.kind.namespaced ? req.namespace : "";
    const prefix = listPrefix(this.k, namespace || undefined);
    const limit = req.limit > 0n ? Number(req.limit) : 0;
    let from: string | undefined;
    let revision: bigint | undefined;
    if (req.continue) {
      const token = decodeContinue(req.continue, prefix);
      from = token.from;
      revision = token.revision;
    }
    const entries: { kv: KeyValue; obj?: T }[] = [];
    let nextFrom: string | undefined;
    try {
      for (;;) {
        const batch = limit ? Math.max(limit - entries.length, Math.min(LIST_BATCH, limit * 2)) : 0;
        const res = await this.deps.store.range(prefix, { from, limit: batch, revision });
        revision ??= res.revision;
        let i = 0;
        for (; i < res.kvs.length && (!limit || entries.length < limit); i++) {
          const kv = res.kvs[i]!;
          const obj = decode ? this.decode(kv) : undefined;
          if (obj ? filter(obj) : bytesFilter!(kv.value)) entries.push({ kv, obj });
        }
        const lastRead = res.kvs[i - 1]?.key;
        const moreHere = i < res.kvs.length || res.more;
        if (!moreHere) break;
        from = lastRead + "\0";
        if (limit && entries.length >= limit) {
          nextFrom = from;
          break;
        }
      }
    } catch (err) {
      if (err instanceof CompactedError) {
        throw new GrpcError(Code.OUT_OF_RANGE, "the continue token has expired (its revision was compacted); list again from the start");
      }
      throw err;
    }
    return {
      entries,
      meta: {
        resourceVersion: revision!.toString(),
        continue: nextFrom ? encodeContinue({ revision: revision!, from: nextFrom }) : "",
      },
    };
  }

  /**
   * List (when no resourceVersion is given), then follow the changes. Events go out as bytes
   * built once for every watcher of the change (see events/event-hub.ts); an object is decoded
   * only to apply selectors.
   */
  async watch(req: WatchRequest, send: (ev: WatchEvent<T> | Encoded) => Promise<void>, signal: AbortSignal): Promise<void> {
    const { filter, bytes: bytesFilter } = compileSelectors(this.k, req.labelSelector, req.fieldSelector);
    const namespace = this.kind.namespaced ? req.namespace : "";
    let rv: bigint;
    if (!req.resourceVersion || req.resourceVersion === "0") {
      let cont = "";
      do {
        const page = await this.listEntries(
          create(ListRequestSchema, {
            namespace,
            labelSelector: req.labelSelector,
            fieldSelector: req.fieldSelector,
            limit: 1000n,
            continue: cont,
          }),
          false,
        );
        for (const e of page.entries) await send(new Encoded(watchEventBytes("ADDED", withResourceVersion(e.kv.value, e.kv.modRevision))));
        cont = page.meta.continue;
        rv = BigInt(page.meta.resourceVersion);
      } while (cont);
      if (req.sendInitialEventsBookmark) {
        const marker = create(this.kind.schema, {});
        marker.metadata = create(ObjectMetaSchema, { resourceVersion: rv!.toString() });
        const ev = create(this.kind.watchEventSchema, { type: "BOOKMARK" });
        ev.object = marker;
        await send(ev);
      }
    } else {
      rv = parseVersion(req.resourceVersion, "resourceVersion");
    }
    const schema = this.kind.schema;
    try {
      for await (const ev of this.deps.feed.follow(this.kind.resource, namespace || undefined, rv!, signal)) {
        let type = ev.type;
        if (filter !== matchAll) {
          // On the stored bytes when the selectors allow it; else on the objects, decoded once for all watchers.
          const stored = ev.stored;
          const matchesNow = bytesFilter ? bytesFilter(stored.object) : filter(ev.object(schema));
          if (type === "MODIFIED") {
            const hasPrev = stored.prevObject.length > 0;
            const before = hasPrev && (bytesFilter ? bytesFilter(stored.prevObject) : filter(ev.prevObject(schema)!));
            // An object entering or leaving a filtered watch looks like a create or a delete to it.
            if (matchesNow && !before) type = "ADDED";
            else if (!matchesNow && before) type = "DELETED";
            else if (!matchesNow) continue;
          } else if (!matchesNow) continue;
        }
        await send(new Encoded(ev.watchEvent(type)));
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
  }
}
