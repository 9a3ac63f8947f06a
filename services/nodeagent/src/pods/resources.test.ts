import { create } from "@bufbuild/protobuf";
import { ContainerSchema } from "@corral/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { cgroupResources } from "./resources.js";

const c = (requests: Record<string, string>, limits: Record<string, string>) =>
  create(ContainerSchema, { name: "c", resources: { requests, limits } });

test("requests and limits become cpu shares, CFS quota and a memory limit", () => {
  assert.deepEqual(cgroupResources(c({ cpu: "250m" }, { cpu: "500m", memory: "64Mi" })), {
    cpuShares: 256n,
    cpuQuota: 50_000n,
    cpuPeriod: 100_000n,
    memoryLimitInBytes: 64n * 1024n * 1024n,
  });
  // Nothing asked: the minimum shares and no limits (BestEffort).
  assert.deepEqual(cgroupResources(c({}, {})), { cpuShares: 2n, cpuQuota: 0n, cpuPeriod: 0n, memoryLimitInBytes: 0n });
  // A limit alone implies the request.
  assert.equal(cgroupResources(c({}, { cpu: "2" })).cpuShares, 2048n);
});
