import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SchedulerCache } from "../cache.js";
import { buildFrameworks, DEFAULT_SCHEDULER_NAME } from "../config.js";
import { makeNode, makePod, podInfo } from "../test-fixtures.js";
import { FitError, Framework, numFeasibleNodesToFind, type ScheduleResult } from "./framework.js";
import type { Plugin } from "./types.js";

const defaultFramework = (): Framework => buildFrameworks({}, new Map(), { random: () => 0.5 }).get(DEFAULT_SCHEDULER_NAME)!;

function ok(r: ScheduleResult | FitError): ScheduleResult {
  if (r instanceof FitError) assert.fail(r.message);
  return r;
}

describe("numFeasibleNodesToFind", () => {
  it("follows kube-scheduler: all below 100 nodes, adaptive share above, at least 100", () => {
    assert.equal(numFeasibleNodesToFind(0, 50), 50);
    assert.equal(numFeasibleNodesToFind(0, 500), 230); // 46%
    assert.equal(numFeasibleNodesToFind(0, 5000), 500); // 10%
    assert.equal(numFeasibleNodesToFind(0, 10000), 500); // 5%
    assert.equal(numFeasibleNodesToFind(0, 150), 100);
    assert.equal(numFeasibleNodesToFind(100, 5000), 5000);
    assert.equal(numFeasibleNodesToFind(1, 5000), 100);
  });
});

describe("FitError", () => {
  it("groups reasons, most frequent first, as kube-scheduler's message", () => {
    const e = new FitError(3, new Map([["node(s) had untolerated taint {k: v}", 1], ["Insufficient memory", 2]]), new Set());
    assert.equal(e.message, "0/3 nodes are available: 2 Insufficient memory, 1 node(s) had untolerated taint {k: v}.");
    assert.equal(new FitError(0, new Map(), new Set()).message, "no nodes available to schedule pods");
  });
});

describe("Framework with the default plugins", () => {
  it("says why no node fits, per node, by the first plugin that rejects it", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("small-1", { memory: "1Gi" }));
    c.setNode(makeNode("small-2", { memory: "1Gi" }));
    c.setNode(makeNode("tainted", { memory: "64Gi", taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] }));
    const r = defaultFramework().schedule(podInfo("big", { memory: "32Gi" }), c);
    assert.ok(r instanceof FitError);
    assert.equal(r.message, "0/3 nodes are available: 2 Insufficient memory, 1 node(s) had untolerated taint {dedicated: gpu}.");
    assert.deepEqual([...r.rejectedBy].sort(), ["NodeResourcesFit", "TaintToleration"]);
  });

  it("picks the only feasible node without scoring", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("a", { ready: "False" }));
    c.setNode(makeNode("b"));
    c.setNode(makeNode("c", { unschedulable: true }));
    assert.deepEqual(ok(defaultFramework().schedule(podInfo("p"), c)), { nodeName: "b", evaluated: 3, feasible: 1 });
  });

  it("prefers the least allocated node", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("busy"));
    c.setNode(makeNode("idle"));
    c.addPod(makePod("x", { nodeName: "busy", cpu: "2" }));
    assert.equal(ok(defaultFramework().schedule(podInfo("p", { cpu: "1", memory: "1Gi" }), c)).nodeName, "idle");
  });

  it("spreads the pods of one owner as they are assumed", () => {
    const c = new SchedulerCache();
    for (const n of ["a", "b", "c"]) c.setNode(makeNode(n));
    const fw = defaultFramework();
    const placed: string[] = [];
    for (let i = 0; i < 6; i++) {
      const p = podInfo(`web-${i}`, { owner: "rs", cpu: "100m", memory: "100Mi" });
      const r = ok(fw.schedule(p, c));
      c.assume(p, r.nodeName);
      placed.push(r.nodeName);
    }
    assert.deepEqual(placed.filter((n) => n === "a").length, 2);
    assert.deepEqual(placed.filter((n) => n === "b").length, 2);
    assert.deepEqual(placed.filter((n) => n === "c").length, 2);
  });

  it("stops filtering once enough feasible nodes are found, and rotates where it starts", () => {
    const c = new SchedulerCache();
    for (let i = 0; i < 1000; i++) c.setNode(makeNode(`n${i}`));
    const fw = defaultFramework();
    const r1 = ok(fw.schedule(podInfo("p1"), c));
    assert.equal(r1.evaluated, 420); // 50 - 1000/125 = 42%
    assert.equal(r1.feasible, 420);
    const r2 = ok(fw.schedule(podInfo("p2"), c));
    assert.equal(r2.evaluated, 420);
  });

  it("a plugin's preFilter can reject the pod for every node", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("a"));
    c.setNode(makeNode("b"));
    const never: Plugin = { name: "Never", preFilter: () => "pod is not welcome", filter: () => undefined };
    const fw = new Framework("x", [never], []);
    const r = fw.schedule(podInfo("p"), c);
    assert.ok(r instanceof FitError);
    assert.equal(r.message, "0/2 nodes are available: 2 pod is not welcome.");
  });

  it("weights scores", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("a"));
    c.setNode(makeNode("b"));
    const likesA: Plugin = { name: "LikesA", score: (_s, _p, n) => (n.name === "a" ? 10 : 0) };
    const likesB: Plugin = { name: "LikesB", score: (_s, _p, n) => (n.name === "b" ? 10 : 0) };
    const pass: Plugin = { name: "Pass", filter: () => undefined };
    assert.equal(ok(new Framework("x", [pass], [{ plugin: likesA, weight: 1 }, { plugin: likesB, weight: 2 }]).schedule(podInfo("p"), c)).nodeName, "b");
    assert.equal(ok(new Framework("x", [pass], [{ plugin: likesA, weight: 3 }, { plugin: likesB, weight: 2 }]).schedule(podInfo("p"), c)).nodeName, "a");
  });
});
