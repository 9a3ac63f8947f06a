import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ContainerStatusSchema,
  PodConditionSchema,
  PodStatusSchema,
  type Container,
  type ContainerStatus,
  type Pod,
  type PodCondition,
  type PodStatus,
} from "@corral/api";
import { currentSandbox, latest, previous, type ObservedContainer, type ObservedPod } from "./observed.js";
import { restartPolicy } from "./plan.js";

/** Why a container that is not running waits: set by the sync that failed to start it. */
export interface Waiting {
  reason: string;
  message: string;
}

export interface StatusContext {
  now: number;
  hostIP: string;
  isReady(containerId: string): boolean;
  isStarted(containerId: string): boolean;
  /** Reasons from the last sync, by "init/NAME" or "app/NAME" (ErrImagePull, CreateContainerConfigError...). */
  waiting: ReadonlyMap<string, Waiting>;
  /** Containers waiting out a crash-loop back-off, by the same keys, with the delay in ms. */
  backoff: ReadonlyMap<string, number>;
}

type ContainerStatusInit = MessageInitShape<typeof ContainerStatusSchema>;

function terminated(c: ObservedContainer): ContainerStatusInit["state"] {
  return {
    terminated: {
      exitCode: c.exitCode,
      reason: c.reason || (c.exitCode === 0 ? "Completed" : "Error"),
      message: c.message,
      startedAt: c.startedAt ? timestampFromMs(c.startedAt) : undefined,
      finishedAt: c.finishedAt ? timestampFromMs(c.finishedAt) : undefined,
      containerId: `containerd://${c.id}`,
    },
  };
}

