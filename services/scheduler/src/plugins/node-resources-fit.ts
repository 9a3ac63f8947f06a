// NodeResourcesFit (filter): the pod's requests fit in the node's allocatable minus what the pods
// already there (bound or assumed) request, and the node has room for one more pod.
import type { NodeInfo } from "../framework/node-info.js";
import type { PodInfo } from "../framework/pod-info.js";
import type { FilterResult, Plugin } from "../framework/types.js";

export const NAME = "NodeResourcesFit";

const FITS: string[] = [];

/** The reasons the pod does not fit ("Insufficient cpu", "Too many pods"), or [] when it fits. */
export function insufficientResources(pod: PodInfo, node: NodeInfo): string[] {
  let reasons: string[] | undefined;
  const add = (r: string) => (reasons ??= []).push(r);
  const a = node.allocatable;
  const used = node.requested;
  const req = pod.requests;
  if (node.pods.size + 1 > a.pods) add("Too many pods");
  if (req.milliCPU > 0 && req.milliCPU > a.milliCPU - used.milliCPU) add("Insufficient cpu");
  if (req.memory > 0 && req.memory > a.memory - used.memory) add("Insufficient memory");
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > a.ephemeralStorage - used.ephemeralStorage) add("Insufficient ephemeral-storage");
  if (req.scalar) {
    for (const [name, amount] of Object.entries(req.scalar)) {
      if (amount > 0 && amount > (a.scalar?.[name] ?? 0) - (used.scalar?.[name] ?? 0)) add(`Insufficient ${name}`);
    }
  }
  return reasons ?? FITS;
}

export function nodeResourcesFit(): Plugin {
  return {
    name: NAME,
    filter(_s, pod, node): FilterResult {
      const r = insufficientResources(pod, node);
      return r.length > 0 ? r : undefined;
    },
    events: ["NodeAdd", "NodeUpdate", "AssignedPodDelete", "AssignedPodUpdate"],
  };
}
