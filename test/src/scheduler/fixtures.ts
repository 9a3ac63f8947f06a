import { create } from "@bufbuild/protobuf";
import { PodSchema, type Pod } from "@corral/api";
import { SIMULATED_TAINT } from "@corral/simnode";

export const TOLERATE_SIMULATED = { key: SIMULATED_TAINT.key, operator: "Equal", value: SIMULATED_TAINT.value, effect: SIMULATED_TAINT.effect };

export interface PodInit {
  namespace?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  owner?: { name: string; uid: string };
  tolerations?: { key: string; operator: string; value?: string; effect?: string }[];
  nodeSelector?: Record<string, string>;
}

/** A pod as a user would write it; by default it tolerates the simulated nodes' taint. */
export function pod(name: string, o: PodInit = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return create(PodSchema, {
    metadata: {
      name,
      namespace: o.namespace ?? "default",
      labels: o.labels ?? {},
      ownerReferences: o.owner ? [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: o.owner.name, uid: o.owner.uid, controller: true }] : [],
    },
    spec: {
      containers: [{ name: "app", image: "registry.example/app:1", resources: { requests } }],
      tolerations: o.tolerations ?? [TOLERATE_SIMULATED],
      nodeSelector: o.nodeSelector ?? {},
    },
  });
}