function containerStatus(
  pod: Pod,
  c: Container,
  isInit: boolean,
  o: ObservedPod,
  ctx: StatusContext,
  defaultWaiting: string,
): ContainerStatus {
  const sandbox = currentSandbox(o);
  const key = `${isInit ? "init" : "app"}/${c.name}`;
  const cur = latest(o, c.name, isInit);
  const prev = previous(o, c.name, isInit);
  const s: ContainerStatusInit = { name: c.name, image: c.image, restartCount: cur?.restartCount ?? 0, ready: false, started: false };
  const waiting = ctx.waiting.get(key);
  if (!cur || (sandbox && cur.sandboxId !== sandbox.id && cur.state !== "running")) {
    s.state = { waiting: waiting ?? { reason: defaultWaiting } };
    if (cur) s.lastState = terminated(cur);
  } else {
    s.containerId = `containerd://${cur.id}`;
    s.imageId = cur.imageRef;
    if (cur.state === "running") {
      s.state = { running: { startedAt: timestampFromMs(cur.startedAt || cur.createdAt) } };
      s.started = ctx.isStarted(cur.id);
      s.ready = !isInit && s.started && ctx.isReady(cur.id);
      if (prev) s.lastState = terminated(prev);
    } else if (cur.state === "exited") {
      const delay = ctx.backoff.get(key);
      if (delay !== undefined) {
        s.state = {
          waiting: {
            reason: "CrashLoopBackOff",
            message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`,
          },
        };
        s.lastState = terminated(cur);
      } else if (waiting) {
        s.state = { waiting };
        s.lastState = terminated(cur);
      } else {
        s.state = terminated(cur);
        if (prev) s.lastState = terminated(prev);
      }
    } else {
      s.state = { waiting: waiting ?? { reason: "ContainerCreating" } };
      if (prev) s.lastState = terminated(prev);
    }
  }
  return create(ContainerStatusSchema, s);
}

function initDone(pod: Pod, o: ObservedPod): boolean {
  const sandbox = currentSandbox(o);
  if (!sandbox) return pod.spec!.initContainers.length === 0;
  return pod.spec!.initContainers.every((c) => {
    const cur = latest(o, c.name, true, sandbox.id);
    return cur?.state === "exited" && cur.exitCode === 0;
  });
}

function initFailedForGood(pod: Pod, o: ObservedPod): boolean {
  if (restartPolicy(pod) !== "Never") return false;
  return pod.spec!.initContainers.some((c) => {
    const cur = latest(o, c.name, true);
    return cur?.state === "exited" && cur.exitCode !== 0;
  });
}

/** The kubelet's getPhase: Pending until containers run; then Running, Succeeded or Failed. */
export function podPhase(pod: Pod, o: ObservedPod, statuses: readonly ContainerStatus[], initialized: boolean): string {
  if (initFailedForGood(pod, o)) return "Failed";
  if (!initialized) return "Pending";
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  const policy = restartPolicy(pod);
  if (stopped === 0) return "Pending";
  if (policy === "Always") return "Running";
  if (succeeded === stopped) return "Succeeded";
  // Restarting failed containers keeps the pod running under OnFailure.
  return policy === "OnFailure" ? "Running" : "Failed";
}

function condition(type: string, ok: boolean, old: readonly PodCondition[], now: number, reason = "", message = ""): MessageInitShape<typeof PodConditionSchema> {
  const status = ok ? "True" : "False";
  const prior = old.find((c) => c.type === type);
  const since = prior && prior.status === status ? prior.lastTransitionTime : timestampFromMs(now);
  return { type, status, lastTransitionTime: since, reason: ok ? "" : reason, message: ok ? "" : message };
}

function qosClass(pod: Pod): string {
  const all = [...pod.spec!.initContainers, ...pod.spec!.containers];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ["cpu", "memory"]) {
      const l = lim[r];
      if (!l || (req[r] !== undefined && req[r] !== l)) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** The status the agent reports for a pod, from what CRI says and what the probes found. Pure. */
export function podStatus(pod: Pod, o: ObservedPod, ctx: StatusContext): PodStatus {
  const old = pod.status;
  const sandbox = currentSandbox(o);
  const initialized = initDone(pod, o);
  const sandboxReady = !!sandbox?.ready;
  const initStatuses = pod.spec!.initContainers.map((c) =>
    containerStatus(pod, c, true, o, ctx, sandboxReady ? "PodInitializing" : "ContainerCreating"),
  );
  const statuses = pod.spec!.containers.map((c) =>
    containerStatus(pod, c, false, o, ctx, !sandboxReady ? "ContainerCreating" : initialized ? "ContainerCreating" : "PodInitializing"),
  );
  const phase = podPhase(pod, o, statuses, initialized);
  const allReady = statuses.length > 0 && statuses.every((s) => s.ready);
  const notReady = statuses.filter((s) => !s.ready).map((s) => s.name);
  const pendingInit = initStatuses.filter((s) => !(s.state?.terminated?.exitCode === 0)).map((s) => s.name);
  const prior = old?.conditions ?? [];
  const readyReason = phase === "Succeeded" || phase === "Failed" ? "PodCompleted" : "ContainersNotReady";
  const readyMessage = readyReason === "PodCompleted" ? "" : `containers with unready status: [${notReady.join(" ")}]`;
  const ready = allReady && phase === "Running";
  return create(PodStatusSchema, {
    phase,
    hostIp: ctx.hostIP,
    podIp: sandbox?.ip ?? old?.podIp ?? "",
    podIps: sandbox?.ip ? [{ ip: sandbox.ip }] : (old?.podIps ?? []),
    startTime: old?.startTime ?? timestampFromMs(ctx.now),
    qosClass: qosClass(pod),
    conditions: [
      condition("Initialized", initialized, prior, ctx.now, "ContainersNotInitialized", `containers with incomplete status: [${pendingInit.join(" ")}]`),
      condition("Ready", ready, prior, ctx.now, readyReason, readyMessage),
      condition("ContainersReady", ready, prior, ctx.now, readyReason, readyMessage),
      condition("PodScheduled", true, prior, ctx.now),
    ],
    initContainerStatuses: initStatuses,
    containerStatuses: statuses,
  });
}

