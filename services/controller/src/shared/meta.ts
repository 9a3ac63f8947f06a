// Object metadata helpers every controller shares: controller references, finalizers, label maps.
// Pure.
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { OwnerReferenceSchema, type ApiObject, type KindInfo, type LabelSelector, type OwnerReference } from "@corral/api";
import { matchesLabels, selectorFromMessage, type LabelRequirement } from "@corral/apimachinery";

/** Kubernetes' finalizers that the garbage collector honours (set by the apiserver on delete). */
export const FINALIZER_ORPHAN = "orphan";
export const FINALIZER_FOREGROUND = "foregroundDeletion";

/** The ownerReference with controller=true, if any (Kubernetes' metav1.GetControllerOf). */
export function controllerRef(obj: ApiObject | undefined): OwnerReference | undefined {
  return obj?.metadata?.ownerReferences.find((r) => r.controller === true);
}

/** A controller reference to `owner` as its controller puts on what it makes. */
export function newControllerRef(kind: KindInfo, owner: ApiObject): OwnerReference {
  return create(OwnerReferenceSchema, {
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    name: owner.metadata?.name ?? "",
    uid: owner.metadata?.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  });
}

export function isDeleting(obj: ApiObject | undefined): boolean {
  return obj?.metadata?.deletionTimestamp !== undefined;
}

export function hasFinalizer(obj: ApiObject | undefined, f: string): boolean {
  return obj?.metadata?.finalizers.includes(f) ?? false;
}

/** Milliseconds since the epoch of the object's creation (0 when unknown). */
export function createdMs(obj: ApiObject | undefined): number {
  const t = obj?.metadata?.creationTimestamp;
  return t ? timestampDate(t).getTime() : 0;
}

export function sameStringMap(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const x = a ?? {};
  const y = b ?? {};
  const kx = Object.keys(x);
  if (kx.length !== Object.keys(y).length) return false;
  for (const k of kx) if (x[k] !== y[k]) return false;
  return true;
}

export function sameOwnerRefs(a: ApiObject | undefined, b: ApiObject | undefined): boolean {
  const x = a?.metadata?.ownerReferences ?? [];
  const y = b?.metadata?.ownerReferences ?? [];
  return (
    x.length === y.length &&
    x.every((r, i) => {
      const s = y[i]!;
      return r.uid === s.uid && r.name === s.name && r.kind === s.kind && r.controller === s.controller && r.blockOwnerDeletion === s.blockOwnerDeletion;
    })
  );
}

/** Oldest first, then by name, as Kubernetes sorts controllers' objects by creation. */
export function byCreation<T extends ApiObject>(a: T, b: T): number {
  const d = createdMs(a) - createdMs(b);
  if (d !== 0) return d;
  const na = a.metadata?.name ?? "";
  const nb = b.metadata?.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

const compiled = new WeakMap<LabelSelector, LabelRequirement[] | null>();

/**
 * A workload's selector as requirements, or undefined when it is missing, empty or invalid (a
 * workload's empty selector selects nothing). Compiled once per selector message.
 */
export function compileSelector(ls: LabelSelector | undefined): LabelRequirement[] | undefined {
  if (!ls) return undefined;
  let r = compiled.get(ls);
  if (r === undefined) {
    try {
      const reqs = selectorFromMessage(ls);
      r = reqs.length > 0 ? reqs : null;
    } catch {
      r = null;
    }
    compiled.set(ls, r);
  }
  return r ?? undefined;
}

/** The selector selects these labels (a missing, empty or invalid selector selects nothing). */
export function selects(ls: LabelSelector | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  const reqs = compileSelector(ls);
  return reqs !== undefined && matchesLabels(reqs, labels);
}
