// NodeReady (filter): the node's Ready condition is True. Kubernetes gets the same effect from the
// not-ready and unreachable taints its node controller adds; a pod that tolerates those (as
// DaemonSet pods do) may still go to a node that is not ready.
import type { NodeInfo } from "../framework/node-info.js";
import { nodeTable, READY } from "../framework/node-table.js";
import type { PodInfo } from "../framework/pod-info.js";
import type { Plugin } from "../framework/types.js";
import { TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE, tolerated } from "@corral/apimachinery";

export const NAME = "NodeReady";
export const REASON = "node(s) were not ready";

export function fitsReady(pod: PodInfo, node: NodeInfo): boolean {
  if (nodeTable()[node.slot + READY] === 1) return true;
  const key = node.readyStatus === "Unknown" ? TAINT_NODE_UNREACHABLE : TAINT_NODE_NOT_READY;
  return tolerated(pod.pod.spec?.tolerations ?? [], { key, effect: "NoSchedule" });
}

export function nodeReady(): Plugin {
  return {
    name: NAME,
    filter: (_s, pod, node) => (fitsReady(pod, node) ? undefined : REASON),
    events: ["NodeAdd", "NodeUpdate"],
  };
}
