// Workload spec validation (ReplicaSet, Deployment, DaemonSet, StatefulSet, Job), after
// k8s.io/kubernetes/pkg/apis/apps/validation and pkg/apis/batch/validation.
import { clone, create } from "@bufbuild/protobuf";
import { PodTemplateSpecSchema, VolumeSchema } from "@corral/api";
import type {
  DaemonSetSpec,
  DeploymentSpec,
  IntOrString,
  JobSpec,
  LabelSelector,
  PodTemplateSpec,
  ReplicaSetSpec,
  StatefulSetSpec,
} from "@corral/api";
import { LabelSelectorError, matchesLabels, selectorFromMessage } from "../labels.js";
import { nonNegative, oneOf, optionalName, positive, requiredName } from "./common.js";
import { type FieldError, childPath, forbidden, indexPath, invalid, notSupported, required } from "./errors.js";
import { isDNS1123Label, isDNS1123Subdomain } from "./names.js";
import { validateMetaContents } from "./object.js";
import { validatePodSpec } from "./pod.js";
import { validateLabelSelector } from "./selectors.js";

/** Deployment.spec.progressDeadlineSeconds when unset. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/** The selector is required, non-empty and well formed. `what` names the kind in the message ("deployment"). */
export function validateWorkloadSelector(sel: LabelSelector | undefined, path: string, what: string): FieldError[] {
  if (!sel) return [required(path)];
  if (Object.keys(sel.matchLabels).length === 0 && sel.matchExpressions.length === 0) {
    return [invalid(path, {}, `empty selector is invalid for ${what}`)];
  }
  return validateLabelSelector(sel, path);
}

interface TemplateRules {
  /** Allowed template restartPolicy values; "" is accepted when `emptyRestartPolicy` (it defaults to Always). */
  readonly restartPolicies: readonly string[];
  readonly emptyRestartPolicy: boolean;
  /** Long-running workloads may not set activeDeadlineSeconds on their pods. */
  readonly forbidActiveDeadline?: string;
}

const LONG_RUNNING = (kind: string): TemplateRules => ({
  restartPolicies: ["Always"],
  emptyRestartPolicy: true,
  forbidActiveDeadline: `activeDeadlineSeconds in ${kind} is not Supported`,
});

/**
 * The pod template: present, labels matching the selector, metadata contents valid, pod
 * spec valid under spec.template.spec and restartPolicy allowed for the workload.
 */
export function validatePodTemplate(
  template: PodTemplateSpec | undefined,
  selector: LabelSelector | undefined,
  path: string,
  rules: TemplateRules,
): FieldError[] {
  if (!template) return [required(path)];
  const errs: FieldError[] = [];
  const labels = template.metadata?.labels ?? {};
  if (template.metadata) errs.push(...validateMetaContents(template.metadata, childPath(path, "metadata")));
  if (selector) {
    try {
      const reqs = selectorFromMessage(selector);
      if (reqs.length > 0 && !matchesLabels(reqs, labels)) {
        errs.push(invalid(childPath(childPath(path, "metadata"), "labels"), labels, "`selector` does not match template `labels`"));
      }
    } catch (e) {
      // A malformed selector is reported by validateWorkloadSelector.
      if (!(e instanceof LabelSelectorError)) throw e;
    }
  }
  const specPath = childPath(path, "spec");
  errs.push(...validatePodSpec(template.spec, specPath));
  const policy = template.spec?.restartPolicy ?? "";
  if (template.spec && !(policy === "" && rules.emptyRestartPolicy) && !rules.restartPolicies.includes(policy)) {
    errs.push(notSupported(childPath(specPath, "restartPolicy"), policy, rules.restartPolicies));
  }
  if (rules.forbidActiveDeadline && template.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(forbidden(childPath(specPath, "activeDeadlineSeconds"), rules.forbidActiveDeadline));
  }
  return errs;
}

/** An IntOrString that is an integer ≥ 0 or a percentage "N%". */
export function validateIntOrPercent(path: string, v: IntOrString | undefined): FieldError[] {
  switch (v?.value.case) {
    case "intVal":
      return nonNegative(path, v.value.value);
    case "strVal": {
      const s = v.value.value;
      if (!/^[0-9]+%$/.test(s)) return [invalid(path, s, "must be an integer or percentage (e.g '5%')")];
      return [];
    }
    default:
      return [];
  }
}

/** The int value of an IntOrString ("25%" → 25), or undefined when unset. */
function intOrPercentValue(v: IntOrString | undefined): number | undefined {
  switch (v?.value.case) {
    case "intVal":
      return v.value.value;
    case "strVal":
      return Number.parseInt(v.value.value, 10);
    default:
      return undefined;
  }
}

