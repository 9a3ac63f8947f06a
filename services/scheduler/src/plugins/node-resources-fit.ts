// NodeResourcesFit (filter): the pod's requests fit in the node's allocatable minus what the pods
// already there (bound or assumed) request, and the node has room for one more pod.
import type { NodeInfo } from "../framework/node-info.js";
import {
  ALLOC_EPHEMERAL,
  ALLOC_MEMORY,
  ALLOC_MILLI_CPU,
  ALLOC_PODS,
  nodeTable,
  POD_COUNT,
  REQ_EPHEMERAL,
  REQ_MEMORY,
  REQ_MILLI_CPU,
} from "../framework/node-table.js";
import type { PodInfo } from "../framework/pod-info.js";
import type { FilterResult, Plugin } from "../framework/types.js";

export const NAME = "NodeResourcesFit";

const FITS: string[] = [];

/** The reasons the pod does not fit ("Insufficient cpu", "Too many pods"), or [] when it fits. */
export function insufficientResources(pod: PodInfo, node: NodeInfo): string[] {
  const t = nodeTable();
  const o = node.slot;
  const req = pod.requests;
  // The common case, from the packed table alone: the pod fits.
  if (
    t[o + POD_COUNT]! + 1 <= t[o + ALLOC_PODS]! &&
    !(req.milliCPU > 0 && req.milliCPU > t[o + ALLOC_MILLI_CPU]! - t[o + REQ_MILLI_CPU]!) &&
    !(req.memory > 0 && req.memory > t[o + ALLOC_MEMORY]! - t[o + REQ_MEMORY]!) &&
    !(req.ephemeralStorage > 0 && req.ephemeralStorage > t[o + ALLOC_EPHEMERAL]! - t[o + REQ_EPHEMERAL]!) &&
    !req.scalar
  ) {
    return FITS;
  }
  let reasons: string[] | undefined;
  const add = (r: string) => (reasons ??= []).push(r);
  const a = node.allocatable;
  const used = node.requested;
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
