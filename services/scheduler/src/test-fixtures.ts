// Builders for unit tests (and the decision benchmark): nodes and pods with just the fields that matter.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { NodeSchema, PodSchema, type Node, type Pod, type PodAffinityTermSchema, type Toleration } from "@corral/api";

export type AffinityTermInit = MessageInitShape<typeof PodAffinityTermSchema>;
import { newPodInfo, type PodInfo } from "./framework/pod-info.js";

export interface NodeSpecInit {
  cpu?: string;
  memory?: string;
  pods?: string;
  extra?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  ready?: string;
  unschedulable?: boolean;
}

export function makeNode(name: string, o: NodeSpecInit = {}): Node {
  const alloc: Record<string, string> = { cpu: o.cpu ?? "4", memory: o.memory ?? "8Gi", pods: o.pods ?? "110", ...o.extra };
  return create(NodeSchema, {
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...o.labels } },
    spec: {
      unschedulable: o.unschedulable ?? false,
      taints: (o.taints ?? []).map((t) => ({ key: t.key, value: t.value ?? "", effect: t.effect })),
    },
    status: {
      capacity: alloc,
      allocatable: alloc,
      conditions: o.ready === "" ? [] : [{ type: "Ready", status: o.ready ?? "True" }],
    },
  });
}

export interface PodSpecInit {
  namespace?: string;
  cpu?: string;
  memory?: string;
  /** More containers' requests. */
  containers?: Record<string, string>[];
  init?: Record<string, string>[];
  labels?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  nodeName?: string;
  tolerations?: Partial<Toleration>[];
  hostPorts?: (number | { port: number; ip?: string; protocol?: string })[];
  owner?: string;
  antiAffinity?: AffinityTermInit[];
  affinity?: AffinityTermInit[];
  requiredNodeAffinity?: { key: string; operator: string; values?: string[] }[][];
  preferredNodeAffinity?: { weight: number; expressions: { key: string; operator: string; values?: string[] }[] }[];
  priority?: number;
}

export function makePod(name: string, o: PodSpecInit = {}): Pod {
  const main: Record<string, string> = {};
  if (o.cpu) main.cpu = o.cpu;
  if (o.memory) main.memory = o.memory;
  const containers = [main, ...(o.containers ?? [])].map((requests, i) => ({
    name: `c${i}`,
    image: "pause",
    resources: { requests },
    ports: i === 0 ? (o.hostPorts ?? []).map((p) => (typeof p === "number" ? { containerPort: p, hostPort: p } : { containerPort: p.port, hostPort: p.port, hostIp: p.ip ?? "", protocol: p.protocol ?? "" })) : [],
  }));
  return create(PodSchema, {
    metadata: {
      name,
      namespace: o.namespace ?? "default",
      uid: `uid-${name}`,
      labels: o.labels ?? {},
      ownerReferences: o.owner ? [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: o.owner, uid: `uid-${o.owner}`, controller: true }] : [],
    },
    spec: {
      containers,
      initContainers: (o.init ?? []).map((requests, i) => ({ name: `init${i}`, image: "pause", resources: { requests } })),
      nodeSelector: o.nodeSelector ?? {},
      nodeName: o.nodeName ?? "",
      tolerations: (o.tolerations ?? []).map((t) => ({ key: "", operator: "", value: "", effect: "", ...t })),
      priority: o.priority,
      affinity: {
        podAntiAffinity: o.antiAffinity ? { requiredDuringSchedulingIgnoredDuringExecution: o.antiAffinity } : undefined,
        podAffinity: o.affinity ? { requiredDuringSchedulingIgnoredDuringExecution: o.affinity } : undefined,
        nodeAffinity:
          o.requiredNodeAffinity || o.preferredNodeAffinity
            ? {
                requiredDuringSchedulingIgnoredDuringExecution: o.requiredNodeAffinity
                  ? { nodeSelectorTerms: o.requiredNodeAffinity.map((exprs) => ({ matchExpressions: exprs })) }
                  : undefined,
                preferredDuringSchedulingIgnoredDuringExecution: (o.preferredNodeAffinity ?? []).map((p) => ({
                  weight: p.weight,
                  preference: { matchExpressions: p.expressions },
                })),
              }
            : undefined,
      },
    },
  });
}

export function podInfo(name: string, o: PodSpecInit = {}): PodInfo {
  return newPodInfo(makePod(name, o));
}
