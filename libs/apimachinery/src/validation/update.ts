// Update rules: which fields may not change between the stored object and its replacement.
import { clone, create, equals } from "@bufbuild/protobuf";
import {
  ConfigMapSchema,
  type ConfigMap,
  type LabelSelector,
  LabelSelectorSchema,
  type ObjectMeta,
  type Pod,
  type PodSpec,
  PodSpecSchema,
  type Secret,
  SecretSchema,
  type Service,
  TolerationSchema,
} from "@corral/api";
import { type FieldError, childPath, forbidden, invalid } from "./errors.js";

const IMMUTABLE = "field is immutable";

/** name, namespace and uid may not change. An empty new uid means "unchanged" (the server copies it, as Kubernetes does). */
export function validateMetaUpdate(oldMeta: ObjectMeta | undefined, newMeta: ObjectMeta | undefined, path = "metadata"): FieldError[] {
  const o = oldMeta ?? { name: "", namespace: "", uid: "" };
  const n = newMeta ?? { name: "", namespace: "", uid: "" };
  const errs: FieldError[] = [];
  if (n.name !== o.name) errs.push(invalid(childPath(path, "name"), n.name, IMMUTABLE));
  if (n.namespace !== o.namespace) errs.push(invalid(childPath(path, "namespace"), n.namespace, IMMUTABLE));
  if (n.uid !== "" && n.uid !== o.uid) errs.push(invalid(childPath(path, "uid"), n.uid, IMMUTABLE));
  return errs;
}

export const POD_UPDATE_FORBIDDEN =
  "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, " +
  "`spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) " +
  "and `spec.nodeName` (only when unset)";

/** The spec with every field an update may change cleared, for comparison. */
function podSpecSkeleton(spec: PodSpec): PodSpec {
  const s = clone(PodSpecSchema, spec);
  for (const c of [...s.containers, ...s.initContainers]) c.image = "";
  s.activeDeadlineSeconds = undefined;
  s.tolerations = [];
  s.nodeName = "";
  return s;
}

/**
 * A pod's spec is immutable except for container and init container images,
 * activeDeadlineSeconds (set, or lowered), tolerations (additions only) and nodeName
 * (set once, when binding).
 */
export function validatePodUpdate(oldPod: Pod, newPod: Pod): FieldError[] {
  const o = oldPod.spec ?? create(PodSpecSchema);
  const n = newPod.spec ?? create(PodSpecSchema);
  const errs: FieldError[] = [];
  if (o.nodeName !== "" && n.nodeName !== o.nodeName) {
    errs.push(invalid("spec.nodeName", n.nodeName, "field is immutable once set"));
  }
  if (o.activeDeadlineSeconds !== undefined) {
    if (n.activeDeadlineSeconds === undefined) {
      errs.push(forbidden("spec.activeDeadlineSeconds", "must not update from a positive integer to nil value"));
    } else if (n.activeDeadlineSeconds > o.activeDeadlineSeconds) {
      errs.push(invalid("spec.activeDeadlineSeconds", n.activeDeadlineSeconds, "must be less than or equal to previous value"));
    }
  }
  const kept = o.tolerations.every((t) => n.tolerations.some((u) => equals(TolerationSchema, t, u)));
  if (!kept) errs.push(forbidden("spec.tolerations", "existing tolerations may not be changed or removed, only added to"));
  if (!equals(PodSpecSchema, podSpecSkeleton(o), podSpecSkeleton(n))) errs.push(forbidden("spec", POD_UPDATE_FORBIDDEN));
  return errs;
}

/** A workload's selector may not change. */
export function validateSelectorUpdate(
  oldSel: LabelSelector | undefined,
  newSel: LabelSelector | undefined,
  path = "spec.selector",
): FieldError[] {
  const same = oldSel && newSel ? equals(LabelSelectorSchema, oldSel, newSel) : oldSel === newSel;
  return same ? [] : [invalid(path, newSel ?? null, IMMUTABLE)];
}

/** clusterIP (and clusterIPs) may be set when empty, but not changed or cleared once set. */
export function validateServiceUpdate(oldSvc: Service, newSvc: Service): FieldError[] {
  const o = oldSvc.spec;
  const n = newSvc.spec;
  const errs: FieldError[] = [];
  const oldIp = o?.clusterIp ?? "";
  const newIp = n?.clusterIp ?? "";
  if (oldIp !== "" && newIp !== oldIp) errs.push(invalid("spec.clusterIP", newIp, IMMUTABLE));
  const oldIps = o?.clusterIps ?? [];
  const newIps = n?.clusterIps ?? [];
  if (oldIps.length > 0 && (oldIps.length !== newIps.length || oldIps.some((ip, i) => ip !== newIps[i]))) {
    errs.push(invalid("spec.clusterIPs", newIps, IMMUTABLE));
  }
  return errs;
}

const IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set";

/** With immutable=true, data and binaryData may not change and immutable may not be unset. */
export function validateConfigMapUpdate(oldCm: ConfigMap, newCm: ConfigMap): FieldError[] {
  if (oldCm.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (newCm.immutable !== true) errs.push(forbidden("immutable", IMMUTABLE_WHEN_SET));
  const contents = (cm: ConfigMap) => create(ConfigMapSchema, { data: cm.data, binaryData: cm.binaryData });
  if (!equals(ConfigMapSchema, contents(oldCm), contents(newCm))) errs.push(forbidden("data", IMMUTABLE_WHEN_SET));
  return errs;
}

/** data with stringData merged in, as the server stores it. */
function secretData(s: Secret): Record<string, Uint8Array> {
  const data: Record<string, Uint8Array> = { ...s.data };
  for (const [k, v] of Object.entries(s.stringData)) data[k] = new TextEncoder().encode(v);
  return data;
}

/** type never changes; with immutable=true, data may not change and immutable may not be unset. */
export function validateSecretUpdate(oldSecret: Secret, newSecret: Secret): FieldError[] {
  const errs: FieldError[] = [];
  // An empty type defaults to Opaque.
  if ((newSecret.type || "Opaque") !== (oldSecret.type || "Opaque")) errs.push(invalid("type", newSecret.type, IMMUTABLE));
  if (oldSecret.immutable !== true) return errs;
  if (newSecret.immutable !== true) errs.push(forbidden("immutable", IMMUTABLE_WHEN_SET));
  const contents = (s: Secret) => create(SecretSchema, { data: secretData(s) });
  if (!equals(SecretSchema, contents(oldSecret), contents(newSecret))) errs.push(forbidden("data", IMMUTABLE_WHEN_SET));
  return errs;
}
