import { clone } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ReplicaSetSchema, type ReplicaSet } from "@corral/api";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deployment, rs, T0 } from "../shared/test-fixtures.js";
import {
  calculateStatus,
  equalIgnoreHash,
  findNewReplicaSet,
  isScalingEvent,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  pausedCondition,
  planOldScaleDown,
  planScale,
  replicaSetsToCleanUp,
  resolveFenceposts,
  rolloutStatus,
  rsReplicas,
  setNewReplicaSetAnnotations,
  stuckRecheckMs,
} from "./util.js";

const sizes = (steps: { rs: ReplicaSet; replicas: number }[]) => Object.fromEntries(steps.map((s) => [s.rs.metadata!.name, s.replicas]));

describe("Deployment: maxSurge and maxUnavailable", () => {
  it("resolves percentages (surge up, unavailable down), defaults 25%, never both 0", () => {
    assert.deepEqual(resolveFenceposts(deployment("d", { replicas: 10 })), { surge: 3, unavailable: 2 });
    assert.deepEqual(resolveFenceposts(deployment("d", { replicas: 1 })), { surge: 1, unavailable: 0 });
    assert.deepEqual(resolveFenceposts(deployment("d", { replicas: 3, maxSurge: 0, maxUnavailable: 0 })), { surge: 0, unavailable: 1 });
    assert.equal(maxUnavailable(deployment("d", { replicas: 2, maxUnavailable: 5 })), 2);
    assert.equal(maxSurge(deployment("d", { strategy: "Recreate" })), 0);
    assert.equal(maxUnavailable(deployment("d", { strategy: "Recreate" })), 0);
  });
});

describe("Deployment: the new ReplicaSet", () => {
  it("is the one whose template equals the Deployment's, pod-template-hash aside", () => {
    const d = deployment("d", { image: "img:2" });
    const a = rs("a", { image: "img:1" });
    const b = rs("b", { image: "img:2" });
    b.spec!.template!.metadata!.labels["pod-template-hash"] = "xyz";
    assert.ok(equalIgnoreHash(b.spec!.template, d.spec!.template));
    assert.equal(findNewReplicaSet(d, [a, b]), b);
    assert.equal(findNewReplicaSet(deployment("d", { image: "img:3" }), [a, b]), undefined);
  });
  it("grows only as far as replicas + maxSurge allow", () => {
    const d = deployment("d", { replicas: 3, maxSurge: 1, maxUnavailable: 0 });
    const old = rs("old", { replicas: 3 });
    const fresh = rs("new", { replicas: 0 });
    assert.equal(newRSNewReplicas(d, [old, fresh], fresh), 1);
    old.spec!.replicas = 2;
    fresh.spec!.replicas = 1;
    assert.equal(newRSNewReplicas(d, [old, fresh], fresh), 2);
    assert.equal(newRSNewReplicas(deployment("d", { strategy: "Recreate", replicas: 3 }), [old, fresh], fresh), 3);
  });
  it("raises an old ReplicaSet's revision when a rollback brings it back, remembering the old one", () => {
    const d = deployment("d");
    d.metadata!.annotations = { "kubernetes.io/change-cause": "v1", "kubectl.kubernetes.io/last-applied-configuration": "{}" };
    const back = rs("back", { revision: 1 });
    assert.ok(setNewReplicaSetAnnotations(d, back, 3, true));
    assert.equal(back.metadata!.annotations["deployment.kubernetes.io/revision"], "3");
    assert.equal(back.metadata!.annotations["deployment.kubernetes.io/revision-history"], "1");
    assert.equal(back.metadata!.annotations["kubernetes.io/change-cause"], "v1");
    assert.equal(back.metadata!.annotations["kubectl.kubernetes.io/last-applied-configuration"], undefined);
    assert.ok(!setNewReplicaSetAnnotations(d, back, 3, true), "nothing more to change");
    const fresh = rs("fresh");
    setNewReplicaSetAnnotations(deployment("d", { replicas: 4, maxSurge: 1 }), fresh, 1, false);
    assert.equal(fresh.metadata!.annotations["deployment.kubernetes.io/desired-replicas"], "4");
    assert.equal(fresh.metadata!.annotations["deployment.kubernetes.io/max-replicas"], "5");
  });
});

