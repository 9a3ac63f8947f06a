import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { NodeSelectorRequirementSchema, NodeSelectorTermSchema, TaintSchema, TolerationSchema } from "@corral/api";
import { compileRequirement, compileTerm, compileTerms, findUntoleratedTaint, matchesNodeSelector, toleratesTaint, untoleratedTaints } from "./nodes.js";

const req = (key: string, operator: string, values: string[] = []) => create(NodeSelectorRequirementSchema, { key, operator, values });
const labels = { zone: "a", gen: "5", "kubernetes.io/hostname": "n1" };

describe("node selector requirements", () => {
  it("In, NotIn, Exists, DoesNotExist", () => {
    assert.ok(compileRequirement(req("zone", "In", ["a", "b"]), false)(labels, "n1"));
    assert.ok(!compileRequirement(req("zone", "In", ["c"]), false)(labels, "n1"));
    assert.ok(compileRequirement(req("zone", "NotIn", ["c"]), false)(labels, "n1"));
    assert.ok(compileRequirement(req("missing", "NotIn", ["c"]), false)(labels, "n1"), "NotIn holds when the label is absent");
    assert.ok(compileRequirement(req("zone", "Exists"), false)(labels, "n1"));
    assert.ok(compileRequirement(req("missing", "DoesNotExist"), false)(labels, "n1"));
    assert.ok(!compileRequirement(req("zone", "DoesNotExist"), false)(labels, "n1"));
  });
  it("Gt and Lt compare integers; a non-integer never matches", () => {
    assert.ok(compileRequirement(req("gen", "Gt", ["4"]), false)(labels, "n1"));
    assert.ok(!compileRequirement(req("gen", "Lt", ["5"]), false)(labels, "n1"));
    assert.ok(!compileRequirement(req("zone", "Gt", ["1"]), false)(labels, "n1"));
    assert.ok(!compileRequirement(req("gen", "Gt", ["x"]), false)(labels, "n1"));
  });
  it("matchFields supports metadata.name", () => {
    assert.ok(compileRequirement(req("metadata.name", "In", ["n1"]), true)(labels, "n1"));
    assert.ok(!compileRequirement(req("metadata.name", "In", ["n2"]), true)(labels, "n1"));
    assert.ok(!compileRequirement(req("spec.x", "In", ["n1"]), true)(labels, "n1"));
  });
});

describe("node selector terms", () => {
  it("a term ANDs its requirements; terms are ORed; empty matches nothing", () => {
    const both = create(NodeSelectorTermSchema, { matchExpressions: [req("zone", "In", ["a"]), req("gen", "In", ["4"])] });
    const zoneA = create(NodeSelectorTermSchema, { matchExpressions: [req("zone", "In", ["a"])] });
    assert.ok(!compileTerm(both)(labels, "n1"));
    assert.ok(compileTerms([both, zoneA])(labels, "n1"));
    assert.ok(!compileTerm(create(NodeSelectorTermSchema, {}))(labels, "n1"));
    assert.ok(!compileTerms([])(labels, "n1"));
  });
  it("nodeSelector needs every label", () => {
    assert.ok(matchesNodeSelector({ zone: "a" }, labels));
    assert.ok(!matchesNodeSelector({ zone: "a", disk: "ssd" }, labels));
    assert.ok(matchesNodeSelector({}, labels));
  });
});

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

describe("untolerated taints", () => {
  const taints = [taint("a", "1", "PreferNoSchedule"), taint("b", "", "NoExecute"), taint("c", "x", "NoSchedule")];
  it("finds the first one, or all, of the given effects not tolerated", () => {
    assert.equal(findUntoleratedTaint(taints, [], ["NoSchedule", "NoExecute"])?.key, "b");
    assert.equal(findUntoleratedTaint(taints, [tol({ key: "b", operator: "Exists" })], ["NoSchedule", "NoExecute"])?.key, "c");
    assert.equal(findUntoleratedTaint(taints, [tol({ operator: "Exists" })], ["NoSchedule", "NoExecute"]), undefined);
    assert.deepEqual(untoleratedTaints(taints, [tol({ key: "b", operator: "Exists" })], ["NoSchedule", "NoExecute"]).map((x) => x.key), ["c"]);
  });
});
