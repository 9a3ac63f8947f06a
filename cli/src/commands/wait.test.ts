import { create } from "@bufbuild/protobuf";
import { PodSchema } from "@corral/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseWaitFor, satisfied } from "./wait.js";

test("--for parses as kubectl's", () => {
  assert.deepEqual(parseWaitFor("condition=Ready"), { condition: "ready", status: "true" });
  assert.deepEqual(parseWaitFor("condition=Ready=False"), { condition: "ready", status: "false" });
  assert.deepEqual(parseWaitFor("delete"), { delete: true });
  assert.throws(() => parseWaitFor("ready"), /condition=NAME/);
});

test("a condition is met when its type and status match, case-insensitively", () => {
  const pod = create(PodSchema, { status: { conditions: [{ type: "Ready", status: "True" }] } });
  assert.equal(satisfied(pod, { condition: "ready", status: "true" }), true);
  assert.equal(satisfied(pod, { condition: "ready", status: "false" }), false);
  assert.equal(satisfied(create(PodSchema), { condition: "ready", status: "true" }), false);
});