describe("Deployment: scaling down old ReplicaSets during a rolling update", () => {
  it("scales down only as far as replicas − maxUnavailable stay available", () => {
    const d = deployment("d", { replicas: 3, maxSurge: 1, maxUnavailable: 0 });
    const old = rs("old", { replicas: 3, available: 3 });
    const fresh = rs("new", { replicas: 1, available: 0, created: T0 + 1 });
    assert.deepEqual(planOldScaleDown(d, fresh, [old]), [], "the new pod is not available yet");
    fresh.status!.availableReplicas = 1;
    assert.deepEqual(sizes(planOldScaleDown(d, fresh, [old])), { old: 2 });
  });
  it("removes unavailable old pods first, without waiting for the new ones", () => {
    const d = deployment("d", { replicas: 3, maxSurge: 1, maxUnavailable: 1 });
    const old = rs("old", { replicas: 3, available: 1 });
    const fresh = rs("new", { replicas: 1, available: 0, created: T0 + 1 });
    // allPods 4 − minAvailable 2 − new unavailable 1 = 1 may go: an unavailable one.
    assert.deepEqual(sizes(planOldScaleDown(d, fresh, [old])), { old: 2 });
    assert.deepEqual(planOldScaleDown(deployment("d", { replicas: 3, maxSurge: 1, maxUnavailable: 0 }), fresh, [old]), [], "4 − 3 − 1 = 0");
  });
  it("does not count the pods an old ReplicaSet is still reporting after being scaled down", () => {
    const d = deployment("d", { replicas: 3, maxSurge: 1, maxUnavailable: 1 });
    // Just scaled from 3 to 2; its controller has not caught up and still reports 3 available.
    const old = rs("old", { replicas: 2, available: 3 });
    const fresh = rs("new", { replicas: 2, available: 1, created: T0 + 1 });
    // Really available: 2 old + 1 new = 3; minAvailable 2: one more old pod may go, not both.
    assert.deepEqual(sizes(planOldScaleDown(d, fresh, [old])), { old: 1 });
  });
  it("keeps the invariant over a whole simulated rollout", () => {
    for (const [maxS, maxU] of [[1, 0], [0, 1], [2, 1], ["25%", "25%"], [3, 0]] as const) {
      const d = deployment("d", { replicas: 5, maxSurge: maxS, maxUnavailable: maxU });
      const minAvailable = 5 - maxUnavailable(d);
      const old = rs("old", { replicas: 5, available: 5 });
      const fresh = rs("new", { replicas: 0, available: 0, created: T0 + 1 });
      // A ReplicaSet controller that makes new pods available one tick after they are asked for.
      const tick = (r: ReplicaSet) => {
        const st = r.status!;
        st.availableReplicas = Math.min(rsReplicas(r), st.availableReplicas + (r === fresh ? 1 : 0));
        if (rsReplicas(r) < st.availableReplicas) st.availableReplicas = rsReplicas(r);
        st.replicas = rsReplicas(r);
      };
      for (let i = 0; i < 100 && !(rsReplicas(fresh) === 5 && rsReplicas(old) === 0 && fresh.status!.availableReplicas === 5); i++) {
        fresh.spec!.replicas = newRSNewReplicas(d, [old, fresh], fresh);
        for (const s of planOldScaleDown(d, fresh, [old])) s.rs.spec!.replicas = s.replicas;
        const really = Math.min(old.status!.availableReplicas, rsReplicas(old)) + Math.min(fresh.status!.availableReplicas, rsReplicas(fresh));
        assert.ok(really >= minAvailable, `${maxS}/${maxU}: ${really} available < ${minAvailable}`);
        assert.ok(rsReplicas(old) + rsReplicas(fresh) <= 5 + maxSurge(d), `${maxS}/${maxU}: too many pods`);
        tick(old);
        tick(fresh);
      }
      assert.deepEqual([rsReplicas(old), rsReplicas(fresh)], [0, 5], `${maxS}/${maxU} completes`);
    }
  });
});

describe("Deployment: scaling events", () => {
  it("notices spec.replicas changed since the ReplicaSets were sized", () => {
    const d = deployment("d", { replicas: 5 });
    assert.ok(isScalingEvent(d, [rs("a", { replicas: 3, desired: 3 })]));
    assert.ok(!isScalingEvent(d, [rs("a", { replicas: 3, desired: 5 }), undefined]));
    assert.ok(!isScalingEvent(d, [rs("a", { replicas: 0, desired: 3 })]), "inactive ones do not count");
  });
  it("one active ReplicaSet takes all replicas", () => {
    const d = deployment("d", { replicas: 5 });
    assert.deepEqual(sizes(planScale(d, rs("new", { replicas: 3 }), [rs("old", { replicas: 0 })])), { new: 5 });
  });
  it("mid-rollout, replicas are added in proportion to each ReplicaSet's size", () => {
    const d = deployment("d", { replicas: 20, maxSurge: 3, maxUnavailable: 2 });
    d.status!.replicas = 13;
    const old = rs("old", { replicas: 8, maxReplicas: 13, available: 8 });
    const fresh = rs("new", { replicas: 5, maxReplicas: 13, available: 0, created: T0 + 1 });
    const s = sizes(planScale(d, fresh, [old]));
    assert.equal(s.old! + s.new!, 23, "replicas + maxSurge");
    assert.deepEqual(s, { old: 14, new: 9 });
  });
});

