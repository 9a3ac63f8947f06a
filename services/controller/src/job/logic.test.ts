import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobSchema, type Job, type Pod } from "@corral/api";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pod, T0 } from "../shared/test-fixtures.js";
import { jobStatus, planJob } from "./logic.js";

const job = (spec: Partial<Job["spec"]> & object = {}, status: Partial<Job["status"]> & object = {}): Job =>
  create(JobSchema, {
    metadata: { name: "j", namespace: "default", uid: "uid-j" },
    spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c" }] } }, ...(spec as object) },
    status: { startTime: timestampFromMs(T0), ...(status as object) },
  });
const ran = (name: string, phase: "Succeeded" | "Failed", finishedAt = T0) => {
  const p = pod(name, { node: "n", phase });
  p.status!.containerStatuses[0]!.state = { $typeName: "corral.v1.ContainerState", terminated: { $typeName: "corral.v1.ContainerStateTerminated", exitCode: phase === "Failed" ? 1 : 0, signal: 0, reason: "", message: "", containerId: "", finishedAt: timestampFromMs(finishedAt) } };
  return p;
};
const running = (name: string) => pod(name, { node: "n", readySince: T0 });
const backoff = { baseMs: 10_000, maxMs: 360_000 };

describe("Job decisions", () => {
  it("runs min(parallelism, remaining completions) at once", () => {
    assert.equal(planJob(job({ completions: 5, parallelism: 2 }), [], T0, backoff).create, 2);
    assert.equal(planJob(job({ completions: 5, parallelism: 2 }), [ran("a", "Succeeded"), ran("b", "Succeeded"), ran("c", "Succeeded"), running("d")], T0, backoff).create, 1);
    assert.equal(planJob(job({ completions: 3, parallelism: 5 }), [ran("a", "Succeeded"), running("b")], T0, backoff).create, 1);
    assert.deepEqual(planJob(job({ completions: 2, parallelism: 3 }), [running("a"), running("b"), running("c")], T0, backoff).delete.length, 1);
  });
  it("completes at `completions` successes (work queue: one success and nothing left running)", () => {
    const p = planJob(job({ completions: 2 }), [ran("a", "Succeeded"), ran("b", "Succeeded")], T0, backoff);
    assert.deepEqual(p.finish, { type: "Complete", reason: "CompletionsReached", message: "Reached expected number of succeeded pods" });
    const st = jobStatus(job({ completions: 2 }), p, T0 + 1);
    assert.deepEqual([st.succeeded, st.active, st.completionTime?.seconds], [2, 0, timestampFromMs(T0 + 1).seconds]);
    assert.equal(st.conditions.find((c) => c.type === "Complete")?.status, "True");
    assert.equal(planJob(job({ parallelism: 2 }), [ran("a", "Succeeded"), running("b")], T0, backoff).finish, undefined);
    assert.equal(planJob(job({ parallelism: 2 }), [ran("a", "Succeeded")], T0, backoff).finish?.type, "Complete");
  });
  it("fails with BackoffLimitExceeded after backoffLimit + 1 failures, stopping what runs", () => {
    const pods: Pod[] = [ran("a", "Failed"), ran("b", "Failed"), running("c")];
    const p = planJob(job({ backoffLimit: 1, parallelism: 2, completions: 2 }), pods, T0, backoff);
    assert.equal(p.finish?.reason, "BackoffLimitExceeded");
    assert.deepEqual(p.delete.map((x) => x.metadata!.name), ["c"]);
    const st = jobStatus(job({ backoffLimit: 1 }), p, T0);
    assert.deepEqual([st.failed, st.active], [3, 0]);
    assert.equal(planJob(job({ backoffLimit: 2 }), pods.slice(0, 2), T0 + 60_000, backoff).finish, undefined);
  });
  it("with restartPolicy OnFailure, container restarts count against backoffLimit", () => {
    const j = job({ backoffLimit: 2 });
    j.spec!.template!.spec!.restartPolicy = "OnFailure";
    assert.equal(planJob(j, [pod("a", { node: "n", restarts: 2 })], T0, backoff).finish?.reason, "BackoffLimitExceeded");
    assert.equal(planJob(j, [pod("a", { node: "n", restarts: 1 })], T0, backoff).finish, undefined);
  });
  it("waits base × 2^(failures−1) after the last failure before the next pod", () => {
    const j = job({ backoffLimit: 6 });
    const one = planJob(j, [ran("a", "Failed", T0)], T0 + 4_000, backoff);
    assert.deepEqual([one.create, one.recheckMs], [0, 6_050]);
    assert.equal(planJob(j, [ran("a", "Failed", T0)], T0 + 10_000, backoff).create, 1);
    assert.equal(planJob(j, [ran("a", "Failed", T0 - 5_000), ran("b", "Failed", T0)], T0 + 15_000, backoff).create, 0, "second failure: 20 s");
    assert.equal(planJob(j, [ran("a", "Failed", T0 - 5_000), ran("b", "Failed", T0)], T0 + 20_000, backoff).create, 1);
  });
  it("fails with DeadlineExceeded once activeDeadlineSeconds have passed since it started", () => {
    const j = job({ activeDeadlineSeconds: 30n });
    const before = planJob(j, [running("a")], T0 + 20_000, backoff);
    assert.deepEqual([before.finish, before.recheckMs], [undefined, 10_050]);
    const after = planJob(j, [running("a")], T0 + 30_000, backoff);
    assert.equal(after.finish?.reason, "DeadlineExceeded");
    assert.equal(after.delete.length, 1);
  });
  it("a suspended Job runs nothing", () => {
    const p = planJob(job({ suspend: true }), [running("a")], T0, backoff);
    assert.deepEqual([p.create, p.delete.length], [0, 1]);
    assert.equal(jobStatus(job({ suspend: true }), p, T0).conditions.find((c) => c.type === "Suspended")?.status, "True");
  });
});
