// TaintToleration. Filter: every NoSchedule and NoExecute taint of the node is tolerated.
// Score: fewer untolerated PreferNoSchedule taints is better.
import type { Toleration } from "@corral/api";
import type { NodeInfo } from "../framework/node-info.js";
import type { PodInfo } from "../framework/pod-info.js";
import { SKIP, type Plugin } from "../framework/types.js";
import { defaultNormalize } from "./normalize.js";
import { findUntoleratedTaint, tolerated } from "@corral/apimachinery";
import { formatTaint } from "./taints.js";

export const NAME = "TaintToleration";
const FILTER_EFFECTS = ["NoSchedule", "NoExecute"];

/** The FailedScheduling reason for the node, or undefined when the pod tolerates its taints. */
export function untoleratedTaintReason(pod: PodInfo, node: NodeInfo): string | undefined {
  if (node.taints.length === 0) return undefined;
  const t = findUntoleratedTaint(node.taints, pod.pod.spec?.tolerations ?? [], FILTER_EFFECTS);
  return t ? `node(s) had untolerated taint ${formatTaint(t)}` : undefined;
}

/** How many PreferNoSchedule taints of the node the pod does not tolerate. */
export function intolerablePreferNoScheduleCount(tolerations: readonly Toleration[], node: NodeInfo): number {
  let n = 0;
  for (const t of node.taints) if (t.effect === "PreferNoSchedule" && !tolerated(tolerations, t)) n++;
  return n;
}

const STATE_KEY = "TaintToleration/preferTolerations";
const MEMO_KEY = "TaintToleration/byTaintClass";

export function taintToleration(): Plugin {
  return {
    name: NAME,
    // Nodes share a few sets of taints (taintClass): the answer is worked out once per set per pod.
    preFilter(state) {
      state.write(MEMO_KEY, []);
    },
    filter(state, pod, node) {
      if (node.taintClass === 0) return undefined;
      const memo = state.read<(string | null)[]>(MEMO_KEY);
      if (!memo) return untoleratedTaintReason(pod, node);
      let r = memo[node.taintClass];
      if (r === undefined) memo[node.taintClass] = r = untoleratedTaintReason(pod, node) ?? null;
      return r ?? undefined;
    },
    preScore(state, pod, nodes) {
      let any = false;
      for (let i = 0; i < nodes.length && !any; i++) any = nodes[i]!.hasPreferNoSchedule;
      if (!any) return SKIP;
      const tols = (pod.pod.spec?.tolerations ?? []).filter((t) => t.effect === "" || t.effect === "PreferNoSchedule");
      state.write(STATE_KEY, tols);
    },
    score: (state, _pod, node) => intolerablePreferNoScheduleCount(state.read<Toleration[]>(STATE_KEY) ?? [], node),
    normalizeScore: (_s, _p, scores) => defaultNormalize(scores, true),
    events: ["NodeAdd", "NodeUpdate"],
  };
}
