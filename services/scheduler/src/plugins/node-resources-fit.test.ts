import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeInfo } from "../framework/node-info.js";
import { makeNode, podInfo } from "../test-fixtures.js";
import { insufficientResources, nodeResourcesFit } from "./node-resources-fit.js";
import { CycleState } from "../framework/types.js";

describe("NodeResourcesFit", () => {
  const node = () => NodeInfo.of(makeNode("n", { cpu: "2", memory: "4Gi", pods: "3", extra: { "nvidia.com/gpu": "1" } }), [podInfo("a", { cpu: "1", memory: "1Gi" })]);

  it("fits when requests fit in what is left", () => {
    assert.deepEqual(insufficientResources(podInfo("p", { cpu: "1", memory: "3Gi" }), node()), []);
  });

  it("names every resource that is short", () => {
    assert.deepEqual(insufficientResources(podInfo("p", { cpu: "1500m", memory: "3500Mi" }), node()), ["Insufficient cpu", "Insufficient memory"]);
  });

  it("counts pods against allocatable pods", () => {
    const n = node();
    n.addPod(podInfo("b"));
    n.addPod(podInfo("c"));
    assert.deepEqual(insufficientResources(podInfo("p"), n), ["Too many pods"]);
  });

  it("checks extended resources, including ones the node lacks", () => {
    const p = podInfo("p");
    (p.requests as { scalar?: Record<string, number> }).scalar = { "nvidia.com/gpu": 2, "example.com/fpga": 1 };
    assert.deepEqual(insufficientResources(p, node()), ["Insufficient nvidia.com/gpu", "Insufficient example.com/fpga"]);
  });

  it("counts init containers as Kubernetes does", () => {
    // 2 cpu for the init container alone: more than the 1 left.
    assert.deepEqual(insufficientResources(podInfo("p", { cpu: "100m", init: [{ cpu: "2" }] }), node()), ["Insufficient cpu"]);
  });

  it("a pod that requests nothing fits while there is room for a pod", () => {
    assert.equal(nodeResourcesFit().filter!(new CycleState(), podInfo("p"), node()), undefined);
  });

  it("frees what a removed pod held", () => {
    const n = node();
    n.removePod("default/a");
    assert.deepEqual(insufficientResources(podInfo("p", { cpu: "2", memory: "4Gi" }), n), []);
  });
});
