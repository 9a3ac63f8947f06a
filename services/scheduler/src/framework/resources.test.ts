import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makePod } from "../test-fixtures.js";
import { nodeAllocatable, podNonZeroRequests, podRequests, quantityValue, DEFAULT_MAX_PODS } from "./resources.js";

describe("podRequests", () => {
  it("sums app containers", () => {
    const r = podRequests(makePod("p", { cpu: "250m", memory: "64Mi", containers: [{ cpu: "1", memory: "1Gi" }] }));
    assert.equal(r.milliCPU, 1250);
    assert.equal(r.memory, 64 * 2 ** 20 + 2 ** 30);
  });

  it("takes max(max(init), sum(app)) per resource, as Kubernetes", () => {
    // init wants 2 cpu and little memory; the app containers together want 1.5 cpu and 3Gi.
    const pod = makePod("p", {
      cpu: "500m",
      memory: "1Gi",
      containers: [{ cpu: "1", memory: "2Gi" }],
      init: [{ cpu: "2", memory: "100Mi" }, { cpu: "100m", memory: "1Gi" }],
    });
    const r = podRequests(pod);
    assert.equal(r.milliCPU, 2000, "cpu: the biggest init container wins");
    assert.equal(r.memory, 3 * 2 ** 30, "memory: the app containers' sum wins");
  });

  it("counts a limit without a request as the request, and extended resources", () => {
    const pod = makePod("p");
    pod.spec!.containers[0]!.resources = { limits: { cpu: "2", "nvidia.com/gpu": "1" }, requests: {} } as never;
    const r = podRequests(pod);
    assert.equal(r.milliCPU, 2000);
    assert.deepEqual(r.scalar, { "nvidia.com/gpu": 1 });
  });

  it("non-zero requests give best-effort containers 100m and 200Mi", () => {
    assert.deepEqual(podNonZeroRequests(makePod("p", { containers: [{ cpu: "1" }] })), {
      milliCPU: 100 + 1000,
      memory: 2 * 200 * 2 ** 20,
    });
  });
});

describe("nodeAllocatable", () => {
  it("reads allocatable, falls back to capacity, defaults the pod count", () => {
    assert.deepEqual(nodeAllocatable({ cpu: "3500m", memory: "1Gi", pods: "20" }, {}), {
      milliCPU: 3500,
      memory: 2 ** 30,
      ephemeralStorage: 0,
      pods: 20,
    });
    assert.equal(nodeAllocatable({}, { cpu: "2" }).milliCPU, 2000);
    assert.equal(nodeAllocatable({ cpu: "1" }, {}).pods, DEFAULT_MAX_PODS);
  });

  it("treats an unparsable quantity as zero", () => {
    assert.equal(quantityValue("memory", "lots"), 0);
  });
});
