// The scheduler: watches nodes and pods into a cache, takes pods that need a node from the
// scheduling queue one at a time, runs the profile's plugins to pick a node (synchronously, on
// the cache), counts the pod there at once (assume), and writes the binding in the background
// while it goes on to the next pod. Only the leader (a Lease in corral-system) schedules; other
// replicas keep their caches warm and take over when the lease expires.
import { create, equals } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Nodes, PodConditionSchema, PodSpecSchema, PodStatusSchema, Pods, type Node, type Pod } from "@corral/api";
import { Clientset, EventRecorder, Informer, LeaderElector, objectKey } from "@corral/client";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import { createLogger, type Logger } from "@corral/logging";
import { hostname } from "node:os";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { SchedulerCache } from "./cache.js";
import { buildFrameworks, DEFAULT_SCHEDULER_NAME, type SchedulerConfiguration } from "./config.js";
import { FitError, type Framework } from "./framework/framework.js";
import { newPodInfo } from "./framework/pod-info.js";
import { ALL_EVENTS, type ClusterEvent, type PluginFactory } from "./framework/types.js";
import { SchedulingQueue, type QueuedPod } from "./queue.js";

export const LEASE_NAME = "corral-scheduler";
export const LEASE_NAMESPACE = "corral-system";
/** Pods the scheduler watches: finished pods hold no resources (kube-scheduler filters the same way). */
export const POD_FIELD_SELECTOR = "status.phase!=Succeeded,status.phase!=Failed";

export interface SchedulerOptions {
  /** host:port of the apiserver (ignored when `clients` is given). */
  apiserver?: string;
  clients?: Clientset;
  /** This replica's name in the Lease; default hostname_pid_random. */
  identity?: string;
  /** Default true: schedule only while holding the Lease corral-system/corral-scheduler. */
  leaderElect?: boolean;
  leaseName?: string;
  leaseDurationSeconds?: number;
  retryPeriodMs?: number;
  config?: SchedulerConfiguration;
  /** Out-of-tree plugins, by name; enable them in config. */
  plugins?: ReadonlyMap<string, PluginFactory>;
  log?: Logger;
  /** Bindings written at once while the next pods are decided. */
  maxInFlightBindings?: number;
  /** "Scheduled" Events per second at most (FailedScheduling Events are never dropped). */
  scheduledEventsPerSecond?: number;
}

export interface SchedulerStats {
  /** Pods bound. */
  scheduled: number;
  /** Attempts that found no node. */
  unschedulable: number;
  /** Bindings that failed (the pod was retried). */
  bindErrors: number;
  /** Decisions made, and the time they took in total (ms), without any I/O. */
  decisions: number;
  decisionMs: number;
}

