// The StatefulSet controller: pods with stable names, ordinals and storage, created, scaled and
// updated in order (see logic.ts for the decisions). A revision is the template's hash,
// <set>-<hash>, carried by each pod's controller-revision-hash label as Kubernetes does.
// Kubernetes keeps old templates as ControllerRevisions so a pod below the partition is made
// again at the old revision; Corral has no ControllerRevision kind yet and makes every new pod
// from the current template.
import { Pods, StatefulSets, StatefulSetStatusSchema, type Pod, type StatefulSet } from "@corral/api";
import { objectKey, type Informer, type ReconcileResult } from "@corral/client";
import { Code, errorCode } from "@corral/grpc";
import { claim } from "../shared/claim.js";
import { QueueController, type ControllerContext } from "../shared/controller.js";
import { Expectations } from "../shared/expectations.js";
import { computeHash } from "../shared/hash.js";
import { BY_CONTROLLER, orphanIndexKey } from "../shared/informers.js";
import { compileSelector, newControllerRef, selects } from "../shared/meta.js";
import { ownedPodEvents } from "../shared/owned-pods.js";
import { createPods, deletePods } from "../shared/podcontrol.js";
import { availabilityRecheckMs } from "../shared/pods.js";
import { writeStatus } from "../shared/status.js";
import { newStatefulPod, ordinalOf, planStatefulSet, statefulSetStatus } from "./logic.js";

export class StatefulSetController extends QueueController {
  readonly name = "statefulset";
  readonly expectations = new Expectations();
  private readonly setInf: Informer<StatefulSet>;
  private readonly podInf: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    super(ctx, "statefulset-controller", 2);
    this.setInf = ctx.informers.get(StatefulSets);
    this.podInf = ctx.informers.get(Pods);
    this.setInf.addEventHandler({
      add: (s) => this.enqueue(objectKey(s)),
      update: (_o, s) => this.enqueue(objectKey(s)),
      delete: (s) => {
        this.expectations.delete(objectKey(s));
        this.enqueue(objectKey(s));
      },
    });
    const owned = ownedPodEvents({ kind: "StatefulSet", owners: this.setInf, expectations: this.expectations, enqueue: (k) => this.enqueue(k) });
    this.podInf.addEventHandler(owned.handler);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const set = this.setInf.get(key);
    if (!set) {
      this.expectations.delete(key);
      return;
    }
    const m = set.metadata!;
    if (!compileSelector(set.spec?.selector)) {
      this.log.warn({ key }, "empty or invalid selector; ignoring the StatefulSet");
      return;
    }
    const candidates = [...this.podInf.byIndex(BY_CONTROLLER, m.uid), ...this.podInf.byIndex(BY_CONTROLLER, orphanIndexKey(m.namespace))];
    // Adopted only if it is one of ours by name as well as by labels (Kubernetes' isMemberOf).
    const pods = await claim(this.ctx, StatefulSets, set, Pods, candidates, (p) => selects(set.spec?.selector, p.metadata?.labels) && ordinalOf(m.name, p) >= 0);
    const revision = `${m.name}-${computeHash(set.spec?.template)}`;
    const now = Date.now();
    let thrown: unknown;
    let nameTaken = false;
    if (!m.deletionTimestamp && this.expectations.satisfied(key)) {
      try {
        const plan = planStatefulSet(set, pods, revision, now);
        if (plan.delete.length > 0) await deletePods(this.ctx, StatefulSets, set, key, this.expectations, plan.delete);
        if (plan.create.length > 0) {
          const ref = newControllerRef(StatefulSets, set);
          await createPods(this.ctx, StatefulSets, set, key, this.expectations, plan.create.length, (i) => newStatefulPod(set, plan.create[i]!, revision, ref));
        }
      } catch (err) {
        // A pod of that name is still going away (one of an earlier set of the same name, whose
        // deletion does not wake this set): look again shortly.
        if (errorCode(err) === Code.ALREADY_EXISTS) nameTaken = true;
        else thrown = err;
      }
    }
    const status = statefulSetStatus(set, pods, revision, now);
    await writeStatus(this.ctx, StatefulSets, StatefulSetStatusSchema, set, status);
    if (thrown) throw thrown;
    if (nameTaken) return { requeueAfterMs: 1000 };
    // Pods ready but not yet available for minReadySeconds: look again when they are.
    const recheck = availabilityRecheckMs(pods, set.spec?.minReadySeconds ?? 0, now);
    if (recheck !== undefined) return { requeueAfterMs: recheck };
  }
}
