// The ReplicaSet controller's decisions (k8s.io/kubernetes/pkg/controller/replicaset). Pure.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ConditionSchema, ReplicaSetStatusSchema, type Pod, type ReplicaSet, type ReplicaSetStatus } from "@corral/api";
import { removeCondition, setCondition } from "../shared/conditions.js";
import { availabilityRecheckMs as podsRecheckMs, isAvailable, isReady, podsToDelete } from "../shared/pods.js";

/** At most this many pods are created or deleted in one reconcile (Kubernetes' burstReplicas). */
export const BURST_REPLICAS = 500;

export function desiredReplicas(rs: ReplicaSet): number {
  return rs.spec?.replicas ?? 1;
}

export interface ReplicaPlan {
  create: number;
  delete: Pod[];
}

/** How many pods to create, or which to delete, so that `active` pods become `replicas`. */
export function planReplicas(replicas: number, active: readonly Pod[], burst = BURST_REPLICAS): ReplicaPlan {
  const diff = active.length - replicas;
  if (diff < 0) return { create: Math.min(-diff, burst), delete: [] };
  if (diff > 0) return { create: 0, delete: podsToDelete(active, Math.min(diff, burst)) };
  return { create: 0, delete: [] };
}

/** Whether every label of the template is on the pod (status.fullyLabeledReplicas). */
function fullyLabeled(rs: ReplicaSet, p: Pod): boolean {
  const want = rs.spec?.template?.metadata?.labels ?? {};
  const have = p.metadata?.labels ?? {};
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

/**
 * The status a ReplicaSet reports for its active pods. `manageError` (with the direction of the
 * change that failed) becomes the ReplicaFailure condition; none removes it.
 */
export function replicaSetStatus(
  rs: ReplicaSet,
  active: readonly Pod[],
  nowMs: number,
  manageError?: { message: string; creating: boolean },
): ReplicaSetStatus {
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const st = create(ReplicaSetStatusSchema, {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => fullyLabeled(rs, p)).length,
    readyReplicas: active.filter(isReady).length,
    availableReplicas: active.filter((p) => isAvailable(p, minReady, nowMs)).length,
    observedGeneration: rs.metadata?.generation ?? 0n,
  });
  let conds = [...(rs.status?.conditions ?? [])];
  if (manageError) {
    conds = setCondition(
      conds,
      create(ConditionSchema, {
        type: "ReplicaFailure",
        status: "True",
        reason: manageError.creating ? "FailedCreate" : "FailedDelete",
        message: manageError.message,
        lastTransitionTime: timestampFromMs(nowMs),
      }),
    );
  } else {
    conds = removeCondition(conds, "ReplicaFailure");
  }
  st.conditions = conds;
  return st;
}

/** When to look again so that a ready pod is reported available after minReadySeconds. */
export function availabilityRecheckMs(rs: ReplicaSet, active: readonly Pod[], nowMs: number): number | undefined {
  return podsRecheckMs(active, rs.spec?.minReadySeconds ?? 0, nowMs);
}