/** A token bucket: at most `rate` per second, `burst` at once. */
class RateLimiter {
  private tokens: number;
  private last = Date.now();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }
  tryTake(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

function sameMap(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const x = a ?? {};
  const y = b ?? {};
  const kx = Object.keys(x);
  if (kx.length !== Object.keys(y).length) return false;
  for (const k of kx) if (x[k] !== y[k]) return false;
  return true;
}

function readyStatus(n: Node): string {
  return n.status?.conditions.find((c) => c.type === "Ready")?.status ?? "";
}

/** Whether a node changed in anything a filter reads (not heartbeats). */
export function nodeSchedulingChanged(a: Node, b: Node): boolean {
  const ta = a.spec?.taints ?? [];
  const tb = b.spec?.taints ?? [];
  return (
    !sameMap(a.metadata?.labels, b.metadata?.labels) ||
    (a.spec?.unschedulable ?? false) !== (b.spec?.unschedulable ?? false) ||
    ta.length !== tb.length ||
    ta.some((t, i) => t.key !== tb[i]!.key || t.value !== tb[i]!.value || t.effect !== tb[i]!.effect) ||
    !sameMap(a.status?.allocatable, b.status?.allocatable) ||
    !sameMap(a.status?.capacity, b.status?.capacity) ||
    readyStatus(a) !== readyStatus(b)
  );
}

/** Whether a pending pod changed in a way that may change where it fits. */
function podSchedulingChanged(a: Pod, b: Pod): boolean {
  if (!sameMap(a.metadata?.labels, b.metadata?.labels)) return true;
  if (!a.spec || !b.spec) return a.spec !== b.spec;
  return !equals(PodSpecSchema, a.spec, b.spec);
}

const assigned = (p: Pod) => (p.spec?.nodeName ?? "") !== "";

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  readonly frameworks: ReadonlyMap<string, Framework>;
  readonly stats: SchedulerStats = { scheduled: 0, unschedulable: 0, bindErrors: 0, decisions: 0, decisionMs: 0 };
  readonly identity: string;
  private readonly clients: Clientset;
  private readonly ownsClients: boolean;
  private readonly log: Logger;
  private readonly nodeInformer: Informer<Node>;
  private readonly podInformer: Informer<Pod>;
  private readonly recorder: EventRecorder;
  private readonly scheduledEvents: RateLimiter;
  private readonly maxInFlight: number;
  private readonly stopping = new AbortController();
  private readonly interest = new Map<string, ReadonlySet<ClusterEvent>>();
  private readonly pendingEvents = new Set<ClusterEvent>();
  private eventsFlushScheduled = false;
  private readonly bindings = new Set<Promise<void>>();
  private readonly bindingKeys = new Set<string>();
  private slotWaiters: (() => void)[] = [];
  private elector?: LeaderElector;
  private main?: Promise<void>;
  private leading = false;
  private statsTimer?: NodeJS.Timeout;

  private constructor(private readonly opts: SchedulerOptions) {
    this.log = opts.log ?? createLogger("scheduler");
    this.ownsClients = !opts.clients;
    this.clients = opts.clients ?? Clientset.connect(opts.apiserver ?? "127.0.0.1:6443");
    this.identity = opts.identity ?? `${hostname()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    this.frameworks = buildFrameworks(opts.config, opts.plugins);
    for (const fw of this.frameworks.values()) {
      for (const p of fw.plugins) this.interest.set(p.name, new Set(p.events ?? ALL_EVENTS));
    }
    const cfg = opts.config ?? {};
    this.queue = new SchedulingQueue({
      initialBackoffMs: (cfg.podInitialBackoffSeconds ?? 1) * 1000,
      maxBackoffMs: (cfg.podMaxBackoffSeconds ?? 10) * 1000,
      maxUnschedulableMs: (cfg.podMaxInUnschedulablePodsSeconds ?? 300) * 1000,
    });
    this.maxInFlight = opts.maxInFlightBindings ?? 256;
    this.scheduledEvents = new RateLimiter(opts.scheduledEventsPerSecond ?? 50, Math.max(1, (opts.scheduledEventsPerSecond ?? 50) * 2));
    this.recorder = new EventRecorder(this.clients, { component: DEFAULT_SCHEDULER_NAME, host: this.identity }, this.log);
    const log = { warn: (o: object, m: string) => this.log.warn(o, m) };
    this.nodeInformer = new Informer(this.clients.for(Nodes), { log });
    this.podInformer = new Informer(this.clients.for(Pods), { fieldSelector: POD_FIELD_SELECTOR, log });
  }

  /** Starts watching; resolves once the caches hold the cluster. Scheduling starts once this replica leads. */
  static async start(opts: SchedulerOptions = {}): Promise<Scheduler> {
    const s = new Scheduler(opts);
    await s.begin();
    return s;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private async begin(): Promise<void> {
    this.nodeInformer.addEventHandler({
      add: (n) => {
        this.cache.setNode(n);
        this.clusterEvent("NodeAdd");
      },
      update: (old, n) => {
        this.cache.setNode(n);
        if (nodeSchedulingChanged(old, n)) this.clusterEvent("NodeUpdate");
      },
      delete: (n) => this.cache.removeNode(n.metadata!.name),
    });
    this.podInformer.addEventHandler({
      add: (p) => this.onPod(undefined, p),
      update: (old, p) => this.onPod(old, p),
      delete: (p) => {
        const key = objectKey(p);
        this.queue.delete(key);
        if (this.cache.nodeOf(key) !== undefined) {
          this.cache.removePod(key);
          this.clusterEvent("AssignedPodDelete");
        }
      },
    });
    this.nodeInformer.start();
    this.podInformer.start();
    await Promise.all([this.nodeInformer.waitForSync(this.stopping.signal), this.podInformer.waitForSync(this.stopping.signal)]);
    this.log.info(
      { nodes: this.cache.nodeCount, pods: this.podInformer.size, profiles: [...this.frameworks.keys()], identity: this.identity },
      "caches synced",
    );
    this.statsTimer = setInterval(() => this.logStats(), 30_000);
    this.statsTimer.unref();
    if (this.opts.leaderElect ?? true) {
      this.elector = new LeaderElector(this.clients, {
        name: this.opts.leaseName ?? LEASE_NAME,
        namespace: LEASE_NAMESPACE,
        identity: this.identity,
        leaseDurationSeconds: this.opts.leaseDurationSeconds ?? 15,
        retryPeriodMs: this.opts.retryPeriodMs ?? 2_000,
        log: this.log,
      });
      this.main = this.elector.run((signal) => this.lead(signal), this.stopping.signal);
    } else {
      this.main = this.lead(this.stopping.signal);
    }
  }

  private lastLogged = "";
  private logStats(): void {
    const line = JSON.stringify({ ...this.stats, pending: this.queue.pending });
    if (line === this.lastLogged) return;
    this.lastLogged = line;
    this.log.info({ ...this.stats, decisionMs: Math.round(this.stats.decisionMs), pending: this.queue.pending, leader: this.leading }, "scheduler stats");
  }

  private onPod(old: Pod | undefined, p: Pod): void {
    const key = objectKey(p);
    if (assigned(p)) {
      const wasAssigned = old !== undefined && assigned(old);
      this.queue.delete(key);
      this.cache.addPod(p);
      if (!wasAssigned) this.clusterEvent("AssignedPodAdd");
      else if (!sameMap(old.metadata?.labels, p.metadata?.labels)) this.clusterEvent("AssignedPodUpdate");
      return;
    }
    if (!this.frameworks.has(p.spec?.schedulerName || DEFAULT_SCHEDULER_NAME)) return;
    if (p.metadata?.deletionTimestamp) {
      this.queue.delete(key);
      return;
    }
    if (this.cache.isAssumed(key)) return;
    const priority = p.spec?.priority ?? 0;
    if (old && podSchedulingChanged(old, p)) this.queue.updated(key, priority);
    else this.queue.add(key, priority);
  }

  /** Cluster events are coalesced: a burst of bindings moves the unschedulable pods once. */
  private clusterEvent(e: ClusterEvent): void {
    this.pendingEvents.add(e);
    if (this.eventsFlushScheduled) return;
    this.eventsFlushScheduled = true;
    setImmediate(() => {
      this.eventsFlushScheduled = false;
      const events = [...this.pendingEvents];
      this.pendingEvents.clear();
      for (const ev of events) {
        const moved = this.queue.onEvent(ev, (event, rejectedBy) => {
          for (const name of rejectedBy) if (this.interest.get(name)?.has(event) ?? true) return true;
          return rejectedBy.size === 0;
        });
        if (moved > 0) this.log.debug({ event: ev, moved }, "unschedulable pods moved for retry");
      }
    });
  }

  /** The scheduling loop, while this replica leads. */
  private async lead(signal: AbortSignal): Promise<void> {
    this.leading = true;
    this.log.info({ identity: this.identity }, "scheduling");
    let slice = performance.now();
    try {
      while (!signal.aborted) {
        const qp = await this.queue.pop(signal);
        if (!qp || signal.aborted) {
          if (qp) this.queue.putBack(qp);
          break;
        }
        try {
          this.scheduleOne(qp);
        } catch (err) {
          // A bug (in a plugin, say) must not stop the loop: the pod is retried after back-off.
          this.log.error({ pod: qp.key, err: errorMessage(err), stack: (err as Error).stack }, "scheduling attempt failed");
          if (this.cache.isAssumed(qp.key) && !this.bindingKeys.has(qp.key)) this.cache.forget(qp.key);
          this.queue.error(qp);
        }
        while (this.bindings.size >= this.maxInFlight && !signal.aborted) await new Promise<void>((r) => this.slotWaiters.push(r));
        // Let watch events and binding replies in between pods: never hold the loop more than 10 ms.
        if (performance.now() - slice > 10) {
          await yieldToEventLoop();
          slice = performance.now();
        }
      }
    } finally {
      this.leading = false;
      this.log.info({ identity: this.identity }, "stopped scheduling");
    }
  }

  /** One pod: decide (synchronously, on the cache), assume, and start its binding. */
  scheduleOne(qp: QueuedPod): void {
    const pod = this.podInformer.get(qp.key);
    if (!pod || assigned(pod) || pod.metadata?.deletionTimestamp || this.cache.nodeOf(qp.key) !== undefined) {
      this.queue.done(qp);
      return;
    }
    const fw = this.frameworks.get(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME);
    if (!fw) {
      this.queue.done(qp);
      return;
    }
    const info = newPodInfo(pod);
    const t0 = performance.now();
    const result = fw.schedule(info, this.cache);
    this.stats.decisionMs += performance.now() - t0;
    this.stats.decisions++;
    if (result instanceof FitError) {
      this.stats.unschedulable++;
      this.queue.unschedulable(qp, result.rejectedBy);
      this.log.debug({ pod: qp.key, reason: result.message }, "unschedulable");
      void this.reportUnschedulable(pod, result.message);
      return;
    }
    this.cache.assume(info, result.nodeName);
    this.queue.done(qp);
    this.bindingKeys.add(qp.key);
    const b = this.bind(pod, result.nodeName, qp).finally(() => {
      this.bindings.delete(b);
      this.bindingKeys.delete(qp.key);
      const w = this.slotWaiters.shift();
      if (w) w();
    });
    this.bindings.add(b);
  }

  /**
   * Binds through the pods' Bind call (Kubernetes' pods/binding): the apiserver sets spec.nodeName
   * in one compare-and-swap, only while the pod has none, so a pod is bound once whatever other
   * schedulers do. The pod's uid is a precondition (a pod deleted and created again under the same
   * name is not bound by mistake). Already bound elsewhere or being deleted (FAILED_PRECONDITION):
   * the assumption is dropped and the watch brings the truth. On ABORTED the pod is read again:
   * gone, replaced or bound, the assumption is dropped; still unbound, the binding is tried again.
   */
  private async bind(pod: Pod, nodeName: string, qp: QueuedPod): Promise<void> {
    const key = qp.key;
    const m = pod.metadata!;
    const pods = this.clients.for(Pods);
    let cur = pod;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const bound = await pods.bind(
            { metadata: { namespace: m.namespace, name: m.name, uid: m.uid }, target: { name: nodeName } },
            { timeoutMs: 30_000 },
          );
          this.stats.scheduled++;
          this.log.debug({ pod: key, node: nodeName }, "bound");
          if (this.scheduledEvents.tryTake()) {
            this.recorder.event(Pods, bound, "Normal", "Scheduled", `Successfully assigned ${key} to ${nodeName}`);
          }
          if (bound.status?.conditions.some((c) => c.type === "PodScheduled" && c.status !== "True")) {
            void this.setPodScheduled(bound, "True", "", "");
          }
          return;
        } catch (err) {
          if (errorCode(err) === Code.FAILED_PRECONDITION) {
            this.cache.forget(key);
            return;
          }
          if (errorCode(err) !== Code.ABORTED || attempt >= 3) throw err;
          try {
            cur = await pods.get({ namespace: m.namespace, name: m.name }, { timeoutMs: 30_000 });
          } catch (e) {
            if (errorCode(e) === Code.NOT_FOUND) {
              this.cache.forget(key);
              return;
            }
            throw e;
          }
          if (cur.metadata?.uid !== m.uid || cur.metadata?.deletionTimestamp || assigned(cur)) {
            // Gone, replaced, or bound by someone else: the watch brings the truth.
            this.cache.forget(key);
            return;
          }
        }
      }
    } catch (err) {
      this.cache.forget(key);
      if (errorCode(err) === Code.NOT_FOUND) return; // deleted meanwhile
      this.stats.bindErrors++;
      const now = this.podInformer.get(key);
      this.log.warn({ pod: key, node: nodeName, err: errorMessage(err) }, "binding failed; retrying after back-off");
      if (now && !assigned(now) && now.metadata?.uid === m.uid && !now.metadata?.deletionTimestamp) {
        this.queue.error(qp);
        this.recorder.event(Pods, now, "Warning", "FailedScheduling", `Binding rejected: ${errorMessage(err)}`);
      }
    }
  }

  /** The FailedScheduling Event, and the PodScheduled=False condition, that `describe pod` shows. */
  private async reportUnschedulable(pod: Pod, message: string): Promise<void> {
    this.recorder.event(Pods, pod, "Warning", "FailedScheduling", message);
    const c = pod.status?.conditions.find((x) => x.type === "PodScheduled");
    if (c && c.status === "False" && c.reason === "Unschedulable" && c.message === message) return;
    await this.setPodScheduled(pod, "False", "Unschedulable", message);
  }

  private async setPodScheduled(pod: Pod, status: string, reason: string, message: string): Promise<void> {
    const now = timestampNow();
    const st = pod.status ?? create(PodStatusSchema, { phase: "Pending" });
    const prior = st.conditions.find((x) => x.type === "PodScheduled");
    const cond = create(PodConditionSchema, {
      type: "PodScheduled",
      status,
      reason,
      message,
      lastProbeTime: undefined,
      lastTransitionTime: prior && prior.status === status ? prior.lastTransitionTime : now,
    });
    const next = { ...pod, status: { ...st, conditions: [...st.conditions.filter((x) => x.type !== "PodScheduled"), cond] } } as Pod;
    try {
      // With the resourceVersion: a pod bound and started in the meantime is left alone.
      await this.clients.for(Pods).updateStatus(next, { timeoutMs: 10_000 });
    } catch (err) {
      this.log.debug({ pod: objectKey(pod), err: errorMessage(err) }, "PodScheduled condition not written");
    }
  }

  /** Stops scheduling (giving the Lease up), waits for bindings under way, stops watching. */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    for (const w of this.slotWaiters) w();
    this.slotWaiters = [];
    await this.main;
    await Promise.allSettled([...this.bindings]);
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.logStats();
    this.queue.close();
    await Promise.all([this.nodeInformer.stop(), this.podInformer.stop()]);
    if (this.ownsClients) this.clients.close();
  }
}
