import assert from "node:assert/strict";
import { test } from "node:test";
import { RestartBackoff } from "./restart-backoff.js";

test("restart back-off doubles from base to max and is forgotten after a long healthy run", () => {
  const b = new RestartBackoff(10, 40);
  assert.equal(b.remaining("k", 0, 0), 0, "first restart is immediate");
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    b.next("k", 0);
    delays.push(b.delay("k"));
  }
  assert.deepEqual(delays, [10, 20, 40, 40]);
  assert.equal(b.remaining("k", 20, 30), 30);
  assert.equal(b.remaining("k", 20, 1_000), 0);
  assert.equal(b.delay("k"), 0, "forgotten after 2×max without restarts");
});
