// Object validation for the API server: validateObject on create and update, plus
// validateUpdate for the fields an update may not change.
import { isMessage } from "@bufbuild/protobuf";
import {
  type ApiObject,
  ConfigMapSchema,
  CronJobSchema,
  DaemonSetSchema,
  DeploymentSchema,
  EndpointsSchema,
  EventSchema,
  JobSchema,
  type KindInfo,
  LeaseSchema,
  NamespaceSchema,
  NodeSchema,
  PodSchema,
  ReplicaSetSchema,
  SecretSchema,
  ServiceSchema,
  StatefulSetSchema,
} from "@corral/api";
import { type FieldError, invalid } from "./errors.js";
import {
  validateConfigMapData,
  validateEndpointsSubsets,
  validateEventFields,
  validateLeaseSpec,
  validateNamespaceFields,
  validateNodeSpec,
  validateNodeStatus,
  validateSecretData,
} from "./misc.js";
import { nameValidatorFor, validateObjectMeta } from "./object.js";
import { validateCronJobSpec } from "./cronjob.js";
import { validatePodSpec } from "./pod.js";
import { validateServiceSpec } from "./service.js";
import {
  validateConfigMapUpdate,
  validateMetaUpdate,
  validatePodUpdate,
  validateSecretUpdate,
  validateSelectorUpdate,
  validateServiceUpdate,
} from "./update.js";
import {
  validateDaemonSetSpec,
  validateDeploymentSpec,
  validateJobSpec,
  validateReplicaSetSpec,
  validateStatefulSetSpec,
} from "./workloads.js";

export * from "./errors.js";
export * from "./names.js";
export * from "./common.js";
export * from "./selectors.js";
export * from "./object.js";
export * from "./pod.js";
export * from "./service.js";
export * from "./workloads.js";
export * from "./cronjob.js";
export * from "./misc.js";
export * from "./update.js";

/** The checks beyond metadata, by kind. */
function validateKindFields(obj: ApiObject): FieldError[] {
  if (isMessage(obj, PodSchema)) return validatePodSpec(obj.spec);
  if (isMessage(obj, ServiceSchema)) return validateServiceSpec(obj.spec);
  if (isMessage(obj, ReplicaSetSchema)) return validateReplicaSetSpec(obj.spec);
  if (isMessage(obj, DeploymentSchema)) return validateDeploymentSpec(obj.spec);
  if (isMessage(obj, DaemonSetSchema)) return validateDaemonSetSpec(obj.spec);
  if (isMessage(obj, StatefulSetSchema)) return validateStatefulSetSpec(obj.spec);
  if (isMessage(obj, JobSchema)) return validateJobSpec(obj.spec);
  if (isMessage(obj, CronJobSchema)) return validateCronJobSpec(obj.spec);
  if (isMessage(obj, NodeSchema)) return [...validateNodeSpec(obj.spec), ...validateNodeStatus(obj.status)];
  if (isMessage(obj, ConfigMapSchema)) return validateConfigMapData(obj);
  if (isMessage(obj, SecretSchema)) return validateSecretData(obj);
  if (isMessage(obj, LeaseSchema)) return validateLeaseSpec(obj.spec);
  if (isMessage(obj, EventSchema)) return validateEventFields(obj);
  if (isMessage(obj, EndpointsSchema)) return validateEndpointsSubsets(obj.subsets);
  if (isMessage(obj, NamespaceSchema)) return validateNamespaceFields(obj.spec, obj.status);
  return [];
}

function kindMismatch(kind: { readonly kind: string; readonly schema: { readonly typeName: string } }, obj: ApiObject): FieldError[] {
  return obj.$typeName === kind.schema.typeName
    ? []
    : [invalid("kind", obj.$typeName, `expected a ${kind.kind} (${kind.schema.typeName})`)];
}

/**
 * Validates an object of `kind` as the API server does on create and update: metadata
 * (name syntax for the kind, namespace required or forbidden, labels, annotations, owner
 * references), then the kind's own rules. Returns [] when valid.
 */
export function validateObject<T extends ApiObject>(kind: KindInfo<T>, obj: T): FieldError[] {
  const mismatch = kindMismatch(kind, obj);
  if (mismatch.length > 0) return mismatch;
  return [
    ...validateObjectMeta(obj.metadata, { namespaced: kind.namespaced, nameValidator: nameValidatorFor(kind.kind) }),
    ...validateKindFields(obj),
  ];
}

/**
 * The update-only rules: metadata.name/namespace/uid, a Pod's spec (but images,
 * activeDeadlineSeconds, added tolerations and a first nodeName), workload selectors,
 * a Service's clusterIP once set, and the data of immutable ConfigMaps and Secrets.
 * Run validateObject on the new object as well.
 */
export function validateUpdate<T extends ApiObject>(kind: KindInfo<T>, oldObj: T, newObj: T): FieldError[] {
  const mismatch = [...kindMismatch(kind, oldObj), ...kindMismatch(kind, newObj)];
  if (mismatch.length > 0) return mismatch;
  const errs = validateMetaUpdate(oldObj.metadata, newObj.metadata);
  const o: ApiObject = oldObj;
  const n: ApiObject = newObj;
  if (isMessage(o, PodSchema) && isMessage(n, PodSchema)) errs.push(...validatePodUpdate(o, n));
  else if (isMessage(o, ServiceSchema) && isMessage(n, ServiceSchema)) errs.push(...validateServiceUpdate(o, n));
  else if (isMessage(o, ConfigMapSchema) && isMessage(n, ConfigMapSchema)) errs.push(...validateConfigMapUpdate(o, n));
  else if (isMessage(o, SecretSchema) && isMessage(n, SecretSchema)) errs.push(...validateSecretUpdate(o, n));
  else if (
    (isMessage(o, ReplicaSetSchema) && isMessage(n, ReplicaSetSchema)) ||
    (isMessage(o, DeploymentSchema) && isMessage(n, DeploymentSchema)) ||
    (isMessage(o, DaemonSetSchema) && isMessage(n, DaemonSetSchema)) ||
    (isMessage(o, StatefulSetSchema) && isMessage(n, StatefulSetSchema)) ||
    (isMessage(o, JobSchema) && isMessage(n, JobSchema))
  ) {
    errs.push(...validateSelectorUpdate(o.spec?.selector, n.spec?.selector));
  }
  return errs;
}
