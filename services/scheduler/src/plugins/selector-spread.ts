// SelectorSpread (score): spreads the pods of one owner (the controller in ownerReferences: a
// ReplicaSet, a StatefulSet, a Job) across nodes. A node with fewer of the owner's pods scores
// higher. The cache counts pods per owner per node (node-table.ts), so a score is one lookup in the
// owner's small map.
import type { NodeInfo } from "../framework/node-info.js";
import { ownerCounts } from "../framework/node-table.js";
import { SKIP, MAX_NODE_SCORE, type Plugin } from "../framework/types.js";

export const NAME = "SelectorSpread";

export function ownerPodCount(ownerId: number, node: NodeInfo): number {
  return ownerCounts(ownerId).get(node.slot) ?? 0;
}

const STATE_KEY = "SelectorSpread/counts";

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
    preScore(state, pod) {
      if (!pod.ownerId) return SKIP;
      state.write(STATE_KEY, ownerCounts(pod.ownerId));
    },
    score: (state, pod, node) => state.read<ReadonlyMap<number, number>>(STATE_KEY)?.get(node.slot) ?? ownerPodCount(pod.ownerId, node),
    normalizeScore: (_s, _p, scores) => normalizeSpread(scores),
  };
}
