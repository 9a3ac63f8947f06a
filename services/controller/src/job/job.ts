// The Job controller: runs a Job's pods to completion (completions, parallelism), replaces failed
// ones after a back-off until backoffLimit, stops at activeDeadlineSeconds, and says how it ended
// in its conditions (Complete, or Failed with BackoffLimitExceeded or DeadlineExceeded). A Job with
// ttlSecondsAfterFinished is deleted that long after it finished (Kubernetes' TTL controller).
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Jobs, JobStatusSchema, Pods, type Job, type Pod } from "@corral/api";
import { objectKey, type Informer, type ReconcileResult } from "@corral/client";
import { claim } from "../shared/claim.js";
import { ignoreNotFound, QueueController, type ControllerContext } from "../shared/controller.js";
import { Expectations } from "../shared/expectations.js";
import { ownedPodEvents } from "../shared/owned-pods.js";
import { BY_CONTROLLER, orphanIndexKey } from "../shared/informers.js";
import { compileSelector, newControllerRef, selects } from "../shared/meta.js";
import { createPods, deletePods } from "../shared/podcontrol.js";
import { podFromTemplate } from "../shared/pods.js";
import { writeStatus } from "../shared/status.js";
import { jobFinished, jobStatus, planJob } from "./logic.js";

export const JOB_LABELS = {
  controllerUid: "batch.kubernetes.io/controller-uid",
  jobName: "batch.kubernetes.io/job-name",
  legacyControllerUid: "controller-uid",
  legacyJobName: "job-name",
} as const;

export class JobController extends QueueController {
  readonly name = "job";
  readonly expectations = new Expectations();
  private readonly jobInf: Informer<Job>;
  private readonly podInf: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    super(ctx, "job-controller", 5);
    this.jobInf = ctx.informers.get(Jobs);
    this.podInf = ctx.informers.get(Pods);
    this.jobInf.addEventHandler({
      add: (j) => this.enqueue(objectKey(j)),
      update: (_o, j) => this.enqueue(objectKey(j)),
      delete: (j) => {
        this.expectations.delete(objectKey(j));
        this.enqueue(objectKey(j));
      },
    });
    const owned = ownedPodEvents({ kind: "Job", owners: this.jobInf, expectations: this.expectations, enqueue: (k) => this.enqueue(k) });
    this.podInf.addEventHandler(owned.handler);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const job = this.jobInf.get(key);
    if (!job) {
      this.expectations.delete(key);
      return;
    }
    const m = job.metadata!;
    if (m.deletionTimestamp) return;
    if (!compileSelector(job.spec?.selector)) {
      this.log.warn({ key }, "empty or invalid selector; ignoring the Job");
      return;
    }
    const now = Date.now();
    const finished = jobFinished(job);
    if (finished) {
      const ttl = job.spec?.ttlSecondsAfterFinished;
      if (ttl !== undefined) {
        const at = finishedAtMs(job) + ttl * 1000;
        if (at > now) return { requeueAfterMs: at - now + 50 };
        this.log.info({ key }, "deleting finished Job after ttlSecondsAfterFinished");
        await this.ctx.clients.for(Jobs).delete({ namespace: m.namespace, name: m.name, preconditions: { uid: m.uid }, propagationPolicy: "Foreground" }).catch(ignoreNotFound);
        return;
      }
    }
    const candidates = [...this.podInf.byIndex(BY_CONTROLLER, m.uid), ...this.podInf.byIndex(BY_CONTROLLER, orphanIndexKey(m.namespace))];
    const pods = await claim(this.ctx, Jobs, job, Pods, candidates, (p) => selects(job.spec?.selector, p.metadata?.labels));
    const plan = planJob(job, pods, now, { baseMs: this.ctx.config.jobBackoffBaseMs, maxMs: this.ctx.config.jobBackoffMaxMs });
    // Until the pods it asked for show up in the cache, a Job only reports (it would count them twice).
    if (!this.expectations.satisfied(key) && !plan.finish) {
      plan.create = 0;
      plan.delete = [];
    }
    let thrown: unknown;
    try {
      if (plan.delete.length > 0) await deletePods(this.ctx, Jobs, job, key, this.expectations, plan.delete);
      if (plan.create > 0) {
        const ref = newControllerRef(Jobs, job);
        const labels = {
          [JOB_LABELS.controllerUid]: m.uid,
          [JOB_LABELS.jobName]: m.name,
          [JOB_LABELS.legacyControllerUid]: m.uid,
          [JOB_LABELS.legacyJobName]: m.name,
        };
        await createPods(this.ctx, Jobs, job, key, this.expectations, plan.create, () => podFromTemplate(job.spec?.template, m.namespace, `${m.name}-`, ref, labels));
      }
    } catch (err) {
      thrown = err;
      plan.create = 0;
      plan.delete = [];
    }
    const status = jobStatus(job, plan, now);
    if (await writeStatus(this.ctx, Jobs, JobStatusSchema, job, status)) {
      if (plan.finish) {
        const type = plan.finish.type === "Complete" ? "Normal" : "Warning";
        const reason = plan.finish.type === "Complete" ? "Completed" : plan.finish.reason;
        this.ctx.recorder.event(Jobs, job, type, reason, plan.finish.type === "Complete" ? "Job completed" : plan.finish.message);
        this.log.info({ key, result: plan.finish.type, reason: plan.finish.reason, succeeded: status.succeeded, failed: status.failed }, "job finished");
      }
    }
    if (thrown) throw thrown;
    if (plan.finish && job.spec?.ttlSecondsAfterFinished !== undefined) return { requeueAfterMs: job.spec.ttlSecondsAfterFinished * 1000 + 50 };
    return plan.recheckMs !== undefined ? { requeueAfterMs: plan.recheckMs } : undefined;
  }
}

function finishedAtMs(job: Job): number {
  if (job.status?.completionTime) return timestampDate(job.status.completionTime).getTime();
  const c = job.status?.conditions.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
  return c?.lastTransitionTime ? timestampDate(c.lastTransitionTime).getTime() : Date.now();
}
