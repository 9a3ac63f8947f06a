import type { Container, Pod } from "@corral/api";
import { containerHash } from "./cri-config.js";
import { currentSandbox, latest, type ObservedContainer, type ObservedPod } from "./observed.js";

export interface StartAction {
  container: Container;
  isInit: boolean;
  restartCount: number;
}

export interface KillAction {
  id: string;
  name: string;
  /** Shown in the Killing event. */
  message: string;
}

export interface BackoffWait {
  name: string;
  isInit: boolean;
  remainingMs: number;
}

/** What one sync of a pod does, as the kubelet's computePodActions. */
export interface PodActions {
  /** Stop the sandbox and every container (before a new sandbox, or because the pod is done). */
  killPod: boolean;
  createSandbox: boolean;
  sandboxAttempt: number;
  start: StartAction[];
  kill: KillAction[];
  /** Containers waiting out a crash-loop back-off. */
  backoff: BackoffWait[];
  /** Exited containers and dead sandboxes no longer needed (keeps the newest two of each container). */
  remove: string[];
  removeSandboxes: string[];
}

export interface PlanContext {
  now: number;
  /** Milliseconds of back-off left before the container may restart. */
  backoffRemaining(name: string, finishedAt: number): number;
  /** True when a probe says the running container must be restarted. */
  livenessFailed(containerId: string): { restart: boolean; message: string };
}

export function restartPolicy(pod: Pod): "Always" | "OnFailure" | "Never" {
  const p = pod.spec?.restartPolicy;
  return p === "OnFailure" || p === "Never" ? p : "Always";
}

function shouldRestart(pod: Pod, c: ObservedContainer): boolean {
  const policy = restartPolicy(pod);
  return policy === "Always" || (policy === "OnFailure" && c.exitCode !== 0);
}

export function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

function empty(): PodActions {
  return { killPod: false, createSandbox: false, sandboxAttempt: 0, start: [], kill: [], backoff: [], remove: [], removeSandboxes: [] };
}

function anythingRunning(o: ObservedPod): boolean {
  return o.sandboxes.some((s) => s.ready) || o.containers.some((c) => c.state === "running" || c.state === "created");
}

/** The restart count a new instance of the container gets: one more than the newest, if any. */
function nextCount(o: ObservedPod, name: string, isInit: boolean): number {
  const prev = latest(o, name, isInit);
  return prev ? prev.restartCount + 1 : 0;
}

export function planPod(pod: Pod, o: ObservedPod, ctx: PlanContext): PodActions {
  const a = empty();
  const spec = pod.spec!;
  a.remove = garbage(o);
  const sandbox = currentSandbox(o);
  a.removeSandboxes = o.sandboxes.slice(1).filter((s) => !s.ready).map((s) => s.id);

  if (isTerminal(pod) || pod.metadata?.deletionTimestamp) {
    a.killPod = anythingRunning(o);
    return a;
  }

  const needSandbox = !sandbox || !sandbox.ready || (!spec.hostNetwork && sandbox.ip === "");
  if (needSandbox) {
    // A pod that must not restart and has already run its containers is finished, not restarted.
    const ranApps = o.containers.some((c) => !c.isInit);
    if (sandbox && restartPolicy(pod) === "Never" && ranApps) {
      a.killPod = anythingRunning(o);
      return a;
    }
    a.killPod = anythingRunning(o);
    a.createSandbox = true;
    a.sandboxAttempt = sandbox ? sandbox.attempt + 1 : 0;
    const first = spec.initContainers[0];
    if (first) a.start.push({ container: first, isInit: true, restartCount: nextCount(o, first.name, true) });
    else for (const c of spec.containers) a.start.push({ container: c, isInit: false, restartCount: nextCount(o, c.name, false) });
    return a;
  }

  // Init containers, one at a time, each to completion, in the current sandbox.
  for (const c of spec.initContainers) {
    const cur = latest(o, c.name, true, sandbox.id);
    if (!cur) {
      a.start.push({ container: c, isInit: true, restartCount: nextCount(o, c.name, true) });
      return a;
    }
    if (cur.state === "running") return a;
    if (cur.state === "created" || cur.state === "unknown") {
      a.kill.push({ id: cur.id, name: c.name, message: "Container was created but never started" });
      return a;
    }
    if (cur.exitCode === 0) continue;
    if (restartPolicy(pod) === "Never") return a; // the pod has failed
    const wait = ctx.backoffRemaining(c.name, cur.finishedAt);
    if (wait > 0) a.backoff.push({ name: c.name, isInit: true, remainingMs: wait });
    else a.start.push({ container: c, isInit: true, restartCount: cur.restartCount + 1 });
    return a;
  }

  for (const c of spec.containers) {
    const cur = latest(o, c.name, false, sandbox.id);
    if (!cur) {
      a.start.push({ container: c, isInit: false, restartCount: nextCount(o, c.name, false) });
      continue;
    }
    if (cur.state === "running") {
      if (cur.hash !== containerHash(c)) {
        a.kill.push({ id: cur.id, name: c.name, message: `Container ${c.name} definition changed, will be restarted` });
        continue;
      }
      const live = ctx.livenessFailed(cur.id);
      if (live.restart) a.kill.push({ id: cur.id, name: c.name, message: `Container ${c.name} failed liveness probe, will be restarted` });
      continue;
    }
    if (cur.state === "created" || cur.state === "unknown") {
      a.kill.push({ id: cur.id, name: c.name, message: "Container was created but never started" });
      continue;
    }
    if (!shouldRestart(pod, cur)) continue;
    const wait = ctx.backoffRemaining(c.name, cur.finishedAt);
    if (wait > 0) a.backoff.push({ name: c.name, isInit: false, remainingMs: wait });
    else a.start.push({ container: c, isInit: false, restartCount: cur.restartCount + 1 });
  }
  return a;
}

/** Exited instances beyond the newest two of each container (the current and the previous one). */
function garbage(o: ObservedPod): string[] {
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (const c of o.containers) {
    const k = `${c.isInit ? "init" : "app"}/${c.name}`;
    const n = (seen.get(k) ?? 0) + 1;
    seen.set(k, n);
    if (n > 2 && c.state === "exited") out.push(c.id);
  }
  return out;
}
