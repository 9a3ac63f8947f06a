// PodSpec validation, after k8s.io/kubernetes/pkg/apis/core/validation (ValidatePodSpec).
import type {
  Affinity,
  Container,
  ContainerPort,
  EnvFromSource,
  EnvVar,
  IntOrString,
  LifecycleHandler,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  PodAffinityTerm,
  PodSpec,
  Probe,
  ResourceRequirements,
  Toleration,
  Volume,
  VolumeMount,
  WeightedPodAffinityTerm,
} from "@corral/api";
import { type Quantity, QuantityError, compareQuantity, formatQuantity, parseQuantity } from "../quantity.js";
import {
  PROTOCOLS,
  TAINT_EFFECTS,
  inRange,
  nonNegative,
  oneOf,
  optionalName,
  portNumOrName,
  portNumber,
  positive,
  requiredName,
  setFields,
} from "./common.js";
import {
  type FieldError,
  childPath,
  duplicate,
  forbidden,
  indexPath,
  invalid,
  invalidEach,
  keyPath,
  notFound,
  notSupported,
  required,
} from "./errors.js";
import {
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isIANASvcName,
  isLabelValue,
  isQualifiedName,
  isValidIP,
} from "./names.js";
import { validateLabelSelector, validateLabels } from "./selectors.js";

export const RESTART_POLICIES = ["Always", "OnFailure", "Never"] as const;
export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export const DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"] as const;
const HOST_PATH_TYPES = ["DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"];
const STANDARD_RESOURCES = ["cpu", "memory", "ephemeral-storage", "pods"];
const FIELD_REF_PATHS = [
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "spec.nodeName",
  "spec.serviceAccountName",
  "status.hostIP",
  "status.hostIPs",
  "status.podIP",
  "status.podIPs",
];
const RESOURCE_FIELD_REFS = [
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
  "requests.cpu",
  "requests.memory",
  "requests.ephemeral-storage",
];

/** A relative path without ".." elements (volume items, subPath). */
function relativePath(path: string, value: string): FieldError[] {
  const errs: FieldError[] = [];
  if (value.startsWith("/")) errs.push(invalid(path, value, "must be a relative path"));
  if (value.split("/").includes("..")) errs.push(invalid(path, value, "must not contain '..'"));
  return errs;
}

function fileMode(path: string, mode: number | undefined): FieldError[] {
  return mode !== undefined && (mode < 0 || mode > 0o777)
    ? [invalid(path, mode, "must be a number between 0 and 0777 (octal), both inclusive")]
    : [];
}

// ---------- volumes ----------

const VOLUME_SOURCES = ["emptyDir", "hostPath", "configMap", "secret", "persistentVolumeClaim"] as const;

function validateVolume(v: Volume, p: string): FieldError[] {
  const errs: FieldError[] = [];
  const sources = setFields(v, VOLUME_SOURCES);
  if (sources.length === 0) errs.push(required(p, "must specify a volume type"));
  for (const extra of sources.slice(1)) errs.push(forbidden(childPath(p, extra), "may not specify more than 1 volume type"));
  if (v.emptyDir) {
    const ep = childPath(p, "emptyDir");
    errs.push(...oneOf(childPath(ep, "medium"), v.emptyDir.medium, ["Memory"]));
    if (v.emptyDir.sizeLimit !== "") errs.push(...quantity(childPath(ep, "sizeLimit"), v.emptyDir.sizeLimit).errs);
  }
  if (v.hostPath) {
    const hp = childPath(p, "hostPath");
    if (v.hostPath.path === "") errs.push(required(childPath(hp, "path")));
    if (v.hostPath.type) errs.push(...oneOf(childPath(hp, "type"), v.hostPath.type, HOST_PATH_TYPES));
  }
  const items = (ip: string, list: ReadonlyArray<{ key: string; path: string; mode?: number }>): FieldError[] =>
    list.flatMap((it, i) => {
      const itp = indexPath(ip, i);
      return [
        ...requiredName(childPath(itp, "key"), it.key, isConfigMapKey),
        ...(it.path === "" ? [required(childPath(itp, "path"))] : relativePath(childPath(itp, "path"), it.path)),
        ...fileMode(childPath(itp, "mode"), it.mode),
      ];
    });
  if (v.configMap) {
    const cp = childPath(p, "configMap");
    errs.push(...requiredName(childPath(cp, "name"), v.configMap.name, isDNS1123Subdomain));
    errs.push(...items(childPath(cp, "items"), v.configMap.items), ...fileMode(childPath(cp, "defaultMode"), v.configMap.defaultMode));
  }
  if (v.secret) {
    const sp = childPath(p, "secret");
    errs.push(...requiredName(childPath(sp, "secretName"), v.secret.secretName, isDNS1123Subdomain));
    errs.push(...items(childPath(sp, "items"), v.secret.items), ...fileMode(childPath(sp, "defaultMode"), v.secret.defaultMode));
  }
  if (v.persistentVolumeClaim && v.persistentVolumeClaim.claimName === "") {
    errs.push(required(childPath(childPath(p, "persistentVolumeClaim"), "claimName")));
  }
  return errs;
}

