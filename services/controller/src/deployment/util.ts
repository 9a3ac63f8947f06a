// The Deployment controller's decisions, after k8s.io/kubernetes/pkg/controller/deployment and
// its util package: which ReplicaSet is new, how far each is scaled during a rolling update,
// proportional scaling, revisions, status and conditions. Pure: no I/O, `now` passed in.
import { clone, create, equals } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  DeploymentConditionSchema,
  DeploymentStatusSchema,
  LabelSelectorSchema,
  PodTemplateSpecSchema,
  type Deployment,
  type DeploymentCondition,
  type DeploymentStatus,
  type LabelSelector,
  type PodTemplateSpec,
  type ReplicaSet,
} from "@corral/api";
import { scaledValue } from "../shared/intstr.js";
import { byCreation, createdMs } from "../shared/meta.js";

export const POD_TEMPLATE_HASH = "pod-template-hash";
export const REVISION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";
export const CHANGE_CAUSE = "kubernetes.io/change-cause";
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const ROLLBACK_TO = "deprecated.deployment.rollback.to";
/** Annotations of a Deployment not copied to its ReplicaSets. */
const SKIPPED_ANNOTATIONS = new Set([LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO]);
const REVISION_HISTORY_MAX_CHARS = 2000;

/** spec.progressDeadlineSeconds when unset; MAX_INT32 means "no deadline". */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
const MAX_INT32 = 2147483647;

// Condition reasons (k8s.io/kubernetes/pkg/controller/deployment/util).
export const REASON = {
  newRSCreated: "NewReplicaSetCreated",
  foundNewRS: "FoundNewReplicaSet",
  rsUpdated: "ReplicaSetUpdated",
  newRSAvailable: "NewReplicaSetAvailable",
  timedOut: "ProgressDeadlineExceeded",
  paused: "DeploymentPaused",
  resumed: "DeploymentResumed",
  failedRSCreate: "ReplicaSetCreateError",
  minAvailable: "MinimumReplicasAvailable",
  minUnavailable: "MinimumReplicasUnavailable",
} as const;

export function replicasOf(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

export function rsReplicas(rs: ReplicaSet | undefined): number {
  return rs ? (rs.spec?.replicas ?? 1) : 0;
}

/**
 * What a ReplicaSet has available for rollout decisions. Never more than its spec: a ReplicaSet
 * just scaled down still reports the pods it is about to delete until its controller catches up,
 * and counting them would let the rollout scale down too far.
 */
export function availableOf(rs: ReplicaSet | undefined): number {
  if (!rs) return 0;
  return Math.min(rs.status?.availableReplicas ?? 0, rsReplicas(rs));
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type || "RollingUpdate") === "RollingUpdate";
}

/** maxSurge and maxUnavailable as numbers (Kubernetes' ResolveFenceposts). */
export function resolveFenceposts(d: Deployment): { surge: number; unavailable: number } {
  const replicas = replicasOf(d);
  const ru = d.spec?.strategy?.rollingUpdate;
  const surge = scaledValue(ru?.maxSurge, replicas, true, "25%");
  let unavailable = scaledValue(ru?.maxUnavailable, replicas, false, "25%");
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? resolveFenceposts(d).surge : 0;
}

export function maxUnavailable(d: Deployment): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, replicasOf(d));
}

export function revisionOf(rs: ReplicaSet | Deployment | undefined): number {
  const v = rs?.metadata?.annotations[REVISION];
  const n = v ? Number.parseInt(v, 10) : 0;
  return Number.isFinite(n) ? n : 0;
}

