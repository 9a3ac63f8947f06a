import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONTROLLERS, selectControllers } from "./manager.js";

describe("--controllers", () => {
  const all = CONTROLLERS.map((c) => c.name);
  it("selects as kube-controller-manager does: * for all, names, -name to leave one out", () => {
    assert.deepEqual(selectControllers(undefined), all);
    assert.deepEqual(selectControllers(["*"]), all);
    assert.deepEqual(selectControllers(["*", "-job"]), all.filter((n) => n !== "job"));
    assert.deepEqual(selectControllers(["deployment", "replicaset"]), ["replicaset", "deployment"]);
    assert.throws(() => selectControllers(["horizontalpodautoscaling"]), /unknown controller "horizontalpodautoscaling"/);
  });
});
