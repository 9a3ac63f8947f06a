// A node with what is already placed on it: the sum of its pods' requests, the host ports they
// use and how many pods each owner has there (node-table.ts keeps those counts). Kept up to date incrementally by the cache, so a
// filter or score reads a few numbers instead of walking the node's pods.
import type { Node, Taint } from "@corral/api";
import type { PodInfo } from "./pod-info.js";
import {
  addOwnerCount,
  ALLOC_EPHEMERAL,
  ALLOC_MEMORY,
  ALLOC_MILLI_CPU,
  ALLOC_PODS,
  allocateSlot,
  NONZERO_MEMORY,
  NONZERO_MILLI_CPU,
  nodeTable,
  POD_COUNT,
  READY,
  releaseSlot,
  REQ_EPHEMERAL,
  REQ_MEMORY,
  REQ_MILLI_CPU,
  TAINT_CLASS,
  UNSCHEDULABLE,
} from "./node-table.js";
import { addResources, emptyResources, nodeAllocatable, type Resources } from "./resources.js";

const taintClasses = new Map<string, number>();

function taintClassOf(taints: readonly Taint[]): number {
  if (taints.length === 0) return 0;
  const sig = taints.map((t) => `${t.key}=${t.value}:${t.effect}`).join(",");
  let c = taintClasses.get(sig);
  if (c === undefined) taintClasses.set(sig, (c = taintClasses.size + 1));
  return c;
}

export class NodeInfo {
  node?: Node;
  labels: Readonly<Record<string, string>> = {};
  taints: readonly Taint[] = [];
  unschedulable = false;
  /** The Ready condition's status: "True", "False", "Unknown" or "" when the node reports none. */
  readyStatus = "";
  allocatable: Resources & { pods: number } = { ...emptyResources(), pods: 0 };
  readonly requested: Resources = emptyResources();
  readonly nonZeroRequested = { milliCPU: 0, memory: 0 };
  readonly pods = new Map<string, PodInfo>();
  /** "TCP/80" → host IP → number of pods using it. */
  readonly usedPorts = new Map<string, Map<string, number>>();
  /** Nodes with the same taints have the same taintClass (0: no taints), so per-pod taint checks are done once per class. */
  taintClass = 0;
  /** Whether any taint has the PreferNoSchedule effect (most nodes: no, and that score is skipped). */
  hasPreferNoSchedule = false;
  /** Bumped on every change, for anyone caching per-node results. */
  generation = 0;
  /**
   * This node's offset in the packed node table (node-table.ts), which mirrors allocatable,
   * requested, nonZeroRequested, the pod count, unschedulable, Ready and taintClass for the
   * filters and scores that run over hundreds of nodes per pod.
   */
  readonly slot = allocateSlot();

  constructor(readonly name: string) {}

  /** Frees the slot: the cache calls it when it drops the node, and the NodeInfo is not used again. */
  release(): void {
    releaseSlot(this.slot);
  }

  static of(node: Node, pods: readonly PodInfo[] = []): NodeInfo {
    const ni = new NodeInfo(node.metadata!.name);
    ni.setNode(node);
    for (const p of pods) ni.addPod(p);
    return ni;
  }

  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata?.labels ?? {};
    this.taints = node.spec?.taints ?? [];
    this.taintClass = taintClassOf(this.taints);
    this.hasPreferNoSchedule = this.taints.some((t) => t.effect === "PreferNoSchedule");
    this.unschedulable = node.spec?.unschedulable ?? false;
    this.readyStatus = node.status?.conditions.find((c) => c.type === "Ready")?.status ?? "";
    this.allocatable = nodeAllocatable(node.status?.allocatable ?? {}, node.status?.capacity ?? {});
    const t = nodeTable();
    const o = this.slot;
    t[o + ALLOC_MILLI_CPU] = this.allocatable.milliCPU;
    t[o + ALLOC_MEMORY] = this.allocatable.memory;
    t[o + ALLOC_EPHEMERAL] = this.allocatable.ephemeralStorage;
    t[o + ALLOC_PODS] = this.allocatable.pods;
    t[o + UNSCHEDULABLE] = this.unschedulable ? 1 : 0;
    t[o + READY] = this.readyStatus === "True" ? 1 : 0;
    t[o + TAINT_CLASS] = this.taintClass;
    this.generation++;
  }

  addPod(p: PodInfo): void {
    this.pods.set(p.key, p);
    this.account(p, 1);
  }

  removePod(key: string): PodInfo | undefined {
    const p = this.pods.get(key);
    if (!p) return undefined;
    this.pods.delete(key);
    this.account(p, -1);
    return p;
  }

  private account(p: PodInfo, sign: 1 | -1): void {
    addResources(this.requested, p.requests, sign);
    this.nonZeroRequested.milliCPU += sign * p.nonZero.milliCPU;
    this.nonZeroRequested.memory += sign * p.nonZero.memory;
    const t = nodeTable();
    const o = this.slot;
    t[o + REQ_MILLI_CPU] = this.requested.milliCPU;
    t[o + REQ_MEMORY] = this.requested.memory;
    t[o + REQ_EPHEMERAL] = this.requested.ephemeralStorage;
    t[o + NONZERO_MILLI_CPU] = this.nonZeroRequested.milliCPU;
    t[o + NONZERO_MEMORY] = this.nonZeroRequested.memory;
    t[o + POD_COUNT] = this.pods.size;
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      let ips = this.usedPorts.get(k);
      if (!ips) this.usedPorts.set(k, (ips = new Map()));
      const n = (ips.get(hp.ip) ?? 0) + sign;
      if (n > 0) ips.set(hp.ip, n);
      else ips.delete(hp.ip);
      if (ips.size === 0) this.usedPorts.delete(k);
    }
    if (p.ownerId) addOwnerCount(p.ownerId, this.slot, sign);
    this.generation++;
  }
}
