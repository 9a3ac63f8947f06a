// NodeUnschedulable (filter): a cordoned node (spec.unschedulable) takes only pods that tolerate
// node.kubernetes.io/unschedulable:NoSchedule.
import type { NodeInfo } from "../framework/node-info.js";
import { nodeTable, UNSCHEDULABLE } from "../framework/node-table.js";
import type { PodInfo } from "../framework/pod-info.js";
import type { Plugin } from "../framework/types.js";
import { TAINT_NODE_UNSCHEDULABLE, tolerated } from "@corral/apimachinery";

export const NAME = "NodeUnschedulable";
export const REASON = "node(s) were unschedulable";

export function fitsSchedulable(pod: PodInfo, node: NodeInfo): boolean {
  if (nodeTable()[node.slot + UNSCHEDULABLE] === 0) return true;
  return tolerated(pod.pod.spec?.tolerations ?? [], { key: TAINT_NODE_UNSCHEDULABLE, effect: "NoSchedule" });
}

export function nodeUnschedulable(): Plugin {
  return {
    name: NAME,
    filter: (_s, pod, node) => (fitsSchedulable(pod, node) ? undefined : REASON),
    events: ["NodeAdd", "NodeUpdate"],
  };
}
