import { clone, create, equals } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  NamespaceStatusSchema,
  ObjectMetaSchema,
  PodStatusSchema,
  type ApiObject,
  type KindInfo,
  type Job,
  type Namespace,
  type Pod,
  type Secret,
} from "@corral/api";
import { randomUUID } from "node:crypto";
import { generateJobSelector, keepGeneratedSelector, needsGeneratedSelector } from "./job-selector.js";

// Pure rules for the fields the server owns. Kept apart from storage so they are tested without etcd.

const NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** Kubernetes' generateName suffix: five characters that cannot spell words. */
export function randomSuffix(): string {
  let s = "";
  for (let i = 0; i < 5; i++) s += NAME_SUFFIX_ALPHABET[Math.floor(Math.random() * NAME_SUFFIX_ALPHABET.length)];
  return s;
}

type WithStatus = ApiObject & { status?: unknown };

/** Fills in namespace and name before validation. Cluster-scoped objects have no namespace. */
export function normalizeMeta(kind: KindInfo, obj: ApiObject, defaultNamespace = "default"): void {
  obj.metadata ??= create(ObjectMetaSchema, {});
  if (!kind.namespaced) obj.metadata.namespace = "";
  else if (!obj.metadata.namespace) obj.metadata.namespace = defaultNamespace;
  if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = obj.metadata.generateName + randomSuffix();
}

/** Kind-specific defaults and conversions applied on every write of the object. */
export function normalizeContent(kind: KindInfo, obj: ApiObject): void {
  if (kind.kind === "Secret") {
    const s = obj as Secret;
    // stringData is write-only: merged into data (it wins on conflicts), never stored.
    for (const [k, v] of Object.entries(s.stringData)) s.data[k] = new TextEncoder().encode(v);
    s.stringData = {};
    if (!s.type) s.type = "Opaque";
  }
}

/** Create-only defaults that validation must see: a Job's generated selector (it needs the uid to come). */
export function defaultForCreate(kind: KindInfo, obj: ApiObject, uid: string): void {
  if (kind.kind === "Job") generateJobSelector(obj as Job, uid);
}

/** True when defaultForCreate changes the object (the request's bytes then cannot be stored as sent). */
export function changedByCreateDefaults(kind: KindInfo, obj: ApiObject): boolean {
  return kind.kind === "Job" && needsGeneratedSelector(obj as Job);
}

/** Sets what the server owns on create: uid, timestamps, generation, initial status. */
export function prepareForCreate(kind: KindInfo, obj: ApiObject, now: Date, uid: string = randomUUID()): void {
  const m = obj.metadata!;
  m.uid = uid;
  m.creationTimestamp = timestampFromDate(now);
  m.resourceVersion = "";
  m.generation = 1n;
  m.deletionTimestamp = undefined;
  m.deletionGracePeriodSeconds = undefined;
  if (!kind.hasStatus) return;
  const o = obj as WithStatus;
  // Status is written through UpdateStatus by controllers; a create starts from a clean one.
  // Nodes are the exception: the node agent registers with its capacity and conditions.
  if (kind.kind === "Pod") {
    (obj as Pod).status = create(PodStatusSchema, { phase: "Pending" });
  } else if (kind.kind === "Namespace") {
    (obj as Namespace).status = create(NamespaceStatusSchema, { phase: "Active" });
  } else if (kind.kind !== "Node") {
    o.status = undefined;
  }
}

/**
 * True when the two differ in anything but metadata and status: what "spec" means for generation.
 * Compares in place (metadata and status are set aside for the comparison and put back), so
 * no copy of either object is made on the update path.
 */