function displayIntOrString(v: IntOrString | undefined): number | string | undefined {
  return v?.value.value;
}

/** maxUnavailable and maxSurge: int ≥ 0 or "N%", maxUnavailable ≤ 100%, not both 0. */
function validateRollingParams(
  maxUnavailable: IntOrString | undefined,
  maxSurge: IntOrString | undefined,
  path: string,
  defaults: { readonly maxUnavailable: number; readonly maxSurge: number },
): FieldError[] {
  const up = childPath(path, "maxUnavailable");
  const errs = [...validateIntOrPercent(up, maxUnavailable), ...validateIntOrPercent(childPath(path, "maxSurge"), maxSurge)];
  if (maxUnavailable?.value.case === "strVal" && (intOrPercentValue(maxUnavailable) ?? 0) > 100) {
    errs.push(invalid(up, maxUnavailable.value.value, "must not be greater than 100%"));
  }
  const unavailable = intOrPercentValue(maxUnavailable) ?? defaults.maxUnavailable;
  const surge = intOrPercentValue(maxSurge) ?? defaults.maxSurge;
  if (unavailable === 0 && surge === 0) {
    errs.push(invalid(up, displayIntOrString(maxUnavailable), "may not be 0 when `maxSurge` is 0"));
  }
  return errs;
}

export function validateReplicaSetSpec(spec: ReplicaSetSpec | undefined, path = "spec"): FieldError[] {
  if (!spec) return [required(path)];
  return [
    ...nonNegative(childPath(path, "replicas"), spec.replicas),
    ...nonNegative(childPath(path, "minReadySeconds"), spec.minReadySeconds),
    ...validateWorkloadSelector(spec.selector, childPath(path, "selector"), "replicaset"),
    ...validatePodTemplate(spec.template, spec.selector, childPath(path, "template"), LONG_RUNNING("ReplicaSet")),
  ];
}

