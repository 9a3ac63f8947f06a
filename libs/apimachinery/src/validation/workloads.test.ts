import { describe, it } from "node:test";
import { type MessageInitShape, create } from "@bufbuild/protobuf";
import {
  DaemonSetSchema,
  DaemonSets,
  DeploymentSchema,
  type DeploymentSpec,
  DeploymentSpecSchema,
  Deployments,
  JobSchema,
  Jobs,
  ReplicaSetSchema,
  ReplicaSets,
  StatefulSetSchema,
  StatefulSets,
  VolumeMountSchema,
} from "@corral/api";
import { validateObject } from "./index.js";
import { assertError, assertValid, validTemplate } from "./test-fixtures.js";

const meta = { name: "web", namespace: "default" };
const selector = { matchLabels: { app: "web" } };
const intOrStr = (v: number | string) => ({
  value: typeof v === "number" ? { case: "intVal" as const, value: v } : { case: "strVal" as const, value: v },
});

type DeploymentSpecInit = Exclude<MessageInitShape<typeof DeploymentSpecSchema>, DeploymentSpec>;

function deployment(spec: DeploymentSpecInit = {}) {
  return create(DeploymentSchema, { metadata: meta, spec: { selector, template: validTemplate(), ...spec } });
}

describe("workload validation", () => {
  it("accepts valid workloads of every kind", () => {
    assertValid(validateObject(Deployments, deployment({ replicas: 3 })));
    assertValid(validateObject(ReplicaSets, create(ReplicaSetSchema, { metadata: meta, spec: { selector, template: validTemplate() } })));
    assertValid(validateObject(DaemonSets, create(DaemonSetSchema, { metadata: meta, spec: { selector, template: validTemplate() } })));
    assertValid(
      validateObject(
        StatefulSets,
        create(StatefulSetSchema, { metadata: meta, spec: { selector, template: validTemplate(), serviceName: "web" } }),
      ),
    );
    const job = create(JobSchema, { metadata: meta, spec: { selector, template: validTemplate() } });
    job.spec!.template!.spec!.restartPolicy = "Never";
    assertValid(validateObject(Jobs, job));
  });

  it("requires a non-empty selector", () => {
    assertError(validateObject(Deployments, deployment({ selector: undefined })), "spec.selector", "Required value");
    assertError(
      validateObject(Deployments, deployment({ selector: {} })),
      "spec.selector",
      "Invalid value: {}: empty selector is invalid for deployment",
    );
    const rs = create(ReplicaSetSchema, { metadata: meta, spec: { selector: {}, template: validTemplate() } });
    assertError(validateObject(ReplicaSets, rs), "spec.selector", "empty selector is invalid for replicaset");
  });

  it("checks selector expressions", () => {
    const errs = validateObject(
      Deployments,
      deployment({
        selector: {
          matchLabels: { app: "web" },
          matchExpressions: [
            { key: "tier", operator: "In" },
            { key: "x", operator: "Exists", values: ["y"] },
            { key: "z", operator: "Gt", values: ["1"] },
          ],
        },
      }),
    );
    assertError(errs, "spec.selector.matchExpressions[0].values", "Required value");
    assertError(errs, "spec.selector.matchExpressions[1].values", "Forbidden");
    assertError(errs, "spec.selector.matchExpressions[2].operator", 'Unsupported value: "Gt"');
  });

  it("requires template labels to match the selector", () => {
    const errs = validateObject(Deployments, deployment({ template: validTemplate({ app: "db" }) }));
    assertError(
      errs,
      "spec.template.metadata.labels",
      'Invalid value: {"app":"db"}: `selector` does not match template `labels`',
    );
    const ok = deployment({
      selector: { matchExpressions: [{ key: "app", operator: "In", values: ["web", "api"] }] },
      template: validTemplate({ app: "api", extra: "1" }),
    });
    assertValid(validateObject(Deployments, ok));
  });

  it("validates the template's pod spec under spec.template.spec", () => {
    const d = deployment();
    d.spec!.template!.spec!.containers[0].image = "";
    assertError(validateObject(Deployments, d), "spec.template.spec.containers[0].image", "Required value");
    d.spec!.template!.spec = undefined;
    assertError(validateObject(Deployments, d), "spec.template.spec", "Required value");
    assertError(validateObject(Deployments, deployment({ template: undefined })), "spec.template", "Required value");
  });

  it("requires restartPolicy Always for long-running workloads", () => {
    const d = deployment();
    d.spec!.template!.spec!.restartPolicy = "Never";
    assertError(validateObject(Deployments, d), "spec.template.spec.restartPolicy", 'Unsupported value: "Never": supported values: "Always"');
  });

  it("checks replicas and revision/deadline fields", () => {
    const errs = validateObject(
      Deployments,
      deployment({ replicas: -1, revisionHistoryLimit: -2, minReadySeconds: 30, progressDeadlineSeconds: 30 }),
    );
    assertError(errs, "spec.replicas", "Invalid value: -1: must be greater than or equal to 0");
    assertError(errs, "spec.revisionHistoryLimit", "Invalid value: -2");
    assertError(errs, "spec.progressDeadlineSeconds", "Invalid value: 30: must be greater than minReadySeconds");
    assertError(
      validateObject(Deployments, deployment({ minReadySeconds: 600 })),
      "spec.progressDeadlineSeconds",
      "Invalid value: 600: must be greater than minReadySeconds",
    );
  });

  it("checks the deployment strategy", () => {
    assertError(
      validateObject(Deployments, deployment({ strategy: { type: "BlueGreen" } })),
      "spec.strategy.type",
      'Unsupported value: "BlueGreen": supported values: "RollingUpdate", "Recreate"',
    );
    assertError(
      validateObject(Deployments, deployment({ strategy: { type: "Recreate", rollingUpdate: {} } })),
      "spec.strategy.rollingUpdate",
      "Forbidden",
    );
    const both0 = deployment({
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: intOrStr(0), maxUnavailable: intOrStr("0%") } },
    });
    assertError(validateObject(Deployments, both0), "spec.strategy.rollingUpdate.maxUnavailable", "may not be 0 when `maxSurge` is 0");
    const bad = deployment({ strategy: { rollingUpdate: { maxSurge: intOrStr("ten"), maxUnavailable: intOrStr(-1) } } });
    const errs = validateObject(Deployments, bad);
    assertError(errs, "spec.strategy.rollingUpdate.maxSurge", "must be an integer or percentage (e.g '5%')");
    assertError(errs, "spec.strategy.rollingUpdate.maxUnavailable", "must be greater than or equal to 0");
    assertError(
      validateObject(Deployments, deployment({ strategy: { rollingUpdate: { maxUnavailable: intOrStr("150%") } } })),
      "spec.strategy.rollingUpdate.maxUnavailable",
      "must not be greater than 100%",
    );
    assertValid(validateObject(Deployments, deployment({ strategy: { rollingUpdate: { maxSurge: intOrStr("25%"), maxUnavailable: intOrStr(0) } } })));
  });

  it("checks jobs: counts and template restartPolicy", () => {
    const job = create(JobSchema, {
      metadata: meta,
      spec: { selector, template: validTemplate(), parallelism: -1, completions: -1, backoffLimit: -1 },
    });
    const errs = validateObject(Jobs, job);
    assertError(errs, "spec.parallelism", "must be greater than or equal to 0");
    assertError(errs, "spec.completions", "must be greater than or equal to 0");
    assertError(errs, "spec.backoffLimit", "must be greater than or equal to 0");
    assertError(errs, "spec.template.spec.restartPolicy", 'Unsupported value: "": supported values: "OnFailure", "Never"');
    job.spec!.template!.spec!.restartPolicy = "Always";
    assertError(validateObject(Jobs, job), "spec.template.spec.restartPolicy", 'Unsupported value: "Always"');
    job.spec!.template!.spec!.restartPolicy = "OnFailure";
    job.spec!.completionMode = "Indexed";
    job.spec!.completions = undefined;
    assertError(validateObject(Jobs, job), "spec.completions", "Required value");
  });

  it("checks DaemonSet and StatefulSet strategies", () => {
    const ds = create(DaemonSetSchema, {
      metadata: meta,
      spec: { selector, template: validTemplate(), updateStrategy: { type: "Sometimes", rollingUpdate: { maxUnavailable: intOrStr(0) } } },
    });
    const dsErrs = validateObject(DaemonSets, ds);
    assertError(dsErrs, "spec.updateStrategy.type", 'Unsupported value: "Sometimes"');
    assertError(dsErrs, "spec.updateStrategy.rollingUpdate.maxUnavailable", "may not be 0 when `maxSurge` is 0");
    const sts = create(StatefulSetSchema, {
      metadata: meta,
      spec: { selector, template: validTemplate(), replicas: -1, podManagementPolicy: "Random", updateStrategy: { rollingUpdate: { partition: -1 } } },
    });
    const stsErrs = validateObject(StatefulSets, sts);
    assertError(stsErrs, "spec.replicas", "must be greater than or equal to 0");
    assertError(stsErrs, "spec.podManagementPolicy", 'Unsupported value: "Random"');
    assertError(stsErrs, "spec.updateStrategy.rollingUpdate.partition", "must be greater than or equal to 0");
  });

  it("lets a StatefulSet's containers mount its claim templates, and only those or its volumes", () => {
    const sts = (mount: string) => {
      const template = validTemplate();
      template.spec!.containers[0]!.volumeMounts = [create(VolumeMountSchema, { name: mount, mountPath: "/data" })];
      return create(StatefulSetSchema, { metadata: meta, spec: { selector, template, serviceName: "web", volumeClaimTemplates: [{ metadata: { name: "data" } }] } });
    };
    assertValid(validateObject(StatefulSets, sts("data")));
    assertError(validateObject(StatefulSets, sts("other")), "spec.template.spec.containers[0].volumeMounts[0].name", 'Not found: "other"');
  });
});
