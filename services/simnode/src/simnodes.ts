// Simulated nodes, in the manner of kwok: N Node objects served by one process. Each node
// registers with its capacity and a Ready condition, renews its Lease (corral-system/<node>) as a
// node agent would, and reports the pods bound to it Running, with an IP from its podCIDR, after
// a configurable delay; a pod being deleted is removed at once. No container ever runs.
//
// Every simulated node carries the label corral.dev/simulated=true (and type=simulated) and the
// taint corral.dev/simulated=true:NoSchedule, so only pods that tolerate it land there.
//
// Built for thousands of nodes: one pod watch for all of them (filtered here by node name), one
// heartbeat timer walking the nodes round-robin so renewals spread over the period, and every
// write through one concurrency limit.
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import {
  LeaseSchema,
  Leases,
  NodeSchema,
  Nodes,
  PodStatusSchema,
  Pods,
  type Container,
  type Lease,
  type Node,
  type Pod,
} from "@corral/api";
import { Clientset, Informer, objectKey } from "@corral/client";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import { createLogger, type Logger } from "@corral/logging";
import { IpPool, formatIPv4, nodeSubnet, parseCidr, parseIPv4 } from "./ip.js";

export const SIMULATED_LABEL = "corral.dev/simulated";
export const SIMULATED_TAINT = { key: SIMULATED_LABEL, value: "true", effect: "NoSchedule" } as const;
export const NODE_LEASE_NAMESPACE = "corral-system";

export interface SimulatedNodesOptions {
  apiserver?: string;
  clients?: Clientset;
  /** How many nodes; they are named prefix + index. */
  count: number;
  prefix?: string;
  /** The first index (to run several processes side by side with one prefix). */
  startIndex?: number;
  /** Capacity (and allocatable) of each node. */
  cpu?: string;
  memory?: string;
  pods?: string;
  ephemeralStorage?: string;
  /** Extra labels on every node. */
  labels?: Record<string, string>;
  /** Extra taints on every node, besides the simulated one. */
  taints?: { key: string; value?: string; effect: string }[];
  /** Pod CIDR carved into one /24 per node (by index). */
  podCidr?: string;
  /** Node InternalIPs are this address plus the node's index plus one. */
  nodeIpBase?: string;
  /** Delay before a bound pod is reported Running; negative: never (pods stay Pending). */
  runningDelayMs?: number;
  /** Each node renews its Lease this often (the kubelet: 10 s). */
  leaseRenewSeconds?: number;
  leaseDurationSeconds?: number;
  /** Writes to the apiserver in flight at once, across all nodes. */
  maxInFlight?: number;
  log?: Logger;
}

export interface SimulatedNodesStats {
  registered: number;
  heartbeats: number;
  heartbeatErrors: number;
  podsStarted: number;
  podsDeleted: number;
  writeErrors: number;
}

