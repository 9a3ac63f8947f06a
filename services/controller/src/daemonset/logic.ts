// The DaemonSet controller's decisions (k8s.io/kubernetes/pkg/controller/daemon): which nodes should
// run a daemon pod, what to create and delete so each runs exactly one, the rolling update
// (maxUnavailable, or maxSurge), and the status. Pure.
import { clone, create } from "@bufbuild/protobuf";
import {
  AffinitySchema,
  DaemonSetStatusSchema,
  NodeAffinitySchema,
  NodeSelectorRequirementSchema,
  NodeSelectorSchema,
  NodeSelectorTermSchema,
  PodSpecSchema,
  TolerationSchema,
  type DaemonSet,
  type DaemonSetStatus,
  type Node,
  type Pod,
  type PodSpec,
  type Toleration,
} from "@corral/api";
import { scaledValue } from "../shared/intstr.js";
import { byCreation } from "../shared/meta.js";
import { isAvailable, isReady } from "../shared/pods.js";
import {
  TAINT_NODE_DISK_PRESSURE,
  TAINT_NODE_MEMORY_PRESSURE,
  TAINT_NODE_NETWORK_UNAVAILABLE,
  TAINT_NODE_NOT_READY,
  TAINT_NODE_PID_PRESSURE,
  TAINT_NODE_UNREACHABLE,
  TAINT_NODE_UNSCHEDULABLE,
  untoleratedTaints,
} from "@corral/apimachinery";
import { nodeMatchesPodSpec } from "../shared/scheduling.js";

export const REVISION_HASH = "controller-revision-hash";

/** Tolerations every daemon pod gets (Kubernetes' AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(spec: PodSpec | undefined): Toleration[] {
  const add: { key: string; effect: string }[] = [
    { key: TAINT_NODE_NOT_READY, effect: "NoExecute" },
    { key: TAINT_NODE_UNREACHABLE, effect: "NoExecute" },
    { key: TAINT_NODE_DISK_PRESSURE, effect: "NoSchedule" },
    { key: TAINT_NODE_MEMORY_PRESSURE, effect: "NoSchedule" },
    { key: TAINT_NODE_PID_PRESSURE, effect: "NoSchedule" },
    { key: TAINT_NODE_UNSCHEDULABLE, effect: "NoSchedule" },
  ];
  if (spec?.hostNetwork) add.push({ key: TAINT_NODE_NETWORK_UNAVAILABLE, effect: "NoSchedule" });
  const out = [...(spec?.tolerations ?? [])].map((t) => clone(TolerationSchema, t));
  for (const a of add) {
    const i = out.findIndex((t) => t.key === a.key && t.effect === a.effect);
    const t = create(TolerationSchema, { key: a.key, operator: "Exists", effect: a.effect });
    if (i >= 0) out[i] = t;
    else out.push(t);
  }
  return out;
}

/**
 * Kubernetes' NodeShouldRunDaemonPod: the node fits the template's nodeSelector, node affinity and
 * nodeName, and its taints are tolerated (with the daemon tolerations). A NoSchedule taint that is
 * not tolerated keeps new pods off but lets a running one stay; NoExecute removes it.
 */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = ds.spec?.template?.spec;
  if (spec?.nodeName && spec.nodeName !== node.metadata?.name) return { shouldRun: false, shouldContinueRunning: false };
  if (node.metadata?.deletionTimestamp) return { shouldRun: false, shouldContinueRunning: false };
  if (!nodeMatchesPodSpec(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = daemonTolerations(spec);
  const taints = node.spec?.taints ?? [];
  if (untoleratedTaints(taints, tolerations, ["NoExecute"]).length > 0) return { shouldRun: false, shouldContinueRunning: false };
  if (untoleratedTaints(taints, tolerations, ["NoSchedule"]).length > 0) return { shouldRun: false, shouldContinueRunning: true };
  return { shouldRun: true, shouldContinueRunning: true };
}

/** The daemon pod's spec for one node: pinned there by node affinity (the scheduler binds it). */
export function daemonPodSpec(ds: DaemonSet, nodeName: string): PodSpec {
  const spec = ds.spec?.template?.spec ? clone(PodSpecSchema, ds.spec.template.spec) : create(PodSpecSchema, {});
  spec.tolerations = daemonTolerations(spec);
  const field = () => create(NodeSelectorRequirementSchema, { key: "metadata.name", operator: "In", values: [nodeName] });
  spec.affinity ??= create(AffinitySchema, {});
  spec.affinity.nodeAffinity ??= create(NodeAffinitySchema, {});
  const na = spec.affinity.nodeAffinity;
  na.requiredDuringSchedulingIgnoredDuringExecution ??= create(NodeSelectorSchema, {});
  const req = na.requiredDuringSchedulingIgnoredDuringExecution;
  if (req.nodeSelectorTerms.length === 0) req.nodeSelectorTerms = [create(NodeSelectorTermSchema, { matchFields: [field()] })];
  else for (const t of req.nodeSelectorTerms) t.matchFields = [field()];
  return spec;
}

/** The node a daemon pod is for: where it is bound, else the node its affinity names. */
export function targetNode(p: Pod): string | undefined {
  if (p.spec?.nodeName) return p.spec.nodeName;
  for (const t of p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of t.matchFields) if (f.key === "metadata.name" && f.operator === "In" && f.values.length === 1) return f.values[0];
  }
  return undefined;
}

