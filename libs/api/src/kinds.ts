import type { DescMessage, DescService, Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import * as api from "./gen/corral/v1/api_pb.js";
import * as apps from "./gen/corral/v1/apps_pb.js";
import * as batch from "./gen/corral/v1/batch_pb.js";
import * as coordination from "./gen/corral/v1/coordination_pb.js";
import * as core from "./gen/corral/v1/core_pb.js";
import type { ListMeta, ObjectMeta } from "./gen/corral/v1/meta_pb.js";

/** Every stored kind is a message with metadata (and usually spec and status). */
export type ApiObject = Message & { metadata?: ObjectMeta };
export type ObjectList<T extends ApiObject = ApiObject> = Message & { metadata?: ListMeta; items: T[] };
export type WatchEvent<T extends ApiObject = ApiObject> = Message & { type: string; object?: T };

export interface KindInfo<T extends ApiObject = ApiObject> {
  /** "Pod" */
  readonly kind: string;
  /** "pods": the resource name used in etcd keys, NATS subjects and the CLI. */
  readonly resource: string;
  /** "pod" */
  readonly singular: string;
  /** kubectl's short names: "po". */
  readonly shortNames: readonly string[];
  /** "v1", "apps/v1", "batch/v1", "coordination.k8s.io/v1" */
  readonly apiVersion: string;
  readonly namespaced: boolean;
  /** Has a status subresource (UpdateStatus). */
  readonly hasStatus: boolean;
  readonly schema: GenMessage<T>;
  readonly listSchema: GenMessage<ObjectList<T>>;
  readonly watchEventSchema: GenMessage<WatchEvent<T>>;
  readonly service: DescService;
}

function kind<T extends ApiObject>(
  k: Omit<KindInfo<T>, "schema" | "listSchema" | "watchEventSchema"> & {
    schema: GenMessage<T>;
    listSchema: DescMessage;
    watchEventSchema: DescMessage;
  },
): KindInfo<T> {
  return k as unknown as KindInfo<T>;
}

export const Namespaces = kind({
  kind: "Namespace", resource: "namespaces", singular: "namespace", shortNames: ["ns"], apiVersion: "v1",
  namespaced: false, hasStatus: true,
  schema: core.NamespaceSchema, listSchema: api.NamespaceListSchema, watchEventSchema: api.NamespaceWatchEventSchema,
  service: api.NamespaceService,
});
export const Pods = kind({
  kind: "Pod", resource: "pods", singular: "pod", shortNames: ["po"], apiVersion: "v1",
  namespaced: true, hasStatus: true,
  schema: core.PodSchema, listSchema: api.PodListSchema, watchEventSchema: api.PodWatchEventSchema,
  service: api.PodService,
});
export const Nodes = kind({
  kind: "Node", resource: "nodes", singular: "node", shortNames: ["no"], apiVersion: "v1",
  namespaced: false, hasStatus: true,
  schema: core.NodeSchema, listSchema: api.NodeListSchema, watchEventSchema: api.NodeWatchEventSchema,
  service: api.NodeService,
});
export const Services = kind({
  kind: "Service", resource: "services", singular: "service", shortNames: ["svc"], apiVersion: "v1",
  namespaced: true, hasStatus: true,
  schema: core.ServiceSchema, listSchema: api.ServiceListSchema, watchEventSchema: api.ServiceWatchEventSchema,
  service: api.ServiceService,
});
export const EndpointsKind = kind({
  kind: "Endpoints", resource: "endpoints", singular: "endpoints", shortNames: ["ep"], apiVersion: "v1",
  namespaced: true, hasStatus: false,
  schema: core.EndpointsSchema, listSchema: api.EndpointsListSchema, watchEventSchema: api.EndpointsWatchEventSchema,
  service: api.EndpointsService,
});
export const ConfigMaps = kind({
  kind: "ConfigMap", resource: "configmaps", singular: "configmap", shortNames: ["cm"], apiVersion: "v1",
  namespaced: true, hasStatus: false,
  schema: core.ConfigMapSchema, listSchema: api.ConfigMapListSchema, watchEventSchema: api.ConfigMapWatchEventSchema,
  service: api.ConfigMapService,
});
export const Secrets = kind({
  kind: "Secret", resource: "secrets", singular: "secret", shortNames: [], apiVersion: "v1",
  namespaced: true, hasStatus: false,
  schema: core.SecretSchema, listSchema: api.SecretListSchema, watchEventSchema: api.SecretWatchEventSchema,
  service: api.SecretService,
});
export const Events = kind({
  kind: "Event", resource: "events", singular: "event", shortNames: ["ev"], apiVersion: "v1",
  namespaced: true, hasStatus: false,
  schema: core.EventSchema, listSchema: api.EventListSchema, watchEventSchema: api.EventWatchEventSchema,
  service: api.EventService,
});
export const ReplicaSets = kind({
  kind: "ReplicaSet", resource: "replicasets", singular: "replicaset", shortNames: ["rs"], apiVersion: "apps/v1",
  namespaced: true, hasStatus: true,
  schema: apps.ReplicaSetSchema, listSchema: api.ReplicaSetListSchema, watchEventSchema: api.ReplicaSetWatchEventSchema,
  service: api.ReplicaSetService,
});
export const Deployments = kind({
  kind: "Deployment", resource: "deployments", singular: "deployment", shortNames: ["deploy"], apiVersion: "apps/v1",
  namespaced: true, hasStatus: true,
  schema: apps.DeploymentSchema, listSchema: api.DeploymentListSchema, watchEventSchema: api.DeploymentWatchEventSchema,
  service: api.DeploymentService,
});
export const DaemonSets = kind({
  kind: "DaemonSet", resource: "daemonsets", singular: "daemonset", shortNames: ["ds"], apiVersion: "apps/v1",
  namespaced: true, hasStatus: true,
  schema: apps.DaemonSetSchema, listSchema: api.DaemonSetListSchema, watchEventSchema: api.DaemonSetWatchEventSchema,
  service: api.DaemonSetService,
});
export const StatefulSets = kind({
  kind: "StatefulSet", resource: "statefulsets", singular: "statefulset", shortNames: ["sts"], apiVersion: "apps/v1",
  namespaced: true, hasStatus: true,
  schema: apps.StatefulSetSchema, listSchema: api.StatefulSetListSchema, watchEventSchema: api.StatefulSetWatchEventSchema,
  service: api.StatefulSetService,
});
export const Jobs = kind({
  kind: "Job", resource: "jobs", singular: "job", shortNames: [], apiVersion: "batch/v1",
  namespaced: true, hasStatus: true,
  schema: batch.JobSchema, listSchema: api.JobListSchema, watchEventSchema: api.JobWatchEventSchema,
  service: api.JobService,
});
export const CronJobs = kind({
  kind: "CronJob", resource: "cronjobs", singular: "cronjob", shortNames: ["cj"], apiVersion: "batch/v1",
  namespaced: true, hasStatus: true,
  schema: batch.CronJobSchema, listSchema: api.CronJobListSchema, watchEventSchema: api.CronJobWatchEventSchema,
  service: api.CronJobService,
});
export const Leases = kind({
  kind: "Lease", resource: "leases", singular: "lease", shortNames: [], apiVersion: "coordination.k8s.io/v1",
  namespaced: true, hasStatus: false,
  schema: coordination.LeaseSchema, listSchema: api.LeaseListSchema, watchEventSchema: api.LeaseWatchEventSchema,
  service: api.LeaseService,
});

export const ALL_KINDS: readonly KindInfo[] = [
  Namespaces, Pods, Nodes, Services, EndpointsKind, ConfigMaps, Secrets, Events,
  ReplicaSets, Deployments, DaemonSets, StatefulSets, Jobs, CronJobs, Leases,
] as unknown as KindInfo[];

/** Looks a kind up the way kubectl does: by kind, plural, singular or short name, any case. */
export function lookupKind(name: string): KindInfo | undefined {
  const n = name.toLowerCase();
  return ALL_KINDS.find(
    (k) => k.kind.toLowerCase() === n || k.resource === n || k.singular === n || k.shortNames.includes(n),
  );
}

/** Finds the kind a manifest names with apiVersion and kind. */
export function kindForManifest(apiVersion: string, kindName: string): KindInfo | undefined {
  return ALL_KINDS.find((k) => k.kind === kindName && k.apiVersion === apiVersion);
}
