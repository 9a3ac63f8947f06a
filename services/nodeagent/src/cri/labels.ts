// The labels the node agent puts on CRI sandboxes and containers. They carry everything needed to
// adopt running pods after a restart: the agent keeps no state of its own besides what CRI and
// the API hold. Names follow the kubelet's, so crictl and other tools read them the same way.
export const POD_NAME = "io.kubernetes.pod.name";
export const POD_NAMESPACE = "io.kubernetes.pod.namespace";
export const POD_UID = "io.kubernetes.pod.uid";
export const CONTAINER_NAME = "io.kubernetes.container.name";
/** Marks what this agent made, so cleanup never touches anything else in the runtime. */
export const MANAGED_BY = "corral.dev/managed-by";
export const MANAGED_BY_VALUE = "corral-nodeagent";

// Annotations (not labels: they are not filtered on).
export const RESTART_COUNT = "io.kubernetes.container.restartCount";
/** "init" or "app". */
export const CONTAINER_TYPE = "corral.dev/container-type";
/** The pod's terminationGracePeriodSeconds, so a pod deleted while the agent was down still gets it. */
export const TERMINATION_GRACE = "io.kubernetes.pod.terminationGracePeriod";
/** Hash of the container's spec: a changed spec means the container is replaced. */
export const CONTAINER_HASH = "io.kubernetes.container.hash";
