import { describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { CronJobs, CronJobSchema, CronJobSpecSchema } from "@corral/api";
import { validateObject } from "./index.js";
import { assertError, assertValid, validTemplate } from "./test-fixtures.js";

function cronJob(spec: Omit<MessageInitShape<typeof CronJobSpecSchema>, "$typeName"> = {}) {
  const template = validTemplate();
  template.spec!.restartPolicy = "OnFailure";
  return create(CronJobSchema, { metadata: { name: "backup", namespace: "default" }, spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template } }, ...spec } });
}

describe("CronJob validation", () => {
  it("accepts a schedule in Kubernetes' five fields or a macro, with a job template needing no selector", () => {
    assertValid(validateObject(CronJobs, cronJob()));
    assertValid(validateObject(CronJobs, cronJob({ schedule: "@hourly", timeZone: "Europe/Berlin", concurrencyPolicy: "Forbid" })));
  });

  it("names what is wrong: schedule, time zone, policy, limits, the job template", () => {
    assertError(validateObject(CronJobs, cronJob({ schedule: "" })), "spec.schedule", "Required value");
    assertError(validateObject(CronJobs, cronJob({ schedule: "61 * * * *" })), "spec.schedule", /61/);
    assertError(validateObject(CronJobs, cronJob({ schedule: "0 0 * * * *" })), "spec.schedule", "expected 5 fields");
    assertError(validateObject(CronJobs, cronJob({ timeZone: "Mars/Olympus" })), "spec.timeZone", "unknown time zone");
    assertError(validateObject(CronJobs, cronJob({ concurrencyPolicy: "Sometimes" })), "spec.concurrencyPolicy", 'Unsupported value: "Sometimes"');
    assertError(validateObject(CronJobs, cronJob({ successfulJobsHistoryLimit: -1 })), "spec.successfulJobsHistoryLimit", "greater than or equal to 0");
    assertError(validateObject(CronJobs, cronJob({ jobTemplate: undefined })), "spec.jobTemplate", "Required value");
    const always = cronJob();
    always.spec!.jobTemplate!.spec!.template!.spec!.restartPolicy = "Always";
    assertError(validateObject(CronJobs, always), "spec.jobTemplate.spec.template.spec.restartPolicy", 'Unsupported value: "Always"');
  });
});
