// The garbage collector: deletes objects whose owners (ownerReferences) are all gone, so that
// deleting a Deployment removes its ReplicaSets and their pods. An owner deleted with
// propagationPolicy=Foreground carries the foregroundDeletion finalizer (set by the apiserver):
// its dependents are deleted first, and the finalizer is removed once no dependent that blocks
// (blockOwnerDeletion) is left. With Orphan it carries the orphan finalizer: its dependents lose
// their reference to it, then the finalizer goes. Background (the default): the owner goes at once
// and its dependents follow.
import { ALL_KINDS, kindForManifest, type ApiObject, type KindInfo, type OwnerReference } from "@corral/api";
import { objectKey, type Informer } from "@corral/client";
import { Code, errorCode } from "@corral/grpc";
import { ignoreNotFound, mutate, QueueController, type ControllerContext } from "../shared/controller.js";
import { BY_OWNER } from "../shared/informers.js";
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN, hasFinalizer, isDeleting, sameOwnerRefs } from "../shared/meta.js";
import { blocksOwner, decideDependent, type ClassifiedOwner, type OwnerState } from "./logic.js";

/** Every kind but Events (short-lived, never owners) and Namespaces (the namespace controller's). */
export const GC_KINDS: readonly KindInfo[] = ALL_KINDS.filter((k) => k.kind !== "Event" && k.kind !== "Namespace");

function itemKey(kind: KindInfo, obj: ApiObject): string {
  return `${kind.kind}|${objectKey(obj)}`;
}

function sameFinalizers(a: ApiObject, b: ApiObject): boolean {
  const x = a.metadata?.finalizers ?? [];
  const y = b.metadata?.finalizers ?? [];
  return x.length === y.length && x.every((f, i) => f === y[i]);
}

export class GarbageCollector extends QueueController {
  readonly name = "garbagecollector";
  private readonly informers = new Map<string, { kind: KindInfo; inf: Informer<ApiObject> }>();

  constructor(ctx: ControllerContext) {
    super(ctx, "garbage-collector-controller", 10);
    for (const kind of GC_KINDS) {
      const inf = ctx.informers.get(kind);
      this.informers.set(kind.kind, { kind, inf });
      inf.addEventHandler({
        add: (o) => {
          if (o.metadata?.ownerReferences.length || this.finalizing(o)) this.enqueue(itemKey(kind, o));
        },
        update: (old, o) => {
          if (!sameOwnerRefs(old, o) || isDeleting(old) !== isDeleting(o) || !sameFinalizers(old, o)) this.enqueue(itemKey(kind, o));
        },
        delete: (o) => this.gone(o),
      });
    }
  }

  private finalizing(o: ApiObject): boolean {
    return isDeleting(o) && (hasFinalizer(o, FINALIZER_ORPHAN) || hasFinalizer(o, FINALIZER_FOREGROUND));
  }

  /** An object went: its dependents may be garbage now, and an owner may be waiting for it. */
  private gone(o: ApiObject): void {
    for (const dep of this.dependents(o.metadata!.uid)) this.enqueue(itemKey(dep.kind, dep.obj));
    for (const ref of o.metadata?.ownerReferences ?? []) {
      const owner = this.cached(ref, o.metadata!.namespace);
      if (owner && this.finalizing(owner.obj)) this.enqueue(itemKey(owner.kind, owner.obj));
    }
  }

  private dependents(uid: string): { kind: KindInfo; obj: ApiObject }[] {
    const out: { kind: KindInfo; obj: ApiObject }[] = [];
    for (const { kind, inf } of this.informers.values()) for (const obj of inf.byIndex(BY_OWNER, uid)) out.push({ kind, obj });
    return out;
  }

  private ownerKind(ref: OwnerReference): KindInfo | undefined {
    const k = kindForManifest(ref.apiVersion, ref.kind);
    return k && this.informers.has(k.kind) ? k : undefined;
  }

  private cached(ref: OwnerReference, dependentNamespace: string): { kind: KindInfo; obj: ApiObject } | undefined {
    const kind = this.ownerKind(ref);
    if (!kind) return undefined;
    const key = kind.namespaced ? `${dependentNamespace}/${ref.name}` : ref.name;
    const obj = this.informers.get(kind.kind)!.inf.get(key);
    return obj && obj.metadata?.uid === ref.uid ? { kind, obj } : undefined;
  }

