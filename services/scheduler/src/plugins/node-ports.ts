// NodePorts (filter): the pod's host ports are free on the node. A port bound on 0.0.0.0 conflicts
// with the same protocol and port on any address, and the other way round.
import type { NodeInfo } from "../framework/node-info.js";
import type { HostPort, PodInfo } from "../framework/pod-info.js";
import { SKIP, type Plugin } from "../framework/types.js";

export const NAME = "NodePorts";
export const REASON = "node(s) didn't have free ports for the requested pod ports";

const ANY = "0.0.0.0";

export function portConflicts(ports: readonly HostPort[], node: NodeInfo): boolean {
  for (const p of ports) {
    const used = node.usedPorts.get(`${p.protocol}/${p.port}`);
    if (!used) continue;
    if (p.ip === ANY || used.has(ANY) || used.has(p.ip)) return true;
  }
  return false;
}

export function nodePorts(): Plugin {
  return {
    name: NAME,
    preFilter: (_s, pod) => (pod.hostPorts.length > 0 ? undefined : SKIP),
    filter: (_s, pod, node) => (portConflicts(pod.hostPorts, node) ? REASON : undefined),
    events: ["NodeAdd", "AssignedPodDelete"],
  };
}
