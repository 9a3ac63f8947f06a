import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeInfo } from "../framework/node-info.js";
import { makeNode, podInfo } from "../test-fixtures.js";
import { balancedAllocation, leastAllocated, mostAllocated } from "./node-resources-scores.js";
import {
  balancedAllocationScore,
  leastAllocatedScore,
  leastRequestedScore,
  mostAllocatedScore,
  mostRequestedScore,
  resourcesFromArgs,
} from "./resource-allocation.js";
import { CycleState } from "../framework/types.js";

// 4 cpu, 8Gi; one pod already there with 1 cpu and 2Gi.
const node = () => NodeInfo.of(makeNode("n", { cpu: "4", memory: "8Gi" }), [podInfo("a", { cpu: "1", memory: "2Gi" })]);

describe("per-resource scores", () => {
  it("least and most requested", () => {
    assert.equal(leastRequestedScore(1, 4), 75);
    assert.equal(leastRequestedScore(5, 4), 0);
    assert.equal(leastRequestedScore(0, 0), 0);
    assert.equal(mostRequestedScore(1, 4), 25);
    assert.equal(mostRequestedScore(5, 4), 100);
  });
});

describe("NodeResourcesLeastAllocated", () => {
  it("averages cpu and memory left after placing the pod", () => {
    // cpu: (4000 - 2000) / 4000 = 50; memory: (8 - 4) / 8 = 50
    assert.equal(leastAllocatedScore(podInfo("p", { cpu: "1", memory: "2Gi" }), node()), 50);
  });
  it("prefers the emptier node", () => {
    const empty = NodeInfo.of(makeNode("e", { cpu: "4", memory: "8Gi" }));
    const p = podInfo("p", { cpu: "1", memory: "2Gi" });
    assert.ok(leastAllocatedScore(p, empty) > leastAllocatedScore(p, node()));
  });
  it("counts a best-effort pod as 100m and 200Mi", () => {
    const empty = NodeInfo.of(makeNode("e", { cpu: "1", memory: "1000Mi" }));
    // cpu: 900/1000 → 90; memory: 800/1000 → 80
    assert.equal(leastAllocatedScore(podInfo("p"), empty), 85);
  });
  it("takes resource weights from args", () => {
    const pl = leastAllocated({ resources: [{ name: "cpu", weight: 3 }, { name: "memory", weight: 1 }] });
    // cpu: (4000-1500)/4000 → 62; memory: (8-2.5)/8 → 68; (62*3 + 68) / 4 = 63
    assert.equal(pl.score!(new CycleState(), podInfo("p", { cpu: "500m", memory: "512Mi" }), node()), 63);
    assert.throws(() => resourcesFromArgs({ resources: [{ name: "cpu", weight: 0 }] }), /weight/);
  });
});

describe("NodeResourcesMostAllocated", () => {
  it("prefers the fuller node", () => {
    const empty = NodeInfo.of(makeNode("e", { cpu: "4", memory: "8Gi" }));
    const p = podInfo("p", { cpu: "1", memory: "2Gi" });
    assert.equal(mostAllocatedScore(p, node()), 50);
    assert.ok(mostAllocated().score!(new CycleState(), p, node()) > mostAllocatedScore(p, empty));
  });
});

describe("NodeResourcesBalancedAllocation", () => {
  it("scores 100 when cpu and memory are used in equal shares", () => {
    assert.equal(balancedAllocationScore(podInfo("p", { cpu: "1", memory: "2Gi" }), node()), 100);
  });
  it("scores lower as the shares drift apart", () => {
    // cpu 3/4 = 0.75, memory 2.5/8 = 0.3125: std = 0.21875 → 78
    assert.equal(balancedAllocationScore(podInfo("p", { cpu: "2", memory: "512Mi" }), node()), 78);
    assert.equal(balancedAllocation().score!(new CycleState(), podInfo("p", { cpu: "2", memory: "512Mi" }), node()), 78);
  });
  it("caps shares at 1", () => {
    assert.equal(balancedAllocationScore(podInfo("p", { cpu: "10", memory: "100Gi" }), node()), 100);
  });
});
