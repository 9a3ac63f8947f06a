// The StatefulSet controller's decisions (k8s.io/kubernetes/pkg/controller/statefulset): pods with
// a stable name and ordinal (<set>-0, <set>-1, ...), created in order and each only once the ones
// before it are Running and Ready (OrderedReady; Parallel does not wait), removed from the
// highest ordinal down, and updated from the highest ordinal down to the partition, one pod at a
// time. Each pod keeps its identity: hostname, the governing Service as subdomain (so a headless
// Service gives it <pod>.<service> in DNS) and one volume per claim template, named after it.
// Pure.
import { clone, create } from "@bufbuild/protobuf";
import {
  ObjectMetaSchema,
  PodSchema,
  PodSpecSchema,
  StatefulSetStatusSchema,
  VolumeSchema,
  type OwnerReference,
  type Pod,
  type StatefulSet,
  type StatefulSetStatus,
} from "@corral/api";
import { scaledValue } from "../shared/intstr.js";
import { isAvailable, isReady } from "../shared/pods.js";

export const REVISION_LABEL = "controller-revision-hash";
export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

/** The pod's ordinal, or -1 when its name is not <set>-<n>. */
export function ordinalOf(setName: string, pod: Pod): number {
  const name = pod.metadata?.name ?? "";
  if (!name.startsWith(`${setName}-`)) return -1;
  const rest = name.slice(setName.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : -1;
}

export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata!.name}-${ordinal}`;
}

/** The claim a pod's volume of claim template `template` uses: <template>-<set>-<ordinal>. */
export function claimName(template: string, set: StatefulSet, ordinal: number): string {
  return `${template}-${podName(set, ordinal)}`;
}

/** The revision a pod was made from (its controller-revision-hash label). */
export function revisionOf(pod: Pod): string {
  return pod.metadata?.labels[REVISION_LABEL] ?? "";
}

const terminating = (p: Pod) => p.metadata?.deletionTimestamp !== undefined;
const finished = (p: Pod) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded";
const healthy = (p: Pod, minReadySeconds: number, now: number) =>
  !terminating(p) && p.status?.phase === "Running" && isReady(p) && isAvailable(p, minReadySeconds, now);

export interface StatefulPlan {
  /** Ordinals to create. */
  create: number[];
  /** Pods to delete: finished ones (to be made again), ones beyond replicas, ones to update. */
  delete: Pod[];
}

/** The pod for ordinal `i` at the update revision. */
export function newStatefulPod(set: StatefulSet, i: number, revision: string, owner: OwnerReference): Pod {
  const m = set.metadata!;
  const name = podName(set, i);
  const tm = set.spec?.template?.metadata;
  const spec = set.spec?.template?.spec ? clone(PodSpecSchema, set.spec.template.spec) : create(PodSpecSchema, {});
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const vname = t.metadata?.name ?? "";
    const volume = create(VolumeSchema, { name: vname, persistentVolumeClaim: { claimName: claimName(vname, set, i) } });
    const at = spec.volumes.findIndex((v) => v.name === vname);
    if (at >= 0) spec.volumes[at] = volume;
    else spec.volumes.push(volume);
  }
  return create(PodSchema, {
    metadata: create(ObjectMetaSchema, {
      name,
      namespace: m.namespace,
      labels: { ...(tm?.labels ?? {}), [REVISION_LABEL]: revision, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(i) },
      annotations: { ...(tm?.annotations ?? {}) },
      ownerReferences: [owner],
    }),
    spec,
  });
}

/**
 * What to do now (Kubernetes' updateStatefulSet): fill the ordinals below replicas, replacing
 * finished pods; then remove pods beyond replicas, highest first; then roll pods at another
 * revision over to `updateRevision`, highest ordinal first, down to the partition. OrderedReady
 * does one step at a time and waits until every pod before it is Running and Ready; Parallel
 * creates and removes all at once. A rolling update never takes down a pod while another is
 * unavailable (maxUnavailable, 1 by default).
 */
export function planStatefulSet(set: StatefulSet, pods: readonly Pod[], updateRevision: string, now: number): StatefulPlan {
  const name = set.metadata!.name;
  const replicas = set.spec?.replicas ?? 1;
  const parallel = set.spec?.podManagementPolicy === "Parallel";
  const minReady = set.spec?.minReadySeconds ?? 0;
  const slots: (Pod | undefined)[] = Array.from({ length: replicas }, () => undefined);
  const condemned: Pod[] = [];
  for (const p of pods) {
    const i = ordinalOf(name, p);
    if (i >= 0 && i < replicas) slots[i] = p;
    else condemned.push(p);
  }
  condemned.sort((a, b) => ordinalOf(name, b) - ordinalOf(name, a));
  const plan: StatefulPlan = { create: [], delete: [] };

  for (let i = 0; i < replicas; i++) {
    const p = slots[i];
    if (!p) {
      plan.create.push(i);
      if (!parallel) return plan;
    } else if (finished(p) && !terminating(p)) {
      plan.delete.push(p);
      if (!parallel) return plan;
    } else if (!parallel && !healthy(p, minReady, now)) {
      return plan; // wait for it
    }
  }

  for (const p of condemned) {
    if (!terminating(p)) plan.delete.push(p);
    if (!parallel) return plan; // one at a time, each gone before the next
  }
  if (plan.create.length > 0 || plan.delete.length > 0) return plan;

  if (set.spec?.updateStrategy?.type === "OnDelete") return plan;
  const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  const maxUnavailable = Math.max(1, scaledValue(set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, replicas, false, 1));
  let unavailable = slots.filter((p) => !p || !healthy(p, minReady, now)).length;
  for (let i = replicas - 1; i >= partition && unavailable < maxUnavailable; i--) {
    const p = slots[i]!;
    if (revisionOf(p) === updateRevision || terminating(p)) continue;
    plan.delete.push(p);
    if (healthy(p, minReady, now)) unavailable++;
  }
  return plan;
}

/** The status for the pods as they are now. */
export function statefulSetStatus(set: StatefulSet, pods: readonly Pod[], updateRevision: string, now: number): StatefulSetStatus {
  const replicas = set.spec?.replicas ?? 1;
  const minReady = set.spec?.minReadySeconds ?? 0;
  const live = pods.filter((p) => !terminating(p));
  const prev = set.status;
  let currentRevision = prev?.currentRevision || updateRevision;
  const updated = live.filter((p) => revisionOf(p) === updateRevision).length;
  const ready = live.filter((p) => p.status?.phase === "Running" && isReady(p)).length;
  // The update is complete once every replica runs the new revision and is ready.
  if (updated === replicas && ready === replicas && live.length === replicas) currentRevision = updateRevision;
  return create(StatefulSetStatusSchema, {
    observedGeneration: set.metadata?.generation ?? 0n,
    replicas: live.length,
    readyReplicas: ready,
    availableReplicas: live.filter((p) => healthy(p, minReady, now)).length,
    currentReplicas: live.filter((p) => revisionOf(p) === currentRevision).length,
    updatedReplicas: updated,
    currentRevision,
    updateRevision,
    collisionCount: prev?.collisionCount,
    conditions: prev?.conditions ?? [],
  });
}
