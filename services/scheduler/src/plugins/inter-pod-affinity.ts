// InterPodAffinity (filter): required pod affinity and anti-affinity, by labels within a topology
// key. Three rules, as in Kubernetes:
//  - the pod's anti-affinity: no pod matching a term may be in the node's topology domain;
//  - existing pods' anti-affinity: the pod may not join a domain holding a pod whose
//    anti-affinity term matches it (anti-affinity is symmetric);
//  - the pod's affinity: every term has a matching pod in the node's domain (or, for the first
//    pod of a group that matches its own terms, no matching pod exists anywhere yet).
// preFilter walks the pods once per pod (only those in the terms' namespaces, and only the few
// with anti-affinity), so filter is a few map lookups per node.
import { matchesLabels } from "@corral/apimachinery";
import type { NodeInfo } from "../framework/node-info.js";
import type { AffinityTerm, PodInfo } from "../framework/pod-info.js";
import { SKIP, type ClusterView, type CycleState, type FilterResult, type Plugin } from "../framework/types.js";

export const NAME = "InterPodAffinity";
export const REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** topologyKey → topology values. */
export type TopologySet = Map<string, Set<string>>;

export interface AffinityState {
  /** Domains the pod may not join because of existing pods' anti-affinity. */
  existingAnti: TopologySet;
  /** Domains holding pods that the pod's own anti-affinity terms match. */
  incomingAnti: TopologySet;
  /** "key\0value" → number of pods there matching the pod's affinity terms. */
  affinityCounts: Map<string, number>;
  affinityTerms: readonly AffinityTerm[];
  /** No matching pod anywhere, and the pod matches all its own affinity terms. */
  selfAffinityAllowed: boolean;
}

export function termMatches(term: AffinityTerm, pod: PodInfo): boolean {
  return term.namespaces.has(pod.namespace) && matchesLabels(term.selector, pod.labels);
}

function addTo(set: TopologySet, key: string, value: string): void {
  let s = set.get(key);
  if (!s) set.set(key, (s = new Set()));
  s.add(value);
}

function inSet(set: TopologySet, node: NodeInfo): boolean {
  for (const [key, values] of set) {
    const v = node.labels[key];
    if (v !== undefined && values.has(v)) return true;
  }
  return false;
}

/** Computes the state filter needs; undefined when the pod is unconstrained (filter is skipped). */
export function computeAffinityState(pod: PodInfo, cluster: ClusterView): AffinityState | undefined {
  const existingAnti: TopologySet = new Map();
  for (const [other, node] of cluster.podsWithRequiredAntiAffinity()) {
    if (other.key === pod.key) continue;
    for (const term of other.requiredAntiAffinity) {
      const v = node.labels[term.topologyKey];
      if (v !== undefined && termMatches(term, pod)) addTo(existingAnti, term.topologyKey, v);
    }
  }
  const anti = pod.requiredAntiAffinity;
  const aff = pod.requiredAffinity;
  if (existingAnti.size === 0 && anti.length === 0 && aff.length === 0) return undefined;
  const incomingAnti: TopologySet = new Map();
  const affinityCounts = new Map<string, number>();
  const namespaces = new Set<string>();
  for (const t of [...anti, ...aff]) for (const ns of t.namespaces) namespaces.add(ns);
  for (const ns of namespaces) {
    for (const [other, node] of cluster.podsInNamespace(ns)) {
      if (other.key === pod.key) continue;
      for (const term of anti) {
        const v = node.labels[term.topologyKey];
        if (v !== undefined && termMatches(term, other)) addTo(incomingAnti, term.topologyKey, v);
      }
      for (const term of aff) {
        const v = node.labels[term.topologyKey];
        if (v !== undefined && termMatches(term, other)) {
          const k = `${term.topologyKey}\0${v}`;
          affinityCounts.set(k, (affinityCounts.get(k) ?? 0) + 1);
        }
      }
    }
  }
  return {
    existingAnti,
    incomingAnti,
    affinityCounts,
    affinityTerms: aff,
    selfAffinityAllowed: affinityCounts.size === 0 && aff.every((t) => termMatches(t, pod)),
  };
}

export function affinityFilter(s: AffinityState, node: NodeInfo): FilterResult {
  if (s.affinityTerms.length > 0) {
    let podsExist = true;
    for (const term of s.affinityTerms) {
      const v = node.labels[term.topologyKey];
      if (v === undefined) return REASON_AFFINITY;
      if (!s.affinityCounts.get(`${term.topologyKey}\0${v}`)) podsExist = false;
    }
    if (!podsExist && !s.selfAffinityAllowed) return REASON_AFFINITY;
  }
  if (s.incomingAnti.size > 0 && inSet(s.incomingAnti, node)) return REASON_ANTI_AFFINITY;
  if (s.existingAnti.size > 0 && inSet(s.existingAnti, node)) return REASON_EXISTING_ANTI_AFFINITY;
  return undefined;
}

const STATE_KEY = "InterPodAffinity/state";

export function interPodAffinity(): Plugin {
  return {
    name: NAME,
    preFilter(state: CycleState, pod: PodInfo, cluster: ClusterView) {
      const s = computeAffinityState(pod, cluster);
      if (!s) return SKIP;
      state.write(STATE_KEY, s);
    },
    filter: (state, _pod, node) => affinityFilter(state.read<AffinityState>(STATE_KEY)!, node),
    events: ["NodeAdd", "NodeUpdate", "AssignedPodAdd", "AssignedPodUpdate", "AssignedPodDelete"],
  };
}
