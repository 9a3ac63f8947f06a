/** What CRI says about one pod: its sandboxes and containers, newest first. */
export interface ObservedSandbox {
  id: string;
  ready: boolean;
  attempt: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  ip: string;
}

export type ObservedState = "created" | "running" | "exited" | "unknown";

export interface ObservedContainer {
  id: string;
  sandboxId: string;
  name: string;
  isInit: boolean;
  restartCount: number;
  hash: string;
  state: ObservedState;
  exitCode: number;
  /** containerd's reason: OOMKilled, Error, Completed... */
  reason: string;
  message: string;
  /** Milliseconds since the epoch (0 when not yet). */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  imageRef: string;
}

export interface ObservedPod {
  uid: string;
  sandboxes: ObservedSandbox[];
  containers: ObservedContainer[];
}

/** The newest sandbox, if any. */
export function currentSandbox(o: ObservedPod): ObservedSandbox | undefined {
  return o.sandboxes[0];
}

/** The newest instance of the named container: in the given sandbox, or anywhere when sandboxId is undefined. */
export function latest(o: ObservedPod, name: string, isInit: boolean, sandboxId?: string): ObservedContainer | undefined {
  return o.containers.find((c) => c.name === name && c.isInit === isInit && (sandboxId === undefined || c.sandboxId === sandboxId));
}

/** The instance before the newest one (for lastState and logs --previous). */
export function previous(o: ObservedPod, name: string, isInit: boolean): ObservedContainer | undefined {
  return o.containers.filter((c) => c.name === name && c.isInit === isInit)[1];
}
