// The Job controller's decisions (k8s.io/kubernetes/pkg/controller/job): how many pods to run
// (parallelism, completions), when the Job is finished (Complete; Failed by BackoffLimitExceeded
// or DeadlineExceeded), the back-off before replacing failed pods, and the status. Pure.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobConditionSchema, JobStatusSchema, type Job, type JobStatus, type Pod } from "@corral/api";
import { isActive, isReady, podsToDelete, restartCount } from "../shared/pods.js";

export const DEFAULT_BACKOFF_LIMIT = 6;

export interface JobFinish {
  type: "Complete" | "Failed";
  reason: string;
  message: string;
}

export interface JobPlan {
  finish?: JobFinish;
  /** Pods to create now. */
  create: number;
  /** Pods to delete now. */
  delete: Pod[];
  /** Look again after this long (a deadline, or the end of a back-off). */
  recheckMs?: number;
  succeeded: number;
  failed: number;
  active: Pod[];
}

export interface JobBackoff {
  baseMs: number;
  maxMs: number;
}

export function jobFinished(job: Job): JobFinish | undefined {
  const c = job.status?.conditions.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
  return c ? { type: c.type as JobFinish["type"], reason: c.reason, message: c.message } : undefined;
}

function finishedAtMs(p: Pod): number {
  let t = 0;
  for (const c of [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])]) {
    const f = c.state?.terminated?.finishedAt;
    if (f) t = Math.max(t, timestampDate(f).getTime());
  }
  if (t === 0) {
    const ts = p.metadata?.deletionTimestamp ?? p.metadata?.creationTimestamp;
    if (ts) t = timestampDate(ts).getTime();
  }
  return t;
}

/** Failures since the last success, and when the latest happened (the back-off counts from it). */
function failuresSinceSuccess(pods: readonly Pod[]): { n: number; lastMs: number } {
  const lastSuccess = Math.max(0, ...pods.filter((p) => p.status?.phase === "Succeeded").map(finishedAtMs));
  const failed = pods.filter((p) => p.status?.phase === "Failed").map(finishedAtMs).filter((t) => t >= lastSuccess);
  return { n: failed.length, lastMs: Math.max(0, ...failed) };
}

/**
 * What a Job does next, from its pods (active ones, and the finished ones it still has): finish
 * (deleting what still runs), or create/delete pods towards min(parallelism, remaining
 * completions), waiting out base × 2^(failures-1) after a failure.
 */
export function planJob(job: Job, pods: readonly Pod[], nowMs: number, backoff: JobBackoff): JobPlan {
  const spec = job.spec;
  const active = pods.filter(isActive);
  const succeeded = Math.max(job.status?.succeeded ?? 0, pods.filter((p) => p.status?.phase === "Succeeded").length);
  const failed = Math.max(job.status?.failed ?? 0, pods.filter((p) => p.status?.phase === "Failed").length);
  const plan: JobPlan = { create: 0, delete: [], succeeded, failed, active };
  if (jobFinished(job)) {
    plan.delete = active;
    return plan;
  }
  const backoffLimit = spec?.backoffLimit ?? DEFAULT_BACKOFF_LIMIT;
  const onFailure = spec?.template?.spec?.restartPolicy === "OnFailure";
  const restarts = onFailure ? active.reduce((s, p) => s + restartCount(p), 0) : 0;
  const pastBackoffOnFailure = onFailure && (backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit);
  if (failed > backoffLimit || pastBackoffOnFailure) {
    plan.finish = { type: "Failed", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" };
    plan.delete = active;
    return plan;
  }
  const start = job.status?.startTime ? timestampDate(job.status.startTime).getTime() : nowMs;
  const ads = spec?.activeDeadlineSeconds;
  if (ads !== undefined && !spec?.suspend) {
    const deadline = start + Number(ads) * 1000;
    if (nowMs >= deadline) {
      plan.finish = { type: "Failed", reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" };
      plan.delete = active;
      return plan;
    }
    plan.recheckMs = deadline - nowMs + 50;
  }
  const completions = spec?.completions;
  const parallelism = spec?.parallelism ?? 1;
  const complete = completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0;
  if (complete) {
    plan.finish = { type: "Complete", reason: "CompletionsReached", message: "Reached expected number of succeeded pods" };
    plan.delete = active;
    return plan;
  }
  if (spec?.suspend) {
    plan.delete = active;
    plan.recheckMs = undefined;
    return plan;
  }
  // Without completions (a work queue) no pod is started once one has succeeded.
  const want = Math.max(0, completions !== undefined ? Math.min(parallelism, completions - succeeded) : succeeded > 0 ? 0 : parallelism);
  if (active.length > want) {
    plan.delete = podsToDelete(active, active.length - want);
    return plan;
  }
  if (active.length < want) {
    const f = failuresSinceSuccess(pods);
    if (f.n > 0) {
      const delay = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (f.n - 1));
      const readyAt = f.lastMs + delay;
      if (readyAt > nowMs) {
        const wait = readyAt - nowMs + 50;
        plan.recheckMs = plan.recheckMs === undefined ? wait : Math.min(plan.recheckMs, wait);
        return plan;
      }
    }
    plan.create = want - active.length;
  }
  return plan;
}

/** The Job's status after the plan (active counted as it will be once the plan is carried out). */
export function jobStatus(job: Job, plan: JobPlan, nowMs: number): JobStatus {
  const now = timestampFromMs(nowMs);
  const st = create(JobStatusSchema, {
    conditions: [...(job.status?.conditions ?? [])],
    startTime: job.status?.startTime ?? (job.spec?.suspend ? undefined : now),
    completionTime: job.status?.completionTime,
    active: Math.max(0, plan.active.length + plan.create - plan.delete.length),
    succeeded: plan.succeeded,
    failed: plan.failed,
    ready: plan.active.filter((p) => !plan.delete.includes(p) && isReady(p)).length,
  });
  const suspended = job.spec?.suspend === true && !plan.finish && !jobFinished(job);
  const hasSuspended = st.conditions.find((c) => c.type === "Suspended");
  if (suspended && hasSuspended?.status !== "True") {
    st.conditions = [
      ...st.conditions.filter((c) => c.type !== "Suspended"),
      create(JobConditionSchema, { type: "Suspended", status: "True", reason: "JobSuspended", message: "Job suspended", lastProbeTime: now, lastTransitionTime: now }),
    ];
  } else if (!suspended && hasSuspended?.status === "True") {
    st.conditions = [
      ...st.conditions.filter((c) => c.type !== "Suspended"),
      create(JobConditionSchema, { type: "Suspended", status: "False", reason: "JobResumed", message: "Job resumed", lastProbeTime: now, lastTransitionTime: now }),
    ];
  }
  if (plan.finish) {
    st.active = 0;
    st.ready = 0;
    if (plan.finish.type === "Failed") st.failed += plan.active.length;
    st.conditions.push(
      create(JobConditionSchema, { type: plan.finish.type, status: "True", reason: plan.finish.reason, message: plan.finish.message, lastProbeTime: now, lastTransitionTime: now }),
    );
    if (plan.finish.type === "Complete") st.completionTime = now;
  }
  return st;
}
