// Node selection for the DaemonSet controller, on @corral/apimachinery's matching (nodes.ts),
// which the scheduler uses too. Pure.
import type { Node, PodSpec } from "@corral/api";
import { compileTerms, matchesNodeSelector } from "@corral/apimachinery";

/** nodeSelector and required node affinity of a pod spec hold for the node. */
export function nodeMatchesPodSpec(spec: PodSpec | undefined, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  if (!matchesNodeSelector(spec?.nodeSelector ?? {}, labels)) return false;
  const req = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req && req.nodeSelectorTerms.length > 0) return compileTerms(req.nodeSelectorTerms)(labels, node.metadata?.name ?? "");
  return true;
}

export function nodeReadyStatus(node: Node): string {
  return node.status?.conditions.find((c) => c.type === "Ready")?.status ?? "Unknown";
}
