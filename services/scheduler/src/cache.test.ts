import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SchedulerCache } from "./cache.js";
import { makeNode, makePod, podInfo } from "./test-fixtures.js";

describe("SchedulerCache", () => {
  it("accounts an assumed pod at once, and the watched binding confirms it without double counting", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("a", { cpu: "4" }));
    c.assume(podInfo("p", { cpu: "1" }), "a");
    assert.equal(c.getNodeInfo("a")!.requested.milliCPU, 1000);
    assert.ok(c.isAssumed("default/p"));
    c.addPod(makePod("p", { cpu: "1", nodeName: "a" }));
    assert.equal(c.getNodeInfo("a")!.requested.milliCPU, 1000);
    assert.ok(!c.isAssumed("default/p"));
    c.forget("default/p");
    assert.equal(c.getNodeInfo("a")!.requested.milliCPU, 1000, "forget leaves a confirmed pod alone");
  });

  it("forgets an assumed pod whose binding failed", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("a"));
    c.assume(podInfo("p", { cpu: "1" }), "a");
    c.forget("default/p");
    assert.equal(c.getNodeInfo("a")!.requested.milliCPU, 0);
    assert.equal(c.getNodeInfo("a")!.pods.size, 0);
    assert.equal(c.nodeOf("default/p"), undefined);
  });

  it("moves a pod the watch shows bound elsewhere", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("a"));
    c.setNode(makeNode("b"));
    c.assume(podInfo("p", { cpu: "1" }), "a");
    c.addPod(makePod("p", { cpu: "1", nodeName: "b" }));
    assert.equal(c.getNodeInfo("a")!.requested.milliCPU, 0);
    assert.equal(c.getNodeInfo("b")!.requested.milliCPU, 1000);
  });

  it("keeps pods of a node that goes away until they go, and counts them if it comes back", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("a"));
    c.setNode(makeNode("b"));
    c.addPod(makePod("p", { cpu: "1", nodeName: "a" }));
    c.removeNode("a");
    assert.deepEqual(c.nodeInfos().map((n) => n.name), ["b"]);
    assert.equal(c.getNodeInfo("a"), undefined);
    c.setNode(makeNode("a"));
    assert.equal(c.getNodeInfo("a")!.requested.milliCPU, 1000);
    c.removePod("default/p");
    c.removeNode("a");
    assert.equal(c.nodeCount, 1);
  });

  it("counts a pod bound to a node it has not seen yet once the node arrives", () => {
    const c = new SchedulerCache();
    c.addPod(makePod("p", { cpu: "1", nodeName: "later" }));
    assert.equal(c.nodeCount, 0);
    c.setNode(makeNode("later"));
    assert.equal(c.getNodeInfo("later")!.requested.milliCPU, 1000);
  });

  it("indexes pods by namespace and those with anti-affinity", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("a"));
    c.addPod(makePod("x", { nodeName: "a", namespace: "ns1" }));
    c.addPod(makePod("y", { nodeName: "a", antiAffinity: [{ labelSelector: { matchLabels: { app: "y" } }, topologyKey: "zone" } as never] }));
    assert.deepEqual([...c.podsInNamespace("ns1")].map(([p]) => p.name), ["x"]);
    assert.deepEqual([...c.podsWithRequiredAntiAffinity()].map(([p]) => p.name), ["y"]);
    c.removePod("default/y");
    assert.deepEqual([...c.podsWithRequiredAntiAffinity()], []);
  });

  it("refuses to assume a pod twice", () => {
    const c = new SchedulerCache();
    c.setNode(makeNode("a"));
    c.assume(podInfo("p"), "a");
    assert.throws(() => c.assume(podInfo("p"), "a"));
  });
});
