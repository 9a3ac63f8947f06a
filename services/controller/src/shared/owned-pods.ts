import type { ApiObject, LabelSelector, Pod } from "@corral/api";
import { objectKey, type EventHandler, type Informer } from "@corral/client";
import type { Expectations } from "./expectations.js";
import { BY_NAMESPACE } from "./informers.js";
import { controllerRef, sameOwnerRefs, sameStringMap, selects } from "./meta.js";

type Owner = ApiObject & { spec?: { selector?: LabelSelector } };

/**
 * Pod events for a controller whose pods name it as their controller (Job, DaemonSet): a pod's
 * owner is queued on every change of the pod, creations and deletions settle the owner's
 * expectations, and an orphan is offered to every owner whose selector matches it (adoption).
 */
export function ownedPodEvents<T extends Owner>(o: {
  kind: string;
  owners: Informer<T>;
  expectations: Expectations;
  enqueue(key: string): void;
}): { handler: EventHandler<Pod>; ownerOf(p: Pod): string | undefined } {
  const ownerOf = (p: Pod): string | undefined => {
    const ref = controllerRef(p);
    if (!ref || ref.kind !== o.kind) return undefined;
    const key = `${p.metadata!.namespace}/${ref.name}`;
    const owner = o.owners.get(key);
    return owner && owner.metadata?.uid === ref.uid ? key : undefined;
  };
  const matching = (p: Pod): void => {
    for (const owner of o.owners.byIndex(BY_NAMESPACE, p.metadata!.namespace)) {
      if (selects(owner.spec?.selector, p.metadata?.labels)) o.enqueue(objectKey(owner));
    }
  };
  const handler: EventHandler<Pod> = {
    add: (p) => {
      const owner = ownerOf(p);
      if (owner) {
        if (p.metadata?.deletionTimestamp) o.expectations.deletionObserved(owner, p.metadata.uid);
        else o.expectations.creationObserved(owner);
        o.enqueue(owner);
      } else if (!controllerRef(p)) matching(p);
    },
    update: (old, p) => {
      if (old.metadata?.resourceVersion === p.metadata?.resourceVersion) return;
      const owner = ownerOf(p);
      if (p.metadata?.deletionTimestamp && owner) o.expectations.deletionObserved(owner, p.metadata.uid);
      if (!sameOwnerRefs(old, p)) {
        const prev = ownerOf(old);
        if (prev) o.enqueue(prev);
      }
      if (owner) o.enqueue(owner);
      else if (!controllerRef(p) && !sameStringMap(old.metadata?.labels, p.metadata?.labels)) matching(p);
    },
    delete: (p) => {
      const owner = ownerOf(p);
      if (!owner) return;
      o.expectations.deletionObserved(owner, p.metadata!.uid);
      o.enqueue(owner);
    },
  };
  return { handler, ownerOf };
}
