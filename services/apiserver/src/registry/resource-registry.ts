import { clone, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ListRequestSchema,
  ObjectMetaSchema,
  type ApiObject,
  type DeleteRequest,
  type GetRequest,
  type KindInfo,
  type ListRequest,
  type ObjectList,
  type Pod,
  type WatchEvent,
  type WatchRequest,
} from "@corral/api";
import { formatFieldErrors, validateObject, validateUpdate } from "@corral/apimachinery";
import { Code, GrpcError } from "@corral/grpc";
import type { Logger } from "@corral/logging";
import { kindFilter } from "../events/subjects.js";
import type { WatchSource } from "../events/watch-source.js";
import { CompactedError, type EtcdStore, type KeyValue } from "../storage/etcd-store.js";
import { listPrefix, objectKey } from "../storage/keys.js";
import { decodeContinue, encodeContinue } from "./continue-token.js";
import { compileFilter, type ObjectFilter } from "./filter.js";
import type { NamespaceGuard } from "./namespace-guard.js";
import {
  mergeForStatusUpdate,
  mergeForUpdate,
  normalizeContent,
  normalizeMeta,
  prepareForCreate,
  randomSuffix,
  readyToRemove,
  sameContent,
} from "./prepare.js";

export interface RegistryDeps {
  store: EtcdStore;
  watchSource: WatchSource;
  namespaces: NamespaceGuard;
  log: Logger;
  /** Largest encoded object accepted (etcd's own limit is 1.5 MiB per value). */
  maxObjectBytes: number;
  now?: () => Date;
}

