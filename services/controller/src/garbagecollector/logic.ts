// The garbage collector's decisions (k8s.io/kubernetes/pkg/controller/garbagecollector): what to do
// with an object given the state of its owners, and with an owner being deleted in the foreground
// or with orphaning. Pure.
import type { OwnerReference } from "@corral/api";

/** An owner is gone (dangling), being deleted in the foreground (waiting for its dependents), or there (solid). */
export type OwnerState = "absent" | "waiting" | "solid";

export interface ClassifiedOwner {
  ref: OwnerReference;
  state: OwnerState;
}

export type DependentAction =
  | { action: "none" }
  /** Remove these owner references (gone, or waiting owners while a solid one remains). */
  | { action: "removeOwnerRefs"; uids: string[] }
  | { action: "delete"; propagationPolicy: "Background" | "Foreground" | "Orphan" };

/**
 * Kubernetes' attemptToDeleteItem for an object that is not being deleted: with a solid owner it
 * stays (references to gone or waiting owners are removed); without one it is deleted, in the
 * foreground when an owner waits for it and it has dependents itself, else by its own finalizers'
 * policy (orphan, foreground) or in the background.
 */
export function decideDependent(
  owners: readonly ClassifiedOwner[],
  item: { hasDependents: boolean; finalizers: readonly string[] },
): DependentAction {
  if (owners.length === 0) return { action: "none" };
  const solid = owners.filter((o) => o.state === "solid");
  const absent = owners.filter((o) => o.state === "absent");
  const waiting = owners.filter((o) => o.state === "waiting");
  if (solid.length > 0) {
    if (absent.length === 0 && waiting.length === 0) return { action: "none" };
    return { action: "removeOwnerRefs", uids: [...absent, ...waiting].map((o) => o.ref.uid) };
  }
  if (waiting.length > 0 && item.hasDependents) return { action: "delete", propagationPolicy: "Foreground" };
  if (item.finalizers.includes("orphan")) return { action: "delete", propagationPolicy: "Orphan" };
  if (item.finalizers.includes("foregroundDeletion")) return { action: "delete", propagationPolicy: "Foreground" };
  return { action: "delete", propagationPolicy: "Background" };
}

/** Dependents that hold up an owner's foreground deletion: those whose reference blocks it. */
export function blocksOwner(ownerUid: string, refs: readonly OwnerReference[]): boolean {
  return refs.some((r) => r.uid === ownerUid && r.blockOwnerDeletion === true);
}
