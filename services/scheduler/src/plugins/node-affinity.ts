// NodeAffinity. Filter: the pod's nodeSelector and required node affinity match the node's labels.
// Score: the sum of the weights of the preferred terms the node matches, scaled to 0-100.
import type { Pod } from "@corral/api";
import type { NodeInfo } from "../framework/node-info.js";
import { SKIP, type Plugin } from "../framework/types.js";
import { compileTerm, compileTerms, matchesNodeSelector, type NodePredicate } from "@corral/apimachinery";
import { defaultNormalize } from "./normalize.js";

export const NAME = "NodeAffinity";
export const REASON = "node(s) didn't match Pod's node affinity/selector";

/** The pod's hard node constraints as one predicate, or undefined when it has none. */
export function requiredNodePredicate(pod: Pod): NodePredicate | undefined {
  const selector = pod.spec?.nodeSelector ?? {};
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const hasSelector = Object.keys(selector).length > 0;
  if (!hasSelector && !required) return undefined;
  const terms = required ? compileTerms(required.nodeSelectorTerms) : undefined;
  return (labels, name) => (!hasSelector || matchesNodeSelector(selector, labels)) && (!terms || terms(labels, name));
}

export function fitsNodeAffinity(pod: Pod, node: NodeInfo): boolean {
  const p = requiredNodePredicate(pod);
  return !p || p(node.labels, node.name);
}

export interface WeightedPredicate {
  weight: number;
  matches: NodePredicate;
}

export function preferredTerms(pod: Pod): WeightedPredicate[] {
  const prefs = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  return prefs.filter((p) => p.weight !== 0 && p.preference).map((p) => ({ weight: p.weight, matches: compileTerm(p.preference!) }));
}

/** The raw preferred-affinity score of a node: the sum of the weights of the terms it matches. */
export function preferredScore(terms: readonly WeightedPredicate[], node: NodeInfo): number {
  let s = 0;
  for (const t of terms) if (t.matches(node.labels, node.name)) s += t.weight;
  return s;
}

const REQUIRED = "NodeAffinity/required";
const PREFERRED = "NodeAffinity/preferred";

export function nodeAffinity(): Plugin {
  return {
    name: NAME,
    preFilter(state, pod) {
      const p = requiredNodePredicate(pod.pod);
      if (!p) return SKIP;
      state.write(REQUIRED, p);
    },
    filter: (state, _pod, node) => (state.read<NodePredicate>(REQUIRED)!(node.labels, node.name) ? undefined : REASON),
    preScore(state, pod) {
      const terms = preferredTerms(pod.pod);
      if (terms.length === 0) return SKIP;
      state.write(PREFERRED, terms);
    },
    score: (state, _pod, node) => preferredScore(state.read<WeightedPredicate[]>(PREFERRED)!, node),
    normalizeScore: (_s, _p, scores) => defaultNormalize(scores, false),
    events: ["NodeAdd", "NodeUpdate"],
  };
}
