import { Pods, type Container, type Pod, type Probe } from "@corral/api";
import type { EventRecorder } from "@corral/client";
import type { CriClient } from "@corral/cri";
import type { Logger } from "@corral/logging";
import { runProbe } from "./prober.js";
import { failureMessage, kindLabel, PROBE_KINDS, probeOf, type ProbeKind, type ProbeOutcome, type ProbeSettings } from "./state.js";
import type { ProbeManager, RunningContainer } from "./types.js";
import { ProbeWorker } from "./worker.js";

export interface ProbeManagerOptions {
  cri: Pick<CriClient, "runtime">;
  /** Called (asynchronously) when a result flips, with "namespace/name". */
  onChange: (podKey: string) => void;
  recorder?: Pick<EventRecorder, "event">;
  log: Logger;
  /** For tests: milliseconds in a probe-schedule second (initialDelaySeconds, periodSeconds). Timeouts stay in real seconds. */
  secondMs?: number;
  /** For tests: how a probe attempt runs (default: exec, httpGet or tcpSocket for real). */
  runProbe?: (probe: Probe, settings: ProbeSettings, target: { container: Container; containerId: string; podIP: string }) => Promise<ProbeOutcome>;
}

interface ContainerEntry {
  id: string;
  name: string;
  workers: Partial<Record<ProbeKind, ProbeWorker>>;
}

interface PodEntry {
  pod: Pod;
  key: string;
  podIP: string;
  containers: Map<string, ContainerEntry>;
}

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace || "default"}/${pod.metadata?.name ?? ""}`;
}

export class Prober implements ProbeManager {
  private readonly pods = new Map<string, PodEntry>();
  /** (uid, container id) asked about before sync() knew them: when they turn up, the pod is synced again. */
  private readonly askedEarly = new Set<string>();
  private readonly secondMs: number;
  private stopped = false;

  constructor(private readonly opts: ProbeManagerOptions) {
    this.secondMs = opts.secondMs ?? 1000;
  }

  sync(pod: Pod, podIP: string, running: readonly RunningContainer[]): void {
    if (this.stopped) return;
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let entry = this.pods.get(uid);
    if (!entry) {
      entry = { pod, key: podKey(pod), podIP, containers: new Map() };
      this.pods.set(uid, entry);
    }
    entry.pod = pod;
    entry.podIP = podIP;
    const ids = new Set(running.map((c) => c.id));
    for (const [id, c] of entry.containers) {
      if (!ids.has(id)) {
        this.stopContainer(c);
        entry.containers.delete(id);
      }
    }
    let notify = false;
    for (const rc of running) {
      if (entry.containers.has(rc.id)) continue;
      const spec = pod.spec?.containers.find((c) => c.name === rc.name);
      const c: ContainerEntry = { id: rc.id, name: rc.name, workers: {} };
      entry.containers.set(rc.id, c);
      if (spec) {
        for (const kind of PROBE_KINDS) {
          const probe = probeOf(spec, kind);
          if (probe) c.workers[kind] = this.newWorker(entry, c, kind, spec, rc, probe);
        }
        for (const w of Object.values(c.workers)) w.start();
      }
      if (this.askedEarly.delete(`${uid}/${rc.id}`)) notify = true;
    }
    // Questions about containers that are not running are answered for good (not ready, not started).
    for (const k of this.askedEarly) if (k.startsWith(`${uid}/`)) this.askedEarly.delete(k);
    if (entry.containers.size === 0) this.pods.delete(uid);
    if (notify) this.notify(entry.key);
  }

  removePod(uid: string): void {
    const entry = this.pods.get(uid);
    if (!entry) return;
    for (const c of entry.containers.values()) this.stopContainer(c);
    this.pods.delete(uid);
    for (const k of this.askedEarly) if (k.startsWith(`${uid}/`)) this.askedEarly.delete(k);
  }

  isStarted(uid: string, containerId: string): boolean {
    const c = this.container(uid, containerId);
    if (!c) return false;
    const w = c.workers.startup;
    return !w || w.state.result === "success";
  }

  isReady(uid: string, containerId: string): boolean {
    const c = this.container(uid, containerId);
    if (!c) return false;
    // Not ready before the startup probe has succeeded: readiness does not even run until then.
    if (c.workers.startup && c.workers.startup.state.result !== "success") return false;
    const w = c.workers.readiness;
    return !w || w.state.result === "success";
  }

  shouldRestart(uid: string, containerId: string): { restart: boolean; message: string } {
    // No result yet means no restart: asking about a container sync() has not seen is no reason to resync.
    const c = this.pods.get(uid)?.containers.get(containerId);
    for (const kind of ["startup", "liveness"] as const) {
      const w = c?.workers[kind];
      if (w && w.state.result === "failure") {
        return { restart: true, message: `${kindLabel(kind)} probe failed: ${w.state.lastFailure}` };
      }
    }
    return { restart: false, message: "" };
  }

  stop(): void {
    this.stopped = true;
    for (const uid of [...this.pods.keys()]) this.removePod(uid);
    this.askedEarly.clear();
  }

  /** The container's entry; remembers a question about one not known yet (its answer will change once it is). */
  private container(uid: string, containerId: string): ContainerEntry | undefined {
    const c = this.pods.get(uid)?.containers.get(containerId);
    if (!c && !this.stopped) this.askedEarly.add(`${uid}/${containerId}`);
    return c;
  }

  private stopContainer(c: ContainerEntry): void {
    for (const w of Object.values(c.workers)) w.stop();
  }

  private notify(key: string): void {
    // Never re-enter the caller (the pod worker may be in the middle of a sync).
    setImmediate(() => {
      if (!this.stopped) this.opts.onChange(key);
    });
  }

  private newWorker(entry: PodEntry, c: ContainerEntry, kind: ProbeKind, spec: Container, rc: RunningContainer, probe: Probe): ProbeWorker {
    const run =
      this.opts.runProbe ??
      ((p: Probe, s: ProbeSettings, t: { container: Container; containerId: string; podIP: string }) =>
        runProbe(p, s.timeoutSeconds, { cri: this.opts.cri, ...t }));
    return new ProbeWorker(kind, spec, rc.id, rc.startedAt.getTime(), probe, {
      secondMs: this.secondMs,
      now: () => Date.now(),
      run: (p, s) => run(p, s, { container: spec, containerId: rc.id, podIP: entry.podIP }),
      mayProbe: () => kind === "startup" || !c.workers.startup || c.workers.startup.state.result === "success",
      onResult: (w, outcome, changed) => this.onResult(entry, c, w, outcome, changed),
    });
  }

  private onResult(entry: PodEntry, c: ContainerEntry, w: ProbeWorker, outcome: ProbeOutcome, changed: boolean): void {
    if (outcome.result !== "success") {
      const message = failureMessage(w.kind, outcome);
      this.opts.log.debug({ pod: entry.key, container: c.name, probe: w.kind, message }, "probe failed");
      this.opts.recorder?.event(Pods, entry.pod, "Warning", "Unhealthy", message);
    }
    if (!changed) return;
    this.opts.log.info(
      { pod: entry.key, container: c.name, containerId: c.id, probe: w.kind, result: w.state.result },
      "probe result changed",
    );
    if (w.kind === "startup" && w.state.result === "success") {
      c.workers.liveness?.kick();
      c.workers.readiness?.kick();
    }
    this.notify(entry.key);
  }
}
