// The resource score plugins: NodeResourcesLeastAllocated (the default), NodeResourcesMostAllocated
// (bin-packing, enable it instead for dense clusters) and NodeResourcesBalancedAllocation.
// pluginConfig args: { resources: [{ name: cpu, weight: 1 }, { name: memory, weight: 1 }] }.
import type { Plugin, PluginArgs } from "../framework/types.js";
import { balancedAllocationScore, leastAllocatedScore, mostAllocatedScore, resourcesFromArgs } from "./resource-allocation.js";

export const LEAST_ALLOCATED = "NodeResourcesLeastAllocated";
export const MOST_ALLOCATED = "NodeResourcesMostAllocated";
export const BALANCED_ALLOCATION = "NodeResourcesBalancedAllocation";

export function leastAllocated(args: PluginArgs = {}): Plugin {
  const resources = resourcesFromArgs(args);
  return { name: LEAST_ALLOCATED, score: (_s, pod, node) => leastAllocatedScore(pod, node, resources) };
}

export function mostAllocated(args: PluginArgs = {}): Plugin {
  const resources = resourcesFromArgs(args);
  return { name: MOST_ALLOCATED, score: (_s, pod, node) => mostAllocatedScore(pod, node, resources) };
}

export function balancedAllocation(args: PluginArgs = {}): Plugin {
  const resources = resourcesFromArgs(args);
  return { name: BALANCED_ALLOCATION, score: (_s, pod, node) => balancedAllocationScore(pod, node, resources) };
}
