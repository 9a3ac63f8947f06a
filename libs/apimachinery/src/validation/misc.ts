// Validation of the smaller kinds: Node, ConfigMap, Secret, Lease, Event, Endpoints, Namespace.
// Each function checks the fields other than metadata; validateObject adds the metadata checks.
import type {
  ConfigMap,
  EndpointAddress,
  EndpointSubset,
  Event,
  LeaseSpec,
  NamespaceSpec,
  NamespaceStatus,
  NodeSpec,
  NodeStatus,
  Secret,
} from "@corral/api";
import { QuantityError, parseQuantity } from "../quantity.js";
import { PROTOCOLS, TAINT_EFFECTS, nonNegative, oneOf, portNumber, positive, requiredName, requiredOneOf } from "./common.js";
import { type FieldError, childPath, duplicate, indexPath, invalid, invalidEach, keyPath, required, tooLong } from "./errors.js";
import { isConfigMapKey, isDNS1123Label, isLabelValue, isQualifiedName, isValidIP } from "./names.js";

/** Total bytes of data in one ConfigMap or Secret: 1 MiB. */
export const MAX_CONFIG_SIZE = 1024 * 1024;

/** Node taints: key and effect required, unique by key and effect. */
export function validateNodeSpec(spec: NodeSpec | undefined, path = "spec"): FieldError[] {
  if (!spec) return [];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  spec.taints.forEach((t, i) => {
    const p = indexPath(childPath(path, "taints"), i);
    errs.push(...requiredName(childPath(p, "key"), t.key, isQualifiedName));
    errs.push(...invalidEach(childPath(p, "value"), t.value, isLabelValue(t.value)));
    errs.push(...requiredOneOf(childPath(p, "effect"), t.effect, TAINT_EFFECTS));
    const id = `${t.key}:${t.effect}`;
    if (seen.has(id)) errs.push(duplicate(p, id));
    seen.add(id);
  });
  return errs;
}

/** Node capacity and allocatable quantities parse and are non-negative. */
export function validateNodeStatus(status: NodeStatus | undefined, path = "status"): FieldError[] {
  if (!status) return [];
  const errs: FieldError[] = [];
  for (const field of ["capacity", "allocatable"] as const) {
    for (const [name, s] of Object.entries(status[field])) {
      const p = keyPath(childPath(path, field), name);
      try {
        if (parseQuantity(s).nanos < 0n) errs.push(invalid(p, s, "must be greater than or equal to 0"));
      } catch (e) {
        if (!(e instanceof QuantityError)) throw e;
        errs.push(invalid(p, s, e.reason));
      }
    }
  }
  return errs;
}

function configKeys(keys: readonly string[], path: string): FieldError[] {
  return keys.flatMap((k) => invalidEach(keyPath(path, k), k, isConfigMapKey(k)));
}

/** data and binaryData keys are valid and distinct; the total size is at most 1 MiB. */
export function validateConfigMapData(cm: ConfigMap): FieldError[] {
  const errs = [...configKeys(Object.keys(cm.data), "data"), ...configKeys(Object.keys(cm.binaryData), "binaryData")];
  let size = 0;
  for (const [k, v] of Object.entries(cm.data)) {
    size += Buffer.byteLength(v, "utf8");
    if (Object.prototype.hasOwnProperty.call(cm.binaryData, k)) {
      errs.push(invalid(keyPath("data", k), k, "duplicate of key present in binaryData"));
    }
  }
  for (const v of Object.values(cm.binaryData)) size += v.length;
  if (size > MAX_CONFIG_SIZE) errs.push(tooLong("data", MAX_CONFIG_SIZE));
  return errs;
}

/** Keys each Secret type must hold (in data or stringData). */
const SECRET_TYPE_KEYS: Readonly<Record<string, readonly string[]>> = {
  "kubernetes.io/tls": ["tls.crt", "tls.key"],
  "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
  "kubernetes.io/dockercfg": [".dockercfg"],
  "kubernetes.io/ssh-auth": ["ssh-privatekey"],
};

