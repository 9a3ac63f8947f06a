import type { EventRecorder } from "@corral/client";
import type { CriClient } from "@corral/cri";
import type { Logger } from "@corral/logging";
import { Prober, type ProbeManagerOptions } from "./manager.js";
import type { ProbeManager } from "./types.js";

export type { ProbeManager, RunningContainer } from "./types.js";
export type { ProbeManagerOptions } from "./manager.js";

/**
 * The node agent's prober: liveness, readiness and startup probes by exec (CRI ExecSync), httpGet
 * and tcpSocket, one timer-driven worker per (container id, probe kind), with Kubernetes'
 * defaults and thresholds. Failed attempts are recorded as `Unhealthy` Warning events; a flipped
 * result calls `onChange(podKey)` so the pod worker syncs the pod again.
 */
export function createProbeManager(opts: {
  cri: CriClient;
  onChange: (podKey: string) => void;
  recorder?: EventRecorder;
  log: Logger;
} & Pick<ProbeManagerOptions, "secondMs" | "runProbe">): ProbeManager {
  return new Prober(opts);
}
