// Taints, tolerations and node selectors as Kubernetes matches them
// (k8s.io/component-helpers/scheduling/corev1): the scheduler filters with these, and the
// DaemonSet and taint eviction controllers decide with them. Pure.
import type { NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration } from "@corral/api";

export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_NODE_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_NODE_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_NODE_PID_PRESSURE = "node.kubernetes.io/pid-pressure";
export const TAINT_NODE_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";

type TaintLike = { key: string; value?: string; effect: string };

/**
 * Whether a toleration tolerates a taint: the effect matches (or the toleration names none), the
 * key matches (or the toleration names none, with Exists), and the value matches for Equal.
 */
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
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint with one of `effects` that no toleration tolerates, if any. */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): Taint | undefined {
  for (const taint of taints) {
    if (effects.includes(taint.effect) && !tolerated(tolerations, taint)) return taint;
  }
  return undefined;
}

/** Every taint with one of `effects` that no toleration tolerates. */
export function untoleratedTaints(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): Taint[] {
  return taints.filter((t) => effects.includes(t.effect) && !tolerated(tolerations, t));
}

// Node selector terms (node affinity) compiled into predicates over a node's labels and name.

export type NodePredicate = (labels: Readonly<Record<string, string>>, name: string) => boolean;

const NOTHING: NodePredicate = () => false;

function parseInteger(s: string): number | undefined {
  return /^-?\d+$/.test(s) ? Number(s) : undefined;
}

/** One requirement on a label (matchExpressions) or a field (matchFields: metadata.name only). */
export function compileRequirement(r: NodeSelectorRequirement, field: boolean): NodePredicate {
  const get = field
    ? r.key === "metadata.name"
      ? (_l: Readonly<Record<string, string>>, name: string) => name
      : undefined
    : (l: Readonly<Record<string, string>>) => (Object.prototype.hasOwnProperty.call(l, r.key) ? l[r.key] : undefined);
  if (!get) return NOTHING;
  const values = new Set(r.values);
  switch (r.operator) {
    case "In":
      return (l, n) => {
        const v = get(l, n);
        return v !== undefined && values.has(v);
      };
    case "NotIn":
      return (l, n) => {
        const v = get(l, n);
        return v === undefined || !values.has(v);
      };
    case "Exists":
      return field ? NOTHING : (l, n) => get(l, n) !== undefined;
    case "DoesNotExist":
      return field ? NOTHING : (l, n) => get(l, n) === undefined;
    case "Gt":
    case "Lt": {
      const bound = r.values.length === 1 ? parseInteger(r.values[0]!) : undefined;
      if (field || bound === undefined) return NOTHING;
      const gt = r.operator === "Gt";
      return (l, n) => {
        const v = get(l, n);
        const x = v === undefined ? undefined : parseInteger(v);
        return x !== undefined && (gt ? x > bound : x < bound);
      };
    }
    default:
      return NOTHING;
  }
}

/** A term: all its requirements hold. A term with no requirements matches no node (Kubernetes). */
export function compileTerm(t: NodeSelectorTerm): NodePredicate {
  const preds = [
    ...t.matchExpressions.map((r) => compileRequirement(r, false)),
    ...t.matchFields.map((r) => compileRequirement(r, true)),
  ];
  if (preds.length === 0) return NOTHING;
  return (l, n) => preds.every((p) => p(l, n));
}

/** Terms are ORed: the node matches if any term does. No terms match no node. */
export function compileTerms(terms: readonly NodeSelectorTerm[]): NodePredicate {
  const preds = terms.map(compileTerm);
  return (l, n) => preds.some((p) => p(l, n));
}

/** A nodeSelector map: every label present with that value. */
export function matchesNodeSelector(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}
