export { Clientset } from "./clientset.js";
export { resourceClient, type ResourceClient } from "./resource.js";
export { readConfig, writeConfig, defaultConfigPath, type ClientConfig } from "./config.js";
export { Informer, objectKey, splitKey, type EventHandler, type InformerOptions } from "./informer.js";
export { WorkQueue, runWorkers, DEFAULT_BACKOFF, type BackoffOptions, type ReconcileResult } from "./workqueue.js";
export { LeaderElector, leaseRenewedAt, type LeaderElectionOptions } from "./leader-election.js";
export { EventRecorder, type EventType } from "./event-recorder.js";
export { sleep } from "./sleep.js";