export interface DaemonPlan {
  /** Nodes to create a daemon pod on. */
  create: string[];
  delete: Pod[];
  /** Look again after this long (minReadySeconds). */
  recheckMs?: number;
}

const ordered = (pods: readonly Pod[]) => [...pods].sort(byCreation);
const isFinished = (p: Pod) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded";

/**
 * One pod per node that should run one (Kubernetes' manage/podsShouldBeOnNode): create where none
 * is, delete finished ones, extra ones (all but the oldest; with surge, an old and a new may
 * overlap), and those on nodes that should not run one.
 */
export function planManage(ds: DaemonSet, nodes: readonly Node[], podsByNode: ReadonlyMap<string, Pod[]>, hash: string, nowMs: number): DaemonPlan {
  const plan: DaemonPlan = { create: [], delete: [] };
  const surge = allowsSurge(ds, nodes);
  for (const node of nodes) {
    const name = node.metadata!.name;
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const pods = podsByNode.get(name) ?? [];
    if (shouldRun && pods.length === 0) {
      plan.create.push(name);
      continue;
    }
    if (!shouldContinueRunning) {
      plan.delete.push(...pods.filter((p) => !p.metadata?.deletionTimestamp));
      continue;
    }
    const running: Pod[] = [];
    for (const p of pods) {
      if (p.metadata?.deletionTimestamp) continue;
      if (p.status?.phase === "Failed" || p.status?.phase === "Succeeded") plan.delete.push(p);
      else running.push(p);
    }
    if (running.length <= 1) continue;
    const sorted = ordered(running);
    if (!surge) {
      plan.delete.push(...sorted.slice(1));
      continue;
    }
    let oldestNew: Pod | undefined;
    let oldestOld: Pod | undefined;
    for (const p of sorted) {
      if (p.metadata?.labels[REVISION_HASH] === hash) {
        if (!oldestNew) {
          oldestNew = p;
          continue;
        }
      } else if (!oldestOld) {
        oldestOld = p;
        continue;
      }
      plan.delete.push(p);
    }
    if (oldestNew && oldestOld && (!isReady(oldestOld) || isAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, nowMs))) plan.delete.push(oldestOld);
  }
  return plan;
}

function desiredCount(ds: DaemonSet, nodes: readonly Node[]): number {
  return nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun).length;
}

/** maxSurge and maxUnavailable as numbers of nodes (both rounded up; never both 0). */
export function rollingLimits(ds: DaemonSet, nodes: readonly Node[]): { surge: number; unavailable: number } {
  const desired = desiredCount(ds, nodes);
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  const surge = scaledValue(ru?.maxSurge, desired, true, 0);
  let unavailable = scaledValue(ru?.maxUnavailable, desired, true, 1);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function allowsSurge(ds: DaemonSet, nodes: readonly Node[]): boolean {
  return (ds.spec?.updateStrategy?.type || "RollingUpdate") === "RollingUpdate" && rollingLimits(ds, nodes).surge > 0;
}

/** The new (current hash) and old pod on a node; ok=false when there are several of either. */
function updatedPodsOnNode(pods: readonly Pod[], hash: string): { newPod?: Pod; oldPod?: Pod; ok: boolean } {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    if (p.metadata?.labels[REVISION_HASH] === hash) {
      if (newPod) return { ok: false };
      newPod = p;
    } else {
      if (oldPod) return { ok: false };
      oldPod = p;
    }
  }
  return { newPod, oldPod, ok: true };
}

