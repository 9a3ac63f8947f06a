// The Deployment controller: owns ReplicaSets, one per pod template (named after the template's
// hash), and moves replicas from the old ones to the new one: rolling (maxSurge, maxUnavailable,
// minReadySeconds) or Recreate. Keeps a revision per ReplicaSet and revisionHistoryLimit old ones,
// honours paused, and reports progress (progressDeadlineSeconds) in its conditions. The decisions
// are in util.ts; this file reads the caches and writes.
import { clone, create } from "@bufbuild/protobuf";
import {
  Deployments,
  DeploymentStatusSchema,
  Pods,
  ReplicaSets,
  ReplicaSetSchema,
  type Deployment,
  type DeploymentStatus,
  type Pod,
  type ReplicaSet,
} from "@corral/api";
import { objectKey, type Informer, type ReconcileResult } from "@corral/client";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import { claim } from "../shared/claim.js";
import { ignoreNotFound, QueueController, type ControllerContext } from "../shared/controller.js";
import { computeHash } from "../shared/hash.js";
import { BY_CONTROLLER, BY_NAMESPACE, orphanIndexKey } from "../shared/informers.js";
import { compileSelector, controllerRef, newControllerRef, sameOwnerRefs, sameStringMap, selects } from "../shared/meta.js";
import { isNamespaceTerminating } from "../shared/podcontrol.js";
import { isTerminal } from "../shared/pods.js";
import {
  calculateStatus,
  deploymentComplete,
  equalIgnoreHash,
  findNewReplicaSet,
  isRollingUpdate,
  isScalingEvent,
  maxRevision,
  maxSurge,
  newCondition,
  newRSNewReplicas,
  newRSSelector,
  newRSTemplate,
  pausedCondition,
  planOldScaleDown,
  planScale,
  progressDeadlineSeconds,
  REASON,
  replicasOf,
  replicaSetsToCleanUp,
  REVISION,
  revisionOf,
  rolloutStatus,
  rsReplicas,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  statusEqual,
  stuckRecheckMs,
} from "./util.js";

/** A copy of the Deployment's status to change (an empty one if it has none yet). */
function freshStatus(d: Deployment): DeploymentStatus {
  return d.status ? clone(DeploymentStatusSchema, d.status) : create(DeploymentStatusSchema, {});
}

/** One reconcile of one Deployment: a working copy whose status follows what was written. */
interface Sync {
  key: string;
  d: Deployment;
  rsList: ReplicaSet[];
  requeueAfterMs?: number;
}

