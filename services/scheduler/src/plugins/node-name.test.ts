import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeInfo } from "../framework/node-info.js";
import { CycleState, SKIP } from "../framework/types.js";
import { makeNode, podInfo } from "../test-fixtures.js";
import { fitsNodeName, nodeName, REASON as NODE_NAME_REASON } from "./node-name.js";

describe("NodeName", () => {
  it("a pod naming a node fits only that node", () => {
    assert.ok(fitsNodeName(podInfo("p", { nodeName: "a" }), NodeInfo.of(makeNode("a"))));
    assert.ok(!fitsNodeName(podInfo("p", { nodeName: "a" }), NodeInfo.of(makeNode("b"))));
    assert.ok(fitsNodeName(podInfo("p"), NodeInfo.of(makeNode("b"))));
  });
  it("is skipped for pods that name no node, and gives Kubernetes' reason", () => {
    const pl = nodeName();
    assert.equal(pl.preFilter!(new CycleState(), podInfo("p"), undefined as never), SKIP);
    assert.equal(pl.filter!(new CycleState(), podInfo("p", { nodeName: "a" }), NodeInfo.of(makeNode("b"))), NODE_NAME_REASON);
  });
});
