import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeInfo } from "../framework/node-info.js";
import { CycleState } from "../framework/types.js";
import { makeNode, podInfo } from "../test-fixtures.js";
import { fitsSchedulable, nodeUnschedulable, REASON as UNSCHEDULABLE } from "./node-unschedulable.js";

describe("NodeUnschedulable", () => {
  const cordoned = NodeInfo.of(makeNode("a", { unschedulable: true }));
  it("rejects cordoned nodes unless the pod tolerates node.kubernetes.io/unschedulable", () => {
    assert.ok(!fitsSchedulable(podInfo("p"), cordoned));
    assert.ok(fitsSchedulable(podInfo("p", { tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }] }), cordoned));
    assert.ok(fitsSchedulable(podInfo("p"), NodeInfo.of(makeNode("b"))));
    assert.equal(nodeUnschedulable().filter!(new CycleState(), podInfo("p"), cordoned), UNSCHEDULABLE);
  });
});
