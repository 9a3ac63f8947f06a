import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { NodeSelectorRequirementSchema, NodeSelectorTermSchema } from "@corral/api";
import { compileRequirement, compileTerm, compileTerms, matchesNodeSelector } from "./node-selector.js";

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