/** data and stringData keys are valid, the total size is at most 1 MiB, typed secrets hold their keys. */
export function validateSecretData(secret: Secret): FieldError[] {
  const errs = [...configKeys(Object.keys(secret.data), "data"), ...configKeys(Object.keys(secret.stringData), "stringData")];
  let size = 0;
  for (const v of Object.values(secret.data)) size += v.length;
  for (const v of Object.values(secret.stringData)) size += Buffer.byteLength(v, "utf8");
  if (size > MAX_CONFIG_SIZE) errs.push(tooLong("data", MAX_CONFIG_SIZE));
  for (const k of SECRET_TYPE_KEYS[secret.type] ?? []) {
    if (!(k in secret.data) && !(k in secret.stringData)) errs.push(required(keyPath("data", k)));
  }
  return errs;
}

export function validateLeaseSpec(spec: LeaseSpec | undefined, path = "spec"): FieldError[] {
  if (!spec) return [];
  return [
    ...positive(childPath(path, "leaseDurationSeconds"), spec.leaseDurationSeconds),
    ...nonNegative(childPath(path, "leaseTransitions"), spec.leaseTransitions),
  ];
}

/** involvedObject is required and in the event's namespace; type is Normal or Warning. */
export function validateEventFields(ev: Event): FieldError[] {
  const errs: FieldError[] = [];
  const io = ev.involvedObject;
  if (!io) {
    errs.push(required("involvedObject"));
  } else {
    if (io.kind === "") errs.push(required("involvedObject.kind"));
    if (io.name === "") errs.push(required("involvedObject.name"));
    const ns = ev.metadata?.namespace ?? "";
    if (io.namespace !== "" && ns !== "" && io.namespace !== ns) {
      errs.push(invalid("involvedObject.namespace", io.namespace, "does not match event.namespace"));
    }
  }
  errs.push(...oneOf("type", ev.type, ["Normal", "Warning"]));
  errs.push(...nonNegative("count", ev.count));
  return errs;
}

function validateAddresses(addrs: readonly EndpointAddress[], path: string): FieldError[] {
  return addrs.flatMap((a, i) => {
    const ip = childPath(indexPath(path, i), "ip");
    return a.ip === "" ? [required(ip)] : invalidEach(ip, a.ip, isValidIP(a.ip));
  });
}

/** Each address has a valid ip; ports are 1-65535 with unique names, required when there are several. */
export function validateEndpointsSubsets(subsets: readonly EndpointSubset[], path = "subsets"): FieldError[] {
  const errs: FieldError[] = [];
  subsets.forEach((s, i) => {
    const p = indexPath(path, i);
    errs.push(...validateAddresses(s.addresses, childPath(p, "addresses")));
    errs.push(...validateAddresses(s.notReadyAddresses, childPath(p, "notReadyAddresses")));
    const names = new Set<string>();
    s.ports.forEach((port, j) => {
      const pp = indexPath(childPath(p, "ports"), j);
      const np = childPath(pp, "name");
      if (port.name === "") {
        if (s.ports.length > 1) errs.push(required(np));
      } else {
        errs.push(...invalidEach(np, port.name, isDNS1123Label(port.name)));
        if (names.has(port.name)) errs.push(duplicate(np, port.name));
        names.add(port.name);
      }
      errs.push(...portNumber(childPath(pp, "port"), port.port));
      errs.push(...oneOf(childPath(pp, "protocol"), port.protocol, PROTOCOLS));
    });
  });
  return errs;
}

/** Finalizer names are qualified names; the phase is Active or Terminating. */
export function validateNamespaceFields(spec: NamespaceSpec | undefined, status: NamespaceStatus | undefined): FieldError[] {
  const errs: FieldError[] = [];
  spec?.finalizers.forEach((f, i) => errs.push(...invalidEach(indexPath("spec.finalizers", i), f, isQualifiedName(f))));
  if (status) errs.push(...oneOf("status.phase", status.phase, ["Active", "Terminating"]));
  return errs;
}
