// The three scores over resource use: LeastAllocated (spread: prefer the emptiest node),
// MostAllocated (bin-pack: prefer the fullest) and BalancedAllocation (prefer a node whose cpu
// and memory would be used in equal fractions). Each is computed as if the pod were placed.
import type { NodeInfo } from "../framework/node-info.js";
import {
  ALLOC_MEMORY,
  ALLOC_MILLI_CPU,
  NONZERO_MEMORY,
  NONZERO_MILLI_CPU,
  nodeTable,
  REQ_MEMORY,
  REQ_MILLI_CPU,
} from "../framework/node-table.js";
import type { PodInfo } from "../framework/pod-info.js";
import { CPU, EPHEMERAL_STORAGE, MEMORY } from "../framework/resources.js";
import { MAX_NODE_SCORE, type PluginArgs } from "../framework/types.js";

export interface ResourceWeight {
  name: string;
  weight: number;
}

export const DEFAULT_RESOURCES: readonly ResourceWeight[] = [
  { name: CPU, weight: 1 },
  { name: MEMORY, weight: 1 },
];

/** `resources: [{name, weight}]` from pluginConfig args, or cpu and memory weighted 1. */
export function resourcesFromArgs(args: PluginArgs): readonly ResourceWeight[] {
  const r = args.resources;
  if (r === undefined) return DEFAULT_RESOURCES;
  if (!Array.isArray(r) || r.length === 0) throw new Error("resources: must be a non-empty list of {name, weight}");
  return r.map((x, i) => {
    const o = x as { name?: unknown; weight?: unknown };
    if (typeof o.name !== "string" || o.name === "") throw new Error(`resources[${i}].name: required`);
    const weight = o.weight === undefined ? 1 : o.weight;
    if (typeof weight !== "number" || !Number.isInteger(weight) || weight < 1 || weight > 100) {
      throw new Error(`resources[${i}].weight: must be an integer from 1 to 100`);
    }
    return { name: o.name, weight };
  });
}

/** Allocatable amount and the amount requested with the pod placed. nonZero: count best-effort pods as 100m/200Mi. */
export function usage(pod: PodInfo, node: NodeInfo, resource: string, nonZero: boolean): [requested: number, allocatable: number] {
  const a = node.allocatable;
  switch (resource) {
    case CPU:
      return nonZero
        ? [node.nonZeroRequested.milliCPU + pod.nonZero.milliCPU, a.milliCPU]
        : [node.requested.milliCPU + pod.requests.milliCPU, a.milliCPU];
    case MEMORY:
      return nonZero
        ? [node.nonZeroRequested.memory + pod.nonZero.memory, a.memory]
        : [node.requested.memory + pod.requests.memory, a.memory];
    case EPHEMERAL_STORAGE:
      return [node.requested.ephemeralStorage + pod.requests.ephemeralStorage, a.ephemeralStorage];
    default:
      return [(node.requested.scalar?.[resource] ?? 0) + (pod.requests.scalar?.[resource] ?? 0), a.scalar?.[resource] ?? 0];
  }
}

export function leastRequestedScore(requested: number, allocatable: number): number {
  if (allocatable === 0 || requested > allocatable) return 0;
  return Math.floor(((allocatable - requested) * MAX_NODE_SCORE) / allocatable);
}

export function mostRequestedScore(requested: number, allocatable: number): number {
  if (allocatable === 0) return 0;
  if (requested > allocatable) return MAX_NODE_SCORE;
  return Math.floor((requested * MAX_NODE_SCORE) / allocatable);
}

/** Weighted mean of a per-resource score, over resources the node has (Kubernetes skips the others). */
function weighted(pod: PodInfo, node: NodeInfo, resources: readonly ResourceWeight[], f: (req: number, alloc: number) => number): number {
  if (resources === DEFAULT_RESOURCES) {
    // cpu and memory, weight 1 each: the common case, from the packed table.
    const t = nodeTable();
    const o = node.slot;
    const cpu = t[o + ALLOC_MILLI_CPU]!;
    const mem = t[o + ALLOC_MEMORY]!;
    let sum = 0;
    let n = 0;
    if (cpu > 0) {
      sum += f(t[o + NONZERO_MILLI_CPU]! + pod.nonZero.milliCPU, cpu);
      n++;
    }
    if (mem > 0) {
      sum += f(t[o + NONZERO_MEMORY]! + pod.nonZero.memory, mem);
      n++;
    }
    return n === 0 ? 0 : Math.floor(sum / n);
  }
  let sum = 0;
  let weights = 0;
  for (const r of resources) {
    const [req, alloc] = usage(pod, node, r.name, true);
    if (alloc === 0) continue;
    sum += f(req, alloc) * r.weight;
    weights += r.weight;
  }
  return weights === 0 ? 0 : Math.floor(sum / weights);
}

export function leastAllocatedScore(pod: PodInfo, node: NodeInfo, resources: readonly ResourceWeight[] = DEFAULT_RESOURCES): number {
  return weighted(pod, node, resources, leastRequestedScore);
}

export function mostAllocatedScore(pod: PodInfo, node: NodeInfo, resources: readonly ResourceWeight[] = DEFAULT_RESOURCES): number {
  return weighted(pod, node, resources, mostRequestedScore);
}

/** 100 × (1 − standard deviation of the used fractions); fractions above 1 count as 1. */
export function balancedAllocationScore(pod: PodInfo, node: NodeInfo, resources: readonly ResourceWeight[] = DEFAULT_RESOURCES): number {
  if (resources === DEFAULT_RESOURCES) {
    const t = nodeTable();
    const o = node.slot;
    const cpu = t[o + ALLOC_MILLI_CPU]!;
    const mem = t[o + ALLOC_MEMORY]!;
    if (cpu > 0 && mem > 0) {
      const fc = Math.min(1, (t[o + REQ_MILLI_CPU]! + pod.requests.milliCPU) / cpu);
      const fm = Math.min(1, (t[o + REQ_MEMORY]! + pod.requests.memory) / mem);
      return Math.floor((1 - Math.abs((fc - fm) / 2)) * MAX_NODE_SCORE);
    }
  }
  const fractions: number[] = [];
  let total = 0;
  for (const r of resources) {
    const [req, alloc] = usage(pod, node, r.name, false);
    if (alloc === 0) continue;
    const f = Math.min(1, req / alloc);
    fractions.push(f);
    total += f;
  }
  let std = 0;
  if (fractions.length === 2) std = Math.abs((fractions[0]! - fractions[1]!) / 2);
  else if (fractions.length > 2) {
    const mean = total / fractions.length;
    std = Math.sqrt(fractions.reduce((s, f) => s + (f - mean) ** 2, 0) / fractions.length);
  }
  return Math.floor((1 - std) * MAX_NODE_SCORE);
}