const UNCONDITIONAL_UPDATE_RETRIES = 5;
const LIST_BATCH = 500;

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

  constructor(
    readonly kind: KindInfo<T>,
    private readonly deps: RegistryDeps,
  ) {
    this.now = deps.now ?? (() => new Date());
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

  decode(kv: KeyValue): T {
    const obj = fromBinary(this.kind.schema, kv.value);
    obj.metadata ??= create(ObjectMetaSchema, {});
    obj.metadata.resourceVersion = kv.modRevision.toString();
    return obj;
  }

  private encode(obj: T): Uint8Array {
    const bytes = toBinary(this.kind.schema, obj);
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

  private async current(namespace: string, name: string): Promise<{ obj: T; rev: bigint; key: string }> {
    const key = objectKey(this.k, namespace, name);
    const kv = await this.deps.store.get(key);
    if (!kv) throw this.notFound(name);
    return { obj: this.decode(kv), rev: kv.modRevision, key };
  }

  async create(input: T): Promise<T> {
    const obj = clone(this.kind.schema, input);
    normalizeMeta(this.k, obj);
    normalizeContent(this.k, obj);
    const generated = !input.metadata?.name && !!input.metadata?.generateName;
    this.validate(obj);
    const m = obj.metadata!;
    if (this.kind.namespaced) await this.deps.namespaces.assertCanCreateIn(m.namespace);
    prepareForCreate(this.k, obj, this.now());
    for (let attempt = 0; ; attempt++) {
      const rev = await this.deps.store.create(objectKey(this.k, m.namespace, m.name), this.encode(obj));
      if (rev !== undefined) {
        m.resourceVersion = rev.toString();
        this.deps.log.debug({ kind: this.kind.kind, namespace: m.namespace, name: m.name, rv: m.resourceVersion }, "created");
        return obj;
      }
      if (!generated || attempt >= 3) throw new GrpcError(Code.ALREADY_EXISTS, `${this.label(m.name)} already exists`);
      m.name = m.generateName + randomSuffix();
    }
  }

  async get(req: GetRequest): Promise<T> {
    if (!req.name) throw new GrpcError(Code.INVALID_ARGUMENT, "name: Required value");
    return (await this.current(this.ns(req.namespace), req.name)).obj;
  }

  async update(input: T): Promise<T> {
    return this.write(input, (cur, inc) => mergeForUpdate(this.k, cur, inc) as T, true);
  }

  async updateStatus(input: T): Promise<T> {
    if (!this.kind.hasStatus) throw new GrpcError(Code.UNIMPLEMENTED, `${this.kind.kind} has no status subresource`);
    return this.write(input, (cur, inc) => mergeForStatusUpdate(this.k, cur, inc) as T, false);
  }

  /** Read-merge-write with the resourceVersion precondition (or retries when the client gave none). */
  private async write(input: T, merge: (current: T, incoming: T) => T, specWrite: boolean): Promise<T> {
    const incoming = clone(this.kind.schema, input);
    normalizeMeta(this.k, incoming);
    const m = incoming.metadata!;
    if (!m.name) throw new GrpcError(Code.INVALID_ARGUMENT, "metadata.name: Required value: name is required for update");
    const wanted = m.resourceVersion ? parseVersion(m.resourceVersion, "metadata.resourceVersion") : undefined;
    if (specWrite) normalizeContent(this.k, incoming);
    for (let attempt = 0; ; attempt++) {
      const cur = await this.current(m.namespace, m.name);
      if (wanted !== undefined && wanted !== cur.rev) throw this.conflict(m.name, wanted, cur.rev);
      const next = merge(cur.obj, incoming);
      this.validate(next, cur.obj);
      if (sameContent(this.k, cur.obj, next)) return cur.obj;
      if (readyToRemove(next)) {
        const rev = await this.deps.store.delete(cur.key, cur.rev);
        if (rev !== undefined) {
          next.metadata!.resourceVersion = rev.toString();
          return next;
        }
      } else {
        const rev = await this.deps.store.update(cur.key, this.encode(next), cur.rev);
        if (rev !== undefined) {
          next.metadata!.resourceVersion = rev.toString();
          return next;
        }
      }
      if (wanted !== undefined) throw this.conflict(m.name, wanted, undefined);
      if (attempt >= UNCONDITIONAL_UPDATE_RETRIES) {
        throw new GrpcError(Code.ABORTED, `${this.label(m.name)} is being written by others too often; try again`);
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
      const rev = await this.deps.store.delete(cur.key, cur.rev);
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
    if (m.finalizers.length === 0 && graceSeconds <= 0n && !hasContent) return undefined;
    const next = clone(this.kind.schema, obj);
    const nm = next.metadata!;
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
    const filter = compileFilter(this.k, req.labelSelector, req.fieldSelector);
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
    const items: T[] = [];
    let nextFrom: string | undefined;
    try {
      for (;;) {
        const batch = limit ? Math.max(limit - items.length, Math.min(LIST_BATCH, limit * 2)) : 0;
        const res = await this.deps.store.range(prefix, { from, limit: batch, revision });
        revision ??= res.revision;
        let i = 0;
        for (; i < res.kvs.length && (!limit || items.length < limit); i++) {
          const obj = this.decode(res.kvs[i]!);
          if (filter(obj)) items.push(obj);
        }
        const lastRead = res.kvs[i - 1]?.key;
        const moreHere = i < res.kvs.length || res.more;
        if (!moreHere) break;
        from = lastRead + "\0";
        if (limit && items.length >= limit) {
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
    const list = create(this.kind.listSchema, {
      metadata: {
        resourceVersion: revision!.toString(),
        continue: nextFrom ? encodeContinue({ revision: revision!, from: nextFrom }) : "",
      },
    });
    list.items = items;
    return list;
  }

  async watch(req: WatchRequest, send: (ev: WatchEvent<T>) => Promise<void>, signal: AbortSignal): Promise<void> {
    const filter: ObjectFilter = compileFilter(this.k, req.labelSelector, req.fieldSelector);
    const namespace = this.kind.namespaced ? req.namespace : "";
    const event = (type: string, object: T) => {
      const ev = create(this.kind.watchEventSchema, { type });
      ev.object = object;
      return ev;
    };
    let rv: bigint;
    if (!req.resourceVersion || req.resourceVersion === "0") {
      let page: ObjectList<T> | undefined;
      do {
        page = await this.list(
          create(ListRequestSchema, {
            namespace,
            labelSelector: req.labelSelector,
            fieldSelector: req.fieldSelector,
            limit: 1000n,
            continue: page?.metadata?.continue ?? "",
          }),
        );
        for (const item of page.items) await send(event("ADDED", item));
      } while (page.metadata?.continue);
      rv = BigInt(page.metadata!.resourceVersion);
      if (req.sendInitialEventsBookmark) {
        const marker = create(this.kind.schema, {});
        marker.metadata = create(ObjectMetaSchema, { resourceVersion: rv.toString() });
        await send(event("BOOKMARK", marker));
      }
    } else {
      rv = parseVersion(req.resourceVersion, "resourceVersion");
    }
    const subject = kindFilter(this.kind.resource, namespace || undefined);
    try {
      for await (const stored of this.deps.watchSource.follow(subject, rv, signal)) {
        const obj = fromBinary(this.kind.schema, stored.object);
        const matchesNow = filter(obj);
        let type = stored.type;
        if (stored.type === "MODIFIED") {
          const before = stored.prevObject.length > 0 && filter(fromBinary(this.kind.schema, stored.prevObject));
          // An object entering or leaving a filtered watch looks like a create or a delete to it.
          if (matchesNow && !before) type = "ADDED";
          else if (!matchesNow && before) type = "DELETED";
          else if (!matchesNow) continue;
        } else if (!matchesNow) continue;
        await send(event(type, obj));
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
  }
}

