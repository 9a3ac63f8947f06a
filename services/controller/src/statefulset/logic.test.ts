import assert from "node:assert/strict";
import { test } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { OwnerReferenceSchema, PodSchema, StatefulSetSchema, StatefulSetSpecSchema, type Pod, type StatefulSet } from "@corral/api";
import { newStatefulPod, ordinalOf, planStatefulSet, REVISION_LABEL, statefulSetStatus } from "./logic.js";

const NOW = Date.parse("2026-12-01T00:00:00Z");
const R1 = "web-r1";
const R2 = "web-r2";

function set(spec: Omit<MessageInitShape<typeof StatefulSetSpecSchema>, "$typeName"> = {}): StatefulSet {
  return create(StatefulSetSchema, {
    metadata: { name: "web", namespace: "db", uid: "set-uid", generation: 3n },
    spec: {
      replicas: 3,
      serviceName: "web",
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "i" }] } },
      ...spec,
    },
  });
}

type State = "ready" | "running" | "pending" | "terminating" | "failed";

function pod(i: number, state: State = "ready", revision = R1): Pod {
  return create(PodSchema, {
    metadata: {
      name: `web-${i}`,
      namespace: "db",
      labels: { app: "web", [REVISION_LABEL]: revision },
      deletionTimestamp: state === "terminating" ? timestampFromDate(new Date(NOW)) : undefined,
    },
    status: {
      phase: state === "pending" ? "Pending" : state === "failed" ? "Failed" : "Running",
      conditions: state === "ready" || state === "terminating" ? [{ type: "Ready", status: "True", lastTransitionTime: timestampFromDate(new Date(NOW - 60_000)) }] : [],
    },
  });
}

const names = (ps: Pod[]) => ps.map((p) => p.metadata!.name);

test("ordinals come from <set>-<n> names only", () => {
  assert.equal(ordinalOf("web", pod(12)), 12);
  for (const name of ["web-", "web-01", "web-x", "webby-1", "web-1-2"]) {
    assert.equal(ordinalOf("web", create(PodSchema, { metadata: { name } })), -1, name);
  }
});

test("OrderedReady: one pod at a time, each after the ones before it are Running and Ready", () => {
  assert.deepEqual(planStatefulSet(set(), [], R1, NOW), { create: [0], delete: [] });
  assert.deepEqual(planStatefulSet(set(), [pod(0, "pending")], R1, NOW), { create: [], delete: [] }, "waits for web-0");
  assert.deepEqual(planStatefulSet(set(), [pod(0, "running")], R1, NOW), { create: [], delete: [] }, "running but not ready: waits");
  assert.deepEqual(planStatefulSet(set(), [pod(0)], R1, NOW), { create: [1], delete: [] });
  assert.deepEqual(planStatefulSet(set(), [pod(0), pod(2)], R1, NOW), { create: [1], delete: [] }, "a gap is filled first");
  assert.deepEqual(planStatefulSet(set(), [pod(0), pod(1), pod(2)], R1, NOW), { create: [], delete: [] });
});

test("Parallel: every missing pod at once, no waiting", () => {
  assert.deepEqual(planStatefulSet(set({ podManagementPolicy: "Parallel" }), [pod(1, "pending")], R1, NOW), { create: [0, 2], delete: [] });
});

test("a failed pod is deleted to be made again; a terminating one is waited for", () => {
  const failed = pod(1, "failed");
  assert.deepEqual(names(planStatefulSet(set(), [pod(0), failed, pod(2)], R1, NOW).delete), ["web-1"]);
  assert.deepEqual(planStatefulSet(set(), [pod(0), pod(1, "terminating"), pod(2)], R1, NOW), { create: [], delete: [] });
});

