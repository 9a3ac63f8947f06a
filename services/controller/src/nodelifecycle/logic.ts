// Node lifecycle decisions (k8s.io/kubernetes/pkg/controller/nodelifecycle and the NoExecute taint
// eviction controller): a node silent for longer than its grace period is Unknown; a node's
// conditions become taints; a pod on a node with NoExecute taints is evicted once its tolerations
// run out. Pure.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { NodeConditionSchema, TaintSchema, type Node, type NodeCondition, type Pod, type Taint } from "@corral/api";
import {
  TAINT_NODE_DISK_PRESSURE,
  TAINT_NODE_MEMORY_PRESSURE,
  TAINT_NODE_NETWORK_UNAVAILABLE,
  TAINT_NODE_NOT_READY,
  TAINT_NODE_PID_PRESSURE,
  TAINT_NODE_UNREACHABLE,
  TAINT_NODE_UNSCHEDULABLE,
  toleratesTaint,
} from "@corral/apimachinery";

/** Conditions the node agent reports, set to Unknown when it goes silent. */
const AGENT_CONDITIONS = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/**
 * The node's conditions after it went silent: Ready and the pressure conditions Unknown, reason
 * NodeStatusUnknown ("Kubelet stopped posting node status."), or a Ready Unknown with
 * NodeStatusNeverUpdated for a node that never reported. Undefined when nothing changes.
 */
export function silentNodeConditions(node: Node, nowMs: number): NodeCondition[] | undefined {
  const conds = node.status?.conditions ?? [];
  const now = timestampFromMs(nowMs);
  let changed = false;
  const out = conds.map((c) => {
    if (!AGENT_CONDITIONS.includes(c.type) || c.status === "Unknown") return c;
    changed = true;
    return create(NodeConditionSchema, {
      type: c.type,
      status: "Unknown",
      reason: "NodeStatusUnknown",
      message: "Kubelet stopped posting node status.",
      lastHeartbeatTime: c.lastHeartbeatTime,
      lastTransitionTime: now,
    });
  });
  if (!conds.some((c) => c.type === "Ready")) {
    changed = true;
    out.push(
      create(NodeConditionSchema, {
        type: "Ready",
        status: "Unknown",
        reason: "NodeStatusNeverUpdated",
        message: "Kubelet never posted node status.",
        lastTransitionTime: now,
      }),
    );
  }
  return changed ? out : undefined;
}

export function readyStatus(node: Node): string | undefined {
  return node.status?.conditions.find((c) => c.type === "Ready")?.status;
}

const MANAGED: readonly { key: string; effect: string }[] = [
  { key: TAINT_NODE_NOT_READY, effect: "NoExecute" },
  { key: TAINT_NODE_NOT_READY, effect: "NoSchedule" },
  { key: TAINT_NODE_UNREACHABLE, effect: "NoExecute" },
  { key: TAINT_NODE_UNREACHABLE, effect: "NoSchedule" },
  { key: TAINT_NODE_MEMORY_PRESSURE, effect: "NoSchedule" },
  { key: TAINT_NODE_DISK_PRESSURE, effect: "NoSchedule" },
  { key: TAINT_NODE_PID_PRESSURE, effect: "NoSchedule" },
  { key: TAINT_NODE_NETWORK_UNAVAILABLE, effect: "NoSchedule" },
  { key: TAINT_NODE_UNSCHEDULABLE, effect: "NoSchedule" },
];

const isManaged = (t: { key: string; effect: string }) => MANAGED.some((m) => m.key === t.key && m.effect === t.effect);

/**
 * The taints a node should carry (Kubernetes' TaintNodesByCondition and NoExecute tainting): Ready
 * False gives not-ready, Ready Unknown gives unreachable (each NoSchedule and NoExecute); pressure
 * conditions and cordoning give their NoSchedule taints. Other taints are kept as they are, and a
 * taint that stays keeps its timeAdded. A node that has not reported Ready yet gets none.
 */
export function desiredTaints(node: Node, nowMs: number): Taint[] {
  const have = node.spec?.taints ?? [];
  const want: { key: string; effect: string }[] = [];
  const ready = readyStatus(node);
  if (ready === "False") want.push({ key: TAINT_NODE_NOT_READY, effect: "NoSchedule" }, { key: TAINT_NODE_NOT_READY, effect: "NoExecute" });
  if (ready === "Unknown") want.push({ key: TAINT_NODE_UNREACHABLE, effect: "NoSchedule" }, { key: TAINT_NODE_UNREACHABLE, effect: "NoExecute" });
  const cond = (t: string) => node.status?.conditions.find((c) => c.type === t)?.status === "True";
  if (cond("MemoryPressure")) want.push({ key: TAINT_NODE_MEMORY_PRESSURE, effect: "NoSchedule" });
  if (cond("DiskPressure")) want.push({ key: TAINT_NODE_DISK_PRESSURE, effect: "NoSchedule" });
  if (cond("PIDPressure")) want.push({ key: TAINT_NODE_PID_PRESSURE, effect: "NoSchedule" });
  if (cond("NetworkUnavailable")) want.push({ key: TAINT_NODE_NETWORK_UNAVAILABLE, effect: "NoSchedule" });
  if (node.spec?.unschedulable) want.push({ key: TAINT_NODE_UNSCHEDULABLE, effect: "NoSchedule" });
  const out = have.filter((t) => !isManaged(t) || want.some((w) => w.key === t.key && w.effect === t.effect));
  for (const w of want) {
    if (out.some((t) => t.key === w.key && t.effect === w.effect)) continue;
    out.push(create(TaintSchema, { key: w.key, effect: w.effect, timeAdded: w.effect === "NoExecute" ? timestampFromMs(nowMs) : undefined }));
  }
  return out;
}

export function sameTaints(a: readonly Taint[], b: readonly Taint[]): boolean {
  return a.length === b.length && a.every((t) => b.some((u) => u.key === t.key && u.value === t.value && u.effect === t.effect));
}

/**
 * When a pod on a node with these taints must be evicted (ms since the epoch): now or earlier for
 * a NoExecute taint it does not tolerate, taint.timeAdded + tolerationSeconds for one it tolerates
 * for a while, Infinity when it tolerates all of them for ever. A pod with no toleration for the
 * not-ready or unreachable taint tolerates it for `defaultTolerationSeconds` (what Kubernetes'
 * DefaultTolerationSeconds admission plugin gives every pod). `addedMs` says when a taint without
 * timeAdded was first seen.
 */
export function evictionTimeMs(pod: Pod, taints: readonly Taint[], defaultTolerationSeconds: number, addedMs: (t: Taint) => number): number {
  let deadline = Infinity;
  const tolerations = pod.spec?.tolerations ?? [];
  for (const t of taints) {
    if (t.effect !== "NoExecute") continue;
    const added = t.timeAdded ? timestampDate(t.timeAdded).getTime() : addedMs(t);
    const matching = tolerations.filter((tol) => toleratesTaint(tol, t));
    let seconds: number;
    if (matching.length === 0) {
      if (t.key !== TAINT_NODE_NOT_READY && t.key !== TAINT_NODE_UNREACHABLE) return -Infinity;
      seconds = defaultTolerationSeconds;
    } else {
      seconds = Infinity;
      for (const tol of matching) {
        if (tol.tolerationSeconds === undefined) continue;
        seconds = Math.min(seconds, Math.max(0, Number(tol.tolerationSeconds)));
      }
    }
    if (seconds !== Infinity) deadline = Math.min(deadline, added + seconds * 1000);
  }
  return deadline;
}
