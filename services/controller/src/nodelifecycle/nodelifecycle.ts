// Node lifecycle: watches each node's heartbeat (its Lease corral-system/<node>, renewed by the
// node agent, and its Ready condition's lastHeartbeatTime), marks a silent node Unknown after the
// grace period, keeps the not-ready/unreachable taints in step with Ready, and marks the pods of an
// unreachable node not ready (so Services stop sending them traffic at once). The taint eviction
// controller beside it deletes pods from NoExecute-tainted nodes once their tolerations run out;
// their ReplicaSets then replace them elsewhere.
import { clone, create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Leases, Nodes, NodeSchema, NodeSpecSchema, Pods, type Lease, type Node, type Pod, type Taint } from "@corral/api";
import { objectKey, type Informer, type ReconcileResult } from "@corral/client";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import { mutate, QueueController, type ControllerContext } from "../shared/controller.js";
import { BY_NODE } from "../shared/informers.js";
import { desiredTaints, evictionTimeMs, readyStatus, sameTaints, silentNodeConditions } from "./logic.js";

export const NODE_LEASE_NAMESPACE = "corral-system";

function heartbeatOf(n: Node): string {
  const t = n.status?.conditions.find((c) => c.type === "Ready")?.lastHeartbeatTime;
  return t ? `${t.seconds}.${t.nanos}` : "";
}

function renewOf(l: Lease): string {
  const t = l.spec?.renewTime;
  return t ? `${t.seconds}.${t.nanos}` : "";
}

export class NodeLifecycleController extends QueueController {
  readonly name = "nodelifecycle";
  private readonly nodeInf: Informer<Node>;
  private readonly leaseInf: Informer<Lease>;
  private readonly podInf: Informer<Pod>;
  /** When this controller last saw each node alive, by its own clock (Kubernetes' probeTimestamp). */
  private readonly probeMs = new Map<string, number>();
  private readonly lastReady = new Map<string, string | undefined>();

  constructor(ctx: ControllerContext) {
    super(ctx, "node-lifecycle-controller", 2);
    this.nodeInf = ctx.informers.get(Nodes);
    this.leaseInf = ctx.informers.get(Leases);
    this.podInf = ctx.informers.get(Pods);
    this.nodeInf.addEventHandler({
      add: (n) => {
        this.probeMs.set(n.metadata!.name, Date.now());
        this.enqueue(n.metadata!.name);
      },
      update: (o, n) => {
        if (heartbeatOf(o) !== heartbeatOf(n)) this.probeMs.set(n.metadata!.name, Date.now());
        this.enqueue(n.metadata!.name);
      },
      delete: (n) => {
        this.probeMs.delete(n.metadata!.name);
        this.lastReady.delete(n.metadata!.name);
      },
    });
    this.leaseInf.addEventHandler({
      add: (l) => this.leaseSeen(undefined, l),
      update: (o, l) => this.leaseSeen(o, l),
    });
  }

  private leaseSeen(old: Lease | undefined, l: Lease): void {
    if (l.metadata?.namespace !== NODE_LEASE_NAMESPACE) return;
    if (old && renewOf(old) === renewOf(l)) return;
    const name = l.metadata.name;
    this.probeMs.set(name, Date.now());
    if (this.nodeInf.get(name)) this.enqueue(name);
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    const node = this.nodeInf.get(name);
    if (!node) return;
    const cfg = this.ctx.config;
    const now = Date.now();
    let probe = this.probeMs.get(name);
    if (probe === undefined) this.probeMs.set(name, (probe = now));
    const everReported = node.status?.conditions.some((c) => c.type === "Ready") ?? false;
    const grace = everReported ? cfg.nodeMonitorGracePeriodMs : cfg.nodeStartupGracePeriodMs;
    const silent = now - probe > grace;
    let current = node;
    if (silent) {
      const conds = silentNodeConditions(node, now);
      if (conds) {
        const next = clone(NodeSchema, node);
        next.status!.conditions = conds;
        try {
          current = await this.ctx.clients.for(Nodes).updateStatus(next, { timeoutMs: 30_000 });
          this.log.info({ node: name, silentForMs: now - probe }, "node stopped reporting; marked Unknown");
          await this.markPodsNotReady(name);
        } catch (err) {
          // Written meanwhile (by the agent, come back?): look again with what it wrote.
          if (errorCode(err) === Code.ABORTED) return { requeueAfterMs: 100 };
          throw err;
        }
      }
    }
    this.recordReadyChange(current);
    if (!sameTaints(current.spec?.taints ?? [], desiredTaints(current, now))) {
      await mutate(this.ctx.clients, Nodes, "", name, (n) => {
        const want = desiredTaints(n, now);
        if (sameTaints(n.spec?.taints ?? [], want)) return false;
        n.spec ??= create(NodeSpecSchema, {});
        n.spec.taints = want;
        return true;
      });
    }
    if (!silent) return { requeueAfterMs: probe + grace - now + 50 };
  }

  private recordReadyChange(n: Node): void {
    const name = n.metadata!.name;
    const ready = readyStatus(n);
    const prev = this.lastReady.get(name);
    this.lastReady.set(name, ready);
    if (prev === undefined || prev === ready) return;
    if (ready === "True") this.ctx.recorder.event(Nodes, n, "Normal", "NodeReady", `Node ${name} status is now: NodeReady`);
    else if (prev === "True") this.ctx.recorder.event(Nodes, n, "Normal", "NodeNotReady", `Node ${name} status is now: NodeNotReady`);
  }

