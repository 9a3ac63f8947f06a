// Taints, tolerations and node selection as Kubernetes matches them (the DaemonSet controller and
// the taint eviction controller decide with these; the scheduler has its own copy). Pure.
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, Taint, Toleration } from "@corral/api";

export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure";
export const TAINT_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";

type TaintLike = Pick<Taint, "key" | "value" | "effect">;

export function toleratesTaint(t: Toleration, taint: TaintLike): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator) {
    case "":
    case "Equal":
      return t.value === (taint.value ?? "");
    case "Exists":
      return true;
    default:
      return false;
  }
}

export function tolerated(tolerations: readonly Toleration[], taint: TaintLike): boolean {
  return tolerations.some((t) => toleratesTaint(t, taint));
}

/** Taints with one of `effects` that no toleration tolerates. */
export function untoleratedTaints(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): Taint[] {
  return taints.filter((t) => effects.includes(t.effect) && !tolerated(tolerations, t));
}

function matchRequirement(r: NodeSelectorRequirement, labels: Readonly<Record<string, string>>, name: string, field: boolean): boolean {
  let v: string | undefined;
  if (field) {
    if (r.key !== "metadata.name") return false;
    v = name;
  } else v = Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined;
  switch (r.operator) {
    case "In":
      return v !== undefined && r.values.includes(v);
    case "NotIn":
      return v === undefined || !r.values.includes(v);
    case "Exists":
      return !field && v !== undefined;
    case "DoesNotExist":
      return !field && v === undefined;
    case "Gt":
    case "Lt": {
      if (field || v === undefined || r.values.length !== 1 || !/^-?\d+$/.test(v) || !/^-?\d+$/.test(r.values[0]!)) return false;
      return r.operator === "Gt" ? Number(v) > Number(r.values[0]) : Number(v) < Number(r.values[0]);
    }
    default:
      return false;
  }
}

/** A term matches when all its requirements do; a term without requirements matches nothing. */
export function matchesTerm(t: NodeSelectorTerm, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  const name = node.metadata?.name ?? "";
  if (t.matchExpressions.length === 0 && t.matchFields.length === 0) return false;
  return t.matchExpressions.every((r) => matchRequirement(r, labels, name, false)) && t.matchFields.every((r) => matchRequirement(r, labels, name, true));
}

/** nodeSelector and required node affinity of a pod spec hold for the node. */
export function nodeMatchesPodSpec(spec: PodSpec | undefined, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const req = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req && req.nodeSelectorTerms.length > 0) return req.nodeSelectorTerms.some((t) => matchesTerm(t, node));
  return true;
}

export function nodeReadyStatus(node: Node): string {
  return node.status?.conditions.find((c) => c.type === "Ready")?.status ?? "Unknown";
}