/** Volume names are unique DNS-1123 labels, each volume has exactly one source. Returns the names too. */
export function validateVolumes(volumes: readonly Volume[], path: string): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  volumes.forEach((v, i) => {
    const p = indexPath(path, i);
    const np = childPath(p, "name");
    errs.push(...requiredName(np, v.name, isDNS1123Label));
    if (v.name !== "" && names.has(v.name)) errs.push(duplicate(np, v.name));
    names.add(v.name);
    errs.push(...validateVolume(v, p));
  });
  return { errs, names };
}

// ---------- resources ----------

function quantity(path: string, s: string): { errs: FieldError[]; q?: Quantity } {
  try {
    const q = parseQuantity(s);
    return q.nanos < 0n ? { errs: [invalid(path, s, "must be greater than or equal to 0")] } : { errs: [], q };
  } catch (e) {
    if (e instanceof QuantityError) return { errs: [invalid(path, s, e.reason)] };
    throw e;
  }
}

function resourceName(path: string, name: string): FieldError[] {
  const errs = invalidEach(path, name, isQualifiedName(name));
  if (errs.length === 0 && !name.includes("/") && !STANDARD_RESOURCES.includes(name) && !name.startsWith("hugepages-")) {
    errs.push(invalid(path, name, "must be a standard resource type or fully qualified"));
  }
  return errs;
}

/** Every quantity parses and is non-negative; each request is at most its limit. */
export function validateResources(r: ResourceRequirements | undefined, path: string): FieldError[] {
  if (!r) return [];
  const errs: FieldError[] = [];
  const limits = new Map<string, Quantity>();
  const lp = childPath(path, "limits");
  for (const [name, s] of Object.entries(r.limits)) {
    errs.push(...resourceName(keyPath(lp, name), name));
    const res = quantity(keyPath(lp, name), s);
    errs.push(...res.errs);
    if (res.q) limits.set(name, res.q);
  }
  const rp = childPath(path, "requests");
  for (const [name, s] of Object.entries(r.requests)) {
    errs.push(...resourceName(keyPath(rp, name), name));
    const res = quantity(keyPath(rp, name), s);
    errs.push(...res.errs);
    const limit = limits.get(name);
    if (res.q && limit && compareQuantity(res.q, limit) > 0) {
      errs.push(invalid(keyPath(rp, name), s, `must be less than or equal to ${name} limit of ${formatQuantity(limit)}`));
    }
  }
  return errs;
}

// ---------- containers ----------

function validatePorts(ports: readonly ContainerPort[], path: string, hostNetwork: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = indexPath(path, i);
    if (port.name !== "") {
      const np = childPath(p, "name");
      errs.push(...invalidEach(np, port.name, isIANASvcName(port.name)));
      if (names.has(port.name)) errs.push(duplicate(np, port.name));
      names.add(port.name);
    }
    errs.push(...portNumber(childPath(p, "containerPort"), port.containerPort));
    if (port.hostPort !== 0) errs.push(...portNumber(childPath(p, "hostPort"), port.hostPort));
    if (hostNetwork && port.hostPort !== 0 && port.hostPort !== port.containerPort) {
      errs.push(invalid(childPath(p, "hostPort"), port.hostPort, "must match `containerPort` when `hostNetwork` is true"));
    }
    errs.push(...oneOf(childPath(p, "protocol"), port.protocol, PROTOCOLS));
    errs.push(...optionalName(childPath(p, "hostIP"), port.hostIp, isValidIP));
  });
  return errs;
}

