export { Scheduler, LEASE_NAME, LEASE_NAMESPACE, POD_FIELD_SELECTOR, nodeSchedulingChanged, type SchedulerOptions, type SchedulerStats } from "./scheduler.js";
export { SchedulerCache } from "./cache.js";
export { SchedulingQueue, type QueuedPod, type QueueOptions } from "./queue.js";
export {
  buildFrameworks,
  parseConfig,
  validateConfig,
  ConfigError,
  DEFAULT_SCHEDULER_NAME,
  type SchedulerConfiguration,
  type ProfileConfig,
  type PluginRef,
  type PluginSet,
} from "./config.js";
export { Framework, FitError, numFeasibleNodesToFind, type ScheduleResult, type WeightedPlugin, type ProfileOptions } from "./framework/framework.js";
export { NodeInfo } from "./framework/node-info.js";
export { newPodInfo, type PodInfo, type AffinityTerm, type HostPort } from "./framework/pod-info.js";
export * from "./framework/resources.js";
export { SKIP, CycleState, MAX_NODE_SCORE, ALL_EVENTS, type Plugin, type PluginFactory, type PluginArgs, type FilterResult, type ClusterView, type ClusterEvent } from "./framework/types.js";
export { IN_TREE_PLUGINS, DEFAULT_FILTERS, DEFAULT_SCORES } from "./plugins/index.js";