export function specChanged(kind: KindInfo, a: ApiObject, b: ApiObject): boolean {
  const x = a as WithStatus;
  const y = b as WithStatus;
  const [xm, ym, xs, ys] = [x.metadata, y.metadata, x.status, y.status];
  const [xHas, yHas] = ["status" in x, "status" in y];
  x.metadata = undefined;
  y.metadata = undefined;
  if (xHas) x.status = undefined;
  if (yHas) y.status = undefined;
  try {
    return !equals(kind.schema, x, y);
  } finally {
    x.metadata = xm;
    y.metadata = ym;
    if (xHas) x.status = xs;
    if (yHas) y.status = ys;
  }
}

/**
 * Builds the object an Update stores: the client's metadata and spec, the server's own fields
 * and the current status (status is a subresource), and generation bumped on a spec change.
 */
export function mergeForUpdate(kind: KindInfo, current: ApiObject, incoming: ApiObject): ApiObject {
  return mergeForUpdateInPlace(kind, current, clone(kind.schema, incoming));
}

/**
 * mergeForUpdate into `incoming` itself, for a request decoded for this call alone; the result
 * shares the current status with `current`. Idempotent: merging again onto a newer current
 * version overwrites every field the first merge set.
 */
export function mergeForUpdateInPlace(kind: KindInfo, current: ApiObject, incoming: ApiObject): ApiObject {
  const next = incoming as WithStatus;
  const cm = current.metadata!;
  const m = next.metadata!;
  m.uid = cm.uid;
  m.creationTimestamp = cm.creationTimestamp;
  m.deletionTimestamp = cm.deletionTimestamp;
  m.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
  m.resourceVersion = "";
  if (kind.hasStatus) next.status = (current as WithStatus).status;
  if (kind.kind === "Job") keepGeneratedSelector(current as Job, next as Job);
  m.generation = specChanged(kind, current, next) ? cm.generation + 1n : cm.generation;
  return next;
}

/** Builds the object an UpdateStatus stores: everything from the current object but the status. */
export function mergeForStatusUpdate(kind: KindInfo, current: ApiObject, incoming: ApiObject): ApiObject {
  const next = clone(kind.schema, current) as WithStatus;
  next.status = (incoming as WithStatus).status;
  next.metadata!.resourceVersion = "";
  return next;
}

/** True when two versions differ in anything but resourceVersion (a no-op write is skipped). */
export function sameContent(kind: KindInfo, a: ApiObject, b: ApiObject): boolean {
  const am = a.metadata!;
  const bm = b.metadata!;
  const [arv, brv] = [am.resourceVersion, bm.resourceVersion];
  am.resourceVersion = "";
  bm.resourceVersion = "";
  try {
    return equals(kind.schema, a, b);
  } finally {
    am.resourceVersion = arv;
    bm.resourceVersion = brv;
  }
}

/** An object marked for deletion whose finalizers are all gone and whose grace period is over is removed. */
export function readyToRemove(obj: ApiObject): boolean {
  const m = obj.metadata!;
  return m.deletionTimestamp !== undefined && m.finalizers.length === 0 && (m.deletionGracePeriodSeconds ?? 0n) === 0n;
}

/** The garbage collector's finalizers (Kubernetes' orphan and foregroundDeletion). */
export const FINALIZER_ORPHAN = "orphan";
export const FINALIZER_FOREGROUND = "foregroundDeletion";

/**
 * The finalizers an object keeps once deleted with `policy`, as Kubernetes' deletion strategy sets
 * them for the garbage collector: Orphan adds "orphan", Foreground adds "foregroundDeletion" (each
 * replacing the other), Background removes both, no policy leaves them as they are. Namespaces and
 * Events are not garbage collected: their finalizers are left alone.
 */
export function finalizersForDeletion(kind: KindInfo, finalizers: readonly string[], policy: string): string[] {
  if (!policy || kind.kind === "Namespace" || kind.kind === "Event") return [...finalizers];
  const rest = finalizers.filter((f) => f !== FINALIZER_ORPHAN && f !== FINALIZER_FOREGROUND);
  if (policy === "Orphan") return [...rest, FINALIZER_ORPHAN];
  if (policy === "Foreground") return [...rest, FINALIZER_FOREGROUND];
  return rest;
}
