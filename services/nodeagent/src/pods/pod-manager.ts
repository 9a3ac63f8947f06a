import { equals } from "@bufbuild/protobuf";
import { ConfigMaps, PodStatusSchema, Pods, Secrets, type ConfigMap, type Pod, type Secret } from "@corral/api";
import { Informer, WorkQueue, runWorkers, sleep, type Clientset, type EventRecorder, type ReconcileResult } from "@corral/client";
import type { DNSConfig, PodSandboxConfig } from "@corral/cri";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import type { Logger } from "@corral/logging";
import { readdir, rm } from "node:fs/promises";
import { removeCgroup, podCgroups } from "../cri/cgroups.js";
import type { Runtime } from "../cri/runtime.js";
import type { NodePaths } from "../paths.js";
import type { ProbeManager, RunningContainer } from "../probes/types.js";
import { containerConfig, graceSeconds, sandboxConfig } from "./cri-config.js";
import { ConfigError, resolveEnv } from "./env.js";
import { currentSandbox, type ObservedPod } from "./observed.js";
import { isTerminal, planPod, type PodActions, type StartAction } from "./plan.js";
import { backoffKey, RestartBackoff } from "./restart-backoff.js";
import { podStatus, type Waiting } from "./status.js";
import { containerMounts, MountError, setUpVolumes, tearDownVolumes, volumeHostPaths } from "./volumes.js";

export interface PodManagerOptions {
  clients: Clientset;
  runtime: Runtime;
  paths: NodePaths;
  nodeName: string;
  hostIP: string;
  probes: ProbeManager;
  recorder: EventRecorder;
  log: Logger;
  backoff?: RestartBackoff;
  dns?: DNSConfig;
  workers?: number;
  /** How often CRI is relisted for container state changes (the kubelet's PLEG period). */
  relistMs?: number;
}

const UID_KEY = "uid:";

/**
 * Drives every pod bound to this node to its spec, one pod at a time per key (a work queue fed by
 * a watch of the node's pods and by CRI relists). All state is read back from CRI and the API on
 * each sync, so a restarted agent adopts what is running and carries on.
 */
export class PodManager {
  readonly informer: Informer<Pod>;
  private readonly queue = new WorkQueue({ baseMs: 200, maxMs: 30_000 });
  private readonly backoff: RestartBackoff;
  private readonly waiting = new Map<string, Map<string, Waiting>>();
  private readonly knownUid = new Map<string, string>();
  private readonly log: Logger;
  private readonly ac = new AbortController();
  private tasks: Promise<unknown>[] = [];
  private lastStates = new Map<string, string>();

  constructor(private readonly o: PodManagerOptions) {
    this.log = o.log;
    this.backoff = o.backoff ?? new RestartBackoff();
    this.informer = new Informer(o.clients.for(Pods), {
      fieldSelector: `spec.nodeName=${o.nodeName}`,
      log: o.log,
    });
    this.informer.addIndex("uid", (p) => [p.metadata?.uid ?? ""]);
    const enqueue = (p: Pod) => this.queue.add(`${p.metadata!.namespace}/${p.metadata!.name}`);
    this.informer.addEventHandler({ add: enqueue, update: (_, p) => enqueue(p), delete: enqueue });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync(this.ac.signal);
    // Whatever CRI runs for pods that no longer exist was deleted while the agent was away.
    await this.sweepOrphans().catch((err) => this.log.warn({ err: errorMessage(err) }, "orphan sweep failed"));
    this.tasks.push(runWorkers(this.queue, (k) => this.reconcile(k), { workers: this.o.workers ?? 8, log: this.log }));
    this.tasks.push(this.relistLoop());
  }

  /**
   * Stops syncing. A sync in flight may be waiting out a container's grace period; it is not
   * awaited for long: containerd finishes the stop on its own, and a restarted agent carries on.
   */
  async stop(): Promise<void> {
    this.ac.abort();
    this.queue.shutDown();
    await this.informer.stop();
    await Promise.race([Promise.allSettled(this.tasks), sleep(1_000)]);
  }

  /** Called when a probe result changes. */
  resync(podKey: string): void {
    this.queue.add(podKey);
  }

