import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SchedulingQueue } from "./queue.js";

function queue(now: { t: number }) {
  return new SchedulingQueue({ initialBackoffMs: 1000, maxBackoffMs: 10_000, maxUnschedulableMs: 60_000, now: () => now.t });
}

const anyInterest = () => true;

describe("SchedulingQueue", () => {
  it("pops by priority, then first in first out", () => {
    const now = { t: 0 };
    const q = queue(now);
    q.add("a", 0);
    now.t = 1;
    q.add("b", 10);
    now.t = 2;
    q.add("c", 0);
    assert.deepEqual([q.tryPop()?.key, q.tryPop()?.key, q.tryPop()?.key, q.tryPop()], ["b", "a", "c", undefined]);
    q.close();
  });

  it("keeps a pod once, whether queued or in flight", () => {
    const q = queue({ t: 0 });
    q.add("a");
    q.add("a");
    const qp = q.tryPop()!;
    q.add("a");
    assert.equal(q.tryPop(), undefined);
    q.done(qp);
    q.add("a");
    assert.equal(q.tryPop()?.key, "a");
    q.close();
  });

  it("an unschedulable pod waits for a cluster change that a rejecting plugin cares about, after its back-off", () => {
    const now = { t: 0 };
    const q = queue(now);
    q.add("a");
    q.unschedulable(q.tryPop()!, new Set(["NodeResourcesFit"]));
    assert.deepEqual(q.pending, { active: 0, backoff: 0, unschedulable: 1 });
    // An event only other plugins care about: stays.
    assert.equal(q.onEvent("AssignedPodAdd", (e, by) => e !== "AssignedPodAdd" && by.has("NodeResourcesFit")), 0);
    // A relevant event during back-off: to backoff, not active.
    assert.equal(q.onEvent("NodeAdd", anyInterest), 1);
    assert.deepEqual(q.pending, { active: 0, backoff: 1, unschedulable: 0 });
    assert.equal(q.tryPop(), undefined);
    now.t = 1000;
    q.flushBackoff();
    assert.equal(q.tryPop()?.key, "a");
    q.close();
  });

  it("backs off exponentially up to the maximum", () => {
    const q = queue({ t: 0 });
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => q.backoffDuration(n)), [1000, 2000, 4000, 8000, 10_000, 10_000]);
    q.close();
  });

  it("a pod that failed after its back-off is over goes straight to active on an event", () => {
    const now = { t: 0 };
    const q = queue(now);
    q.add("a");
    q.unschedulable(q.tryPop()!, new Set(["X"]));
    now.t = 5000;
    q.onEvent("NodeAdd", anyInterest);
    assert.equal(q.tryPop()?.key, "a");
    q.close();
  });

  it("retries unschedulable pods after the timeout even without events", () => {
    const now = { t: 0 };
    const q = queue(now);
    q.add("a");
    q.unschedulable(q.tryPop()!, new Set(["X"]));
    now.t = 59_999;
    q.flushUnschedulable();
    assert.equal(q.tryPop(), undefined);
    now.t = 60_000;
    q.flushUnschedulable();
    assert.equal(q.tryPop()?.key, "a");
    q.close();
  });

  it("an updated unschedulable pod is retried; a deleted one is gone", () => {
    const now = { t: 0 };
    const q = queue(now);
    q.add("a");
    q.add("b");
    q.unschedulable(q.tryPop()!, new Set(["X"]));
    q.unschedulable(q.tryPop()!, new Set(["X"]));
    now.t = 2000;
    q.updated("a");
    q.delete("b");
    assert.equal(q.tryPop()?.key, "a");
    q.onEvent("NodeAdd", anyInterest);
    assert.equal(q.tryPop(), undefined);
    q.close();
  });

  it("an errored pod comes back after its back-off, by timer", async () => {
    // The queue's timers do not hold the process open (the watches do); this test must.
    const keepAlive = setTimeout(() => {}, 5_000);
    const q = new SchedulingQueue({ initialBackoffMs: 20 });
    q.add("a");
    q.error(q.tryPop()!);
    assert.equal(q.tryPop(), undefined);
    const t0 = Date.now();
    const qp = await q.pop();
    assert.equal(qp?.key, "a");
    assert.ok(Date.now() - t0 >= 15);
    q.close();
    clearTimeout(keepAlive);
  });

  it("pop waits for a pod, and gives up on abort or close", async () => {
    const q = queue({ t: 0 });
    const waiting = q.pop();
    q.add("a");
    assert.equal((await waiting)?.key, "a");
    const ac = new AbortController();
    const aborted = q.pop(ac.signal);
    ac.abort();
    assert.equal(await aborted, undefined);
    q.add("b");
    assert.equal(q.tryPop()?.key, "b", "the aborted waiter did not take b");
    const closed = q.pop();
    q.close();
    assert.equal(await closed, undefined);
  });
});