describe("Deployment: status and conditions", () => {
  const done = () => {
    const d = deployment("d", { replicas: 3 });
    const r = rs("d-1", { replicas: 3, available: 3 });
    return { d, r };
  };
  it("adds the ReplicaSets up, with Available", () => {
    const d = deployment("d", { replicas: 3, maxUnavailable: 1 });
    const st = calculateStatus(d, [rs("a", { replicas: 1, available: 1 }), rs("b", { replicas: 2, available: 1, ready: 2 })], undefined, T0);
    assert.deepEqual([st.replicas, st.readyReplicas, st.availableReplicas, st.unavailableReplicas], [3, 3, 2, 1]);
    assert.equal(st.conditions.find((c) => c.type === "Available")?.status, "True");
    const low = calculateStatus(d, [rs("a", { replicas: 3, available: 1 })], undefined, T0);
    assert.equal(low.conditions.find((c) => c.type === "Available")?.reason, "MinimumReplicasUnavailable");
  });
  it("Progressing: complete, progressing (lastUpdateTime moves), then timed out after progressDeadlineSeconds", () => {
    const { d, r } = done();
    let st = rolloutStatus(d, [r], r, T0);
    assert.equal(st.conditions.find((c) => c.type === "Progressing")?.reason, "NewReplicaSetAvailable");
    assert.equal(st.conditions.find((c) => c.type === "Progressing")?.message, 'ReplicaSet "d-1" has successfully progressed.');

    const d2 = deployment("d", { replicas: 3, progressDeadlineSeconds: 10 });
    const stuck = rs("d-2", { replicas: 1, available: 0, statusReplicas: 1 });
    d2.status = calculateStatus(d2, [stuck], stuck, T0);
    d2.status.conditions.push(newCondition("Progressing", "True", "NewReplicaSetCreated", "Created", T0));
    stuck.status!.readyReplicas = 1; // progress
    st = rolloutStatus(d2, [stuck], stuck, T0 + 5_000);
    const p = st.conditions.find((c) => c.type === "Progressing")!;
    assert.deepEqual([p.status, p.reason], ["True", "ReplicaSetUpdated"]);
    assert.equal(p.lastUpdateTime!.seconds, timestampFromMs(T0 + 5_000).seconds);
    d2.status = st;
    assert.equal(stuckRecheckMs(d2, st, T0 + 5_000), 11_000, "look again when the deadline passes");
    st = rolloutStatus(d2, [stuck], stuck, T0 + 16_000);
    const t = st.conditions.find((c) => c.type === "Progressing")!;
    assert.deepEqual([t.status, t.reason, t.message], ["False", "ProgressDeadlineExceeded", 'ReplicaSet "d-2" has timed out progressing.']);
  });
  it("copies a ReplicaSet's ReplicaFailure", () => {
    const { d, r } = done();
    r.status!.conditions = [{ $typeName: "corral.v1.Condition", type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: "quota", observedGeneration: 0n }];
    const st = rolloutStatus(d, [r], r, T0);
    assert.equal(st.conditions.find((c) => c.type === "ReplicaFailure")?.message, "quota");
  });
  it("says paused and resumed in Progressing", () => {
    const d = deployment("d", { paused: true });
    assert.equal(pausedCondition(d, T0)?.reason, "DeploymentPaused");
    d.status!.conditions = [pausedCondition(d, T0)!];
    assert.equal(pausedCondition(d, T0), undefined);
    d.spec!.paused = false;
    assert.equal(pausedCondition(d, T0)?.reason, "DeploymentResumed");
  });
});

describe("Deployment: revision history", () => {
  it("deletes the empty old ReplicaSets beyond revisionHistoryLimit, oldest revision first", () => {
    const d = deployment("d", { revisionHistoryLimit: 1 });
    const olds = [1, 2, 3].map((n) => rs(`r${n}`, { replicas: 0, revision: n }));
    const busy = clone(ReplicaSetSchema, olds[0]!);
    busy.metadata!.name = "busy";
    busy.spec!.replicas = 1;
    assert.deepEqual(replicaSetsToCleanUp(d, olds).map((r) => r.metadata!.name), ["r1", "r2"]);
    assert.deepEqual(replicaSetsToCleanUp(d, [busy, ...olds.slice(1)]).map((r) => r.metadata!.name), ["r2"], "one with pods stays");
    assert.deepEqual(replicaSetsToCleanUp(deployment("d"), olds), [], "default limit 10");
  });
});
