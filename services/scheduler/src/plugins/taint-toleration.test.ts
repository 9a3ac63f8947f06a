import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeInfo } from "../framework/node-info.js";
import { CycleState, SKIP } from "../framework/types.js";
import { makeNode, podInfo } from "../test-fixtures.js";
import { intolerablePreferNoScheduleCount, taintToleration, untoleratedTaintReason } from "./taint-toleration.js";

const gpu = NodeInfo.of(makeNode("gpu", { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] }));
const draining = NodeInfo.of(makeNode("drain", { taints: [{ key: "drain", effect: "NoExecute" }] }));
const soft = NodeInfo.of(makeNode("soft", { taints: [{ key: "spot", value: "true", effect: "PreferNoSchedule" }, { key: "old", effect: "PreferNoSchedule" }] }));
const plain = NodeInfo.of(makeNode("plain"));

describe("TaintToleration filter", () => {
  it("rejects NoSchedule and NoExecute taints the pod does not tolerate, naming the taint", () => {
    assert.equal(untoleratedTaintReason(podInfo("p"), gpu), "node(s) had untolerated taint {dedicated: gpu}");
    assert.equal(untoleratedTaintReason(podInfo("p"), draining), "node(s) had untolerated taint {drain: }");
    assert.equal(untoleratedTaintReason(podInfo("p"), plain), undefined);
  });
  it("accepts tolerated taints and ignores PreferNoSchedule", () => {
    assert.equal(untoleratedTaintReason(podInfo("p", { tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }] }), gpu), undefined);
    assert.equal(untoleratedTaintReason(podInfo("p", { tolerations: [{ key: "dedicated", operator: "Equal", value: "cpu" }] }), gpu), "node(s) had untolerated taint {dedicated: gpu}");
    assert.equal(untoleratedTaintReason(podInfo("p"), soft), undefined);
  });
});

describe("TaintToleration score", () => {
  it("counts untolerated PreferNoSchedule taints", () => {
    assert.equal(intolerablePreferNoScheduleCount([], soft), 2);
    assert.equal(intolerablePreferNoScheduleCount(podInfo("p", { tolerations: [{ key: "spot", operator: "Exists" }] }).pod.spec!.tolerations, soft), 1);
  });
  it("normalizes reversed: fewer intolerable taints score higher", () => {
    const pl = taintToleration();
    const s = new CycleState();
    const pod = podInfo("p");
    assert.equal(pl.preScore!(s, pod, [soft, plain]), undefined);
    const scores = [pl.score!(s, pod, soft), pl.score!(s, pod, plain)];
    pl.normalizeScore!(s, pod, scores);
    assert.deepEqual(scores, [0, 100]);
    assert.equal(pl.preScore!(new CycleState(), pod, [plain, gpu]), SKIP, "no PreferNoSchedule taints anywhere");
  });
});