function validateEnvVar(e: EnvVar, p: string): FieldError[] {
  const errs = requiredName(childPath(p, "name"), e.name, isEnvVarName);
  const from = e.valueFrom;
  if (!from) return errs;
  const fp = childPath(p, "valueFrom");
  if (e.value !== "") errs.push(invalid(fp, "", "may not be specified when `value` is not empty"));
  const sources = setFields(from, ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"]);
  if (sources.length === 0) {
    errs.push(invalid(fp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
  } else if (sources.length > 1) {
    errs.push(invalid(fp, "", "may not have more than one field specified at a time"));
  }
  if (from.fieldRef) {
    const rp = childPath(fp, "fieldRef");
    const fieldPath = from.fieldRef.fieldPath;
    if (fieldPath === "") errs.push(required(childPath(rp, "fieldPath")));
    else if (!FIELD_REF_PATHS.includes(fieldPath) && !/^metadata\.(labels|annotations)\['[^']+'\]$/.test(fieldPath)) {
      errs.push(notSupported(childPath(rp, "fieldPath"), fieldPath, FIELD_REF_PATHS));
    }
    errs.push(...oneOf(childPath(rp, "apiVersion"), from.fieldRef.apiVersion, ["v1"]));
  }
  if (from.resourceFieldRef) {
    const rp = childPath(fp, "resourceFieldRef");
    const res = from.resourceFieldRef.resource;
    if (res === "") errs.push(required(childPath(rp, "resource")));
    else errs.push(...oneOf(childPath(rp, "resource"), res, RESOURCE_FIELD_REFS));
    if (from.resourceFieldRef.divisor !== "") errs.push(...quantity(childPath(rp, "divisor"), from.resourceFieldRef.divisor).errs);
  }
  for (const ref of ["configMapKeyRef", "secretKeyRef"] as const) {
    const sel = from[ref];
    if (!sel) continue;
    const rp = childPath(fp, ref);
    errs.push(...requiredName(childPath(rp, "name"), sel.name, isDNS1123Subdomain));
    errs.push(...requiredName(childPath(rp, "key"), sel.key, isConfigMapKey));
  }
  return errs;
}

function validateEnvFrom(e: EnvFromSource, p: string): FieldError[] {
  const errs = optionalName(childPath(p, "prefix"), e.prefix, isEnvVarName);
  const sources = setFields(e, ["configMapRef", "secretRef"]);
  if (sources.length === 0) errs.push(invalid(p, "", "must specify one of: `configMapRef` or `secretRef`"));
  if (sources.length > 1) errs.push(invalid(p, "", "may not have more than one field specified at a time"));
  if (e.configMapRef) errs.push(...requiredName(childPath(childPath(p, "configMapRef"), "name"), e.configMapRef.name, isDNS1123Subdomain));
  if (e.secretRef) errs.push(...requiredName(childPath(childPath(p, "secretRef"), "name"), e.secretRef.name, isDNS1123Subdomain));
  return errs;
}

function validateMounts(mounts: readonly VolumeMount[], path: string, volumes: ReadonlySet<string>): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  mounts.forEach((m, i) => {
    const p = indexPath(path, i);
    if (m.name === "") errs.push(required(childPath(p, "name")));
    else if (!volumes.has(m.name)) errs.push(notFound(childPath(p, "name"), m.name));
    const mp = childPath(p, "mountPath");
    if (m.mountPath === "") errs.push(required(mp));
    else if (!m.mountPath.startsWith("/")) errs.push(invalid(mp, m.mountPath, "must be an absolute path"));
    else if (paths.has(m.mountPath)) errs.push(invalid(mp, m.mountPath, "must be unique"));
    paths.add(m.mountPath);
    if (m.subPath !== "") errs.push(...relativePath(childPath(p, "subPath"), m.subPath));
  });
  return errs;
}

/** A probe or lifecycle port: a number, or the name of one of the container's ports. */
function handlerPort(path: string, port: IntOrString | undefined, portNames: ReadonlySet<string>): FieldError[] {
  const errs = portNumOrName(path, port);
  if (errs.length === 0 && port?.value.case === "strVal" && !portNames.has(port.value.value)) {
    errs.push(invalid(path, port.value.value, "must be the name of a port of this container"));
  }
  return errs;
}

/** Exactly one of exec, httpGet and tcpSocket. */
function validateHandler(h: LifecycleHandler | Probe, path: string, portNames: ReadonlySet<string>): FieldError[] {
  const errs: FieldError[] = [];
  const handlers = setFields(h, ["exec", "httpGet", "tcpSocket"]);
  if (handlers.length === 0) errs.push(required(path, "must specify a handler type"));
  for (const extra of handlers.slice(1)) errs.push(forbidden(childPath(path, extra), "may not specify more than 1 handler type"));
  if (h.exec && h.exec.command.length === 0) errs.push(required(childPath(childPath(path, "exec"), "command")));
  if (h.httpGet) {
    const hp = childPath(path, "httpGet");
    errs.push(...handlerPort(childPath(hp, "port"), h.httpGet.port, portNames));
    errs.push(...oneOf(childPath(hp, "scheme"), h.httpGet.scheme, ["HTTP", "HTTPS"]));
  }
  if (h.tcpSocket) errs.push(...handlerPort(childPath(childPath(path, "tcpSocket"), "port"), h.tcpSocket.port, portNames));
  return errs;
}

type ProbeKind = "livenessProbe" | "readinessProbe" | "startupProbe";

function validateProbe(probe: Probe, kind: ProbeKind, path: string, portNames: ReadonlySet<string>): FieldError[] {
  const errs = validateHandler(probe, path, portNames);
  for (const f of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] as const) {
    errs.push(...nonNegative(childPath(path, f), probe[f]));
  }
  if (kind !== "readinessProbe" && probe.successThreshold > 1) {
    errs.push(invalid(childPath(path, "successThreshold"), probe.successThreshold, "must be 1"));
  }
  const tg = childPath(path, "terminationGracePeriodSeconds");
  if (probe.terminationGracePeriodSeconds !== undefined) {
    if (kind === "readinessProbe") errs.push(invalid(tg, probe.terminationGracePeriodSeconds, "must not be set for readinessProbes"));
    else errs.push(...positive(tg, probe.terminationGracePeriodSeconds));
  }
  return errs;
}

interface ContainerContext {
  readonly volumes: ReadonlySet<string>;
  readonly hostNetwork: boolean;
  readonly init: boolean;
}

/** One container (its name's uniqueness is checked by validatePodSpec). */
export function validateContainer(c: Container, path: string, ctx: ContainerContext): FieldError[] {
  const errs = requiredName(childPath(path, "name"), c.name, isDNS1123Label);
  const ip = childPath(path, "image");
  if (c.image === "") errs.push(required(ip));
  else if (c.image.trim() !== c.image) errs.push(invalid(ip, c.image, "must not have leading or trailing whitespace"));
  errs.push(...oneOf(childPath(path, "imagePullPolicy"), c.imagePullPolicy, PULL_POLICIES));
  errs.push(...validatePorts(c.ports, childPath(path, "ports"), ctx.hostNetwork));
  c.env.forEach((e, i) => errs.push(...validateEnvVar(e, indexPath(childPath(path, "env"), i))));
  c.envFrom.forEach((e, i) => errs.push(...validateEnvFrom(e, indexPath(childPath(path, "envFrom"), i))));
  errs.push(...validateResources(c.resources, childPath(path, "resources")));
  errs.push(...validateMounts(c.volumeMounts, childPath(path, "volumeMounts"), ctx.volumes));
  const portNames = new Set(c.ports.map((p) => p.name).filter((n) => n !== ""));
  for (const kind of ["livenessProbe", "readinessProbe", "startupProbe"] as const) {
    const probe = c[kind];
    if (!probe) continue;
    if (ctx.init) errs.push(forbidden(childPath(path, kind), "may not be set for init containers"));
    else errs.push(...validateProbe(probe, kind, childPath(path, kind), portNames));
  }
  if (c.lifecycle) {
    const lp = childPath(path, "lifecycle");
    if (c.lifecycle.postStart) errs.push(...validateHandler(c.lifecycle.postStart, childPath(lp, "postStart"), portNames));
    if (c.lifecycle.preStop) errs.push(...validateHandler(c.lifecycle.preStop, childPath(lp, "preStop"), portNames));
  }
  if (c.securityContext) {
    const sp = childPath(path, "securityContext");
    errs.push(...nonNegative(childPath(sp, "runAsUser"), c.securityContext.runAsUser));
    errs.push(...nonNegative(childPath(sp, "runAsGroup"), c.securityContext.runAsGroup));
  }
  return errs;
}

// ---------- scheduling ----------

/** Operator Exists|Equal, effect NoSchedule|PreferNoSchedule|NoExecute, tolerationSeconds only with NoExecute. */
export function validateTolerations(tolerations: readonly Toleration[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  tolerations.forEach((t, i) => {
    const p = indexPath(path, i);
    errs.push(...optionalName(childPath(p, "key"), t.key, isQualifiedName));
    const op = childPath(p, "operator");
    if (t.key === "" && t.operator !== "Exists") {
      errs.push(invalid(op, t.operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    switch (t.operator) {
      case "Exists":
        if (t.value !== "") errs.push(invalid(childPath(p, "value"), t.value, "value must be empty when `operator` is 'Exists'"));
        break;
      case "":
      case "Equal":
        errs.push(...invalidEach(childPath(p, "value"), t.value, isLabelValue(t.value)));
        break;
      default:
        errs.push(notSupported(op, t.operator, ["Equal", "Exists"]));
    }
    errs.push(...oneOf(childPath(p, "effect"), t.effect, TAINT_EFFECTS));
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") {
      errs.push(invalid(childPath(p, "effect"), t.effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
  });
  return errs;
}

function validateNodeSelectorRequirement(r: NodeSelectorRequirement, p: string, field: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (field) {
    if (r.key !== "metadata.name") errs.push(notSupported(childPath(p, "key"), r.key, ["metadata.name"]));
  } else {
    errs.push(...requiredName(childPath(p, "key"), r.key, isQualifiedName));
  }
  const vp = childPath(p, "values");
  switch (r.operator) {
    case "In":
    case "NotIn":
      if (r.values.length === 0) errs.push(required(vp, "must be specified when `operator` is 'In' or 'NotIn'"));
      else if (field && r.values.length !== 1) errs.push(invalid(vp, r.values, "must have one element"));
      break;
    case "Exists":
    case "DoesNotExist":
      if (field) errs.push(notSupported(childPath(p, "operator"), r.operator, ["In", "NotIn"]));
      else if (r.values.length > 0) errs.push(forbidden(vp, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case "Gt":
    case "Lt":
      if (field) errs.push(notSupported(childPath(p, "operator"), r.operator, ["In", "NotIn"]));
      else if (r.values.length !== 1 || !/^-?[0-9]+$/.test(r.values[0])) {
        errs.push(invalid(vp, r.values, "must be specified single integer value when `operator` is 'Lt' or 'Gt'"));
      }
      break;
    default:
      errs.push(notSupported(childPath(p, "operator"), r.operator, ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]));
  }
  return errs;
}

function validateNodeSelectorTerm(t: NodeSelectorTerm, p: string): FieldError[] {
  return [
    ...t.matchExpressions.flatMap((r, i) => validateNodeSelectorRequirement(r, indexPath(childPath(p, "matchExpressions"), i), false)),
    ...t.matchFields.flatMap((r, i) => validateNodeSelectorRequirement(r, indexPath(childPath(p, "matchFields"), i), true)),
  ];
}

function weight(path: string, w: number): FieldError[] {
  return inRange(path, w, 1, 100);
}

function validatePodAffinityTerm(t: PodAffinityTerm, p: string): FieldError[] {
  const errs: FieldError[] = [];
  if (t.labelSelector) errs.push(...validateLabelSelector(t.labelSelector, childPath(p, "labelSelector")));
  t.namespaces.forEach((ns, i) => errs.push(...invalidEach(indexPath(childPath(p, "namespaces"), i), ns, isDNS1123Label(ns))));
  const tk = childPath(p, "topologyKey");
  if (t.topologyKey === "") errs.push(required(tk, "can not be empty"));
  else errs.push(...invalidEach(tk, t.topologyKey, isQualifiedName(t.topologyKey)));
  return errs;
}

interface PodAffinityTerms {
  readonly requiredDuringSchedulingIgnoredDuringExecution: readonly PodAffinityTerm[];
  readonly preferredDuringSchedulingIgnoredDuringExecution: readonly WeightedPodAffinityTerm[];
}

function validatePodAffinityTerms(affinity: PodAffinityTerms, p: string): FieldError[] {
  const rp = childPath(p, "requiredDuringSchedulingIgnoredDuringExecution");
  const pp = childPath(p, "preferredDuringSchedulingIgnoredDuringExecution");
  return [
    ...affinity.requiredDuringSchedulingIgnoredDuringExecution.flatMap((t, i) => validatePodAffinityTerm(t, indexPath(rp, i))),
    ...affinity.preferredDuringSchedulingIgnoredDuringExecution.flatMap((w, i) => {
      const wp = indexPath(pp, i);
      return [
        ...weight(childPath(wp, "weight"), w.weight),
        ...(w.podAffinityTerm
          ? validatePodAffinityTerm(w.podAffinityTerm, childPath(wp, "podAffinityTerm"))
          : [required(childPath(wp, "podAffinityTerm"))]),
      ];
    }),
  ];
}

export function validateAffinity(a: Affinity | undefined, path: string): FieldError[] {
  if (!a) return [];
  const errs: FieldError[] = [];
  const na = a.nodeAffinity;
  if (na) {
    const np = childPath(path, "nodeAffinity");
    const req = na.requiredDuringSchedulingIgnoredDuringExecution;
    if (req) {
      const tp = childPath(childPath(np, "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms");
      if (req.nodeSelectorTerms.length === 0) errs.push(required(tp, "must have at least one node selector term"));
      req.nodeSelectorTerms.forEach((t, i) => errs.push(...validateNodeSelectorTerm(t, indexPath(tp, i))));
    }
    na.preferredDuringSchedulingIgnoredDuringExecution.forEach((pref, i) => {
      const pp = indexPath(childPath(np, "preferredDuringSchedulingIgnoredDuringExecution"), i);
      errs.push(...weight(childPath(pp, "weight"), pref.weight));
      if (pref.preference) errs.push(...validateNodeSelectorTerm(pref.preference, childPath(pp, "preference")));
      else errs.push(required(childPath(pp, "preference")));
    });
  }
  if (a.podAffinity) errs.push(...validatePodAffinityTerms(a.podAffinity, childPath(path, "podAffinity")));
  if (a.podAntiAffinity) errs.push(...validatePodAffinityTerms(a.podAntiAffinity, childPath(path, "podAntiAffinity")));
  return errs;
}

// ---------- the pod spec ----------

/**
 * A PodSpec at `path` ("spec" for a Pod, "spec.template.spec" for a workload): containers,
 * volumes, policies, scheduling fields and tolerations.
 */
export function validatePodSpec(spec: PodSpec | undefined, path = "spec"): FieldError[] {
  if (!spec) return [required(path)];
  const vols = validateVolumes(spec.volumes, childPath(path, "volumes"));
  const errs = vols.errs;

  if (spec.containers.length === 0) errs.push(required(childPath(path, "containers")));
  const names = new Set<string>();
  const groups = [
    { field: "initContainers", list: spec.initContainers, init: true },
    { field: "containers", list: spec.containers, init: false },
  ] as const;
  for (const g of groups) {
    g.list.forEach((c, i) => {
      const cp = indexPath(childPath(path, g.field), i);
      errs.push(...validateContainer(c, cp, { volumes: vols.names, hostNetwork: spec.hostNetwork, init: g.init }));
      if (c.name !== "" && names.has(c.name)) errs.push(duplicate(childPath(cp, "name"), c.name));
      names.add(c.name);
    });
  }

  errs.push(...oneOf(childPath(path, "restartPolicy"), spec.restartPolicy, RESTART_POLICIES));
  errs.push(...oneOf(childPath(path, "dnsPolicy"), spec.dnsPolicy, DNS_POLICIES));
  if (spec.dnsPolicy === "None" && !spec.dnsConfig) {
    errs.push(required(childPath(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"));
  }
  spec.dnsConfig?.nameservers.forEach((ns, i) => {
    errs.push(...invalidEach(indexPath(childPath(childPath(path, "dnsConfig"), "nameservers"), i), ns, isValidIP(ns)));
  });
  errs.push(...nonNegative(childPath(path, "terminationGracePeriodSeconds"), spec.terminationGracePeriodSeconds));
  errs.push(...inRange(childPath(path, "activeDeadlineSeconds"), spec.activeDeadlineSeconds, 1, 2 ** 31 - 1));
  errs.push(...validateLabels(spec.nodeSelector, childPath(path, "nodeSelector")));
  errs.push(...optionalName(childPath(path, "serviceAccountName"), spec.serviceAccountName, isDNS1123Subdomain));
  errs.push(...optionalName(childPath(path, "nodeName"), spec.nodeName, isDNS1123Subdomain));
  errs.push(...optionalName(childPath(path, "hostname"), spec.hostname, isDNS1123Label));
  errs.push(...optionalName(childPath(path, "subdomain"), spec.subdomain, isDNS1123Label));
  errs.push(...optionalName(childPath(path, "schedulerName"), spec.schedulerName, isDNS1123Subdomain));
  errs.push(...optionalName(childPath(path, "priorityClassName"), spec.priorityClassName, isDNS1123Subdomain));
  errs.push(...validateAffinity(spec.affinity, childPath(path, "affinity")));
  errs.push(...validateTolerations(spec.tolerations, childPath(path, "tolerations")));
  return errs;
}
