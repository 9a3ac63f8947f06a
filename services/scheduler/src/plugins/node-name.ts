// NodeName (filter): a pod that names its node fits only that node.
import type { NodeInfo } from "../framework/node-info.js";
import type { PodInfo } from "../framework/pod-info.js";
import { SKIP, type Plugin } from "../framework/types.js";

export const NAME = "NodeName";
export const REASON = "node(s) didn't match the requested node name";

export function fitsNodeName(pod: PodInfo, node: NodeInfo): boolean {
  const want = pod.pod.spec?.nodeName ?? "";
  return want === "" || want === node.name;
}

export function nodeName(): Plugin {
  return {
    name: NAME,
    preFilter: (_s, pod) => (pod.pod.spec?.nodeName ? undefined : SKIP),
    filter: (_s, pod, node) => (fitsNodeName(pod, node) ? undefined : REASON),
    events: ["NodeAdd"],
  };
}
