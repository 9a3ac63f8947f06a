import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { TaintSchema, TolerationSchema } from "@corral/api";
import { findUntoleratedTaint, formatTaint, toleratesTaint } from "./taints.js";

const tol = (t: Record<string, string>) => create(TolerationSchema, t);
const taint = (key: string, value: string, effect: string) => create(TaintSchema, { key, value, effect });

describe("toleratesTaint", () => {
  const t = taint("dedicated", "gpu", "NoSchedule");
  it("Equal needs key and value", () => {
    assert.ok(toleratesTaint(tol({ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }), t));
    assert.ok(toleratesTaint(tol({ key: "dedicated", value: "gpu" }), t), "empty operator means Equal; empty effect matches all");
    assert.ok(!toleratesTaint(tol({ key: "dedicated", operator: "Equal", value: "cpu" }), t));
  });
  it("Exists needs the key only; an empty key with Exists tolerates everything", () => {
    assert.ok(toleratesTaint(tol({ key: "dedicated", operator: "Exists" }), t));
    assert.ok(toleratesTaint(tol({ operator: "Exists" }), t));
    assert.ok(!toleratesTaint(tol({ key: "other", operator: "Exists" }), t));
  });
  it("the effect must match when given", () => {
    assert.ok(!toleratesTaint(tol({ key: "dedicated", operator: "Exists", effect: "NoExecute" }), t));
  });
});

describe("findUntoleratedTaint", () => {
  const taints = [taint("a", "1", "PreferNoSchedule"), taint("b", "", "NoExecute"), taint("c", "x", "NoSchedule")];
  it("finds the first one of the given effects not tolerated", () => {
    assert.equal(findUntoleratedTaint(taints, [], ["NoSchedule", "NoExecute"])?.key, "b");
    assert.equal(findUntoleratedTaint(taints, [tol({ key: "b", operator: "Exists" })], ["NoSchedule", "NoExecute"])?.key, "c");
    assert.equal(findUntoleratedTaint(taints, [tol({ operator: "Exists" })], ["NoSchedule", "NoExecute"]), undefined);
  });
  it("formats as Kubernetes does", () => {
    assert.equal(formatTaint(taints[2]!), "{c: x}");
    assert.equal(formatTaint(taints[1]!), "{b: }");
  });
});
