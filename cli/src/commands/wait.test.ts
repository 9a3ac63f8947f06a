import { create } from "@bufbuild/protobuf";
import { PodSchema } from "@corral/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTimeout, parseWaitFor, satisfied } from "./wait.js";

test("--for and --timeout parse as kubectl's", () => {
  assert.deepEqual(parseWaitFor("condition=Ready"), { condition: "ready", status: "true" });
  assert.deepEqual(parseWaitFor("condition=Ready=False"), { condition: "ready", status: "false" });
  assert.deepEqual(parseWaitFor("delete"), { delete: true });
  assert.throws(() => parseWaitFor("ready"), /condition=NAME/);
  assert.deepEqual(["30s", "2m", "1h", "5", "250ms"].map(parseTimeout), [30_000, 120_000, 3_600_000, 5_000, 250]);
  assert.throws(() => parseTimeout("soon"), /duration/);
});

test("a condition is met when its type and status match, case-insensitively", () => {
  const pod = create(PodSchema, { status: { conditions: [{ type: "Ready", status: "True" }] } });
  assert.equal(satisfied(pod, { condition: "ready", status: "true" }), true);
  assert.equal(satisfied(pod, { condition: "ready", status: "false" }), false);
  assert.equal(satisfied(create(PodSchema), { condition: "ready", status: "true" }), false);
});
