export { ControllerManager, CONTROLLERS, LEASE_NAME, LEASE_NAMESPACE, selectControllers, type ControllerManagerOptions } from "./manager.js";
export { DEFAULT_CONFIG, type ControllerConfig, type Controller } from "./shared/controller.js";
export { computeHash } from "./shared/hash.js";
export { POD_TEMPLATE_HASH, REVISION, REVISION_HISTORY, CHANGE_CAUSE, DESIRED_REPLICAS, MAX_REPLICAS, equalIgnoreHash, revisionOf } from "./deployment/util.js";
export { JOB_LABELS } from "./job/job.js";
export { REVISION_HASH as DAEMONSET_REVISION_HASH } from "./daemonset/logic.js";
export { NODE_LEASE_NAMESPACE } from "./nodelifecycle/nodelifecycle.js";