  /** The pods of an unreachable node are not ready any more (Kubernetes' MarkPodsNotReady). */
  private async markPodsNotReady(nodeName: string): Promise<void> {
    const pods = this.podInf.byIndex(BY_NODE, nodeName).filter((p) => p.status?.conditions.some((c) => c.type === "Ready" && c.status === "True"));
    await Promise.all(
      pods.map(async (p) => {
        const next = clone(Pods.schema, p);
        const now = timestampFromMs(Date.now());
        for (const c of next.status!.conditions) {
          if ((c.type === "Ready" || c.type === "ContainersReady") && c.status === "True") {
            c.status = "False";
            c.lastTransitionTime = now;
          }
        }
        try {
          await this.ctx.clients.for(Pods).updateStatus(next, { timeoutMs: 30_000 });
          this.ctx.recorder.event(Pods, p, "Warning", "NodeNotReady", "Node is not ready");
        } catch (err) {
          this.log.debug({ pod: objectKey(p), err: errorMessage(err) }, "pod not marked not ready");
        }
      }),
    );
  }
}

export class TaintEvictionController extends QueueController {
  readonly name = "taint-eviction";
  private readonly nodeInf: Informer<Node>;
  private readonly podInf: Informer<Pod>;
  /** When each NoExecute taint without timeAdded was first seen, by node/key/effect. */
  private readonly firstSeen = new Map<string, number>();
  private disrupted = false;

  constructor(ctx: ControllerContext) {
    super(ctx, "taint-eviction-controller", 4);
    this.nodeInf = ctx.informers.get(Nodes);
    this.podInf = ctx.informers.get(Pods);
    this.podInf.addEventHandler({
      add: (p) => this.podChanged(p),
      update: (o, p) => {
        if (o.spec?.nodeName !== p.spec?.nodeName || o.spec?.tolerations.length !== p.spec?.tolerations.length) this.podChanged(p);
      },
    });
    this.nodeInf.addEventHandler({
      add: (n) => this.nodeChanged(undefined, n),
      update: (o, n) => this.nodeChanged(o, n),
      delete: (n) => {
        for (const k of [...this.firstSeen.keys()]) if (k.startsWith(`${n.metadata!.name}/`)) this.firstSeen.delete(k);
        this.nodeChanged(n, undefined);
      },
    });
  }

  private noExecute(n: Node | undefined): Taint[] {
    return (n?.spec?.taints ?? []).filter((t) => t.effect === "NoExecute");
  }

  private podChanged(p: Pod): void {
    const node = p.spec?.nodeName ? this.nodeInf.get(p.spec.nodeName) : undefined;
    if (this.noExecute(node).length > 0) this.enqueue(objectKey(p));
  }

  private nodeChanged(old: Node | undefined, n: Node | undefined): void {
    // With no node Ready at all, the fault is more likely ours (or the network's) than every
    // node's: evictions wait (Kubernetes' full disruption mode).
    const disrupted = this.fullDisruption();
    if (disrupted !== this.disrupted) {
      this.disrupted = disrupted;
      const ready = Object.fromEntries(this.nodeInf.list().map((x) => [x.metadata!.name, readyStatus(x) ?? "none"]));
      this.log.warn({ disrupted, ready }, disrupted ? "no node is Ready: evictions suspended" : "a node is Ready again: evictions resumed");
      for (const node of this.nodeInf.list()) if (this.noExecute(node).length > 0) this.enqueueNode(node.metadata!.name);
      return;
    }
    if (!n) return;
    const before = this.noExecute(old);
    const after = this.noExecute(n);
    if (!sameTaints(before, after) && after.length > 0) this.enqueueNode(n.metadata!.name);
  }

  private enqueueNode(name: string): void {
    for (const p of this.podInf.byIndex(BY_NODE, name)) this.enqueue(objectKey(p));
  }

  private fullDisruption(): boolean {
    const nodes = this.nodeInf.list();
    return nodes.length > 0 && nodes.every((n) => readyStatus(n) !== "True");
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const pod = this.podInf.get(key);
    if (!pod || pod.metadata?.deletionTimestamp || !pod.spec?.nodeName) return;
    const node = this.nodeInf.get(pod.spec.nodeName);
    const taints = this.noExecute(node);
    if (!node || taints.length === 0) return;
    const now = Date.now();
    const at = evictionTimeMs(pod, taints, this.ctx.config.defaultTolerationSeconds, (t) => {
      const k = `${node.metadata!.name}/${t.key}/${t.effect}`;
      let seen = this.firstSeen.get(k);
      if (seen === undefined) this.firstSeen.set(k, (seen = now));
      return seen;
    });
    if (at === Infinity) return;
    if (this.disrupted) return; // re-enqueued when a node is Ready again
    if (at > now) return { requeueAfterMs: at - now + 50 };
    const m = pod.metadata!;
    try {
      await this.ctx.clients.for(Pods).delete({ namespace: m.namespace, name: m.name, preconditions: { uid: m.uid } }, { timeoutMs: 30_000 });
    } catch (err) {
      if (errorCode(err) === Code.NOT_FOUND) return;
      throw err;
    }
    this.log.info({ pod: key, node: node.metadata!.name, taints: taints.map((t) => t.key) }, "evicted pod from tainted node");
    this.ctx.recorder.event(Pods, pod, "Normal", "TaintManagerEviction", `Marking for deletion Pod ${key}`);
  }
}
