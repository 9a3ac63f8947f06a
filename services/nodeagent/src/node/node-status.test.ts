import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { allocatable, capacity, conditionsChanged, nodeConditions } from "./node-status.js";
import type { MachineReadings } from "./readings.js";

const GiB = 1024 ** 3;
const healthy: MachineReadings = {
  cpus: 2,
  memoryTotalBytes: 24 * GiB,
  memoryAvailableBytes: 20 * GiB,
  diskTotalBytes: 100 * GiB,
  diskAvailableBytes: 50 * GiB,
  pidMax: 4_194_304,
  pidsInUse: 500,
};
const ok = { runtimeReady: true, networkReady: true, message: "" };
const status = (r: MachineReadings, h = ok) => Object.fromEntries(nodeConditions(r, h, [], 0).map((c) => [c.type, c.status]));

describe("node status", () => {
  test("capacity and allocatable come from the machine, less the eviction reserve", () => {
    assert.deepEqual(capacity(healthy), { cpu: "2", memory: `${24 * 1024 * 1024}Ki`, pods: "110", "ephemeral-storage": `${100 * 1024 * 1024}Ki` });
    assert.equal(allocatable(healthy).memory, `${24 * 1024 * 1024 - 100 * 1024}Ki`);
  });

  test("a healthy node is Ready without pressure", () => {
    assert.deepEqual(status(healthy), { MemoryPressure: "False", DiskPressure: "False", PIDPressure: "False", Ready: "True" });
  });

  test("pressure conditions follow the kubelet's thresholds", () => {
    assert.equal(status({ ...healthy, memoryAvailableBytes: 50 * 1024 * 1024 }).MemoryPressure, "True");
    assert.equal(status({ ...healthy, diskAvailableBytes: 5 * GiB }).DiskPressure, "True");
    assert.equal(status({ ...healthy, pidMax: 1000, pidsInUse: 950 }).PIDPressure, "True");
  });

  test("a runtime without a network is NotReady, saying why", () => {
    const conds = nodeConditions(healthy, { runtimeReady: true, networkReady: false, message: "cni config uninitialized" }, [], 0);
    const ready = conds.find((c) => c.type === "Ready")!;
    assert.equal(ready.status, "False");
    assert.match(ready.message, /cni config uninitialized/);
  });

  test("only a change of status, reason or message counts as a change", () => {
    const a = nodeConditions(healthy, ok, [], 0);
    const b = nodeConditions(healthy, ok, a, 60_000);
    assert.equal(conditionsChanged(a, b), false);
    assert.deepEqual(b.find((c) => c.type === "Ready")!.lastTransitionTime, a.find((c) => c.type === "Ready")!.lastTransitionTime);
    assert.equal(conditionsChanged(a, nodeConditions({ ...healthy, memoryAvailableBytes: 0 }, ok, a, 1)), true);
  });
});
