import { create } from "@bufbuild/protobuf";
import { DaemonSetSchema, DeploymentSchema, PodTemplateSpecSchema, StatefulSetSchema } from "@corral/api";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDuration } from "../duration.js";
import { daemonSetRolloutStatus, deploymentRolloutStatus, describeTemplate, statefulSetRolloutStatus } from "./rollout.js";

const dep = (generation: bigint, replicas: number, st: { observed?: bigint; updated?: number; total?: number; available?: number; reason?: string }) =>
  create(DeploymentSchema, {
    metadata: { name: "web", generation, annotations: { "deployment.kubernetes.io/revision": "2" } },
    spec: { replicas },
    status: {
      observedGeneration: st.observed ?? generation,
      updatedReplicas: st.updated ?? 0,
      replicas: st.total ?? 0,
      availableReplicas: st.available ?? 0,
      conditions: st.reason ? [{ type: "Progressing", status: "False", reason: st.reason }] : [],
    },
  });

describe("rollout status (kubectl's messages)", () => {
  it("says what a Deployment's rollout waits for, step by step", () => {
    assert.equal(deploymentRolloutStatus(dep(2n, 3, { observed: 1n })).message, "Waiting for deployment spec update to be observed...\n");
    assert.equal(deploymentRolloutStatus(dep(2n, 3, { updated: 1, total: 4 })).message, 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...\n');
    assert.equal(deploymentRolloutStatus(dep(2n, 3, { updated: 3, total: 4, available: 3 })).message, 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...\n');
    assert.equal(deploymentRolloutStatus(dep(2n, 3, { updated: 3, total: 3, available: 1 })).message, 'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...\n');
    const done = deploymentRolloutStatus(dep(2n, 3, { updated: 3, total: 3, available: 3 }));
    assert.deepEqual(done, { message: 'deployment "web" successfully rolled out\n', done: true });
  });
  it("fails on an exceeded progress deadline, and on a revision other than the one asked for", () => {
    const r = deploymentRolloutStatus(dep(2n, 3, { reason: "ProgressDeadlineExceeded" }));
    assert.deepEqual([r.error, r.message], [true, 'deployment "web" exceeded its progress deadline']);
    assert.match(deploymentRolloutStatus(dep(2n, 3, {}), 1).message, /desired revision \(1\) is different from the running revision \(2\)/);
  });
  it("follows a DaemonSet's rolling update", () => {
    const ds = (updated: number, available: number, type = "RollingUpdate") =>
      create(DaemonSetSchema, { metadata: { name: "agent", generation: 1n }, spec: { updateStrategy: { type } }, status: { observedGeneration: 1n, desiredNumberScheduled: 3, updatedNumberScheduled: updated, numberAvailable: available } });
    assert.equal(daemonSetRolloutStatus(ds(1, 3)).message, 'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...\n');
    assert.equal(daemonSetRolloutStatus(ds(3, 2)).message, 'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...\n');
    assert.ok(daemonSetRolloutStatus(ds(3, 3)).done);
    assert.ok(daemonSetRolloutStatus(ds(3, 3, "OnDelete")).error);
  });
  it("follows a StatefulSet's rolling update, partitioned or not", () => {
    const sts = (o: { ready: number; updated: number; current: string; partition?: number; type?: string }) =>
      create(StatefulSetSchema, {
        metadata: { name: "db", generation: 2n },
        spec: { replicas: 3, updateStrategy: { type: o.type ?? "", rollingUpdate: o.partition === undefined ? undefined : { partition: o.partition } } },
        status: { observedGeneration: 2n, readyReplicas: o.ready, updatedReplicas: o.updated, currentReplicas: 3, currentRevision: o.current, updateRevision: "db-new" },
      });
    assert.equal(statefulSetRolloutStatus(sts({ ready: 1, updated: 0, current: "db-old" })).message, "Waiting for 2 pods to be ready...\n");
    assert.equal(statefulSetRolloutStatus(sts({ ready: 3, updated: 1, current: "db-old" })).message, "waiting for statefulset rolling update to complete 1 pods at revision db-new...\n");
    assert.deepEqual(statefulSetRolloutStatus(sts({ ready: 3, updated: 3, current: "db-new" })), { message: "statefulset rolling update complete 3 pods at revision db-new...\n", done: true });
    assert.equal(statefulSetRolloutStatus(sts({ ready: 3, updated: 0, current: "db-old", partition: 2 })).message, "Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated...\n");
    assert.ok(statefulSetRolloutStatus(sts({ ready: 3, updated: 1, current: "db-old", partition: 2 })).done);
    assert.ok(statefulSetRolloutStatus(sts({ ready: 3, updated: 3, current: "db-new", type: "OnDelete" })).error);
  });
});

describe("rollout helpers", () => {
  it("parses durations", () => {
    assert.equal(parseDuration("30s"), 30_000);
    assert.equal(parseDuration("2m"), 120_000);
    assert.equal(parseDuration("250ms"), 250);
    assert.equal(parseDuration("5"), 5_000);
    assert.throws(() => parseDuration("soon"));
  });
  it("shows a revision's pod template", () => {
    const t = create(PodTemplateSpecSchema, {
      metadata: { labels: { app: "web", "pod-template-hash": "abc" }, annotations: { "kubernetes.io/change-cause": "v2" } },
      spec: { containers: [{ name: "web", image: "busybox:2", ports: [{ containerPort: 8080 }], env: [{ name: "A", value: "1" }] }] },
    });
    const s = describeTemplate(t);
    assert.match(s, /^Pod Template:\n  Labels: +app=web\n +pod-template-hash=abc\n  Annotations: +kubernetes\.io\/change-cause: v2\n  Containers:\n   web:\n    Image: +busybox:2\n    Port: +8080\/TCP\n/);
    assert.match(s, /A: +1/);
  });
});
