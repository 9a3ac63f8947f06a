import { clone, create, equals } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  NamespaceStatusSchema,
  ObjectMetaSchema,
  PodStatusSchema,
  type ApiObject,
  type KindInfo,
  type Namespace,
  type Pod,
  type Secret,
} from "@corral/api";
import { randomUUID } from "node:crypto";

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

/** Sets what the server owns on create: uid, timestamps, generation, initial status. */
export function prepareForCreate(kind: KindInfo, obj: ApiObject, now: Date): void {
  const m = obj.metadata!;
  m.uid = randomUUID();
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

/** The object without metadata and status: what "spec" means for generation. */
function specPart(kind: KindInfo, obj: ApiObject): ApiObject {
  const c = clone(kind.schema, obj) as WithStatus;
  c.metadata = undefined;
  if ("status" in c) c.status = undefined;
  return c;
}

export function specChanged(kind: KindInfo, a: ApiObject, b: ApiObject): boolean {
  return !equals(kind.schema, specPart(kind, a), specPart(kind, b));
}

/**
 * Builds the object an Update stores: the client's metadata and spec, the server's own fields
 * and the current status (status is a subresource), and generation bumped on a spec change.
 */
export function mergeForUpdate(kind: KindInfo, current: ApiObject, incoming: ApiObject): ApiObject {
  const next = clone(kind.schema, incoming) as WithStatus;
  const cm = current.metadata!;
  const m = next.metadata!;
  m.uid = cm.uid;
  m.creationTimestamp = cm.creationTimestamp;
  m.deletionTimestamp = cm.deletionTimestamp;
  m.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
  m.generation = specChanged(kind, current, next) ? cm.generation + 1n : cm.generation;
  m.resourceVersion = "";
  if (kind.hasStatus) next.status = (current as WithStatus).status;
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
  const x = clone(kind.schema, a);
  const y = clone(kind.schema, b);
  x.metadata!.resourceVersion = "";
  y.metadata!.resourceVersion = "";
  return equals(kind.schema, x, y);
}

/** An object marked for deletion whose finalizers are all gone and whose grace period is over is removed. */
export function readyToRemove(obj: ApiObject): boolean {
  const m = obj.metadata!;
  return m.deletionTimestamp !== undefined && m.finalizers.length === 0 && (m.deletionGracePeriodSeconds ?? 0n) === 0n;
}
