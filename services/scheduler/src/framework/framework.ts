// One profile's algorithm: run the enabled plugins over the nodes and pick one. Synchronous and
// free of I/O: it reads the cache as it is at this instant (JavaScript runs it to completion,
// so no snapshot is needed), which also makes it easy to benchmark on its own.
import type { NodeInfo } from "./node-info.js";
import type { PodInfo } from "./pod-info.js";
import { CycleState, SKIP, type ClusterView, type Plugin } from "./types.js";

export interface WeightedPlugin {
  readonly plugin: Plugin;
  readonly weight: number;
}

export interface ProfileOptions {
  /**
   * Share of the nodes to find feasible before scoring, as kube-scheduler's
   * percentageOfNodesToScore: 0 means adaptive (50% at 100 nodes down to 5% at 5,625+), never
   * fewer than 100 nodes.
   */
  percentageOfNodesToScore?: number;
  /** Picks among equal best scores; tests pass a fixed one. */
  random?: () => number;
}

export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/** How many feasible nodes to look for before scoring (kube-scheduler's numFeasibleNodesToFind). */
export function numFeasibleNodesToFind(percentage: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND || percentage >= 100) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND, 50 - Math.floor(numAllNodes / 125));
  return Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.floor((numAllNodes * pct) / 100));
}

export const NO_NODES = "no nodes available to schedule pods";

/** The pod fits no node: how many nodes were rejected for which reason, and by which plugins. */
export class FitError {
  constructor(
    readonly numAllNodes: number,
    readonly reasons: ReadonlyMap<string, number>,
    readonly rejectedBy: ReadonlySet<string>,
  ) {}

  /** "0/3 nodes are available: 2 Insufficient memory, 1 node(s) had untolerated taint {k: v}." */
  get message(): string {
    if (this.numAllNodes === 0) return NO_NODES;
    const parts = [...this.reasons]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([reason, n]) => `${n} ${reason}`);
    return `0/${this.numAllNodes} nodes are available: ${parts.join(", ")}.`;
  }
}

export interface ScheduleResult {
  nodeName: string;
  /** Nodes filtered, and of those, feasible (scored). */
  evaluated: number;
  feasible: number;
}

export class Framework {
  private readonly filters: readonly Plugin[];
  private readonly scores: readonly WeightedPlugin[];
  private nextStartNodeIndex = 0;
  private readonly random: () => number;

  constructor(
    readonly schedulerName: string,
    filters: readonly Plugin[],
    scores: readonly WeightedPlugin[],
    readonly options: ProfileOptions = {},
  ) {
    this.filters = filters;
    this.scores = scores;
    this.random = options.random ?? Math.random;
  }

  get filterPlugins(): readonly string[] {
    return this.filters.map((p) => p.name);
  }

  get scorePlugins(): readonly { name: string; weight: number }[] {
    return this.scores.map((s) => ({ name: s.plugin.name, weight: s.weight }));
  }

  /** Every plugin of the profile, once. */
  get plugins(): readonly Plugin[] {
    return [...new Set([...this.filters, ...this.scores.map((s) => s.plugin)])];
  }

  /** Picks a node for the pod, or says why none fits. */
  schedule(pod: PodInfo, cluster: ClusterView): ScheduleResult | FitError {
    const nodes = cluster.nodeInfos();
    const n = nodes.length;
    if (n === 0) return new FitError(0, new Map(), new Set());
    const state = new CycleState();

    const active: Plugin[] = [];
    for (const p of this.filters) {
      if (!p.filter) continue;
      const r = p.preFilter?.(state, pod, cluster);
      if (r === SKIP) continue;
      if (typeof r === "string") return new FitError(n, new Map([[r, n]]), new Set([p.name]));
      active.push(p);
    }

    const want = numFeasibleNodesToFind(this.options.percentageOfNodesToScore ?? 0, n);
    const feasible: NodeInfo[] = [];
    let reasons: Map<string, number> | undefined;
    let rejectedBy: Set<string> | undefined;
    const start = this.nextStartNodeIndex % n;
    let i = 0;
    for (; i < n && feasible.length < want; i++) {
      let idx = start + i;
      if (idx >= n) idx -= n;
      const node = nodes[idx]!;
      let fits = true;
      for (let j = 0; j < active.length; j++) {
        const p = active[j]!;
        const r = p.filter!(state, pod, node);
        if (r === undefined || (typeof r !== "string" && r.length === 0)) continue;
        fits = false;
        reasons ??= new Map();
        rejectedBy ??= new Set();
        rejectedBy.add(p.name);
        if (typeof r === "string") reasons.set(r, (reasons.get(r) ?? 0) + 1);
        else for (const x of r) reasons.set(x, (reasons.get(x) ?? 0) + 1);
        break;
      }
      if (fits) feasible.push(node);
    }
    this.nextStartNodeIndex = (start + i) % n;
    if (feasible.length === 0) return new FitError(n, reasons ?? new Map(), rejectedBy ?? new Set());
    if (feasible.length === 1) return { nodeName: feasible[0]!.name, evaluated: i, feasible: 1 };

    const total = new Float64Array(feasible.length);
    for (const { plugin, weight } of this.scores) {
      if (!plugin.score) continue;
      if (plugin.preScore?.(state, pod, feasible) === SKIP) continue;
      const scores = new Array<number>(feasible.length);
      for (let j = 0; j < feasible.length; j++) scores[j] = plugin.score(state, pod, feasible[j]!);
      plugin.normalizeScore?.(state, pod, scores);
      for (let j = 0; j < feasible.length; j++) total[j] += scores[j]! * weight;
    }
    // Highest total; ties broken at random (reservoir sampling), as kube-scheduler does.
    let best = 0;
    let ties = 1;
    for (let j = 1; j < feasible.length; j++) {
      if (total[j]! > total[best]!) {
        best = j;
        ties = 1;
      } else if (total[j] === total[best]) {
        ties++;
        if (this.random() * ties < 1) best = j;
      }
    }
    return { nodeName: feasible[best]!.name, evaluated: i, feasible: feasible.length };
  }
}
