// The CronJob controller's decisions (k8s.io/kubernetes/pkg/controller/cronjob): when the last
// scheduled run was, whether to start its Job (suspend, startingDeadlineSeconds, the concurrency
// policy), which finished Jobs the history limits drop, and the status. Pure: the schedule is
// read with cron-parser, the same parser the apiserver validates it with.
import { clone, create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CronJobStatusSchema,
  JobSchema,
  JobSpecSchema,
  ObjectMetaSchema,
  ObjectReferenceSchema,
  type CronJob,
  type CronJobStatus,
  type Job,
  type OwnerReference,
} from "@corral/api";
import { CronExpressionParser } from "cron-parser";

export const SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp";
export const DEFAULT_SUCCESSFUL_HISTORY = 3;
export const DEFAULT_FAILED_HISTORY = 1;

const ms = (t: { seconds: bigint; nanos: number } | undefined) => (t ? timestampDate(t as never).getTime() : undefined);

/** The last schedule time at or before `now`, and the next one after it. */
export function scheduleAround(schedule: string, timeZone: string | undefined, now: Date): { last: Date; next: Date } {
  const tz = timeZone || "UTC";
  // prev() is strictly before its start: start a millisecond late so a run due now counts.
  const last = CronExpressionParser.parse(schedule, { currentDate: new Date(now.getTime() + 1), tz }).prev().toDate();
  const next = CronExpressionParser.parse(schedule, { currentDate: now, tz }).next().toDate();
  return { last, next };
}

/** Kubernetes' Job name for a run: <cronjob>-<minutes since the epoch of its scheduled time>. */
export function jobNameFor(cj: CronJob, scheduled: Date): string {
  return `${cj.metadata!.name}-${Math.floor(scheduled.getTime() / 60_000)}`;
}

/** "Complete" or "Failed" once the Job has finished, else undefined. */
export function finishedAs(job: Job): "Complete" | "Failed" | undefined {
  for (const c of job.status?.conditions ?? []) {
    if (c.status === "True" && (c.type === "Complete" || c.type === "Failed")) return c.type;
  }
  return undefined;
}

export interface CronPlan {
  /** The run to start now. */
  start?: { name: string; scheduled: Date };
  /** Running Jobs to delete first (concurrencyPolicy Replace). */
  replace: Job[];
  /** Finished Jobs beyond the history limits. */
  prune: Job[];
  /** Why a due run was not started (an Event): "MissSchedule", "JobAlreadyActive". */
  skipped?: { reason: string; message: string };
  /** The scheduled time of the run the status should show as last (started now, or found started). */
  lastScheduled?: Date;
  /** When to look again: the next schedule time. */
  requeueAfterMs: number;
}

export function planCronJob(cj: CronJob, jobs: readonly Job[], now: Date): CronPlan {
  const spec = cj.spec!;
  const { last, next } = scheduleAround(spec.schedule, spec.timeZone, now);
  const plan: CronPlan = { replace: [], prune: prune(cj, jobs), requeueAfterMs: Math.max(100, next.getTime() - now.getTime() + 100) };
  if (spec.suspend) return plan;
  // A run is due if it is after the last one started (or the CronJob's creation).
  const since = ms(cj.status?.lastScheduleTime) ?? ms(cj.metadata?.creationTimestamp) ?? 0;
  if (last.getTime() <= since) return plan;
  const name = jobNameFor(cj, last);
  if (jobs.some((j) => j.metadata?.name === name)) {
    plan.lastScheduled = last; // started already (its status write may have been lost)
    return plan;
  }
  const deadline = spec.startingDeadlineSeconds;
  if (deadline !== undefined && now.getTime() - last.getTime() > Number(deadline) * 1000) {
    plan.skipped = { reason: "MissSchedule", message: `Missed scheduled time to start a job: ${last.toISOString()}` };
    return plan;
  }
  const active = jobs.filter((j) => !finishedAs(j) && !j.metadata?.deletionTimestamp);
  if (active.length > 0 && spec.concurrencyPolicy === "Forbid") {
    plan.skipped = { reason: "JobAlreadyActive", message: "Not starting job because prior execution is running and concurrency policy is Forbid" };
    return plan;
  }
  if (spec.concurrencyPolicy === "Replace") plan.replace = active;
  plan.start = { name, scheduled: last };
  plan.lastScheduled = last;
  return plan;
}

/** Finished Jobs beyond successfulJobsHistoryLimit (3) and failedJobsHistoryLimit (1), oldest first. */
function prune(cj: CronJob, jobs: readonly Job[]): Job[] {
  const byAge = (a: Job, b: Job) => (ms(a.metadata?.creationTimestamp) ?? 0) - (ms(b.metadata?.creationTimestamp) ?? 0);
  const out: Job[] = [];
  for (const [type, limit] of [
    ["Complete", cj.spec?.successfulJobsHistoryLimit ?? DEFAULT_SUCCESSFUL_HISTORY],
    ["Failed", cj.spec?.failedJobsHistoryLimit ?? DEFAULT_FAILED_HISTORY],
  ] as const) {
    const done = jobs.filter((j) => finishedAs(j) === type && !j.metadata?.deletionTimestamp).sort(byAge);
    out.push(...done.slice(0, Math.max(0, done.length - limit)));
  }
  return out;
}

/** The Job for a run: the template's metadata and spec, owned by the CronJob. */
export function jobFor(cj: CronJob, name: string, scheduled: Date, owner: OwnerReference): Job {
  const tm = cj.spec?.jobTemplate?.metadata;
  return create(JobSchema, {
    metadata: create(ObjectMetaSchema, {
      name,
      namespace: cj.metadata!.namespace,
      labels: { ...(tm?.labels ?? {}) },
      annotations: { ...(tm?.annotations ?? {}), [SCHEDULED_TIMESTAMP]: scheduled.toISOString() },
      ownerReferences: [owner],
    }),
    spec: cj.spec?.jobTemplate?.spec ? clone(JobSpecSchema, cj.spec.jobTemplate.spec) : create(JobSpecSchema, {}),
  });
}

/** Status: the running Jobs, and the last scheduled and last successful times. */
export function cronJobStatus(cj: CronJob, jobs: readonly Job[], lastScheduled: Date | undefined): CronJobStatus {
  const prev = cj.status;
  const active = jobs
    .filter((j) => !finishedAs(j) && !j.metadata?.deletionTimestamp)
    .sort((a, b) => (a.metadata!.name < b.metadata!.name ? -1 : 1))
    .map((j) => create(ObjectReferenceSchema, { kind: "Job", apiVersion: "batch/v1", namespace: j.metadata!.namespace, name: j.metadata!.name, uid: j.metadata!.uid }));
  let lastSchedule = ms(prev?.lastScheduleTime);
  if (lastScheduled && (lastSchedule === undefined || lastScheduled.getTime() > lastSchedule)) lastSchedule = lastScheduled.getTime();
  let lastSuccess = ms(prev?.lastSuccessfulTime);
  for (const j of jobs) {
    const t = finishedAs(j) === "Complete" ? ms(j.status?.completionTime) : undefined;
    if (t !== undefined && (lastSuccess === undefined || t > lastSuccess)) lastSuccess = t;
  }
  return create(CronJobStatusSchema, {
    active,
    lastScheduleTime: lastSchedule === undefined ? undefined : timestampFromDate(new Date(lastSchedule)),
    lastSuccessfulTime: lastSuccess === undefined ? undefined : timestampFromDate(new Date(lastSuccess)),
  });
}