export function maxRevision(rss: readonly ReplicaSet[]): number {
  return rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

function withoutHash(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const c = t ? clone(PodTemplateSpecSchema, t) : create(PodTemplateSpecSchema, {});
  if (c.metadata) delete c.metadata.labels[POD_TEMPLATE_HASH];
  return c;
}

/** The templates are equal but for the pod-template-hash label (Kubernetes' EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return equals(PodTemplateSpecSchema, withoutHash(a), withoutHash(b));
}

/** The ReplicaSet running the Deployment's current template (the oldest if several do). */
export function findNewReplicaSet(d: Deployment, rss: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** The Deployment's template with the hash label, as its new ReplicaSet's template. */
export function newRSTemplate(d: Deployment, hash: string): PodTemplateSpec {
  const t = d.spec?.template ? clone(PodTemplateSpecSchema, d.spec.template) : create(PodTemplateSpecSchema, {});
  t.metadata ??= create(PodTemplateSpecSchema, { metadata: {} }).metadata!;
  t.metadata.labels[POD_TEMPLATE_HASH] = hash;
  return t;
}

export function newRSSelector(d: Deployment, hash: string): LabelSelector {
  const s = d.spec?.selector ? clone(LabelSelectorSchema, d.spec.selector) : create(LabelSelectorSchema, {});
  s.matchLabels[POD_TEMPLATE_HASH] = hash;
  return s;
}

/** Sets desired-replicas and max-replicas on a ReplicaSet (in place); true if they changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata!.annotations;
  const want = { [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(max) };
  let changed = false;
  for (const [k, v] of Object.entries(want)) {
    if (a[k] !== v) {
      a[k] = v;
      changed = true;
    }
  }
  return changed;
}

/**
 * The new ReplicaSet's annotations (in place; Kubernetes' SetNewReplicaSetAnnotations): the
 * Deployment's own, the revision (raised to newRevision, remembering the old one in
 * revision-history when an old ReplicaSet comes back by a rollback), and the replica counts
 * when it is about to be created. True if anything changed.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: number, exists: boolean): boolean {
  const a = rs.metadata!.annotations;
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (SKIPPED_ANNOTATIONS.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  const oldRevision = a[REVISION];
  const old = oldRevision ? Number.parseInt(oldRevision, 10) || 0 : 0;
  if (old < newRevision) {
    a[REVISION] = String(newRevision);
    changed = true;
    if (oldRevision !== undefined) {
      const history = a[REVISION_HISTORY] ? a[REVISION_HISTORY].split(",") : [];
      history.push(oldRevision);
      while (history.join(",").length > REVISION_HISTORY_MAX_CHARS && history.length > 1) history.shift();
      a[REVISION_HISTORY] = history.join(",");
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

/** The replica count the new ReplicaSet may have now (Kubernetes' NewRSNewReplicas). */
export function newRSNewReplicas(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d)) return replicas;
  const current = all.reduce((s, rs) => s + rsReplicas(rs), 0);
  const maxTotal = replicas + maxSurge(d);
  if (current >= maxTotal) return rsReplicas(newRS);
  const up = Math.min(maxTotal - current, replicas - rsReplicas(newRS));
  return rsReplicas(newRS) + Math.max(0, up);
}

export interface ScaleTo {
  rs: ReplicaSet;
  replicas: number;
}

/**
 * The old ReplicaSets' scale-down of a rolling update (Kubernetes' reconcileOldReplicaSets): first
 * the unavailable pods of old ReplicaSets (that costs no availability), then available ones, only
 * as far as replicas − maxUnavailable stay available. Returns the new sizes, oldest first.
 */
export function planOldScaleDown(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ScaleTo[] {
  const active = oldRSs.filter((rs) => rsReplicas(rs) > 0);
  const oldPods = active.reduce((s, rs) => s + rsReplicas(rs), 0);
  if (oldPods === 0) return [];
  const all = [...oldRSs, ...(newRS ? [newRS] : [])];
  const allPods = all.reduce((s, rs) => s + rsReplicas(rs), 0);
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = rsReplicas(newRS) - availableOf(newRS);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];

  const sizes = new Map<ReplicaSet, number>(oldRSs.map((rs) => [rs, rsReplicas(rs)]));
  const sorted = [...oldRSs].sort(byCreation);
  // 1. Unhealthy replicas of old ReplicaSets go first.
  let cleaned = 0;
  for (const rs of sorted) {
    if (cleaned >= maxScaledDown) break;
    const cur = sizes.get(rs)!;
    if (cur === 0) continue;
    const unhealthy = cur - availableOf(rs);
    if (unhealthy <= 0) continue;
    const n = Math.min(maxScaledDown - cleaned, unhealthy);
    sizes.set(rs, cur - n);
    cleaned += n;
  }
  // 2. Then available ones, keeping minAvailable available.
  const available = availableOf(newRS) + oldRSs.reduce((s, rs) => s + Math.min(availableOf(rs), sizes.get(rs)!), 0);
  if (available > minAvailable) {
    let total = available - minAvailable;
    for (const rs of sorted) {
      if (total <= 0) break;
      const cur = sizes.get(rs)!;
      if (cur === 0) continue;
      const n = Math.min(cur, total);
      sizes.set(rs, cur - n);
      total -= n;
    }
  }
  return sorted.filter((rs) => sizes.get(rs)! !== rsReplicas(rs)).map((rs) => ({ rs, replicas: sizes.get(rs)! }));
}

