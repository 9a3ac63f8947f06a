// Adoption and release of objects by a controller (Kubernetes' ControllerRefManager): an object
// belongs to the controller its controller reference names. A controller adopts orphans its
// selector matches and releases what it owns that its selector no longer matches.
import type { ApiObject, KindInfo } from "@corral/api";
import { Code, errorCode } from "@corral/grpc";
import { mutate, type ControllerContext } from "./controller.js";
import { controllerRef, isDeleting, newControllerRef } from "./meta.js";

export interface ClaimDecision<T> {
  /** Owned and matching: the controller's. */
  owned: T[];
  /** Orphans to adopt. */
  adopt: T[];
  /** Owned but no longer matching: to release. */
  release: T[];
}

/** Pure: what a controller with `ownerUid` does with each candidate. */
export function decideClaims<T extends ApiObject>(
  ownerUid: string,
  ownerDeleting: boolean,
  matches: (obj: T) => boolean,
  candidates: readonly T[],
): ClaimDecision<T> {
  const d: ClaimDecision<T> = { owned: [], adopt: [], release: [] };
  for (const o of candidates) {
    const ref = controllerRef(o);
    if (ref) {
      if (ref.uid !== ownerUid) continue;
      if (matches(o)) d.owned.push(o);
      else if (!ownerDeleting && !isDeleting(o)) d.release.push(o);
      continue;
    }
    if (ownerDeleting || isDeleting(o) || !matches(o)) continue;
    d.adopt.push(o);
  }
  return d;
}

/**
 * Applies a claim decision: adopts (after checking, with a fresh read, that the owner is still
 * there and not being deleted, as Kubernetes does) and releases. Returns the owned objects,
 * adopted ones included.
 */
export async function claim<O extends ApiObject, T extends ApiObject>(
  ctx: ControllerContext,
  ownerKind: KindInfo<O>,
  owner: O,
  kind: KindInfo<T>,
  candidates: readonly T[],
  matches: (obj: T) => boolean,
): Promise<T[]> {
  const om = owner.metadata!;
  const d = decideClaims(om.uid, isDeleting(owner), matches, candidates);
  const owned = [...d.owned];
  let firstErr: unknown;
  if (d.adopt.length > 0) {
    let fresh: O | undefined;
    try {
      fresh = await ctx.clients.for(ownerKind).get({ namespace: om.namespace, name: om.name }, { timeoutMs: 10_000 });
    } catch (err) {
      if (errorCode(err) !== Code.NOT_FOUND) throw err;
    }
    const canAdopt = fresh !== undefined && fresh.metadata?.uid === om.uid && !isDeleting(fresh);
    if (canAdopt) {
      const ref = newControllerRef(ownerKind as unknown as KindInfo, owner);
      await Promise.all(
        d.adopt.map(async (o) => {
          try {
            const m = o.metadata!;
            const adopted = await mutate(ctx.clients, kind, m.namespace, m.name, (x) => {
              if (controllerRef(x) || isDeleting(x) || !matches(x)) return false;
              x.metadata!.ownerReferences = [...x.metadata!.ownerReferences.filter((r) => r.uid !== om.uid), ref];
              return true;
            }, m.uid);
            if (adopted && controllerRef(adopted)?.uid === om.uid) owned.push(adopted);
          } catch (err) {
            firstErr ??= err;
          }
        }),
      );
    }
  }
  await Promise.all(
    d.release.map(async (o) => {
      try {
        const m = o.metadata!;
        await mutate(ctx.clients, kind, m.namespace, m.name, (x) => {
          const before = x.metadata!.ownerReferences.length;
          x.metadata!.ownerReferences = x.metadata!.ownerReferences.filter((r) => r.uid !== om.uid);
          return x.metadata!.ownerReferences.length !== before;
        }, m.uid);
      } catch (err) {
        firstErr ??= err;
      }
    }),
  );
  if (firstErr) throw firstErr;
  return owned;
}