export class DeploymentController extends QueueController {
  readonly name = "deployment";
  private readonly dInf: Informer<Deployment>;
  private readonly rsInf: Informer<ReplicaSet>;
  private readonly podInf: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    super(ctx, "deployment-controller", 5);
    this.dInf = ctx.informers.get(Deployments);
    this.rsInf = ctx.informers.get(ReplicaSets);
    this.podInf = ctx.informers.get(Pods);
    this.dInf.addEventHandler({
      add: (d) => this.enqueue(objectKey(d)),
      update: (_o, d) => this.enqueue(objectKey(d)),
      delete: (d) => this.enqueue(objectKey(d)),
    });
    this.rsInf.addEventHandler({
      add: (rs) => this.rsChanged(undefined, rs),
      update: (o, rs) => this.rsChanged(o, rs),
      delete: (rs) => {
        const owner = this.ownerOf(rs);
        if (owner) this.enqueue(owner);
      },
    });
    // Recreate waits for the old pods to be gone.
    this.podInf.addEventHandler({
      delete: (p) => {
        const ref = controllerRef(p);
        if (ref?.kind !== "ReplicaSet") return;
        const rs = this.rsInf.get(`${p.metadata!.namespace}/${ref.name}`);
        const owner = rs && this.ownerOf(rs);
        if (owner && !isRollingUpdate(this.dInf.get(owner)!)) this.enqueue(owner);
      },
    });
  }

  private ownerOf(rs: ReplicaSet): string | undefined {
    const ref = controllerRef(rs);
    if (!ref || ref.kind !== "Deployment") return undefined;
    const key = `${rs.metadata!.namespace}/${ref.name}`;
    const d = this.dInf.get(key);
    return d && d.metadata?.uid === ref.uid ? key : undefined;
  }

  private rsChanged(old: ReplicaSet | undefined, rs: ReplicaSet): void {
    if (old && old.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
    if (old && !sameOwnerRefs(old, rs)) {
      const prev = this.ownerOf(old);
      if (prev) this.enqueue(prev);
    }
    const owner = this.ownerOf(rs);
    if (owner) return this.enqueue(owner);
    if (controllerRef(rs)) return;
    if (!old || !sameStringMap(old.metadata?.labels, rs.metadata?.labels) || !sameOwnerRefs(old, rs)) {
      for (const d of this.dInf.byIndex(BY_NAMESPACE, rs.metadata!.namespace)) {
        if (selects(d.spec?.selector, rs.metadata?.labels)) this.enqueue(objectKey(d));
      }
    }
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const cached = this.dInf.get(key);
    if (!cached) return;
    const d = clone(Deployments.schema, cached);
    const m = d.metadata!;
    if (!compileSelector(d.spec?.selector)) {
      this.log.warn({ key }, "empty or invalid selector; ignoring the Deployment");
      return;
    }
    const candidates = [...this.rsInf.byIndex(BY_CONTROLLER, m.uid), ...this.rsInf.byIndex(BY_CONTROLLER, orphanIndexKey(m.namespace))];
    const rsList = await claim(this.ctx, Deployments, cached, ReplicaSets, candidates, (rs) => selects(d.spec?.selector, rs.metadata?.labels));
    const s: Sync = { key, d, rsList };
    if (m.deletionTimestamp) {
      const { newRS, oldRSs } = await this.getAllReplicaSets(s, false);
      await this.syncStatus(s, [...oldRSs, ...(newRS ? [newRS] : [])], newRS);
      return;
    }
    await this.checkPausedConditions(s);
    if (d.spec?.paused) {
      await this.sync(s);
    } else {
      const { newRS, oldRSs } = await this.getAllReplicaSets(s, false);
      if (isScalingEvent(d, [...oldRSs, newRS])) await this.sync(s);
      else if (isRollingUpdate(d)) await this.rolloutRolling(s);
      else await this.rolloutRecreate(s);
    }
    return s.requeueAfterMs !== undefined ? { requeueAfterMs: s.requeueAfterMs } : undefined;
  }

  // ---- ReplicaSets ----

  /**
   * The new ReplicaSet (created when asked and missing) and the old ones, with the new one's
   * revision raised above the old ones and the Deployment's revision annotation following it.
   */
  private async getAllReplicaSets(s: Sync, createIfMissing: boolean): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const d = s.d;
    const existing = findNewReplicaSet(d, s.rsList);
    const oldRSs = s.rsList.filter((rs) => rs !== existing);
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing) {
      let newRS = existing;
      const copy = clone(ReplicaSetSchema, existing);
      const annotationsChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReadyChanged = (copy.spec!.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      if (annotationsChanged || minReadyChanged) {
        copy.spec!.minReadySeconds = d.spec?.minReadySeconds ?? 0;
        newRS = await this.ctx.clients.for(ReplicaSets).update(copy, { timeoutMs: 30_000 });
        this.replace(s, existing, newRS);
      }
      await this.setRevision(s, newRS.metadata!.annotations[REVISION] ?? String(newRevision));
      if (progressDeadlineSeconds(d) !== undefined && !d.status?.conditions.some((c) => c.type === "Progressing")) {
        const st = freshStatus(d);
        setCondition(st, newCondition("Progressing", "True", REASON.foundNewRS, `Found new replica set "${newRS.metadata!.name}"`, Date.now()));
        await this.writeStatus(s, st);
      }
      return { newRS, oldRSs };
    }
    if (!createIfMissing) return { oldRSs };

    const collisionCount = d.status?.collisionCount;
    const hash = computeHash(d.spec?.template, collisionCount);
    const rs = create(ReplicaSetSchema, {
      metadata: {
        name: `${d.metadata!.name}-${hash}`,
        namespace: d.metadata!.namespace,
        labels: { ...(d.spec?.template?.metadata?.labels ?? {}), "pod-template-hash": hash },
        ownerReferences: [newControllerRef(Deployments, d)],
      },
      spec: {
        replicas: 0,
        minReadySeconds: d.spec?.minReadySeconds ?? 0,
        selector: newRSSelector(d, hash),
        template: newRSTemplate(d, hash),
      },
    });
    rs.spec!.replicas = newRSNewReplicas(d, [...oldRSs, rs], rs);
    setNewReplicaSetAnnotations(d, rs, newRevision, false);
    let created: ReplicaSet;
    let alreadyExisted = false;
    try {
      created = await this.ctx.clients.for(ReplicaSets).create(rs, { timeoutMs: 30_000 });
    } catch (err) {
      if (errorCode(err) === Code.ALREADY_EXISTS) {
        // A slow cache, or a hash collision.
        const found = await this.ctx.clients.for(ReplicaSets).get({ namespace: d.metadata!.namespace, name: rs.metadata!.name });
        if (controllerRef(found)?.uid === d.metadata!.uid && equalIgnoreHash(found.spec?.template, d.spec?.template)) {
          created = found;
          alreadyExisted = true;
        } else {
          const st = freshStatus(d);
          st.collisionCount = (collisionCount ?? 0) + 1;
          await this.writeStatus(s, st);
          this.log.info({ key: s.key, collisionCount: st.collisionCount }, "hash collision; bumping collisionCount");
          throw err;
        }
      } else {
        if (!isNamespaceTerminating(err)) {
          const msg = `Failed to create new replica set "${rs.metadata!.name}": ${errorMessage(err)}`;
          if (progressDeadlineSeconds(d) !== undefined) {
            const st = freshStatus(d);
            setCondition(st, newCondition("Progressing", "False", REASON.failedRSCreate, msg, Date.now()));
            await this.writeStatus(s, st).catch(() => {});
          }
          this.ctx.recorder.event(Deployments, d, "Warning", REASON.failedRSCreate, msg);
        }
        throw err;
      }
    }
    s.rsList.push(created);
    if (!alreadyExisted && rsReplicas(created) > 0) {
      this.ctx.recorder.event(Deployments, d, "Normal", "ScalingReplicaSet", `Scaled up replica set ${created.metadata!.name} from 0 to ${rsReplicas(created)}`);
    }
    await this.setRevision(s, String(newRevision));
    if (!alreadyExisted && progressDeadlineSeconds(d) !== undefined) {
      const st = freshStatus(d);
      setCondition(st, newCondition("Progressing", "True", REASON.newRSCreated, `Created new replica set "${created.metadata!.name}"`, Date.now()));
      await this.writeStatus(s, st);
    }
    return { newRS: created, oldRSs };
  }

  private replace(s: Sync, old: ReplicaSet, next: ReplicaSet): void {
    const i = s.rsList.indexOf(old);
    if (i >= 0) s.rsList[i] = next;
  }

  /** The Deployment's deployment.kubernetes.io/revision annotation (a metadata write). */
  private async setRevision(s: Sync, revision: string): Promise<void> {
    if (s.d.metadata!.annotations[REVISION] === revision) return;
    const next = clone(Deployments.schema, s.d);
    next.metadata!.annotations[REVISION] = revision;
    next.status = undefined;
    const updated = await this.ctx.clients.for(Deployments).update(next, { timeoutMs: 30_000 });
    s.d.metadata = updated.metadata;
  }

  /** Scales one ReplicaSet (and its replica annotations); returns the stored ReplicaSet. */
  private async scaleReplicaSet(s: Sync, rs: ReplicaSet, replicas: number): Promise<{ rs: ReplicaSet; scaled: boolean }> {
    const d = s.d;
    const copy = clone(ReplicaSetSchema, rs);
    const sizeChanged = rsReplicas(rs) !== replicas;
    const annotationsChanged = setReplicasAnnotations(copy, replicasOf(d), replicasOf(d) + maxSurge(d));
    if (!sizeChanged && !annotationsChanged) return { rs, scaled: false };
    copy.spec!.replicas = replicas;
    copy.status = undefined;
    const updated = await this.ctx.clients.for(ReplicaSets).update(copy, { timeoutMs: 30_000 });
    this.replace(s, rs, updated);
    if (sizeChanged) {
      const dir = replicas > rsReplicas(rs) ? "up" : "down";
      this.ctx.recorder.event(Deployments, d, "Normal", "ScalingReplicaSet", `Scaled ${dir} replica set ${rs.metadata!.name} from ${rsReplicas(rs)} to ${replicas}`);
    }
    return { rs: updated, scaled: sizeChanged };
  }

  // ---- strategies ----

  /** Scaling (spec.replicas changed) or paused: resize without rolling (Kubernetes' sync). */
  private async sync(s: Sync): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSets(s, false);
    for (const step of planScale(s.d, newRS, oldRSs)) await this.scaleReplicaSet(s, step.rs, step.replicas);
    const fresh = this.split(s);
    if (s.d.spec?.paused) await this.cleanup(s, fresh.oldRSs);
    await this.syncStatus(s, s.rsList, fresh.newRS);
  }

  private split(s: Sync): { newRS?: ReplicaSet; oldRSs: ReplicaSet[] } {
    const newRS = findNewReplicaSet(s.d, s.rsList);
    return { newRS, oldRSs: s.rsList.filter((rs) => rs !== newRS) };
  }

  private async rolloutRolling(s: Sync): Promise<void> {
    let { newRS } = await this.getAllReplicaSets(s, true);
    const d = s.d;
    // Scale up, if we can.
    if (newRS) {
      const want = rsReplicas(newRS) > replicasOf(d) ? replicasOf(d) : newRSNewReplicas(d, s.rsList, newRS);
      const r = await this.scaleReplicaSet(s, newRS, want);
      newRS = r.rs;
      if (r.scaled) return this.syncRolloutStatus(s);
    }
    // Scale down, if we can.
    const { oldRSs } = this.split(s);
    const steps = planOldScaleDown(d, newRS, oldRSs);
    let scaledDown = false;
    for (const step of steps) if ((await this.scaleReplicaSet(s, step.rs, step.replicas)).scaled) scaledDown = true;
    if (scaledDown) return this.syncRolloutStatus(s);
    if (deploymentComplete(d, calculateStatus(d, s.rsList, newRS, Date.now()))) await this.cleanup(s, this.split(s).oldRSs);
    return this.syncRolloutStatus(s);
  }

  private async rolloutRecreate(s: Sync): Promise<void> {
    let { newRS, oldRSs } = await this.getAllReplicaSets(s, false);
    let scaledDown = false;
    for (const rs of oldRSs) if (rsReplicas(rs) > 0 && (await this.scaleReplicaSet(s, rs, 0)).scaled) scaledDown = true;
    if (scaledDown) return this.syncRolloutStatus(s);
    ({ newRS, oldRSs } = this.split(s));
    if (this.oldPodsRunning(newRS, oldRSs)) return this.syncRolloutStatus(s);
    if (!newRS) ({ newRS, oldRSs } = await this.getAllReplicaSets(s, true));
    if (newRS) await this.scaleReplicaSet(s, newRS, replicasOf(s.d));
    if (s.d.status && deploymentComplete(s.d, s.d.status)) await this.cleanup(s, this.split(s).oldRSs);
    return this.syncRolloutStatus(s);
  }

  /** Any pod of an old ReplicaSet not finished yet, terminating ones included. */
  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): boolean {
    if (oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
    for (const rs of oldRSs) {
      if (rs === newRS) continue;
      if (this.podInf.byIndex(BY_CONTROLLER, rs.metadata!.uid).some((p) => !isTerminal(p))) return true;
    }
    return false;
  }

  /** Deletes old ReplicaSets beyond revisionHistoryLimit. */
  private async cleanup(s: Sync, oldRSs: readonly ReplicaSet[]): Promise<void> {
    for (const rs of replicaSetsToCleanUp(s.d, oldRSs)) {
      this.log.debug({ key: s.key, rs: rs.metadata!.name, revision: revisionOf(rs) }, "deleting old ReplicaSet beyond revisionHistoryLimit");
      await this.ctx.clients
        .for(ReplicaSets)
        .delete({ namespace: rs.metadata!.namespace, name: rs.metadata!.name, preconditions: { uid: rs.metadata!.uid } })
        .catch(ignoreNotFound);
    }
  }

  // ---- status ----

  private async checkPausedConditions(s: Sync): Promise<void> {
    const c = pausedCondition(s.d, Date.now());
    if (!c) return;
    const st = freshStatus(s.d);
    setCondition(st, c);
    await this.writeStatus(s, st);
  }

  private async syncStatus(s: Sync, all: readonly ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const st = calculateStatus(s.d, all, newRS, Date.now());
    if (!statusEqual(s.d.status, st)) await this.writeStatus(s, st);
  }

  private async syncRolloutStatus(s: Sync): Promise<void> {
    const { newRS } = this.split(s);
    const now = Date.now();
    const st = rolloutStatus(s.d, s.rsList, newRS, now);
    if (!statusEqual(s.d.status, st)) await this.writeStatus(s, st);
    const recheck = stuckRecheckMs(s.d, st, now);
    if (recheck !== undefined) s.requeueAfterMs = recheck;
  }

  private async writeStatus(s: Sync, st: DeploymentStatus): Promise<void> {
    const next = clone(Deployments.schema, s.d);
    next.status = st;
    next.metadata!.resourceVersion = "";
    const updated = await this.ctx.clients.for(Deployments).updateStatus(next, { timeoutMs: 30_000 });
    s.d.status = updated.status;
  }
}