function desiredAnnotation(rs: ReplicaSet): number | undefined {
  const v = rs.metadata?.annotations[DESIRED_REPLICAS];
  if (v === undefined) return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : undefined;
}

/** The new ReplicaSet runs all replicas, all available (Kubernetes' IsSaturated). */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const replicas = replicasOf(d);
  return rsReplicas(rs) === replicas && desiredAnnotation(rs) === replicas && (rs.status?.availableReplicas ?? 0) === replicas;
}

/** spec.replicas changed since the active ReplicaSets were sized (Kubernetes' isScalingEvent). */
export function isScalingEvent(d: Deployment, all: readonly (ReplicaSet | undefined)[]): boolean {
  for (const rs of all) {
    if (!rs || rsReplicas(rs) === 0) continue;
    const desired = desiredAnnotation(rs);
    if (desired !== undefined && desired !== replicasOf(d)) return true;
  }
  return false;
}

function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  let fraction: number;
  if (replicasOf(d) === 0) fraction = -rsReplicas(rs);
  else {
    const maxReplicas = replicasOf(d) + maxSurge(d);
    let before = Number.parseInt(rs.metadata?.annotations[MAX_REPLICAS] ?? "", 10);
    if (!Number.isFinite(before) || before === 0) before = d.status?.replicas ?? 0;
    fraction = before === 0 ? 0 : Math.round((rsReplicas(rs) * maxReplicas) / before) - rsReplicas(rs);
  }
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * Sizes for a scaling event (Kubernetes' scale): one active ReplicaSet takes all replicas; a
 * saturated new one leaves the old ones at 0; otherwise, during a rolling update, replicas are
 * added or removed in proportion to each active ReplicaSet's size.
 */
export function planScale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ScaleTo[] {
  const replicas = replicasOf(d);
  const all = [...oldRSs, ...(newRS ? [newRS] : [])];
  const active = all.filter((rs) => rsReplicas(rs) > 0);
  if (active.length <= 1) {
    let target = active[0];
    if (!target) target = newRS ?? [...oldRSs].sort(byCreation).reverse()[0];
    if (!target || rsReplicas(target) === replicas) return [];
    return [{ rs: target, replicas }];
  }
  if (isSaturated(d, newRS)) return oldRSs.filter((rs) => rsReplicas(rs) > 0).map((rs) => ({ rs, replicas: 0 }));
  if (!isRollingUpdate(d)) return [];
  const allowedSize = replicas > 0 ? replicas + maxSurge(d) : 0;
  const toAdd = allowedSize - active.reduce((s, rs) => s + rsReplicas(rs), 0);
  // Larger first; on a tie the newer one first when scaling up, the older one when scaling down.
  const sorted = [...active].sort((a, b) => {
    const d2 = rsReplicas(b) - rsReplicas(a);
    if (d2 !== 0) return d2;
    return toAdd > 0 ? createdMs(b) - createdMs(a) : createdMs(a) - createdMs(b);
  });
  const sizes = new Map<ReplicaSet, number>();
  let added = 0;
  for (const rs of sorted) {
    if (toAdd !== 0) {
      const p = proportion(rs, d, toAdd, added);
      sizes.set(rs, rsReplicas(rs) + p);
      added += p;
    } else sizes.set(rs, rsReplicas(rs));
  }
  if (toAdd !== 0 && sorted[0]) sizes.set(sorted[0], Math.max(0, sizes.get(sorted[0])! + toAdd - added));
  return sorted.filter((rs) => sizes.get(rs) !== rsReplicas(rs)).map((rs) => ({ rs, replicas: sizes.get(rs)! }));
}

export function progressDeadlineSeconds(d: Deployment): number | undefined {
  const v = d.spec?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
  return v === MAX_INT32 ? undefined : v;
}

export function getCondition(st: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return st?.conditions.find((c) => c.type === type);
}

export function newCondition(type: string, status: string, reason: string, message: string, nowMs: number): DeploymentCondition {
  const t = timestampFromMs(nowMs);
  return create(DeploymentConditionSchema, { type, status, reason, message, lastUpdateTime: t, lastTransitionTime: t });
}

/** Kubernetes' SetDeploymentCondition: nothing changes when status and reason are the same. */
export function setCondition(st: DeploymentStatus, c: DeploymentCondition): void {
  const cur = getCondition(st, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  if (cur && cur.status === c.status) c.lastTransitionTime = cur.lastTransitionTime;
  st.conditions = [...st.conditions.filter((x) => x.type !== c.type), c];
}

export function removeCondition(st: DeploymentStatus, type: string): void {
  st.conditions = st.conditions.filter((c) => c.type !== type);
}

/** The status the ReplicaSets add up to, with the Available condition (Kubernetes' calculateStatus). */
export function calculateStatus(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet | undefined, nowMs: number): DeploymentStatus {
  const available = all.reduce((s, rs) => s + (rs.status?.availableReplicas ?? 0), 0);
  const total = all.reduce((s, rs) => s + rsReplicas(rs), 0);
  const st = create(DeploymentStatusSchema, {
    observedGeneration: d.metadata?.generation ?? 0n,
    replicas: all.reduce((s, rs) => s + (rs.status?.replicas ?? 0), 0),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: all.reduce((s, rs) => s + (rs.status?.readyReplicas ?? 0), 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    collisionCount: d.status?.collisionCount,
  });
  st.conditions = (d.status?.conditions ?? []).map((c) => clone(DeploymentConditionSchema, c));
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(st, newCondition("Available", "True", REASON.minAvailable, "Deployment has minimum availability.", nowMs));
  } else {
    setCondition(st, newCondition("Available", "False", REASON.minUnavailable, "Deployment does not have minimum availability.", nowMs));
  }
  return st;
}

/** Every replica updated and available, and the latest spec observed (Kubernetes' DeploymentComplete). */
export function deploymentComplete(d: Deployment, st: DeploymentStatus): boolean {
  const r = replicasOf(d);
  return st.updatedReplicas === r && st.replicas === r && st.availableReplicas === r && st.observedGeneration >= (d.metadata?.generation ?? 0n);
}

/** Something moved since the last status (Kubernetes' DeploymentProgressing). */
export function deploymentProgressing(d: Deployment, st: DeploymentStatus): boolean {
  const old = d.status;
  const oldOld = (old?.replicas ?? 0) - (old?.updatedReplicas ?? 0);
  const newOld = st.replicas - st.updatedReplicas;
  return (
    st.updatedReplicas > (old?.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    st.readyReplicas > (old?.readyReplicas ?? 0) ||
    st.availableReplicas > (old?.availableReplicas ?? 0)
  );
}

function ms(t: Timestamp | undefined): number {
  return t ? timestampDate(t).getTime() : 0;
}

/** No progress for progressDeadlineSeconds (Kubernetes' DeploymentTimedOut). */
export function deploymentTimedOut(d: Deployment, st: DeploymentStatus, nowMs: number): boolean {
  const deadline = progressDeadlineSeconds(d);
  if (deadline === undefined) return false;
  const c = getCondition(st, "Progressing");
  if (!c) return false;
  if (c.reason === REASON.newRSAvailable) return false;
  if (c.reason === REASON.timedOut) return true;
  return ms(c.lastUpdateTime) + deadline * 1000 < nowMs;
}

/**
 * The status after a rollout step (Kubernetes' syncRolloutStatus): the Progressing condition
 * (complete, progressing, or timed out) and ReplicaFailure from the ReplicaSets.
 */
export function rolloutStatus(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet | undefined, nowMs: number): DeploymentStatus {
  const st = calculateStatus(d, all, newRS, nowMs);
  const deadline = progressDeadlineSeconds(d);
  if (deadline === undefined) removeCondition(st, "Progressing");
  const cur = getCondition(d.status, "Progressing");
  const isComplete = st.replicas === st.updatedReplicas && cur?.reason === REASON.newRSAvailable;
  if (deadline !== undefined && !isComplete) {
    const rsName = newRS?.metadata?.name;
    if (deploymentComplete(d, st)) {
      const msg = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${d.metadata?.name}" has successfully progressed.`;
      setCondition(st, newCondition("Progressing", "True", REASON.newRSAvailable, msg, nowMs));
    } else if (deploymentProgressing(d, st)) {
      const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${d.metadata?.name}" is progressing.`;
      const c = newCondition("Progressing", "True", REASON.rsUpdated, msg, nowMs);
      // Progress moves lastUpdateTime on, even with the same reason.
      if (cur && cur.status === "True") c.lastTransitionTime = cur.lastTransitionTime;
      removeCondition(st, "Progressing");
      setCondition(st, c);
    } else if (deploymentTimedOut(d, st, nowMs)) {
      const msg = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata?.name}" has timed out progressing.`;
      setCondition(st, newCondition("Progressing", "False", REASON.timedOut, msg, nowMs));
    }
  }
  const failure = replicaFailure(all, newRS, nowMs);
  if (failure) setCondition(st, failure);
  else removeCondition(st, "ReplicaFailure");
  return st;
}

/** The ReplicaFailure condition of the new ReplicaSet (else of any), as a Deployment condition. */
function replicaFailure(all: readonly ReplicaSet[], newRS: ReplicaSet | undefined, nowMs: number): DeploymentCondition | undefined {
  for (const rs of newRS ? [newRS, ...all] : all) {
    const c = rs.status?.conditions.find((x) => x.type === "ReplicaFailure" && x.status === "True");
    if (c) {
      const dc = newCondition("ReplicaFailure", c.status, c.reason, c.message, nowMs);
      if (c.lastTransitionTime) dc.lastTransitionTime = c.lastTransitionTime;
      return dc;
    }
  }
  return undefined;
}

/** When to look again for a progress deadline (ms), or undefined (Kubernetes' requeueStuckDeployment). */
export function stuckRecheckMs(d: Deployment, st: DeploymentStatus, nowMs: number): number | undefined {
  const deadline = progressDeadlineSeconds(d);
  const cur = getCondition(d.status, "Progressing");
  if (deadline === undefined || !cur) return undefined;
  if (deploymentComplete(d, st) || cur.reason === REASON.timedOut) return undefined;
  const after = ms(cur.lastUpdateTime) + deadline * 1000 - nowMs;
  return Math.max(0, after) + 1000;
}

/** Paused or resumed: the Progressing condition that says so (Kubernetes' checkPausedConditions). */
export function pausedCondition(d: Deployment, nowMs: number): DeploymentCondition | undefined {
  if (progressDeadlineSeconds(d) === undefined) return undefined;
  const c = getCondition(d.status, "Progressing");
  if (c?.reason === REASON.timedOut) return undefined;
  const pausedCond = c?.reason === REASON.paused;
  if (d.spec?.paused && !pausedCond) return newCondition("Progressing", "Unknown", REASON.paused, "Deployment is paused", nowMs);
  if (!d.spec?.paused && pausedCond) return newCondition("Progressing", "Unknown", REASON.resumed, "Deployment is resumed", nowMs);
  return undefined;
}

/** Old ReplicaSets beyond revisionHistoryLimit that are empty: to delete, lowest revision first. */
export function replicaSetsToCleanUp(d: Deployment, oldRSs: readonly ReplicaSet[]): ReplicaSet[] {
  const limit = d.spec?.revisionHistoryLimit ?? 10;
  const alive = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
  const diff = alive.length - limit;
  if (diff <= 0) return [];
  const sorted = [...alive].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  return sorted
    .slice(0, diff)
    .filter(
      (rs) =>
        (rs.status?.replicas ?? 0) === 0 &&
        rsReplicas(rs) === 0 &&
        (rs.metadata?.generation ?? 0n) <= (rs.status?.observedGeneration ?? 0n),
    );
}

export function statusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  return a !== undefined && equals(DeploymentStatusSchema, a, b);
}
