// The controller manager: one process running every controller, leader-elected over the Lease
// corral-system/corral-controller-manager. While it leads it lists and watches what the
// controllers need (one informer per kind, shared), waits for those caches to hold the cluster,
// then runs the controllers; when it stops leading (or stops) they stop, and a new term starts
// from fresh caches.
import { Clientset, EventRecorder, LeaderElector } from "@corral/client";
import { createLogger, type Logger } from "@corral/logging";
import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import { CronJobController } from "./cronjob/cronjob.js";
import { DaemonSetController } from "./daemonset/daemonset.js";
import { DeploymentController } from "./deployment/deployment.js";
import { EndpointsController } from "./endpoints/endpoints.js";
import { GarbageCollector } from "./garbagecollector/garbagecollector.js";
import { JobController } from "./job/job.js";
import { NamespaceController } from "./namespace/namespace.js";
import { NodeLifecycleController, TaintEvictionController } from "./nodelifecycle/nodelifecycle.js";
import { PodGCController } from "./podgc/podgc.js";
import { ReplicaSetController } from "./replicaset/replicaset.js";
import { StatefulSetController } from "./statefulset/statefulset.js";
import { DEFAULT_CONFIG, type Controller, type ControllerConfig, type ControllerContext } from "./shared/controller.js";
import { SharedInformers } from "./shared/informers.js";

export const LEASE_NAME = "corral-controller-manager";
export const LEASE_NAMESPACE = "corral-system";

/** Every controller, by the name --controllers uses, with the component its Events carry. */
export const CONTROLLERS: readonly { name: string; component: string; make: (ctx: ControllerContext) => Controller }[] = [
  { name: "replicaset", component: "replicaset-controller", make: (c) => new ReplicaSetController(c) },
  { name: "deployment", component: "deployment-controller", make: (c) => new DeploymentController(c) },
  { name: "endpoints", component: "endpoint-controller", make: (c) => new EndpointsController(c) },
  { name: "nodelifecycle", component: "node-controller", make: (c) => new NodeLifecycleController(c) },
  { name: "taint-eviction", component: "taint-eviction-controller", make: (c) => new TaintEvictionController(c) },
  { name: "garbagecollector", component: "garbage-collector-controller", make: (c) => new GarbageCollector(c) },
  { name: "namespace", component: "namespace-controller", make: (c) => new NamespaceController(c) },
  { name: "job", component: "job-controller", make: (c) => new JobController(c) },
  { name: "cronjob", component: "cronjob-controller", make: (c) => new CronJobController(c) },
  { name: "daemonset", component: "daemonset-controller", make: (c) => new DaemonSetController(c) },
  { name: "statefulset", component: "statefulset-controller", make: (c) => new StatefulSetController(c) },
  { name: "podgc", component: "pod-garbage-collector", make: (c) => new PodGCController(c) },
];

export interface ControllerManagerOptions extends Partial<Omit<ControllerConfig, "workers">> {
  /** host:port of the apiserver (ignored when `clients` is given). */
  apiserver?: string;
  clients?: Clientset;
  /** This replica's name in the Lease; default hostname_pid_random. */
  identity?: string;
  /** Default true: run the controllers only while holding the Lease. */
  leaderElect?: boolean;
  leaseDurationSeconds?: number;
  retryPeriodMs?: number;
  /**
   * Which controllers run, as kube-controller-manager's --controllers: names, "*" for all,
   * "-name" to leave one out. Default all.
   */
  controllers?: readonly string[];
  workers?: Readonly<Record<string, number>>;
  log?: Logger;
}

/**
 * The controllers a --controllers list selects (kube-controller-manager's rules): "*" is every
 * controller, "name" adds one, "-name" removes one. An empty list is "*".
 */
export function selectControllers(list: readonly string[] | undefined): string[] {
  const all = CONTROLLERS.map((c) => c.name);
  const items = (list ?? []).map((x) => x.trim()).filter(Boolean);
  if (items.length === 0) return all;
  const on = new Set<string>();
  const off = new Set<string>();
  for (const item of items) {
    if (item === "*") {
      for (const n of all) on.add(n);
      continue;
    }
    const name = item.startsWith("-") ? item.slice(1) : item;
    if (!all.includes(name)) throw new Error(`unknown controller "${name}" (known: ${all.join(", ")})`);
    (item.startsWith("-") ? off : on).add(name);
  }
  return all.filter((n) => on.has(n) && !off.has(n));
}

