// SelectorSpread (score): spreads the pods of one owner (the controller in ownerReferences: a
// ReplicaSet, a StatefulSet, a Job) across nodes. A node with fewer of the owner's pods scores
// higher. The cache counts pods per owner per node, so a score is one map lookup.
import type { NodeInfo } from "../framework/node-info.js";
import { SKIP, MAX_NODE_SCORE, type Plugin } from "../framework/types.js";

export const NAME = "SelectorSpread";

export function ownerPodCount(ownerId: number, node: NodeInfo): number {
  return node.ownerCounts.get(ownerId) ?? 0;
}

/** Fewest owner pods → 100, most → 0 (scaled by the most any feasible node has). */
export function normalizeSpread(scores: number[]): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  for (let i = 0; i < scores.length; i++) {
    scores[i] = max === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (max - scores[i]!)) / max);
  }
}

export function selectorSpread(): Plugin {
  return {
    name: NAME,
    preScore: (_s, pod) => (pod.ownerId ? undefined : SKIP),
    score: (_s, pod, node) => ownerPodCount(pod.ownerId, node),
    normalizeScore: (_s, _p, scores) => normalizeSpread(scores),
  };
}
