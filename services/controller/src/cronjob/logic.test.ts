import assert from "node:assert/strict";
import { test } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CronJobSchema, CronJobSpecSchema, JobSchema, OwnerReferenceSchema, type CronJob, type Job } from "@corral/api";
import { cronJobStatus, jobFor, jobNameFor, planCronJob, scheduleAround, SCHEDULED_TIMESTAMP } from "./logic.js";

const at = (iso: string) => new Date(iso);
const ts = (iso: string) => timestampFromDate(at(iso));

function cron(spec: Omit<MessageInitShape<typeof CronJobSpecSchema>, "$typeName"> = {}, lastSchedule?: string): CronJob {
  return create(CronJobSchema, {
    metadata: { name: "backup", namespace: "ops", uid: "cj-uid", creationTimestamp: ts("2026-12-01T09:00:30Z") },
    spec: { schedule: "*/10 * * * *", jobTemplate: { metadata: { labels: { app: "backup" } }, spec: { template: { spec: { restartPolicy: "OnFailure" } } } }, ...spec },
    status: lastSchedule ? { lastScheduleTime: ts(lastSchedule) } : {},
  });
}

function job(name: string, state: "running" | "Complete" | "Failed", created: string, completed?: string): Job {
  return create(JobSchema, {
    metadata: { name, namespace: "ops", uid: `${name}-uid`, creationTimestamp: ts(created) },
    status: state === "running" ? { active: 1 } : { conditions: [{ type: state, status: "True" }], completionTime: completed ? ts(completed) : undefined },
  });
}

test("the last run at or before now, and the next, in the schedule's time zone", () => {
  const r = scheduleAround("*/10 * * * *", undefined, at("2026-12-01T10:20:00Z"));
  assert.equal(r.last.toISOString(), "2026-12-01T10:20:00.000Z", "a run due this very millisecond counts");
  assert.equal(r.next.toISOString(), "2026-12-01T10:30:00.000Z");
  const berlin = scheduleAround("0 9 * * *", "Europe/Berlin", at("2026-12-01T10:00:00Z"));
  assert.equal(berlin.last.toISOString(), "2026-12-01T08:00:00.000Z", "09:00 in Berlin is 08:00 UTC in winter");
});

test("a due run starts a Job named after its scheduled minute; it starts once", () => {
  const now = at("2026-12-01T10:20:05Z");
  const p = planCronJob(cron({}, "2026-12-01T10:10:00Z"), [], now);
  assert.deepEqual(p.start, { name: "backup-29935340", scheduled: at("2026-12-01T10:20:00Z") });
  assert.equal(jobNameFor(cron(), at("2026-12-01T10:20:00Z")), "backup-29935340");
  assert.equal(p.requeueAfterMs, 10 * 60_000 - 5_000 + 100, "wakes at the next run");
  const again = planCronJob(cron({}, "2026-12-01T10:20:00Z"), [job("backup-29935340", "running", "2026-12-01T10:20:01Z")], now);
  assert.equal(again.start, undefined);
  const lost = planCronJob(cron({}, "2026-12-01T10:10:00Z"), [job("backup-29935340", "running", "2026-12-01T10:20:01Z")], now);
  assert.equal(lost.start, undefined, "the Job exists though the status write was lost");
  assert.equal(lost.lastScheduled?.toISOString(), "2026-12-01T10:20:00.000Z");
});

test("nothing before the CronJob existed, nothing while suspended, nothing past the starting deadline", () => {
  assert.equal(planCronJob(cron(), [], at("2026-12-01T09:05:00Z")).start, undefined, "09:00 was before its creation at 09:00:30");
  assert.ok(planCronJob(cron(), [], at("2026-12-01T09:10:01Z")).start);
  assert.equal(planCronJob(cron({ suspend: true }), [], at("2026-12-01T09:10:01Z")).start, undefined);
  const late = planCronJob(cron({ startingDeadlineSeconds: 30n }), [], at("2026-12-01T09:11:00Z"));
  assert.equal(late.start, undefined);
  assert.equal(late.skipped?.reason, "MissSchedule");
});

test("concurrency: Allow runs beside, Forbid skips, Replace deletes the running Job first", () => {
  const running = [job("backup-29935330", "running", "2026-12-01T10:10:00Z")];
  const now = at("2026-12-01T10:20:01Z");
  assert.ok(planCronJob(cron({}, "2026-12-01T10:10:00Z"), running, now).start);
  const forbid = planCronJob(cron({ concurrencyPolicy: "Forbid" }, "2026-12-01T10:10:00Z"), running, now);
  assert.equal(forbid.start, undefined);
  assert.equal(forbid.skipped?.reason, "JobAlreadyActive");
  const replace = planCronJob(cron({ concurrencyPolicy: "Replace" }, "2026-12-01T10:10:00Z"), running, now);
  assert.ok(replace.start);
  assert.deepEqual(replace.replace.map((j) => j.metadata!.name), ["backup-29935330"]);
});

test("history: the newest 3 successful and 1 failed Jobs are kept (or as configured)", () => {
  const jobs = [
    job("s1", "Complete", "2026-12-01T09:10:00Z"),
    job("s2", "Complete", "2026-12-01T09:20:00Z"),
    job("s3", "Complete", "2026-12-01T09:30:00Z"),
    job("s4", "Complete", "2026-12-01T09:40:00Z"),
    job("f1", "Failed", "2026-12-01T09:15:00Z"),
    job("f2", "Failed", "2026-12-01T09:25:00Z"),
    job("r1", "running", "2026-12-01T09:50:00Z"),
  ];
  const now = at("2026-12-01T09:55:00Z");
  assert.deepEqual(planCronJob(cron(), jobs, now).prune.map((j) => j.metadata!.name), ["s1", "f1"]);
  assert.deepEqual(planCronJob(cron({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 0 }), jobs, now).prune.map((j) => j.metadata!.name), ["s1", "s2", "s3", "f1", "f2"]);
});

test("the Job carries the template and the scheduled time; the status the running Jobs and last times", () => {
  const owner = create(OwnerReferenceSchema, { apiVersion: "batch/v1", kind: "CronJob", name: "backup", uid: "cj-uid", controller: true });
  const j = jobFor(cron(), "backup-29935340", at("2026-12-01T10:20:00Z"), owner);
  assert.deepEqual(j.metadata!.labels, { app: "backup" });
  assert.equal(j.metadata!.annotations[SCHEDULED_TIMESTAMP], "2026-12-01T10:20:00.000Z");
  assert.equal(j.spec!.template!.spec!.restartPolicy, "OnFailure");
  assert.equal(j.metadata!.ownerReferences[0]!.kind, "CronJob");
  const st = cronJobStatus(cron({}, "2026-12-01T10:10:00Z"), [job("a", "running", "2026-12-01T10:20:00Z"), job("b", "Complete", "2026-12-01T10:10:00Z", "2026-12-01T10:11:00Z")], at("2026-12-01T10:20:00Z"));
  assert.deepEqual(st.active.map((r) => r.name), ["a"]);
  assert.equal(timestampDate(st.lastScheduleTime!).toISOString(), "2026-12-01T10:20:00.000Z");
  assert.equal(timestampDate(st.lastSuccessfulTime!).toISOString(), "2026-12-01T10:11:00.000Z");
});
