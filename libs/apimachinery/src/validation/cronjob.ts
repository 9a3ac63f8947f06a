// CronJob validation, after k8s.io/kubernetes/pkg/apis/batch/validation (ValidateCronJobSpec).
import type { CronJobSpec } from "@corral/api";
import { CronExpressionParser } from "cron-parser";
import { nonNegative, oneOf } from "./common.js";
import { type FieldError, childPath, invalid, required } from "./errors.js";
import { validateJobSpec } from "./workloads.js";

/** The schedule's problem, or undefined when cron-parser (what the controller runs it with) takes it. */
export function scheduleError(schedule: string, timeZone?: string): string | undefined {
  // Five fields as Kubernetes has them (cron-parser would also take a sixth, seconds), or a macro.
  if (!schedule.startsWith("@") && schedule.trim().split(/\s+/).length !== 5) {
    return "expected 5 fields: minute hour day-of-month month day-of-week";
  }
  try {
    CronExpressionParser.parse(schedule, { tz: timeZone || "UTC" });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function timeZoneError(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return undefined;
  } catch {
    return "unknown time zone (an IANA name such as Europe/Berlin)";
  }
}

export function validateCronJobSpec(spec: CronJobSpec | undefined, path = "spec"): FieldError[] {
  if (!spec) return [required(path)];
  const errs: FieldError[] = [];
  const tzErr = spec.timeZone !== undefined ? timeZoneError(spec.timeZone) : undefined;
  if (tzErr) errs.push(invalid(childPath(path, "timeZone"), spec.timeZone, tzErr));
  if (!spec.schedule) errs.push(required(childPath(path, "schedule")));
  else {
    const e = scheduleError(spec.schedule, tzErr ? undefined : spec.timeZone);
    if (e) errs.push(invalid(childPath(path, "schedule"), spec.schedule, e));
  }
  errs.push(
    ...oneOf(childPath(path, "concurrencyPolicy"), spec.concurrencyPolicy, ["Allow", "Forbid", "Replace"]),
    ...nonNegative(childPath(path, "startingDeadlineSeconds"), spec.startingDeadlineSeconds),
    ...nonNegative(childPath(path, "successfulJobsHistoryLimit"), spec.successfulJobsHistoryLimit),
    ...nonNegative(childPath(path, "failedJobsHistoryLimit"), spec.failedJobsHistoryLimit),
  );
  const jt = childPath(path, "jobTemplate");
  if (!spec.jobTemplate) errs.push(required(jt));
  // The Jobs get their selector when they are created (generated, as for any Job without one).
  else errs.push(...validateJobSpec(spec.jobTemplate.spec, childPath(jt, "spec"), { selectorOptional: true }));
  return errs;
}
