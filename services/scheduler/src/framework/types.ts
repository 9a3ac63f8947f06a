// The scheduling framework's extension points, in the manner of kube-scheduler's framework:
// a plugin is an object with a name and any of preFilter, filter, preScore, score and
// normalizeScore. Plugins are registered by name (registry.ts) and enabled and weighted per
// profile by configuration (config.ts), so a different algorithm replaces the default without
// touching the queue, the cache or the binder.
import type { NodeInfo } from "./node-info.js";
import type { PodInfo } from "./pod-info.js";

/** preFilter or preScore returns SKIP when the plugin has nothing to say about this pod. */
export const SKIP = Symbol("skip");
export type Skip = typeof SKIP;

/**
 * Why a node does not fit: one reason or several (each counted in the FailedScheduling message,
 * "3 Insufficient memory"), or undefined when it fits.
 */
export type FilterResult = string | readonly string[] | undefined;

/** Scratch space for one scheduling attempt of one pod: what preFilter computed, for filter. */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }
}

/** What a plugin may see of the cluster: the scheduler cache (nodes and assigned or assumed pods). */
export interface ClusterView {
  /** Nodes that exist (have a Node object), in a stable order. */
  nodeInfos(): readonly NodeInfo[];
  getNodeInfo(name: string): NodeInfo | undefined;
  /** Assigned and assumed pods in a namespace, with their node. */
  podsInNamespace(namespace: string): Iterable<readonly [PodInfo, NodeInfo]>;
  /** Assigned and assumed pods that carry required pod anti-affinity terms. */
  podsWithRequiredAntiAffinity(): Iterable<readonly [PodInfo, NodeInfo]>;
}

/**
 * Changes to the cluster that may make a pod schedulable. A pod that failed is retried on an
 * event that one of the plugins that rejected it lists (or after its back-off, at the latest
 * after the unschedulable timeout).
 */
export type ClusterEvent = "NodeAdd" | "NodeUpdate" | "AssignedPodAdd" | "AssignedPodUpdate" | "AssignedPodDelete";
export const ALL_EVENTS: readonly ClusterEvent[] = ["NodeAdd", "NodeUpdate", "AssignedPodAdd", "AssignedPodUpdate", "AssignedPodDelete"];

export interface Plugin {
  readonly name: string;
  /**
   * Once per pod, before any node: precomputes for filter. SKIP: filter is not called for this
   * pod. A string: the pod fits no node, for that reason.
   */
  preFilter?(state: CycleState, pod: PodInfo, cluster: ClusterView): Skip | string | void;
  /** Whether the pod fits the node. Must be cheap: it runs for up to thousands of nodes per pod. */
  filter?(state: CycleState, pod: PodInfo, node: NodeInfo): FilterResult;
  /** Once per pod, with the feasible nodes, before score. SKIP: score is not called for this pod. */
  preScore?(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Skip | void;
  /** A score for a feasible node, 0 to 100 unless normalizeScore maps it there. */
  score?(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Maps the raw scores (one per feasible node, in place) onto 0 to 100. */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: number[]): void;
  /** Cluster events after which a pod this plugin rejected may fit (default: all). */
  readonly events?: readonly ClusterEvent[];
}

export const MAX_NODE_SCORE = 100;

/** Plugin-specific arguments from the configuration's pluginConfig, as parsed YAML. */
export type PluginArgs = Record<string, unknown>;

export type PluginFactory = (args: PluginArgs) => Plugin;
