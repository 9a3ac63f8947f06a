// What the scheduler needs of a pod, computed once per pod version: requests, host ports, owner,
// parsed affinity terms. Plugins read these instead of walking the pod for every node.
import type { Pod, PodAffinityTerm } from "@corral/api";
import { selectorFromMessage, type LabelRequirement } from "@corral/apimachinery";
import { objectKey } from "@corral/client";
import { podNonZeroRequests, podRequests, type Resources } from "./resources.js";

export interface AffinityTerm {
  readonly selector: readonly LabelRequirement[];
  /** The namespaces whose pods the term looks at (the pod's own when the term names none). */
  readonly namespaces: ReadonlySet<string>;
  readonly topologyKey: string;
}

export interface HostPort {
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
}

export interface PodInfo {
  readonly key: string;
  readonly pod: Pod;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly requests: Resources;
  readonly nonZero: { readonly milliCPU: number; readonly memory: number };
  readonly hostPorts: readonly HostPort[];
  /** The uid of the pod's controller (ownerReference with controller=true, else the first owner), or "". */
  readonly ownerUid: string;
  /** ownerUid as a small number (0 for none), for fast per-node counting. */
  readonly ownerId: number;
  readonly requiredAffinity: readonly AffinityTerm[];
  readonly requiredAntiAffinity: readonly AffinityTerm[];
  readonly priority: number;
}

/** A selector that matches nothing: an invalid one is treated so rather than failing the pod. */
const MATCH_NOTHING: readonly LabelRequirement[] = [{ key: "", operator: "In", values: [] }];

export function affinityTerms(terms: readonly PodAffinityTerm[], namespace: string): AffinityTerm[] {
  return terms.map((t) => {
    let selector: readonly LabelRequirement[];
    try {
      // An absent selector matches no pods (Kubernetes); an empty one matches all.
      selector = t.labelSelector ? selectorFromMessage(t.labelSelector) : MATCH_NOTHING;
    } catch {
      selector = MATCH_NOTHING;
    }
    return {
      selector,
      namespaces: new Set(t.namespaces.length > 0 ? t.namespaces : [namespace]),
      topologyKey: t.topologyKey,
    };
  });
}

export function hostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports) {
      if (p.hostPort > 0) out.push({ ip: p.hostIp || "0.0.0.0", protocol: p.protocol || "TCP", port: p.hostPort });
    }
  }
  return out;
}

const ownerIds = new Map<string, number>();

/** A number per owner uid, the same for every pod of that owner (0 for ""). */
export function ownerIdOf(uid: string): number {
  if (!uid) return 0;
  let id = ownerIds.get(uid);
  if (id === undefined) ownerIds.set(uid, (id = ownerIds.size + 1));
  return id;
}

export function controllerUid(pod: Pod): string {
  const refs = pod.metadata?.ownerReferences ?? [];
  return (refs.find((r) => r.controller) ?? refs[0])?.uid ?? "";
}

export function newPodInfo(pod: Pod): PodInfo {
  const m = pod.metadata!;
  const namespace = m.namespace || "default";
  const aff = pod.spec?.affinity;
  const ownerUid = controllerUid(pod);
  return {
    key: objectKey(pod),
    pod,
    namespace,
    name: m.name,
    uid: m.uid,
    labels: m.labels ?? {},
    requests: podRequests(pod),
    nonZero: podNonZeroRequests(pod),
    hostPorts: hostPorts(pod),
    ownerUid,
    ownerId: ownerIdOf(ownerUid),
    requiredAffinity: affinityTerms(aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [], namespace),
    requiredAntiAffinity: affinityTerms(aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [], namespace),
    priority: pod.spec?.priority ?? 0,
  };
}