/** A concurrency limit: at most `max` calls of run() in flight; the rest wait in order. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++;
    else await new Promise<void>((r) => this.waiting.push(r)); // the slot is handed over
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
  get backlog(): number {
    return this.waiting.length;
  }
}

interface SimNode {
  name: string;
  index: number;
  subnet: string;
  hostIp: string;
  ips: IpPool;
  lease?: Lease;
  renewing: boolean;
}

/** The pod's QoS class, as Kubernetes derives it. */
export function qosClass(pod: Pod): string {
  const all: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length > 0 || Object.keys(lim).length > 0) any = true;
    for (const r of ["cpu", "memory"]) {
      if (!lim[r] || (req[r] !== undefined && req[r] !== lim[r])) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** The status a node agent would report for a pod whose containers all started. */
export function runningStatus(pod: Pod, hostIp: string, podIp: string): Pod["status"] {
  const now = timestampNow();
  const cond = (type: string) => ({ type, status: "True", lastTransitionTime: now });
  const uid = (pod.metadata?.uid ?? "").slice(0, 8);
  return create(PodStatusSchema, {
    phase: "Running",
    conditions: [cond("PodScheduled"), cond("Initialized"), cond("ContainersReady"), cond("Ready")],
    hostIp,
    podIp,
    podIps: [{ ip: podIp }],
    startTime: now,
    qosClass: qosClass(pod),
    initContainerStatuses: (pod.spec?.initContainers ?? []).map((c) => ({
      name: c.name,
      image: c.image,
      imageId: c.image,
      containerId: `sim://${uid}-${c.name}`,
      ready: true,
      restartCount: 0,
      state: { terminated: { exitCode: 0, reason: "Completed", startedAt: now, finishedAt: now, containerId: `sim://${uid}-${c.name}` } },
    })),
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image,
      imageId: c.image,
      containerId: `sim://${uid}-${c.name}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: now } },
    })),
  });
}

export class SimulatedNodes {
  readonly stats: SimulatedNodesStats = { registered: 0, heartbeats: 0, heartbeatErrors: 0, podsStarted: 0, podsDeleted: 0, writeErrors: 0 };
  private readonly clients: Clientset;
  private readonly ownsClients: boolean;
  private readonly log: Logger;
  private readonly nodes = new Map<string, SimNode>();
  private readonly order: SimNode[] = [];
  private readonly limiter: Limiter;
  private readonly podInformer: Informer<Pod>;
  /** Pod uid → the IP it got (to give it back when the pod goes). */
  private readonly podIps = new Map<string, { node: string; ip: string }>();
  /** Pods with a start or a delete pending, by uid. */
  private readonly starting = new Map<string, NodeJS.Timeout | true>();
  private readonly deleting = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private heartbeatTimer?: NodeJS.Timeout;
  private readonly writes = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly o: Required<Omit<SimulatedNodesOptions, "apiserver" | "clients" | "log" | "labels" | "taints">> & {
    labels: Record<string, string>;
    taints: { key: string; value?: string; effect: string }[];
  };

  private constructor(opts: SimulatedNodesOptions) {
    this.log = opts.log ?? createLogger("simnode");
    this.ownsClients = !opts.clients;
    this.clients = opts.clients ?? Clientset.connect(opts.apiserver ?? "127.0.0.1:6443");
    this.o = {
      count: opts.count,
      prefix: opts.prefix ?? "sim-",
      startIndex: opts.startIndex ?? 0,
      cpu: opts.cpu ?? "32",
      memory: opts.memory ?? "256Gi",
      pods: opts.pods ?? "110",
      ephemeralStorage: opts.ephemeralStorage ?? "100Gi",
      labels: opts.labels ?? {},
      taints: opts.taints ?? [],
      podCidr: opts.podCidr ?? "10.128.0.0/9",
      nodeIpBase: opts.nodeIpBase ?? "100.64.0.0",
      runningDelayMs: opts.runningDelayMs ?? 1_000,
      leaseRenewSeconds: opts.leaseRenewSeconds ?? 10,
      leaseDurationSeconds: opts.leaseDurationSeconds ?? 40,
      maxInFlight: opts.maxInFlight ?? 64,
    };
    if (!Number.isInteger(this.o.count) || this.o.count < 0) throw new Error(`count: must be a non-negative integer`);
    this.limiter = new Limiter(this.o.maxInFlight);
    const cidr = parseCidr(this.o.podCidr);
    const ipBase = parseIPv4(this.o.nodeIpBase);
    for (let i = this.o.startIndex; i < this.o.startIndex + this.o.count; i++) {
      const name = `${this.o.prefix}${i}`;
      const subnet = nodeSubnet(cidr, i);
      const n: SimNode = { name, index: i, subnet, hostIp: formatIPv4(ipBase + i + 1), ips: new IpPool(subnet), renewing: false };
      this.nodes.set(name, n);
      this.order.push(n);
    }
    // Only pods bound to some node; those of other nodes are dropped in the handler.
    this.podInformer = new Informer(this.clients.for(Pods), {
      fieldSelector: "spec.nodeName!=",
      log: { warn: (o, m) => this.log.warn(o, m) },
    });
  }

  /** Registers the nodes and starts serving them; resolves once every Node exists and the pod watch is synced. */
  static async start(opts: SimulatedNodesOptions): Promise<SimulatedNodes> {
    const s = new SimulatedNodes(opts);
    try {
      await s.begin();
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  get nodeNames(): string[] {
    return this.order.map((n) => n.name);
  }

  private async begin(): Promise<void> {
    const t0 = Date.now();
    await Promise.all(this.order.map((n) => this.limiter.run(() => this.register(n))));
    this.log.info({ nodes: this.order.length, ms: Date.now() - t0 }, "simulated nodes registered");
    this.podInformer.addEventHandler({
      add: (p) => this.onPod(p),
      update: (_old, p) => this.onPod(p),
      delete: (p) => this.onPodGone(p),
    });
    this.podInformer.start();
    await this.podInformer.waitForSync();
    this.startHeartbeats();
  }

  private nodeObject(n: SimNode): Node {
    const now = timestampNow();
    const resources = { cpu: this.o.cpu, memory: this.o.memory, pods: this.o.pods, "ephemeral-storage": this.o.ephemeralStorage };
    const cond = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    });
    return create(NodeSchema, {
      metadata: {
        name: n.name,
        labels: {
          ...this.o.labels,
          type: "simulated",
          [SIMULATED_LABEL]: "true",
          "kubernetes.io/hostname": n.name,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": "amd64",
        },
        annotations: { "corral.dev/simulated-by": "corral-simnode" },
      },
      spec: {
        podCidr: n.subnet,
        podCidrs: [n.subnet],
        providerId: `simulated://${n.name}`,
        taints: [SIMULATED_TAINT, ...this.o.taints].map((t) => ({ key: t.key, value: t.value ?? "", effect: t.effect })),
      },
      status: {
        capacity: resources,
        allocatable: resources,
        conditions: [
          cond("Ready", "True", "KubeletReady", "simulated node is ready"),
          cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "simulated node has sufficient memory available"),
          cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "simulated node has no disk pressure"),
          cond("PIDPressure", "False", "KubeletHasSufficientPID", "simulated node has sufficient PID available"),
        ],
        addresses: [
          { type: "InternalIP", address: n.hostIp },
          { type: "Hostname", address: n.name },
        ],
        nodeInfo: {
          kubeletVersion: "corral-simnode",
          containerRuntimeVersion: "simulated://0",
          operatingSystem: "linux",
          architecture: "amd64",
          osImage: "simulated",
          kernelVersion: "simulated",
        },
      },
    });
  }

  /** Creates the Node, or takes over an existing one of that name (status refreshed to Ready). */
  private async register(n: SimNode): Promise<void> {
    const nodes = this.clients.for(Nodes);
    const obj = this.nodeObject(n);
    try {
      await nodes.create(obj, { timeoutMs: 30_000 });
    } catch (err) {
      if (errorCode(err) !== Code.ALREADY_EXISTS) throw err;
      const cur = await nodes.get({ name: n.name }, { timeoutMs: 30_000 });
      const next = create(NodeSchema, { metadata: obj.metadata, spec: obj.spec });
      next.metadata!.resourceVersion = cur.metadata!.resourceVersion;
      const updated = await nodes.update(next, { timeoutMs: 30_000 });
      await nodes.updateStatus({ ...updated, status: obj.status }, { timeoutMs: 30_000 });
    }
    this.stats.registered++;
  }

  // ---- heartbeats ----

  private startHeartbeats(): void {
    const periodMs = this.o.leaseRenewSeconds * 1000;
    const tickMs = Math.max(20, Math.min(200, periodMs / Math.max(1, this.order.length)));
    let cursor = 0;
    let credit = 0;
    let last = Date.now();
    const perMs = this.order.length / periodMs;
    // The first round renews every node at once (spread by the limiter): leases exist from the start.
    for (const n of this.order) this.renew(n);
    last = Date.now();
    this.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      credit += (now - last) * perMs;
      last = now;
      while (credit >= 1 && this.order.length > 0) {
        credit--;
        const n = this.order[cursor]!;
        cursor = (cursor + 1) % this.order.length;
        this.renew(n);
      }
    }, tickMs);
    this.heartbeatTimer.unref();
  }

  private renew(n: SimNode): void {
    if (n.renewing || this.stopped) return;
    n.renewing = true;
    this.track(
      this.limiter
        .run(() => this.renewLease(n))
        .then(
          () => this.stats.heartbeats++,
          (err) => {
            this.stats.heartbeatErrors++;
            n.lease = undefined;
            this.log.debug({ node: n.name, err: errorMessage(err) }, "lease renewal failed");
          },
        )
        .finally(() => (n.renewing = false)),
    );
  }

  private async renewLease(n: SimNode): Promise<void> {
    if (this.stopped) return;
    const leases = this.clients.for(Leases);
    const now = timestampNow();
    if (n.lease) {
      const next = create(LeaseSchema, { metadata: n.lease.metadata, spec: { ...n.lease.spec, renewTime: now } });
      try {
        n.lease = await leases.update(next, { timeoutMs: 30_000 });
        return;
      } catch (err) {
        if (errorCode(err) !== Code.ABORTED && errorCode(err) !== Code.NOT_FOUND) throw err;
        n.lease = undefined;
      }
    }
    const fresh = create(LeaseSchema, {
      metadata: { name: n.name, namespace: NODE_LEASE_NAMESPACE },
      spec: { holderIdentity: n.name, leaseDurationSeconds: this.o.leaseDurationSeconds, renewTime: now, acquireTime: now },
    });
    try {
      n.lease = await leases.create(fresh, { timeoutMs: 30_000 });
    } catch (err) {
      if (errorCode(err) !== Code.ALREADY_EXISTS) throw err;
      const cur = await leases.get({ namespace: NODE_LEASE_NAMESPACE, name: n.name }, { timeoutMs: 30_000 });
      n.lease = await leases.update(create(LeaseSchema, { metadata: cur.metadata, spec: { ...fresh.spec, acquireTime: cur.spec?.acquireTime ?? now } }), {
        timeoutMs: 30_000,
      });
    }
  }

  // ---- pods ----

  private onPod(p: Pod): void {
    const n = this.nodes.get(p.spec?.nodeName ?? "");
    if (!n || this.stopped) return;
    const uid = p.metadata!.uid;
    if (p.metadata?.deletionTimestamp) {
      const t = this.starting.get(uid);
      if (t && t !== true) clearTimeout(t);
      this.starting.delete(uid);
      if (!this.deleting.has(uid)) {
        this.deleting.add(uid);
        this.write(
          () => this.deletePod(p),
          () => this.deleting.delete(uid),
          () => this.retry(objectKey(p)),
        );
      }
      return;
    }
    const phase = p.status?.phase ?? "";
    if (phase === "Succeeded" || phase === "Failed") return;
    if (phase === "Running" && p.status?.podIp) {
      // Already running (reported by us, maybe before a restart): keep its address taken.
      if (!this.podIps.has(uid) && n.ips.claim(p.status.podIp)) this.podIps.set(uid, { node: n.name, ip: p.status.podIp });
      return;
    }
    if (this.o.runningDelayMs < 0 || this.starting.has(uid)) return;
    const key = objectKey(p);
    const go = () => {
      this.starting.set(uid, true);
      this.write(
        () => this.startPod(key, uid),
        () => this.starting.delete(uid),
        () => this.retry(key),
      );
    };
    if (this.o.runningDelayMs === 0) go();
    else {
      const t = setTimeout(() => {
        this.timers.delete(t);
        go();
      }, this.o.runningDelayMs);
      this.timers.add(t);
      this.starting.set(uid, t);
    }
  }

  private onPodGone(p: Pod): void {
    const uid = p.metadata?.uid ?? "";
    const t = this.starting.get(uid);
    if (t && t !== true) clearTimeout(t);
    this.starting.delete(uid);
    const ip = this.podIps.get(uid);
    if (ip) {
      this.nodes.get(ip.node)?.ips.release(ip.ip);
      this.podIps.delete(uid);
    }
  }

  /** A write through the limiter; on failure `after` runs, then `onError` (which may try again). */
  private write(fn: () => Promise<void>, after: () => void, onError?: () => void): void {
    let failed = false;
    this.track(
      this.limiter
        .run(fn)
        .catch((err) => {
          failed = true;
          this.stats.writeErrors++;
          this.log.warn({ err: errorMessage(err) }, "simulated node write failed; retrying in 1 s");
        })
        .finally(() => {
          after();
          if (failed) onError?.();
        }),
    );
  }

  /** Looks at the pod again in a second (after a failed write), if it is still there. */
  private retry(key: string): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      const p = this.podInformer.get(key);
      if (p) this.onPod(p);
    }, 1_000);
    this.timers.add(t);
  }

  private track(p: Promise<unknown>): void {
    this.writes.add(p);
    void p.finally(() => this.writes.delete(p));
  }

  private async startPod(key: string, uid: string): Promise<void> {
    const pod = this.podInformer.get(key);
    if (this.stopped || !pod || pod.metadata?.uid !== uid || pod.metadata.deletionTimestamp) return;
    const n = this.nodes.get(pod.spec?.nodeName ?? "");
    if (!n || pod.status?.phase === "Running") return;
    let ip = this.podIps.get(uid)?.ip;
    if (!ip) {
      ip = n.ips.allocate();
      if (!ip) throw new Error(`node ${n.name}: no free pod IP in ${n.subnet}`);
      this.podIps.set(uid, { node: n.name, ip });
    }
    // No resourceVersion: the node owns a bound pod's status, last write wins (as the kubelet's patch).
    const next = { ...pod, metadata: { ...pod.metadata!, resourceVersion: "" }, status: runningStatus(pod, n.hostIp, ip) } as Pod;
    try {
      await this.clients.for(Pods).updateStatus(next, { timeoutMs: 30_000 });
      this.stats.podsStarted++;
    } catch (err) {
      if (errorCode(err) === Code.NOT_FOUND) return;
      throw err;
    }
  }

  private async deletePod(p: Pod): Promise<void> {
    const m = p.metadata!;
    try {
      await this.clients.for(Pods).delete(
        { namespace: m.namespace, name: m.name, gracePeriodSeconds: 0n, preconditions: { uid: m.uid } },
        { timeoutMs: 30_000 },
      );
      this.stats.podsDeleted++;
    } catch (err) {
      if (errorCode(err) === Code.NOT_FOUND || errorCode(err) === Code.ABORTED) return;
      throw err;
    }
  }

  /** Pods on the simulated nodes, as the watch has them. */
  podsOn(nodeName: string): Pod[] {
    return this.podInformer.list().filter((p) => p.spec?.nodeName === nodeName);
  }

  /**
   * Stops heartbeats and pod handling. With deleteNodes the Nodes and their Leases are removed too
   * (pods bound to them are left to whoever owns them).
   */
  async stop(opts: { deleteNodes?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.podInformer.stop();
    await Promise.allSettled([...this.writes]);
    if (opts.deleteNodes) {
      const ignoreMissing = (err: unknown) => {
        if (errorCode(err) !== Code.NOT_FOUND) throw err;
      };
      await Promise.all(
        this.order.map((n) =>
          this.limiter.run(async () => {
            await this.clients.for(Leases).delete({ namespace: NODE_LEASE_NAMESPACE, name: n.name }, { timeoutMs: 30_000 }).catch(ignoreMissing);
            await this.clients.for(Nodes).delete({ name: n.name }, { timeoutMs: 30_000 }).catch(ignoreMissing);
          }),
        ),
      );
    }
    if (this.ownsClients) this.clients.close();
  }
}
