// Objects for the unit tests, as the apiserver would store them.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  DeploymentSchema,
  NodeSchema,
  PodSchema,
  ReplicaSetSchema,
  type Deployment,
  type Node,
  type Pod,
  type ReplicaSet,
} from "@corral/api";

export const T0 = 1_700_000_000_000;

export interface PodOpts {
  namespace?: string;
  labels?: Record<string, string>;
  node?: string;
  phase?: string;
  /** Ready since this time (ms); undefined: not ready. */
  readySince?: number;
  created?: number;
  deleting?: boolean;
  ip?: string;
  restarts?: number;
  owner?: { kind: string; name: string; uid: string };
  uid?: string;
  spec?: MessageInitShape<typeof PodSchema>["spec"];
}

export function pod(name: string, o: PodOpts = {}): Pod {
  const ready = o.readySince !== undefined;
  return create(PodSchema, {
    metadata: {
      name,
      namespace: o.namespace ?? "default",
      uid: o.uid ?? `uid-${name}`,
      labels: o.labels ?? {},
      creationTimestamp: timestampFromMs(o.created ?? T0),
      deletionTimestamp: o.deleting ? timestampFromMs(T0) : undefined,
      ownerReferences: o.owner ? [{ apiVersion: "apps/v1", kind: o.owner.kind, name: o.owner.name, uid: o.owner.uid, controller: true, blockOwnerDeletion: true }] : [],
    },
    spec: { nodeName: o.node ?? "", ...(o.spec ?? {}) },
    status: {
      phase: o.phase ?? (o.node ? "Running" : "Pending"),
      podIp: o.ip ?? "",
      conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: timestampFromMs(o.readySince ?? T0) }],
      containerStatuses: [{ name: "app", restartCount: o.restarts ?? 0 }],
    },
  });
}

export interface RSOpts {
  replicas?: number;
  available?: number;
  ready?: number;
  statusReplicas?: number;
  revision?: number;
  created?: number;
  image?: string;
  desired?: number;
  maxReplicas?: number;
  uid?: string;
}

export function rs(name: string, o: RSOpts = {}): ReplicaSet {
  const annotations: Record<string, string> = {};
  if (o.revision !== undefined) annotations["deployment.kubernetes.io/revision"] = String(o.revision);
  if (o.desired !== undefined) annotations["deployment.kubernetes.io/desired-replicas"] = String(o.desired);
  if (o.maxReplicas !== undefined) annotations["deployment.kubernetes.io/max-replicas"] = String(o.maxReplicas);
  const replicas = o.replicas ?? 1;
  return create(ReplicaSetSchema, {
    metadata: { name, namespace: "default", uid: o.uid ?? `uid-${name}`, annotations, creationTimestamp: timestampFromMs(o.created ?? T0), generation: 1n },
    spec: {
      replicas,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: o.image ?? "img:1" }] } },
    },
    status: {
      replicas: o.statusReplicas ?? replicas,
      readyReplicas: o.ready ?? o.available ?? replicas,
      availableReplicas: o.available ?? replicas,
      observedGeneration: 1n,
    },
  });
}

export interface DeploymentOpts {
  replicas?: number;
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  strategy?: string;
  image?: string;
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  paused?: boolean;
  generation?: bigint;
}

const ios = (v: number | string | undefined) =>
  v === undefined ? undefined : typeof v === "number" ? { value: { case: "intVal" as const, value: v } } : { value: { case: "strVal" as const, value: v } };

export function deployment(name: string, o: DeploymentOpts = {}): Deployment {
  return create(DeploymentSchema, {
    metadata: { name, namespace: "default", uid: `uid-${name}`, generation: o.generation ?? 1n },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: o.image ?? "img:1" }] } },
      strategy: { type: o.strategy ?? "RollingUpdate", rollingUpdate: o.strategy === "Recreate" ? undefined : { maxSurge: ios(o.maxSurge), maxUnavailable: ios(o.maxUnavailable) } },
      revisionHistoryLimit: o.revisionHistoryLimit,
      progressDeadlineSeconds: o.progressDeadlineSeconds,
      paused: o.paused ?? false,
    },
    status: {},
  });
}

export function node(name: string, o: { labels?: Record<string, string>; taints?: { key: string; value?: string; effect: string }[]; ready?: string; unschedulable?: boolean } = {}): Node {
  return create(NodeSchema, {
    metadata: { name, labels: o.labels ?? {} },
    spec: { taints: (o.taints ?? []).map((t) => ({ key: t.key, value: t.value ?? "", effect: t.effect })), unschedulable: o.unschedulable ?? false },
    status: { conditions: o.ready === undefined ? [{ type: "Ready", status: "True" }] : o.ready === "" ? [] : [{ type: "Ready", status: o.ready }] },
  });
}