/**
 * The rolling update (Kubernetes' rollingUpdate). Without surge: delete old pods, unavailable ones
 * first, while at most maxUnavailable nodes lack an available pod (the manage pass then creates
 * the new pods). With surge: start a new pod beside an old one on up to maxSurge nodes, and
 * delete the old one once the new one is available.
 */
export function planRollingUpdate(ds: DaemonSet, nodes: readonly Node[], podsByNode: ReadonlyMap<string, Pod[]>, hash: string, nowMs: number): DaemonPlan {
  const plan: DaemonPlan = { create: [], delete: [] };
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const available = (p: Pod) => isAvailable(p, minReady, nowMs);
  const { surge, unavailable: maxUnavailable } = rollingLimits(ds, nodes);
  const nodeByName = new Map(nodes.map((n) => [n.metadata!.name, n]));
  // Nodes with a daemon pod, a terminating one included (Kubernetes leaves out only pods both
  // finished and deleted): a node whose old pod is on its way out counts as unavailable.
  const live = [...podsByNode].filter(([, pods]) => pods.some((p) => !(isFinished(p) && p.metadata?.deletionTimestamp)));
  if (surge === 0) {
    let numUnavailable = 0;
    const replace: Pod[] = [];
    const candidates: Pod[] = [];
    for (const [, pods] of live) {
      const { newPod, oldPod, ok } = updatedPodsOnNode(pods, hash);
      if (!ok || (!oldPod && !newPod) || (oldPod && newPod)) {
        numUnavailable++;
        continue;
      }
      if (newPod) {
        if (!available(newPod)) numUnavailable++;
        continue;
      }
      if (!available(oldPod!)) {
        replace.push(oldPod!);
        numUnavailable++;
      } else if (numUnavailable < maxUnavailable) candidates.push(oldPod!);
    }
    const remaining = Math.min(Math.max(0, maxUnavailable - numUnavailable), candidates.length);
    plan.delete = [...replace, ...ordered(candidates).slice(0, remaining)];
    return plan;
  }
  let numSurge = 0;
  let numAvailable = 0;
  const allowedNew: string[] = [];
  const candidateNew: string[] = [];
  const shouldNotRun: Pod[] = [];
  for (const [nodeName, pods] of live) {
    const { newPod, oldPod, ok } = updatedPodsOnNode(pods, hash);
    if (!ok) {
      numSurge++;
      continue;
    }
    if (oldPod ? available(oldPod) : newPod ? available(newPod) : false) numAvailable++;
    if (!oldPod) continue;
    const node = nodeByName.get(nodeName);
    const shouldRun = node ? nodeShouldRunDaemonPod(node, ds).shouldRun : false;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRun) plan.delete.push(oldPod);
        else allowedNew.push(nodeName);
      } else if (!shouldRun) shouldNotRun.push(oldPod);
      else if (numSurge < surge) candidateNew.push(nodeName);
      continue;
    }
    if (!available(newPod)) {
      numSurge++;
      continue;
    }
    plan.delete.push(oldPod);
  }
  const deletable = Math.min(Math.max(0, numAvailable - desiredCount(ds, nodes)), shouldNotRun.length);
  plan.delete.push(...shouldNotRun.slice(0, deletable));
  const remainingSurge = Math.min(Math.max(0, surge - numSurge), candidateNew.length);
  plan.create = [...allowedNew, ...candidateNew.slice(0, remainingSurge)];
  return plan;
}

/** The DaemonSet's status over the nodes and their daemon pods (Kubernetes' updateDaemonSetStatus). */
export function daemonSetStatus(ds: DaemonSet, nodes: readonly Node[], podsByNode: ReadonlyMap<string, Pod[]>, hash: string, nowMs: number): DaemonSetStatus {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  for (const node of nodes) {
    const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
    const pods = ordered((podsByNode.get(node.metadata!.name) ?? []).filter((p) => !(isFinished(p) && p.metadata?.deletionTimestamp)));
    const scheduled = pods.length > 0;
    if (!shouldRun) {
      if (scheduled) misscheduled++;
      continue;
    }
    desired++;
    if (!scheduled) continue;
    current++;
    const p = pods[0]!;
    if (isReady(p)) {
      ready++;
      if (isAvailable(p, minReady, nowMs)) available++;
    }
    if (p.metadata?.labels[REVISION_HASH] === hash) updated++;
  }
  return create(DaemonSetStatusSchema, {
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
    observedGeneration: ds.metadata?.generation ?? 0n,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    numberUnavailable: Math.max(0, desired - available),
    conditions: [...(ds.status?.conditions ?? [])],
  });
}