test("scaling down removes the highest ordinal first, one at a time, once the rest is healthy", () => {
  const pods = [pod(0), pod(1), pod(2), pod(3), pod(4)];
  assert.deepEqual(names(planStatefulSet(set(), pods, R1, NOW).delete), ["web-4"]);
  assert.deepEqual(planStatefulSet(set(), [pod(0), pod(1), pod(2), pod(3), pod(4, "terminating")], R1, NOW).delete, [], "waits for web-4 to go");
  assert.deepEqual(planStatefulSet(set(), [pod(0), pod(1, "pending"), pod(2), pod(3)], R1, NOW).delete, [], "not while web-1 is unready");
  assert.deepEqual(names(planStatefulSet(set({ podManagementPolicy: "Parallel", replicas: 1 }), pods, R1, NOW).delete), ["web-4", "web-3", "web-2", "web-1"]);
});

test("a rolling update replaces pods from the highest ordinal down, one at a time, down to the partition", () => {
  const old = [pod(0), pod(1), pod(2)];
  assert.deepEqual(names(planStatefulSet(set(), old, R2, NOW).delete), ["web-2"]);
  assert.deepEqual(planStatefulSet(set(), [pod(0), pod(1), pod(2, "pending", R2)], R2, NOW).delete, [], "waits for the new web-2");
  assert.deepEqual(names(planStatefulSet(set(), [pod(0), pod(1), pod(2, "ready", R2)], R2, NOW).delete), ["web-1"]);
  const partitioned = set({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } });
  assert.deepEqual(planStatefulSet(partitioned, [pod(0), pod(1), pod(2, "ready", R2)], R2, NOW).delete, [], "ordinals below the partition stay");
  assert.deepEqual(planStatefulSet(set({ updateStrategy: { type: "OnDelete" } }), old, R2, NOW).delete, [], "OnDelete waits for the user");
});

test("a pod is made with its identity: name, hostname, subdomain, labels and its own claims", () => {
  const s = set({
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "c", image: "i" }], volumes: [{ name: "data", emptyDir: {} }, { name: "cfg", emptyDir: {} }] },
    },
    volumeClaimTemplates: [{ metadata: { name: "data" } }, { metadata: { name: "logs" } }],
  });
  const p = newStatefulPod(s, 2, R1, create(OwnerReferenceSchema, { apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: "set-uid", controller: true }));
  assert.equal(p.metadata!.name, "web-2");
  assert.equal(p.spec!.hostname, "web-2");
  assert.equal(p.spec!.subdomain, "web");
  assert.deepEqual(p.metadata!.labels, {
    app: "web",
    [REVISION_LABEL]: R1,
    "statefulset.kubernetes.io/pod-name": "web-2",
    "apps.kubernetes.io/pod-index": "2",
  });
  const vols = Object.fromEntries(p.spec!.volumes.map((v) => [v.name, v.persistentVolumeClaim?.claimName ?? "emptyDir"]));
  assert.deepEqual(vols, { data: "data-web-2", cfg: "emptyDir", logs: "logs-web-2" });
});

test("status counts ready, updated and current pods; the update revision becomes current once all are ready", () => {
  const s = set();
  s.status = create(StatefulSetSchema, {}).status;
  const mid = statefulSetStatus(s, [pod(0), pod(1), pod(2, "pending", R2)], R2, NOW);
  assert.equal(mid.replicas, 3);
  assert.equal(mid.readyReplicas, 2);
  assert.equal(mid.updatedReplicas, 1);
  assert.equal(mid.updateRevision, R2);
  assert.equal(mid.observedGeneration, 3n);
  s.status = create(StatefulSetSchema, { status: { currentRevision: R1 } }).status;
  assert.equal(statefulSetStatus(s, [pod(0), pod(1), pod(2, "ready", R2)], R2, NOW).currentRevision, R1);
  const done = statefulSetStatus(s, [pod(0, "ready", R2), pod(1, "ready", R2), pod(2, "ready", R2), pod(3, "terminating")], R2, NOW);
  assert.equal(done.currentRevision, R2);
  assert.equal(done.currentReplicas, 3);
  assert.equal(done.replicas, 3, "a terminating pod does not count");
});
