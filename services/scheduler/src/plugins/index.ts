// The in-tree plugins, registered by name.
import type { PluginFactory } from "../framework/types.js";
import { interPodAffinity, NAME as INTER_POD_AFFINITY } from "./inter-pod-affinity.js";
import { nodeAffinity, NAME as NODE_AFFINITY } from "./node-affinity.js";
import { nodeName, NAME as NODE_NAME } from "./node-name.js";
import { nodePorts, NAME as NODE_PORTS } from "./node-ports.js";
import { nodeReady, NAME as NODE_READY } from "./node-ready.js";
import { nodeResourcesFit, NAME as NODE_RESOURCES_FIT } from "./node-resources-fit.js";
import {
  BALANCED_ALLOCATION,
  LEAST_ALLOCATED,
  MOST_ALLOCATED,
  balancedAllocation,
  leastAllocated,
  mostAllocated,
} from "./node-resources-scores.js";
import { nodeUnschedulable, NAME as NODE_UNSCHEDULABLE } from "./node-unschedulable.js";
import { selectorSpread, NAME as SELECTOR_SPREAD } from "./selector-spread.js";
import { taintToleration, NAME as TAINT_TOLERATION } from "./taint-toleration.js";

export const IN_TREE_PLUGINS: ReadonlyMap<string, PluginFactory> = new Map<string, PluginFactory>([
  [NODE_UNSCHEDULABLE, nodeUnschedulable],
  [NODE_NAME, nodeName],
  [NODE_READY, nodeReady],
  [TAINT_TOLERATION, taintToleration],
  [NODE_AFFINITY, nodeAffinity],
  [NODE_PORTS, nodePorts],
  [NODE_RESOURCES_FIT, nodeResourcesFit],
  [INTER_POD_AFFINITY, interPodAffinity],
  [LEAST_ALLOCATED, leastAllocated],
  [MOST_ALLOCATED, mostAllocated],
  [BALANCED_ALLOCATION, balancedAllocation],
  [SELECTOR_SPREAD, selectorSpread],
]);

/** The default profile: filters in this order (cheap and common first), scores with these weights. */
export const DEFAULT_FILTERS: readonly string[] = [
  NODE_UNSCHEDULABLE,
  NODE_NAME,
  NODE_READY,
  TAINT_TOLERATION,
  NODE_AFFINITY,
  NODE_PORTS,
  NODE_RESOURCES_FIT,
  INTER_POD_AFFINITY,
];

export const DEFAULT_SCORES: readonly { name: string; weight: number }[] = [
  { name: TAINT_TOLERATION, weight: 3 },
  { name: NODE_AFFINITY, weight: 2 },
  { name: LEAST_ALLOCATED, weight: 1 },
  { name: BALANCED_ALLOCATION, weight: 1 },
  { name: SELECTOR_SPREAD, weight: 2 },
];