export function validateDeploymentSpec(spec: DeploymentSpec | undefined, path = "spec"): FieldError[] {
  if (!spec) return [required(path)];
  const errs = [
    ...nonNegative(childPath(path, "replicas"), spec.replicas),
    ...nonNegative(childPath(path, "minReadySeconds"), spec.minReadySeconds),
    ...nonNegative(childPath(path, "revisionHistoryLimit"), spec.revisionHistoryLimit),
    ...validateWorkloadSelector(spec.selector, childPath(path, "selector"), "deployment"),
    ...validatePodTemplate(spec.template, spec.selector, childPath(path, "template"), LONG_RUNNING("Deployment")),
  ];
  const sp = childPath(path, "strategy");
  const strategy = spec.strategy;
  if (strategy) {
    errs.push(...oneOf(childPath(sp, "type"), strategy.type, ["RollingUpdate", "Recreate"]));
    const ru = strategy.rollingUpdate;
    if (ru && strategy.type === "Recreate") {
      errs.push(forbidden(childPath(sp, "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"));
    } else if (ru) {
      errs.push(...validateRollingParams(ru.maxUnavailable, ru.maxSurge, childPath(sp, "rollingUpdate"), {
        maxUnavailable: 25, // "25%"
        maxSurge: 25,
      }));
    }
  }
  const pdp = childPath(path, "progressDeadlineSeconds");
  const deadline = spec.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
  errs.push(...nonNegative(pdp, spec.progressDeadlineSeconds));
  if (deadline <= spec.minReadySeconds) errs.push(invalid(pdp, deadline, "must be greater than minReadySeconds"));
  return errs;
}

export function validateDaemonSetSpec(spec: DaemonSetSpec | undefined, path = "spec"): FieldError[] {
  if (!spec) return [required(path)];
  const errs = [
    ...nonNegative(childPath(path, "minReadySeconds"), spec.minReadySeconds),
    ...nonNegative(childPath(path, "revisionHistoryLimit"), spec.revisionHistoryLimit),
    ...validateWorkloadSelector(spec.selector, childPath(path, "selector"), "daemonset"),
    ...validatePodTemplate(spec.template, spec.selector, childPath(path, "template"), LONG_RUNNING("DaemonSet")),
  ];
  const us = spec.updateStrategy;
  if (us) {
    const up = childPath(path, "updateStrategy");
    errs.push(...oneOf(childPath(up, "type"), us.type, ["RollingUpdate", "OnDelete"]));
    const ru = us.rollingUpdate;
    if (ru && us.type === "OnDelete") {
      errs.push(forbidden(childPath(up, "rollingUpdate"), "may not be specified when strategy `type` is 'OnDelete'"));
    } else if (ru) {
      errs.push(...validateRollingParams(ru.maxUnavailable, ru.maxSurge, childPath(up, "rollingUpdate"), {
        maxUnavailable: 1,
        maxSurge: 0,
      }));
    }
  }
  return errs;
}

/** The template as its pods get it: each claim template is a volume of that name (mounts may use it). */
function withClaimVolumes(spec: StatefulSetSpec): PodTemplateSpec | undefined {
  const t = spec.template;
  if (!t?.spec || spec.volumeClaimTemplates.length === 0) return t;
  const out = clone(PodTemplateSpecSchema, t);
  for (const c of spec.volumeClaimTemplates) {
    const name = c.metadata?.name ?? "";
    if (name && !out.spec!.volumes.some((v) => v.name === name)) {
      out.spec!.volumes.push(create(VolumeSchema, { name, persistentVolumeClaim: { claimName: name } }));
    }
  }
  return out;
}

export function validateStatefulSetSpec(spec: StatefulSetSpec | undefined, path = "spec"): FieldError[] {
  if (!spec) return [required(path)];
  const errs = [
    ...nonNegative(childPath(path, "replicas"), spec.replicas),
    ...nonNegative(childPath(path, "minReadySeconds"), spec.minReadySeconds),
    ...nonNegative(childPath(path, "revisionHistoryLimit"), spec.revisionHistoryLimit),
    ...oneOf(childPath(path, "podManagementPolicy"), spec.podManagementPolicy, ["OrderedReady", "Parallel"]),
    ...optionalName(childPath(path, "serviceName"), spec.serviceName, isDNS1123Label),
    ...validateWorkloadSelector(spec.selector, childPath(path, "selector"), "statefulset"),
    ...validatePodTemplate(withClaimVolumes(spec), spec.selector, childPath(path, "template"), LONG_RUNNING("StatefulSet")),
  ];
  const us = spec.updateStrategy;
  if (us) {
    const up = childPath(path, "updateStrategy");
    errs.push(...oneOf(childPath(up, "type"), us.type, ["RollingUpdate", "OnDelete"]));
    const ru = us.rollingUpdate;
    if (ru && us.type === "OnDelete") {
      errs.push(forbidden(childPath(up, "rollingUpdate"), "only allowed for updateStrategy 'RollingUpdate'"));
    } else if (ru) {
      const rp = childPath(up, "rollingUpdate");
      errs.push(...nonNegative(childPath(rp, "partition"), ru.partition));
      errs.push(...validateIntOrPercent(childPath(rp, "maxUnavailable"), ru.maxUnavailable));
      if (intOrPercentValue(ru.maxUnavailable) === 0) {
        errs.push(invalid(childPath(rp, "maxUnavailable"), displayIntOrString(ru.maxUnavailable), "must be greater than 0"));
      }
    }
  }
  spec.volumeClaimTemplates.forEach((t, i) => {
    const np = childPath(childPath(indexPath(childPath(path, "volumeClaimTemplates"), i), "metadata"), "name");
    errs.push(...requiredName(np, t.metadata?.name ?? "", isDNS1123Subdomain));
  });
  return errs;
}

export function validateJobSpec(spec: JobSpec | undefined, path = "spec", o: { selectorOptional?: boolean } = {}): FieldError[] {
  if (!spec) return [required(path)];
  const errs = [
    ...nonNegative(childPath(path, "parallelism"), spec.parallelism),
    ...nonNegative(childPath(path, "completions"), spec.completions),
    ...nonNegative(childPath(path, "backoffLimit"), spec.backoffLimit),
    ...positive(childPath(path, "activeDeadlineSeconds"), spec.activeDeadlineSeconds),
    ...nonNegative(childPath(path, "ttlSecondsAfterFinished"), spec.ttlSecondsAfterFinished),
    ...oneOf(childPath(path, "completionMode"), spec.completionMode, ["NonIndexed", "Indexed"]),
    ...(o.selectorOptional && !spec.selector ? [] : validateWorkloadSelector(spec.selector, childPath(path, "selector"), "job")),
    ...validatePodTemplate(spec.template, spec.selector, childPath(path, "template"), {
      restartPolicies: ["OnFailure", "Never"],
      emptyRestartPolicy: false,
    }),
  ];
  if (spec.completionMode === "Indexed" && spec.completions === undefined) {
    errs.push(required(childPath(path, "completions"), "when completion mode is Indexed"));
  }
  return errs;
}
