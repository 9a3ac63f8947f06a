import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runWorkers, WorkQueue } from "./workqueue.js";

describe("WorkQueue", () => {
  test("a key waits in the queue once, however often it is added", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    assert.equal(q.length, 2);
    assert.equal(await q.get(), "a");
    assert.equal(await q.get(), "b");
  });

  test("a key added while it is processed comes back after done, never to a second worker", async () => {
    const q = new WorkQueue();
    q.add("a");
    const k = await q.get();
    q.add("a");
    assert.equal(q.length, 0, "not handed out while in flight");
    q.done(k!);
    assert.equal(q.length, 1);
    assert.equal(await q.get(), "a");
  });

  test("failures back off exponentially per key, and forget resets them", () => {
    const q = new WorkQueue({ baseMs: 10, maxMs: 100 });
    assert.deepEqual([0, 1, 2, 3, 4, 10].map((n) => q.delayFor(n)), [10, 20, 40, 80, 100, 100]);
    q.addRateLimited("a");
    q.addRateLimited("a");
    assert.equal(q.numRequeues("a"), 2);
    q.forget("a");
    assert.equal(q.numRequeues("a"), 0);
    q.shutDown();
  });

  test("runWorkers retries a failing key with back-off until it succeeds", async () => {
    const q = new WorkQueue({ baseMs: 5, maxMs: 50 });
    const seen: number[] = [];
    let calls = 0;
    const t0 = Date.now();
    const done = runWorkers(q, async () => {
      seen.push(Date.now() - t0);
      if (++calls < 4) throw new Error("not yet");
      q.shutDown();
    });
    q.add("x");
    await done;
    assert.equal(calls, 4);
    // Waits of 5, 10 and 20 ms: at least 35 ms before the fourth try.
    assert.ok(seen[3]! >= 30, `fourth attempt at ${seen[3]} ms`);
  });

  test("a sooner addAfter replaces a later pending one; a later one does not delay it", async () => {
    const q = new WorkQueue();
    q.addAfter("a", 60_000);
    q.addAfter("a", 10);
    q.addAfter("a", 30_000);
    const t0 = Date.now();
    assert.equal(await q.get(), "a");
    assert.ok(Date.now() - t0 < 5_000, "came after the soonest delay");
    q.shutDown();
  });

  test("get resolves undefined once shut down", async () => {
    const q = new WorkQueue();
    const pending = q.get();
    q.shutDown();
    assert.equal(await pending, undefined);
  });
});