  /**
   * The PLEG: relists CRI and queues every pod whose sandboxes or containers changed state.
   * containerd 1.6 has no container event stream, so this is the kubelet's generic relist.
   */
  private async relistLoop(): Promise<void> {
    const period = this.o.relistMs ?? 1_000;
    while (!this.ac.signal.aborted) {
      try {
        const states = await this.o.runtime.containerStates();
        for (const [uid, s] of states) if (this.lastStates.get(uid) !== s) this.queueUid(uid);
        for (const uid of this.lastStates.keys()) if (!states.has(uid)) this.queueUid(uid);
        this.lastStates = states;
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, "CRI relist failed");
      }
      await sleep(period, this.ac.signal);
    }
  }

  private queueUid(uid: string): void {
    const pod = this.informer.byIndex("uid", uid)[0];
    this.queue.add(pod ? `${pod.metadata!.namespace}/${pod.metadata!.name}` : UID_KEY + uid);
  }

  private async sweepOrphans(): Promise<void> {
    const live = new Set(this.informer.list().map((p) => p.metadata!.uid));
    const uids = await this.o.runtime.managedPodUids();
    for (const dir of await readdir(this.o.paths.podsRoot()).catch(() => [] as string[])) uids.add(dir);
    for (const cg of await podCgroups(this.o.paths.cgroupRoot)) if (cg.startsWith("pod")) uids.add(cg.slice(3));
    for (const uid of uids) if (!live.has(uid)) this.queue.add(UID_KEY + uid);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    if (key.startsWith(UID_KEY)) {
      const uid = key.slice(UID_KEY.length);
      if (this.informer.byIndex("uid", uid).length === 0) await this.cleanup(uid, undefined);
      return;
    }
    const pod = this.informer.get(key);
    const prevUid = this.knownUid.get(key);
    if (!pod) {
      if (prevUid) await this.cleanup(prevUid, undefined);
      this.knownUid.delete(key);
      return;
    }
    const uid = pod.metadata!.uid;
    if (prevUid && prevUid !== uid) await this.cleanup(prevUid, undefined);
    this.knownUid.set(key, uid);
    const log = this.log.child({ namespace: pod.metadata!.namespace, pod: pod.metadata!.name });
    if (pod.metadata!.deletionTimestamp) return this.terminate(pod, log);
    return this.sync(pod, log);
  }

  /** Graceful deletion: stop everything with the pod's grace period, clean up, remove the object. */
  private async terminate(pod: Pod, log: Logger): Promise<void> {
    const uid = pod.metadata!.uid;
    const grace = Number(pod.metadata!.deletionGracePeriodSeconds ?? BigInt(graceSeconds(pod)));
    const observed = await this.o.runtime.inspect(uid);
    for (const c of observed.containers.filter((c) => c.state === "running")) {
      this.o.recorder.event(Pods, pod, "Normal", "Killing", `Stopping container ${c.name}`);
    }
    this.o.probes.removePod(uid);
    await this.o.runtime.killPod(observed, grace);
    await this.cleanup(uid, pod);
    try {
      await this.o.clients.for(Pods).delete({
        namespace: pod.metadata!.namespace,
        name: pod.metadata!.name,
        gracePeriodSeconds: 0n,
        preconditions: { uid },
      });
      log.info({ grace }, "pod terminated and removed");
    } catch (err) {
      if (errorCode(err) !== Code.NOT_FOUND && errorCode(err) !== Code.ABORTED && errorCode(err) !== Code.FAILED_PRECONDITION) throw err;
    }
  }

  /** Removes every trace of a pod: sandboxes (with their containers), volumes, logs, cgroups. */
  private async cleanup(uid: string, pod: Pod | undefined): Promise<void> {
    this.o.probes.removePod(uid);
    const observed = await this.o.runtime.inspect(uid);
    if (observed.containers.some((c) => c.state === "running")) {
      await this.o.runtime.killPod(observed, pod ? graceSeconds(pod) : 0);
    }
    for (const c of observed.containers) await this.o.runtime.removeContainer(c.id).catch(() => {});
    for (const s of observed.sandboxes) await this.o.runtime.removeSandbox(s.id);
    await tearDownVolumes(uid, this.o.paths);
    await this.removeLogs(uid);
    await removeCgroup(this.o.paths.podCgroup(uid));
    this.backoff.forgetPod(uid);
    this.waiting.delete(uid);
    this.lastStates.delete(uid);
  }

  private async removeLogs(uid: string): Promise<void> {
    const root = this.o.paths.logsRoot();
    for (const d of await readdir(root).catch(() => [] as string[])) {
      if (d.endsWith(`_${uid}`)) await rm(`${root}/${d}`, { recursive: true, force: true });
    }
  }

  private async sync(pod: Pod, log: Logger): Promise<ReconcileResult | void> {
    const uid = pod.metadata!.uid;
    const waiting = this.waiting.get(uid) ?? new Map<string, Waiting>();
    this.waiting.set(uid, waiting);
    const t0 = performance.now();
    let observed = await this.o.runtime.inspect(uid);
    const tInspect = performance.now();
    const now = Date.now();
    const actions = planPod(pod, observed, {
      now,
      backoffRemaining: (name, finishedAt) => this.backoff.remaining(backoffKey(uid, name), finishedAt, now),
      livenessFailed: (id) => this.o.probes.shouldRestart(uid, id),
    });
    let retry: unknown;
    let tApply = tInspect;
    try {
      const changed = await this.apply(pod, observed, actions, waiting, log);
      tApply = performance.now();
      if (changed) observed = await this.o.runtime.inspect(uid);
    } catch (err) {
      retry = err;
    }
    const tReinspect = performance.now();
    const backoff = new Map(actions.backoff.map((b) => [`${b.isInit ? "init" : "app"}/${b.name}`, this.backoff.delay(backoffKey(uid, b.name))]));
    await this.reportStatus(pod, observed, waiting, backoff, log);
    // Where a sync's time goes, for `CORRAL_LOG_LEVEL=debug` (pod start-up latency work).
    log.debug(
      {
        inspectMs: Math.round(tInspect - t0),
        applyMs: Math.round(tApply - tInspect),
        reinspectMs: Math.round(tReinspect - tApply),
        statusMs: Math.round(performance.now() - tReinspect),
        started: actions.start.map((s) => s.container.name),
        sandbox: actions.createSandbox,
      },
      "pod synced",
    );
    if (retry) throw retry;
    const next = Math.min(...actions.backoff.map((b) => b.remainingMs));
    return Number.isFinite(next) ? { requeueAfterMs: next + 50 } : undefined;
  }

  /** Carries out a plan; returns true if anything was changed in the runtime. */
  private async apply(pod: Pod, observed: ObservedPod, a: PodActions, waiting: Map<string, Waiting>, log: Logger): Promise<boolean> {
    const rt = this.o.runtime;
    let changed = false;
    for (const id of a.remove) await rt.removeContainer(id).catch(() => {});
    for (const id of a.removeSandboxes) await rt.removeSandbox(id).catch(() => {});
    for (const k of a.kill) {
      this.o.recorder.event(Pods, pod, "Normal", "Killing", k.message);
      await rt.stopContainer(k.id, graceSeconds(pod));
      changed = true;
    }
    if (a.killPod) {
      this.o.probes.removePod(pod.metadata!.uid);
      await rt.killPod(observed, graceSeconds(pod));
      changed = true;
    }
    for (const b of a.backoff) {
      this.o.recorder.event(Pods, pod, "Warning", "BackOff", `Back-off restarting failed container ${b.name} in pod ${pod.metadata!.name}`);
    }
    if (!a.createSandbox && a.start.length === 0) return changed;

    const configMaps = new Map<string, ConfigMap | undefined>();
    const secrets = new Map<string, Secret | undefined>();
    await this.prefetch(pod, configMaps, secrets);
    const sources = { configMap: (n: string) => configMaps.get(n), secret: (n: string) => secrets.get(n) };

    let sandbox = currentSandbox(observed);
    let sbConfig: PodSandboxConfig;
    if (a.createSandbox) {
      try {
        await setUpVolumes(pod, this.o.paths, sources);
      } catch (err) {
        if (err instanceof MountError) {
          this.o.recorder.event(Pods, pod, "Warning", "FailedMount", err.message);
          for (const s of a.start) waiting.set(waitKey(s), { reason: "ContainerCreating", message: err.message });
        }
        throw err;
      }
      sbConfig = sandboxConfig(pod, a.sandboxAttempt, this.o.paths, this.o.dns);
      const id = await rt.runSandbox(sbConfig);
      changed = true;
      sandbox = { id, ready: true, attempt: a.sandboxAttempt, createdAt: Date.now(), ip: await rt.sandboxIP(id) };
      log.info({ sandbox: id, ip: sandbox.ip }, "sandbox ready");
    } else {
      sbConfig = sandboxConfig(pod, sandbox?.attempt ?? 0, this.o.paths, this.o.dns);
    }
    if (!sandbox) throw new Error("the pod has no sandbox to start containers in");
    const hostPaths = volumeHostPaths(pod, this.o.paths);
    let failure: unknown;
    // App containers start side by side; an init container is only ever started alone.
    await Promise.all(
      a.start.map(async (s) => {
        try {
          await this.startOne(pod, s, sandbox!.id, sandbox!.ip, sbConfig, hostPaths, sources, waiting);
          changed = true;
        } catch (err) {
          failure ??= err;
        }
      }),
    );
    if (failure) throw failure;
    return changed;
  }

  private async prefetch(pod: Pod, cms: Map<string, ConfigMap | undefined>, secrets: Map<string, Secret | undefined>): Promise<void> {
    const ns = pod.metadata!.namespace;
    const cmNames = new Set<string>();
    const secretNames = new Set<string>();
    for (const c of [...pod.spec!.initContainers, ...pod.spec!.containers]) {
      for (const f of c.envFrom) {
        if (f.configMapRef) cmNames.add(f.configMapRef.name);
        if (f.secretRef) secretNames.add(f.secretRef.name);
      }
      for (const e of c.env) {
        if (e.valueFrom?.configMapKeyRef) cmNames.add(e.valueFrom.configMapKeyRef.name);
        if (e.valueFrom?.secretKeyRef) secretNames.add(e.valueFrom.secretKeyRef.name);
      }
    }
    for (const v of pod.spec!.volumes) {
      if (v.configMap) cmNames.add(v.configMap.name);
      if (v.secret) secretNames.add(v.secret.secretName);
    }
    const get = async <T>(p: Promise<T>): Promise<T | undefined> => {
      try {
        return await p;
      } catch (err) {
        if (errorCode(err) === Code.NOT_FOUND) return undefined;
        throw err;
      }
    };
    await Promise.all([
      ...[...cmNames].map(async (n) => cms.set(n, await get(this.o.clients.for(ConfigMaps).get({ namespace: ns, name: n })))),
      ...[...secretNames].map(async (n) => secrets.set(n, await get(this.o.clients.for(Secrets).get({ namespace: ns, name: n })))),
    ]);
  }

  private async startOne(
    pod: Pod,
    s: StartAction,
    sandboxId: string,
    podIP: string,
    sbConfig: PodSandboxConfig,
    hostPaths: Map<string, string>,
    sources: { configMap(n: string): ConfigMap | undefined; secret(n: string): Secret | undefined },
    waiting: Map<string, Waiting>,
  ): Promise<void> {
    const c = s.container;
    const key = waitKey(s);
    const image = await this.ensureImage(pod, c.image, c.imagePullPolicy, sbConfig, key, waiting);
    let config;
    try {
      const envs = resolveEnv(pod, c, { ...sources, podIP, hostIP: this.o.hostIP, nodeName: this.o.nodeName });
      const mounts = containerMounts(c, hostPaths);
      config = containerConfig(pod, c, { restartCount: s.restartCount, isInit: s.isInit, envs, mounts, image }, this.o.paths);
    } catch (err) {
      if (err instanceof ConfigError) {
        waiting.set(key, { reason: "CreateContainerConfigError", message: err.message });
        this.o.recorder.event(Pods, pod, "Warning", "Failed", `Error: ${err.message}`);
      }
      throw err;
    }
    if (s.restartCount > 0) this.backoff.next(backoffKey(pod.metadata!.uid, c.name), Date.now());
    try {
      await this.o.runtime.startContainer(sandboxId, sbConfig, config);
    } catch (err) {
      waiting.set(key, { reason: "RunContainerError", message: errorMessage(err) });
      this.o.recorder.event(Pods, pod, "Warning", "Failed", `Error: ${errorMessage(err)}`);
      throw err;
    }
    waiting.delete(key);
    this.o.recorder.event(Pods, pod, "Normal", "Created", `Created container ${c.name}`);
    this.o.recorder.event(Pods, pod, "Normal", "Started", `Started container ${c.name}`);
  }

  /** The image, pulled per imagePullPolicy: Always, IfNotPresent (default for tagged images) or Never. */
  private async ensureImage(
    pod: Pod,
    image: string,
    policy: string,
    sbConfig: PodSandboxConfig,
    key: string,
    waiting: Map<string, Waiting>,
  ): Promise<string> {
    const effective = policy || (isLatest(image) ? "Always" : "IfNotPresent");
    const present = await this.o.runtime.hasImage(image);
    if (present && effective !== "Always") {
      this.o.recorder.event(Pods, pod, "Normal", "Pulled", `Container image "${image}" already present on machine`);
      return image;
    }
    if (effective === "Never") {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      waiting.set(key, { reason: "ErrImageNeverPull", message });
      this.o.recorder.event(Pods, pod, "Warning", "ErrImageNeverPull", message);
      throw new Error(message);
    }
    this.o.recorder.event(Pods, pod, "Normal", "Pulling", `Pulling image "${image}"`);
    const t0 = performance.now();
    try {
      await this.o.runtime.pullImage(image, sbConfig);
    } catch (err) {
      const message = `Failed to pull image "${image}": ${errorMessage(err)}`;
      waiting.set(key, { reason: "ErrImagePull", message });
      this.o.recorder.event(Pods, pod, "Warning", "Failed", message);
      throw err;
    }
    this.o.recorder.event(Pods, pod, "Normal", "Pulled", `Successfully pulled image "${image}" in ${Math.round(performance.now() - t0)}ms`);
    return image;
  }

  private async reportStatus(
    pod: Pod,
    observed: ObservedPod,
    waiting: Map<string, Waiting>,
    backoff: Map<string, number>,
    log: Logger,
  ): Promise<void> {
    const uid = pod.metadata!.uid;
    if (isTerminal(pod)) return;
    const sandbox = currentSandbox(observed);
    const running: RunningContainer[] = observed.containers
      .filter((c) => c.state === "running" && c.sandboxId === sandbox?.id && !c.isInit)
      .map((c) => ({ name: c.name, id: c.id, startedAt: new Date(c.startedAt || c.createdAt) }));
    if (sandbox?.ready) this.o.probes.sync(pod, sandbox.ip, running);
    const status = podStatus(pod, observed, {
      now: Date.now(),
      hostIP: this.o.hostIP,
      isReady: (id) => this.o.probes.isReady(uid, id),
      isStarted: (id) => this.o.probes.isStarted(uid, id),
      waiting,
      backoff,
    });
    if (pod.status && equals(PodStatusSchema, pod.status, status)) return;
    const next = { ...pod, status } as Pod;
    try {
      await this.o.clients.for(Pods).updateStatus(next);
      if (pod.status?.phase !== status.phase) log.info({ phase: status.phase }, "pod phase changed");
    } catch (err) {
      // A newer version of the pod is on its way through the watch; it is synced again then.
      if (errorCode(err) === Code.ABORTED || errorCode(err) === Code.NOT_FOUND) return;
      throw err;
    }
  }
}

function waitKey(s: StartAction): string {
  return `${s.isInit ? "init" : "app"}/${s.container.name}`;
}

function isLatest(image: string): boolean {
  const last = image.split("/").pop() ?? image;
  if (last.includes("@")) return false;
  return !last.includes(":") || last.endsWith(":latest");
}
