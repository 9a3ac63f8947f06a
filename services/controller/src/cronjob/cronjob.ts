// The CronJob controller: starts a Job at each scheduled time (see logic.ts), keeps the last few
// finished ones, and reports the running ones. It wakes at the next schedule time (a requeue), and
// on every change of its CronJobs and their Jobs; the schedule is followed from the status'
// lastScheduleTime, so a restart neither repeats nor (within startingDeadlineSeconds) skips a run.
import { CronJobs, CronJobStatusSchema, Jobs, type CronJob, type Job } from "@corral/api";
import { objectKey, type Informer, type ReconcileResult } from "@corral/client";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import { ignoreNotFound, QueueController, type ControllerContext } from "../shared/controller.js";
import { BY_CONTROLLER } from "../shared/informers.js";
import { controllerRef, newControllerRef } from "../shared/meta.js";
import { writeStatus } from "../shared/status.js";
import { cronJobStatus, jobFor, planCronJob } from "./logic.js";

export class CronJobController extends QueueController {
  readonly name = "cronjob";
  private readonly cronInf: Informer<CronJob>;
  private readonly jobInf: Informer<Job>;

  constructor(ctx: ControllerContext) {
    super(ctx, "cronjob-controller", 2);
    this.cronInf = ctx.informers.get(CronJobs);
    this.jobInf = ctx.informers.get(Jobs);
    this.cronInf.addEventHandler({
      add: (cj) => this.enqueue(objectKey(cj)),
      update: (_o, cj) => this.enqueue(objectKey(cj)),
      delete: (cj) => this.enqueue(objectKey(cj)),
    });
    const owner = (j: Job) => {
      const ref = controllerRef(j);
      if (ref?.kind === "CronJob") this.enqueue(`${j.metadata!.namespace}/${ref.name}`);
    };
    this.jobInf.addEventHandler({ add: owner, update: (_o, j) => owner(j), delete: owner });
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const cj = this.cronInf.get(key);
    if (!cj || cj.metadata?.deletionTimestamp) return;
    const jobs = this.jobInf.byIndex(BY_CONTROLLER, cj.metadata!.uid);
    const now = new Date();
    let plan;
    try {
      plan = planCronJob(cj, jobs, now);
    } catch (err) {
      // The apiserver validates the schedule; one it took but the parser here does not is reported, not retried.
      this.ctx.recorder.event(CronJobs, cj, "Warning", "InvalidSchedule", `invalid schedule "${cj.spec?.schedule}": ${errorMessage(err)}`);
      return;
    }
    const jobClient = this.ctx.clients.for(Jobs);
    const remove = async (j: Job, why: string) => {
      await jobClient
        .delete({ namespace: j.metadata!.namespace, name: j.metadata!.name, propagationPolicy: "Background", preconditions: { uid: j.metadata!.uid } }, { timeoutMs: 30_000 })
        .catch(ignoreNotFound);
      this.ctx.recorder.event(CronJobs, cj, "Normal", "SuccessfulDelete", `Deleted ${why} job ${j.metadata!.name}`);
    };
    for (const j of plan.prune) await remove(j, "finished");
    for (const j of plan.replace) await remove(j, "active");
    if (plan.skipped) this.ctx.recorder.event(CronJobs, cj, "Warning", plan.skipped.reason, plan.skipped.message);
    let made: Job | undefined;
    if (plan.start) {
      try {
        made = await jobClient.create(jobFor(cj, plan.start.name, plan.start.scheduled, newControllerRef(CronJobs, cj)), { timeoutMs: 30_000 });
        this.ctx.recorder.event(CronJobs, cj, "Normal", "SuccessfulCreate", `Created job ${made.metadata!.name}`);
      } catch (err) {
        // Made by an earlier attempt whose answer was lost: the run has started.
        if (errorCode(err) !== Code.ALREADY_EXISTS) {
          this.ctx.recorder.event(CronJobs, cj, "Warning", "FailedCreate", `Error creating job: ${errorMessage(err)}`);
          throw err;
        }
      }
    }
    const live = made ? [...jobs.filter((j) => j.metadata?.name !== made!.metadata?.name), made] : jobs;
    const pruned = new Set([...plan.prune, ...plan.replace].map((j) => j.metadata!.uid));
    await writeStatus(this.ctx, CronJobs, CronJobStatusSchema, cj, cronJobStatus(cj, live.filter((j) => !pruned.has(j.metadata!.uid)), plan.lastScheduled));
    return { requeueAfterMs: plan.requeueAfterMs };
  }
}
