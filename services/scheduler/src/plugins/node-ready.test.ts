import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeInfo } from "../framework/node-info.js";
import { CycleState } from "../framework/types.js";
import { makeNode, podInfo } from "../test-fixtures.js";
import { fitsReady, nodeReady, REASON as NOT_READY } from "./node-ready.js";

describe("NodeReady", () => {
  it("needs the Ready condition True", () => {
    assert.ok(fitsReady(podInfo("p"), NodeInfo.of(makeNode("a"))));
    assert.ok(!fitsReady(podInfo("p"), NodeInfo.of(makeNode("a", { ready: "False" }))));
    assert.ok(!fitsReady(podInfo("p"), NodeInfo.of(makeNode("a", { ready: "Unknown" }))));
    assert.ok(!fitsReady(podInfo("p"), NodeInfo.of(makeNode("a", { ready: "" }))), "no Ready condition at all");
    assert.equal(nodeReady().filter!(new CycleState(), podInfo("p"), NodeInfo.of(makeNode("a", { ready: "False" }))), NOT_READY);
  });
  it("lets pods that tolerate not-ready (or unreachable) in, as DaemonSet pods", () => {
    const tolerant = podInfo("p", { tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists" }] });
    assert.ok(fitsReady(tolerant, NodeInfo.of(makeNode("a", { ready: "False" }))));
    assert.ok(!fitsReady(tolerant, NodeInfo.of(makeNode("a", { ready: "Unknown" }))));
  });
});
