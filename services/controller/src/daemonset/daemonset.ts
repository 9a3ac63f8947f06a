// The DaemonSet controller: one pod per node that matches (nodeSelector, node affinity, taints),
// following nodes as they join and leave, and rolling updates of the template. Daemon pods are
// pinned to their node by node affinity and bound by the scheduler, as in Kubernetes; their
// template version is the controller-revision-hash label.
import { create } from "@bufbuild/protobuf";
import { DaemonSets, DaemonSetStatusSchema, Nodes, ObjectMetaSchema, Pods, PodSchema, type DaemonSet, type Node, type Pod } from "@corral/api";
import { objectKey, type Informer, type ReconcileResult } from "@corral/client";
import { claim } from "../shared/claim.js";
import { QueueController, type ControllerContext } from "../shared/controller.js";
import { Expectations } from "../shared/expectations.js";
import { ownedPodEvents } from "../shared/owned-pods.js";
import { computeHash } from "../shared/hash.js";
import { BY_CONTROLLER, orphanIndexKey } from "../shared/informers.js";
import { compileSelector, newControllerRef, sameStringMap, selects } from "../shared/meta.js";
import { createPods, deletePods } from "../shared/podcontrol.js";
import { availabilityRecheckMs } from "../shared/pods.js";
import { writeStatus } from "../shared/status.js";
import { nodeReadyStatus } from "../shared/scheduling.js";
import { daemonPodSpec, daemonSetStatus, planManage, planRollingUpdate, REVISION_HASH, targetNode, type DaemonPlan } from "./logic.js";

function nodeSchedulingChanged(a: Node, b: Node): boolean {
  const ta = a.spec?.taints ?? [];
  const tb = b.spec?.taints ?? [];
  return (
    !sameStringMap(a.metadata?.labels, b.metadata?.labels) ||
    ta.length !== tb.length ||
    ta.some((t, i) => t.key !== tb[i]!.key || t.value !== tb[i]!.value || t.effect !== tb[i]!.effect) ||
    (a.spec?.unschedulable ?? false) !== (b.spec?.unschedulable ?? false) ||
    nodeReadyStatus(a) !== nodeReadyStatus(b) ||
    (a.metadata?.deletionTimestamp === undefined) !== (b.metadata?.deletionTimestamp === undefined)
  );
}

export class DaemonSetController extends QueueController {
  readonly name = "daemonset";
  readonly expectations = new Expectations();
  private readonly dsInf: Informer<DaemonSet>;
  private readonly podInf: Informer<Pod>;
  private readonly nodeInf: Informer<Node>;

  constructor(ctx: ControllerContext) {
    super(ctx, "daemonset-controller", 2);
    this.dsInf = ctx.informers.get(DaemonSets);
    this.podInf = ctx.informers.get(Pods);
    this.nodeInf = ctx.informers.get(Nodes);
    this.dsInf.addEventHandler({
      add: (ds) => this.enqueue(objectKey(ds)),
      update: (_o, ds) => this.enqueue(objectKey(ds)),
      delete: (ds) => {
        this.expectations.delete(objectKey(ds));
        this.enqueue(objectKey(ds));
      },
    });
    const owned = ownedPodEvents({ kind: "DaemonSet", owners: this.dsInf, expectations: this.expectations, enqueue: (k) => this.enqueue(k) });
    this.podInf.addEventHandler(owned.handler);
    const allDaemonSets = () => {
      for (const ds of this.dsInf.list()) this.enqueue(objectKey(ds));
    };
    this.nodeInf.addEventHandler({
      add: allDaemonSets,
      update: (o, n) => {
        if (nodeSchedulingChanged(o, n)) allDaemonSets();
      },
      delete: allDaemonSets,
    });
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const ds = this.dsInf.get(key);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    const m = ds.metadata!;
    if (!compileSelector(ds.spec?.selector)) {
      this.log.warn({ key }, "empty or invalid selector; ignoring the DaemonSet");
      return;
    }
    const candidates = [...this.podInf.byIndex(BY_CONTROLLER, m.uid), ...this.podInf.byIndex(BY_CONTROLLER, orphanIndexKey(m.namespace))];
    const pods = await claim(this.ctx, DaemonSets, ds, Pods, candidates, (p) => selects(ds.spec?.selector, p.metadata?.labels));
    const nodes = this.nodeInf.list();
    const byNode = new Map<string, Pod[]>();
    for (const p of pods) {
      const n = targetNode(p);
      if (!n) continue;
      let list = byNode.get(n);
      if (!list) byNode.set(n, (list = []));
      list.push(p);
    }
    const hash = computeHash(ds.spec?.template);
    const now = Date.now();
    let thrown: unknown;
    if (!m.deletionTimestamp && this.expectations.satisfied(key)) {
      try {
        let plan: DaemonPlan = planManage(ds, nodes, byNode, hash, now);
        const rolling = (ds.spec?.updateStrategy?.type || "RollingUpdate") === "RollingUpdate";
        if (plan.create.length === 0 && plan.delete.length === 0 && rolling) plan = planRollingUpdate(ds, nodes, byNode, hash, now);
        await this.apply(ds, key, plan, hash);
      } catch (err) {
        thrown = err;
      }
    }
    const status = daemonSetStatus(ds, nodes, byNode, hash, now);
    await writeStatus(this.ctx, DaemonSets, DaemonSetStatusSchema, ds, status);
    if (thrown) throw thrown;
    // Pods ready but not yet available for minReadySeconds: look again when they are.
    const recheck = availabilityRecheckMs(pods, ds.spec?.minReadySeconds ?? 0, now);
    if (recheck !== undefined) return { requeueAfterMs: recheck };
  }

  private async apply(ds: DaemonSet, key: string, plan: DaemonPlan, hash: string): Promise<void> {
    const m = ds.metadata!;
    if (plan.delete.length > 0) await deletePods(this.ctx, DaemonSets, ds, key, this.expectations, plan.delete);
    if (plan.create.length > 0) {
      const ref = newControllerRef(DaemonSets, ds);
      const tm = ds.spec?.template?.metadata;
      await createPods(this.ctx, DaemonSets, ds, key, this.expectations, plan.create.length, (i) =>
        create(PodSchema, {
          metadata: create(ObjectMetaSchema, {
            generateName: `${m.name}-`,
            namespace: m.namespace,
            labels: { ...(tm?.labels ?? {}), [REVISION_HASH]: hash },
            annotations: { ...(tm?.annotations ?? {}) },
            ownerReferences: [ref],
          }),
          spec: daemonPodSpec(ds, plan.create[i]!),
        }),
      );
    }
  }
}
