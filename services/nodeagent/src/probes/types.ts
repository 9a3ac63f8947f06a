import type { Pod } from "@corral/api";

/** A container the prober may probe: running, with its CRI id. */
export interface RunningContainer {
  name: string;
  id: string;
  /** When the container started (CRI started_at): initialDelaySeconds counts from here. */
  startedAt: Date;
}

/**
 * Runs a pod's liveness, readiness and startup probes, as the kubelet's prober manager.
 * The pod worker calls sync() after each sync of a running pod; results are read back
 * synchronously while it computes status and actions. When a result changes, `onChange(podKey)`
 * is called so the pod is synced again (never polled by the pod worker).
 */
export interface ProbeManager {
  /** Starts probe workers for containers that are new, stops those of containers gone. */
  sync(pod: Pod, podIP: string, running: readonly RunningContainer[]): void;
  /** Stops every worker of the pod (pod deleted or stopped). */
  removePod(uid: string): void;
  /** Readiness: true when the container has no readiness probe, or it last succeeded. */
  isReady(uid: string, containerId: string): boolean;
  /** Startup: true when the container has no startup probe, or it has succeeded. */
  isStarted(uid: string, containerId: string): boolean;
  /** Liveness: true when the liveness (or startup) probe reached its failureThreshold: restart it. */
  shouldRestart(uid: string, containerId: string): { restart: boolean; message: string };
  stop(): void;
}