  /** An owner's state; one missing from the cache is looked up before being called gone. */
  private async ownerState(ref: OwnerReference, dependentNamespace: string): Promise<OwnerState> {
    const kind = this.ownerKind(ref);
    if (!kind) {
      this.log.debug({ owner: `${ref.apiVersion}/${ref.kind}` }, "owner of an unknown kind: left alone");
      return "solid";
    }
    let owner = this.cached(ref, dependentNamespace)?.obj;
    if (!owner) {
      try {
        const live = await this.ctx.clients.for(kind).get({ namespace: kind.namespaced ? dependentNamespace : "", name: ref.name }, { timeoutMs: 10_000 });
        if (live.metadata?.uid !== ref.uid) return "absent";
        owner = live;
      } catch (err) {
        if (errorCode(err) === Code.NOT_FOUND) return "absent";
        throw err;
      }
    }
    return isDeleting(owner) && hasFinalizer(owner, FINALIZER_FOREGROUND) ? "waiting" : "solid";
  }

  async reconcile(key: string): Promise<void> {
    const bar = key.indexOf("|");
    const entry = this.informers.get(key.slice(0, bar));
    if (!entry) return;
    const { kind, inf } = entry;
    const obj = inf.get(key.slice(bar + 1));
    if (!obj) return;
    const m = obj.metadata!;
    if (isDeleting(obj)) {
      if (hasFinalizer(obj, FINALIZER_ORPHAN)) return this.orphanDependents(kind, obj);
      if (hasFinalizer(obj, FINALIZER_FOREGROUND)) return this.deleteDependents(kind, obj);
      return; // being deleted anyway
    }
    if (m.ownerReferences.length === 0) return;
    const owners: ClassifiedOwner[] = [];
    for (const ref of m.ownerReferences) owners.push({ ref, state: await this.ownerState(ref, m.namespace) });
    const decision = decideDependent(owners, { hasDependents: this.dependents(m.uid).length > 0, finalizers: m.finalizers });
    switch (decision.action) {
      case "none":
        return;
      case "removeOwnerRefs":
        await mutate(this.ctx.clients, kind, m.namespace, m.name, (x) => {
          const before = x.metadata!.ownerReferences.length;
          x.metadata!.ownerReferences = x.metadata!.ownerReferences.filter((r) => !decision.uids.includes(r.uid));
          return x.metadata!.ownerReferences.length !== before;
        }, m.uid);
        return;
      case "delete":
        this.log.debug({ key, policy: decision.propagationPolicy, owners: owners.map((o) => `${o.ref.kind}/${o.ref.name}:${o.state}`) }, "deleting dependent");
        await this.ctx.clients
          .for(kind)
          .delete(
            { namespace: kind.namespaced ? m.namespace : "", name: m.name, preconditions: { uid: m.uid }, propagationPolicy: decision.propagationPolicy },
            { timeoutMs: 30_000 },
          )
          .catch((err) => {
            // Replaced by another object of the same name meanwhile: not ours to delete.
            if (errorCode(err) === Code.ABORTED) return;
            ignoreNotFound(err);
          });
        return;
    }
  }

  /** Foreground: delete the dependents; once none that blocks is left, remove the finalizer. */
  private async deleteDependents(kind: KindInfo, owner: ApiObject): Promise<void> {
    const uid = owner.metadata!.uid;
    const deps = this.dependents(uid);
    const blocking = deps.filter((d) => blocksOwner(uid, d.obj.metadata!.ownerReferences));
    if (blocking.length === 0) {
      await this.removeFinalizer(kind, owner, FINALIZER_FOREGROUND);
      return;
    }
    // Each is deleted by its own reconcile (its owner is "waiting"); the last one gone enqueues the owner.
    for (const d of blocking) if (!isDeleting(d.obj)) this.enqueue(itemKey(d.kind, d.obj));
  }

  /** Orphan: the dependents lose their reference to the owner, then the finalizer goes. */
  private async orphanDependents(kind: KindInfo, owner: ApiObject): Promise<void> {
    const uid = owner.metadata!.uid;
    await Promise.all(
      this.dependents(uid).map(({ kind: dk, obj }) =>
        mutate(this.ctx.clients, dk, obj.metadata!.namespace, obj.metadata!.name, (x) => {
          const before = x.metadata!.ownerReferences.length;
          x.metadata!.ownerReferences = x.metadata!.ownerReferences.filter((r) => r.uid !== uid);
          return x.metadata!.ownerReferences.length !== before;
        }, obj.metadata!.uid),
      ),
    );
    await this.removeFinalizer(kind, owner, FINALIZER_ORPHAN);
  }

  private async removeFinalizer(kind: KindInfo, obj: ApiObject, finalizer: string): Promise<void> {
    const m = obj.metadata!;
    await mutate(this.ctx.clients, kind, m.namespace, m.name, (x) => {
      if (!x.metadata!.finalizers.includes(finalizer)) return false;
      x.metadata!.finalizers = x.metadata!.finalizers.filter((f) => f !== finalizer);
      return true;
    }, m.uid);
  }
}
