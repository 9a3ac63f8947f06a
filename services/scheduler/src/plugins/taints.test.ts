import assert from "node:assert/strict";
import { it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { TaintSchema } from "@corral/api";
import { formatTaint } from "./taints.js";

it("formats a taint as Kubernetes does", () => {
  assert.equal(formatTaint(create(TaintSchema, { key: "c", value: "x", effect: "NoSchedule" })), "{c: x}");
  assert.equal(formatTaint(create(TaintSchema, { key: "b", effect: "NoExecute" })), "{b: }");
});
