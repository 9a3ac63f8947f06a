import { MAX_NODE_SCORE } from "../framework/types.js";

/**
 * Kubernetes' DefaultNormalizeScore: scales scores so the highest becomes 100; reversed, the
 * highest becomes 0 (for plugins where more is worse). All zero: 0, or 100 when reversed.
 */
export function defaultNormalize(scores: number[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) scores.fill(MAX_NODE_SCORE);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.floor((MAX_NODE_SCORE * scores[i]!) / max);
    scores[i] = reverse ? MAX_NODE_SCORE - s : s;
  }
}