export class ControllerManager {
  readonly identity: string;
  readonly config: ControllerConfig;
  private readonly clients: Clientset;
  private readonly ownsClients: boolean;
  private readonly log: Logger;
  private readonly enabled: string[];
  private readonly stopping = new AbortController();
  private main?: Promise<void>;
  private leading = false;
  private leadingWaiters: (() => void)[] = [];
  private current?: { informers: SharedInformers; controllers: Map<string, Controller> };

  private constructor(private readonly opts: ControllerManagerOptions) {
    this.log = opts.log ?? createLogger("controller-manager");
    this.ownsClients = !opts.clients;
    this.clients = opts.clients ?? Clientset.connect(opts.apiserver ?? "127.0.0.1:6443");
    this.identity = opts.identity ?? `${hostname()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    this.enabled = selectControllers(opts.controllers);
    this.config = {
      nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs ?? DEFAULT_CONFIG.nodeMonitorGracePeriodMs,
      nodeStartupGracePeriodMs: opts.nodeStartupGracePeriodMs ?? DEFAULT_CONFIG.nodeStartupGracePeriodMs,
      defaultTolerationSeconds: opts.defaultTolerationSeconds ?? DEFAULT_CONFIG.defaultTolerationSeconds,
      jobBackoffBaseMs: opts.jobBackoffBaseMs ?? DEFAULT_CONFIG.jobBackoffBaseMs,
      jobBackoffMaxMs: opts.jobBackoffMaxMs ?? DEFAULT_CONFIG.jobBackoffMaxMs,
      workers: opts.workers ?? {},
    };
  }

  /**
   * Starts campaigning for the Lease (or, without leader election, starts the controllers). Resolves
   * at once; `whenLeading()` resolves once the controllers run.
   */
  static async start(opts: ControllerManagerOptions = {}): Promise<ControllerManager> {
    const cm = new ControllerManager(opts);
    cm.begin();
    return cm;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get controllerNames(): readonly string[] {
    return this.enabled;
  }

  /** A running controller, while leading (tests look at queues and expectations). */
  controller<T extends Controller = Controller>(name: string): T | undefined {
    return this.current?.controllers.get(name) as T | undefined;
  }

  /** Resolves once this replica leads, its caches have synced and its controllers run. */
  whenLeading(): Promise<void> {
    if (this.leading) return Promise.resolve();
    return new Promise((resolve) => this.leadingWaiters.push(resolve));
  }

  private begin(): void {
    this.log.info({ identity: this.identity, controllers: this.enabled, config: { ...this.config, workers: undefined } }, "controller manager starting");
    if (this.opts.leaderElect ?? true) {
      const elector = new LeaderElector(this.clients, {
        name: LEASE_NAME,
        namespace: LEASE_NAMESPACE,
        identity: this.identity,
        leaseDurationSeconds: this.opts.leaseDurationSeconds ?? 15,
        retryPeriodMs: this.opts.retryPeriodMs ?? 2_000,
        log: this.log,
      });
      this.main = elector.run((signal) => this.lead(signal), this.stopping.signal);
    } else {
      this.main = this.lead(this.stopping.signal);
    }
  }

  /** One term of leadership: fresh caches, every controller, until the signal aborts. */
  private async lead(signal: AbortSignal): Promise<void> {
    // Every controller and informer listens for the end of the term.
    setMaxListeners(64, signal);
    const informers = new SharedInformers(this.clients, this.log);
    const controllers = new Map<string, Controller>();
    for (const c of CONTROLLERS) {
      if (!this.enabled.includes(c.name)) continue;
      const ctx: ControllerContext = {
        clients: this.clients,
        informers,
        recorder: new EventRecorder(this.clients, { component: c.component, host: this.identity }, this.log),
        log: this.log,
        config: this.config,
      };
      controllers.set(c.name, c.make(ctx));
    }
    this.current = { informers, controllers };
    const t0 = Date.now();
    informers.start();
    try {
      await informers.waitForSync(signal);
    } catch {
      await informers.stop();
      return;
    }
    this.log.info({ ms: Date.now() - t0, kinds: informers.all().map((i) => `${i.client.kind.kind}:${i.size}`) }, "caches synced; controllers running");
    this.leading = true;
    for (const w of this.leadingWaiters.splice(0)) w();
    try {
      await Promise.all([...controllers.values()].map((c) => c.run(signal)));
    } finally {
      this.leading = false;
      await informers.stop();
      this.log.info({ identity: this.identity }, "controllers stopped");
    }
  }

  /** Stops the controllers (giving the Lease up) and closes the connection it made. */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    await this.main;
    for (const w of this.leadingWaiters.splice(0)) w();
    if (this.ownsClients) this.clients.close();
  }
}
