// Taints and tolerations, as Kubernetes matches them (k8s.io/api/core/v1 ToleratesTaint).
import type { Taint, Toleration } from "@corral/api";

export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";

/**
 * Whether a toleration tolerates a taint: the effect matches (or the toleration names none), the
 * key matches (or the toleration names none, with Exists), and the value matches for Equal.
 */
export function toleratesTaint(t: Toleration, taint: { key: string; value?: string; effect: string }): boolean {
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

export function tolerated(tolerations: readonly Toleration[], taint: { key: string; value?: string; effect: string }): boolean {
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint with one of `effects` that no toleration tolerates, if any. */
export function findUntoleratedTaint(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
  effects: readonly string[],
): Taint | undefined {
  for (const taint of taints) {
    if (!effects.includes(taint.effect)) continue;
    if (!tolerated(tolerations, taint)) return taint;
  }
  return undefined;
}

/** How a taint is shown in a FailedScheduling message, as Kubernetes shows it: {key: value}. */
export function formatTaint(t: Taint): string {
  return `{${t.key}: ${t.value}}`;
}
