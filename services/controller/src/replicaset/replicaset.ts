// The ReplicaSet controller: keeps spec.replicas pods matching the selector, adopting orphans and
// releasing pods that stop matching, and reports replicas, ready, available and observedGeneration.
import { Pods, ReplicaSets, ReplicaSetStatusSchema, type Pod, type ReplicaSet } from "@corral/api";
import { objectKey, type Informer, type ReconcileResult } from "@corral/client";
import { errorMessage } from "@corral/grpc";
import { claim } from "../shared/claim.js";
import { QueueController, type ControllerContext } from "../shared/controller.js";
import { Expectations } from "../shared/expectations.js";
import { BY_CONTROLLER, BY_NAMESPACE, orphanIndexKey } from "../shared/informers.js";
import { compileSelector, controllerRef, newControllerRef, sameOwnerRefs, sameStringMap, selects } from "../shared/meta.js";
import { createPods, deletePods } from "../shared/podcontrol.js";
import { writeStatus } from "../shared/status.js";
import { isActive, podFromTemplate } from "../shared/pods.js";
import { availabilityRecheckMs, desiredReplicas, planReplicas, replicaSetStatus } from "./logic.js";

export class ReplicaSetController extends QueueController {
  readonly name = "replicaset";
  readonly expectations = new Expectations();
  private readonly rsInf: Informer<ReplicaSet>;
  private readonly podInf: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    super(ctx, "replicaset-controller", 5);
    this.rsInf = ctx.informers.get(ReplicaSets);
    this.podInf = ctx.informers.get(Pods);
    this.rsInf.addEventHandler({
      add: (rs) => this.enqueue(objectKey(rs)),
      update: (_o, rs) => this.enqueue(objectKey(rs)),
      delete: (rs) => {
        this.expectations.delete(objectKey(rs));
        this.enqueue(objectKey(rs));
      },
    });
    this.podInf.addEventHandler({
      add: (p) => this.podAdded(p),
      update: (o, p) => this.podUpdated(o, p),
      delete: (p) => this.podDeleted(p),
    });
  }

  /** The ReplicaSet a pod's controller reference names, if it is in the cache. */
  private ownerOf(p: Pod): string | undefined {
    const ref = controllerRef(p);
    if (!ref || ref.kind !== "ReplicaSet") return undefined;
    const key = `${p.metadata!.namespace}/${ref.name}`;
    const rs = this.rsInf.get(key);
    return rs && rs.metadata?.uid === ref.uid ? key : undefined;
  }

  /** ReplicaSets whose selector matches an orphan pod (they may adopt it). */
  private matchingFor(p: Pod): string[] {
    const out: string[] = [];
    for (const rs of this.rsInf.byIndex(BY_NAMESPACE, p.metadata!.namespace)) {
      if (selects(rs.spec?.selector, p.metadata?.labels)) out.push(objectKey(rs));
    }
    return out;
  }

  private podAdded(p: Pod): void {
    if (p.metadata?.deletionTimestamp) return this.podDeleted(p);
    const owner = this.ownerOf(p);
    if (owner) {
      this.expectations.creationObserved(owner);
      this.enqueue(owner);
      return;
    }
    if (!controllerRef(p)) for (const k of this.matchingFor(p)) this.enqueue(k);
  }

  private podUpdated(old: Pod, p: Pod): void {
    if (old.metadata?.resourceVersion === p.metadata?.resourceVersion) return;
    const labelsChanged = !sameStringMap(old.metadata?.labels, p.metadata?.labels);
    if (p.metadata?.deletionTimestamp) {
      this.podDeleted(p);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const refChanged = !sameOwnerRefs(old, p);
    if (refChanged) {
      const oldOwner = this.ownerOf(old);
      if (oldOwner) this.enqueue(oldOwner);
    }
    const owner = this.ownerOf(p);
    if (owner) {
      this.enqueue(owner);
      return;
    }
    if (!controllerRef(p) && (labelsChanged || refChanged)) for (const k of this.matchingFor(p)) this.enqueue(k);
  }

  private podDeleted(p: Pod): void {
    const owner = this.ownerOf(p);
    if (!owner) return;
    this.expectations.deletionObserved(owner, p.metadata!.uid);
    this.enqueue(owner);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const rs = this.rsInf.get(key);
    if (!rs) {
      this.expectations.delete(key);
      return;
    }
    const m = rs.metadata!;
    if (!compileSelector(rs.spec?.selector)) {
      this.log.warn({ key }, "empty or invalid selector; ignoring the ReplicaSet");
      return;
    }
    const needsSync = this.expectations.satisfied(key);
    const candidates = [...this.podInf.byIndex(BY_CONTROLLER, m.uid), ...this.podInf.byIndex(BY_CONTROLLER, orphanIndexKey(m.namespace))].filter(isActive);
    const pods = await claim(this.ctx, ReplicaSets, rs, Pods, candidates, (p) => selects(rs.spec?.selector, p.metadata?.labels));

    let manageError: { message: string; creating: boolean } | undefined;
    let thrown: unknown;
    if (needsSync && !m.deletionTimestamp) {
      const plan = planReplicas(desiredReplicas(rs), pods);
      try {
        if (plan.create > 0) {
          const ref = newControllerRef(ReplicaSets, rs);
          await createPods(this.ctx, ReplicaSets, rs, key, this.expectations, plan.create, () =>
            podFromTemplate(rs.spec?.template, m.namespace, `${m.name}-`, ref),
          );
        } else if (plan.delete.length > 0) {
          await deletePods(this.ctx, ReplicaSets, rs, key, this.expectations, plan.delete);
        }
      } catch (err) {
        thrown = err;
        manageError = { message: errorMessage(err), creating: plan.create > 0 };
      }
    }
    const now = Date.now();
    const status = replicaSetStatus(rs, pods, now, manageError);
    await writeStatus(this.ctx, ReplicaSets, ReplicaSetStatusSchema, rs, status);
    if (thrown) throw thrown;
    const recheck = availabilityRecheckMs(rs, pods, now);
    return recheck !== undefined ? { requeueAfterMs: recheck } : undefined;
  }
}
