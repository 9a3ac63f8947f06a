// `corral describe`: kubectl-describe-like text (k8s.io/kubectl/pkg/describe/describe.go).
// Lines are written with "\t" between label and value and aligned by a tabwriter, as kubectl does.
import type {
  ApiObject,
  ConfigMap,
  Container,
  ContainerState,
  ContainerStatus,
  Deployment,
  Endpoints,
  EnvVar,
  Event,
  KindInfo,
  Lease,
  Node,
  ObjectMeta,
  Pod,
  PodSpec,
  PodTemplateSpec,
  Probe,
  Secret,
  Service,
  Taint,
  Toleration,
  Volume,
} from "@corral/api";
import { toManifest } from "@corral/manifest";
import { formatAge, formatLabels, formatSelector, formatTime, intOrString, joinHostPort, toDate } from "./format.js";
import { formatEndpoints, nodeRoles } from "./table.js";
import { DescribeWriter } from "./tabwriter.js";

export interface DescribeOptions {
  /** Service: the Endpoints of the same name, for the Endpoints lines ("<none>" without). */
  endpoints?: Endpoints;
  /** Node: its heartbeat Lease (kube-node-lease), for the Lease section. */
  lease?: Lease;
}

/**
 * Describes one object. `events` are the events whose involvedObject is `obj` (any order;
 * they are sorted by time); pass null to leave the Events section out altogether.
 * The text ends with a newline.
 */
export function describeObject(
  kind: KindInfo,
  obj: ApiObject,
  events: readonly Event[] | null,
  now: Date,
  opts: DescribeOptions = {},
): string {
  const w = new DescribeWriter();
  switch (kind.kind) {
    case "Pod":
      describePod(w, obj as Pod, now);
      break;
    case "Deployment":
      describeDeployment(w, obj as Deployment);
      break;
    case "Service":
      describeService(w, obj as Service, opts.endpoints);
      break;
    case "Node":
      describeNode(w, obj as Node, opts.lease);
      break;
    case "ConfigMap":
      describeConfigMap(w, obj as ConfigMap);
      break;
    case "Secret":
      describeSecret(w, obj as Secret);
      break;
    default:
      describeGeneric(w, kind, obj);
  }
  if (events) describeEvents(w, events, now);
  return w.toString();
}

const L0 = 0;
const L1 = 1;
const L2 = 2;
const L3 = 3;

// ---------- shared pieces ----------

function header(w: DescribeWriter, meta: ObjectMeta | undefined, namespaced: boolean): void {
  w.write(L0, `Name:\t${meta?.name ?? ""}\n`);
  if (namespaced) w.write(L0, `Namespace:\t${meta?.namespace ?? ""}\n`);
}

/** "Labels:  a=1" with further labels on their own aligned lines; "<none>" when empty. */
function printLabels(w: DescribeWriter, title: string, labels: Record<string, string> | undefined): void {
  w.write(L0, `${title}:\t`);
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) {
    w.write(L0, "<none>\n");
    return;
  }
  keys.forEach((k, i) => w.write(L0, `${i === 0 ? "" : "\t"}${k}=${labels![k]}\n`));
}

const MAX_ANNOTATION_LEN = 140;
const SKIP_ANNOTATIONS = new Set(["kubectl.kubernetes.io/last-applied-configuration"]);

function printAnnotations(w: DescribeWriter, title: string, annotations: Record<string, string> | undefined): void {
  w.write(L0, `${title}:\t`);
  const keys = Object.keys(annotations ?? {})
    .filter((k) => !SKIP_ANNOTATIONS.has(k))
    .sort();
  if (keys.length === 0) {
    w.write(L0, "<none>\n");
    return;
  }
  const shorten = (s: string, max: number) => (s.length > max ? `${s.slice(0, max)}...` : s);
  keys.forEach((k, i) => {
    if (i !== 0) w.write(L0, "\t");
    const value = annotations![k]!.replace(/\n$/, "");
    if (value.length + k.length + 2 > MAX_ANNOTATION_LEN || value.includes("\n")) {
      w.write(L0, `${k}:\n`);
      for (const s of value.split("\n")) w.write(L0, `\t  ${shorten(s, MAX_ANNOTATION_LEN - 2)}\n`);
    } else {
      w.write(L0, `${k}: ${value}\n`);
    }
  });
}

function printTolerations(w: DescribeWriter, title: string, tolerations: readonly Toleration[]): void {
  w.write(L0, `${title}:\t`);
  if (tolerations.length === 0) {
    w.write(L0, "<none>\n");
    return;
  }
  tolerations.forEach((t, i) => {
    let s = i === 0 ? "" : "\t";
    s += t.key;
    if (t.value) s += `=${t.value}`;
    if (t.effect) s += `:${t.effect}`;
    if (t.operator === "Exists" && !t.value) s += t.key || t.effect ? " op=Exists" : "op=Exists";
    if (t.tolerationSeconds !== undefined) s += ` for ${t.tolerationSeconds}s`;
    w.write(L0, `${s}\n`);
  });
}

function printTaints(w: DescribeWriter, taints: readonly Taint[]): void {
  w.write(L0, "Taints:\t");
  if (taints.length === 0) {
    w.write(L0, "<none>\n");
    return;
  }
  taints.forEach((t, i) => w.write(L0, `${i === 0 ? "" : "\t"}${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}\n`));
}

function controlledBy(meta: ObjectMeta | undefined): string {
  const ref = meta?.ownerReferences.find((r) => r.controller);
  return ref ? `${ref.kind}/${ref.name}` : "";
}

// ---------- events ----------

function eventTime(e: Event): number {
  return (toDate(e.lastTimestamp) ?? toDate(e.eventTime) ?? toDate(e.firstTimestamp))?.getTime() ?? 0;
}

/** "Events:  <none>" or a table of Type, Reason, Age, From, Message, oldest first. */
export function describeEvents(w: DescribeWriter, events: readonly Event[], now: Date): void {
  w.flush();
  if (events.length === 0) {
    w.write(L0, "Events:\t<none>\n");
    return;
  }
  w.write(L0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
  w.write(L1, "----\t------\t----\t----\t-------\n");
  for (const e of [...events].sort((a, b) => eventTime(a) - eventTime(b))) {
    const first = toDate(e.eventTime) ? formatAge(e.eventTime, now) : formatAge(e.firstTimestamp, now);
    const interval = e.count > 1 ? `${formatAge(e.lastTimestamp, now)} (x${e.count} over ${first})` : first;
    const from = e.source?.component || e.reportingComponent;
    w.write(L1, `${e.type}\t${e.reason}\t${interval}\t${from}\t${e.message.trim()}\n`);
  }
}

// ---------- pods ----------

function describePod(w: DescribeWriter, pod: Pod, now: Date): void {
  const meta = pod.metadata;
  const spec = pod.spec;
  const status = pod.status;
  header(w, meta, true);
  if (spec?.priority !== undefined) w.write(L0, `Priority:\t${spec.priority}\n`);
  if (spec?.priorityClassName) w.write(L0, `Priority Class Name:\t${spec.priorityClassName}\n`);
  if (spec?.serviceAccountName) w.write(L0, `Service Account:\t${spec.serviceAccountName}\n`);
  w.write(L0, `Node:\t${spec?.nodeName ? `${spec.nodeName}/${status?.hostIp ?? ""}` : "<none>"}\n`);
  if (toDate(status?.startTime)) w.write(L0, `Start Time:\t${formatTime(status?.startTime)}\n`);
  printLabels(w, "Labels", meta?.labels);
  printAnnotations(w, "Annotations", meta?.annotations);
  const phase = status?.phase ?? "";
  if (toDate(meta?.deletionTimestamp) && phase !== "Failed" && phase !== "Succeeded") {
    w.write(L0, `Status:\tTerminating (lasts ${formatAge(meta?.deletionTimestamp, now)})\n`);
    w.write(L0, `Termination Grace Period:\t${meta?.deletionGracePeriodSeconds ?? 0n}s\n`);
  } else {
    w.write(L0, `Status:\t${phase}\n`);
  }
  if (status?.reason) w.write(L0, `Reason:\t${status.reason}\n`);
  if (status?.message) w.write(L0, `Message:\t${status.message}\n`);
  w.write(L0, `IP:\t${status?.podIp ?? ""}\n`);
  const ips = status?.podIps ?? [];
  if (ips.length === 0) {
    w.write(L0, "IPs:\t<none>\n");
  } else {
    w.write(L0, "IPs:\n");
    for (const ip of ips) w.write(L1, `IP:\t${ip.ip}\n`);
  }
  const owner = controlledBy(meta);
  if (owner) w.write(L0, `Controlled By:\t${owner}\n`);
  if (status?.nominatedNodeName) w.write(L0, `NominatedNodeName:\t${status.nominatedNodeName}\n`);
  const resolve = (e: EnvVar) => podFieldValue(pod, e.valueFrom?.fieldRef?.fieldPath ?? "");
  if (spec && spec.initContainers.length > 0) {
    describeContainers(w, "Init Containers", spec.initContainers, status?.initContainerStatuses ?? [], "", resolve);
  }
  describeContainers(w, "Containers", spec?.containers ?? [], status?.containerStatuses ?? [], "", resolve);
  const conditions = status?.conditions ?? [];
  if (conditions.length > 0) {
    w.write(L0, "Conditions:\n  Type\tStatus\n");
    for (const c of conditions) w.write(L1, `${c.type} \t${c.status} \n`);
  }
  describeVolumes(w, spec?.volumes ?? [], "");
  w.write(L0, `QoS Class:\t${status?.qosClass || qosClass(spec)}\n`);
  printLabels(w, "Node-Selectors", spec?.nodeSelector);
  printTolerations(w, "Tolerations", spec?.tolerations ?? []);
}

/** The value of a downward-API field path, for describe's Environment lines. */
function podFieldValue(pod: Pod, path: string): string {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m) return (m[1] === "labels" ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2]!] ?? "";
  switch (path) {
    case "metadata.name":
      return pod.metadata?.name ?? "";
    case "metadata.namespace":
      return pod.metadata?.namespace ?? "";
    case "metadata.uid":
      return pod.metadata?.uid ?? "";
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.hostIP":
      return pod.status?.hostIp ?? "";
    case "status.podIP":
      return pod.status?.podIp ?? "";
    case "status.podIPs":
      return (pod.status?.podIps ?? []).map((p) => p.ip).join(",");
    default:
      return "";
  }
}

/** BestEffort without any requests or limits; Guaranteed when every container's limits cover cpu and memory and requests equal them. */
function qosClass(spec: PodSpec | undefined): string {
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  const relevant = (m: Record<string, string>) => Object.keys(m).filter((k) => k === "cpu" || k === "memory");
  if (containers.every((c) => relevant(c.resources?.limits ?? {}).length === 0 && relevant(c.resources?.requests ?? {}).length === 0)) {
    return "BestEffort";
  }
  const guaranteed = containers.every((c) => {
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    return ["cpu", "memory"].every((r) => limits[r] !== undefined && (requests[r] === undefined || requests[r] === limits[r]));
  });
  return guaranteed ? "Guaranteed" : "Burstable";
}

function describeContainers(
  w: DescribeWriter,
  title: string,
  containers: readonly Container[],
  statuses: readonly ContainerStatus[] | undefined,
  space: string,
  resolve?: (e: EnvVar) => string,
): void {
  w.write(L0, `${space}${title}:\n`);
  for (const c of containers) {
    const status = statuses?.find((s) => s.name === c.name);
    w.write(L1, `${space ? " " : ""}${c.name}:\n`);
    if (status) w.write(L2, `Container ID:\t${status.containerId}\n`);
    w.write(L2, `Image:\t${c.image}\n`);
    if (status) w.write(L2, `Image ID:\t${status.imageId}\n`);
    const ports = c.ports.map((p) => `${p.containerPort}/${p.protocol || "TCP"}`).join(", ");
    w.write(L2, ports.includes(",") ? `Ports:\t${ports}\n` : `Port:\t${ports || "<none>"}\n`);
    const hostPorts = c.ports.map((p) => `${p.hostPort}/${p.protocol || "TCP"}`).join(", ");
    w.write(L2, hostPorts.includes(",") ? `Host Ports:\t${hostPorts}\n` : `Host Port:\t${hostPorts || "<none>"}\n`);
    if (c.command.length > 0) {
      w.write(L2, "Command:\n");
      for (const s of c.command.flatMap((x) => x.split("\n"))) w.write(L3, `${s}\n`);
    }
    if (c.args.length > 0) {
      w.write(L2, "Args:\n");
      for (const s of c.args.flatMap((x) => x.split("\n"))) w.write(L3, `${s}\n`);
    }
    if (status) {
      describeState(w, "State", status.state);
      if (status.lastState?.terminated) describeState(w, "Last State", status.lastState);
      w.write(L2, `Ready:\t${status.ready ? "True" : "False"}\n`);
      w.write(L2, `Restart Count:\t${status.restartCount}\n`);
    }
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    if (Object.keys(limits).length > 0) {
      w.write(L2, "Limits:\n");
      for (const k of sortedResourceNames(limits)) w.write(L3, `${k}:\t${limits[k]}\n`);
    }
    if (Object.keys(requests).length > 0) {
      w.write(L2, "Requests:\n");
      for (const k of sortedResourceNames(requests)) w.write(L3, `${k}:\t${requests[k]}\n`);
    }
    if (c.livenessProbe) w.write(L2, `Liveness:\t${describeProbe(c.livenessProbe)}\n`);
    if (c.readinessProbe) w.write(L2, `Readiness:\t${describeProbe(c.readinessProbe)}\n`);
    if (c.startupProbe) w.write(L2, `Startup:\t${describeProbe(c.startupProbe)}\n`);
    if (c.envFrom.length > 0) {
      w.write(L2, "Environment Variables from:\n");
      for (const e of c.envFrom) {
        const from = e.configMapRef ? "ConfigMap" : e.secretRef ? "Secret" : "";
        const ref = e.configMapRef ?? e.secretRef;
        const optional = ref?.optional ?? false;
        const prefix = e.prefix ? ` with prefix '${e.prefix}'` : "";
        w.write(L3, `${ref?.name ?? ""}\t${from}${prefix}\tOptional: ${optional}\n`);
      }
    }
    w.write(L2, `Environment:${c.env.length === 0 ? "\t<none>" : ""}\n`);
    for (const e of c.env) describeEnvVar(w, e, c, resolve);
    w.write(L2, `Mounts:${c.volumeMounts.length === 0 ? "\t<none>" : ""}\n`);
    for (const m of [...c.volumeMounts].sort((a, b) => (a.mountPath < b.mountPath ? -1 : a.mountPath > b.mountPath ? 1 : 0))) {
      const flags = [m.readOnly ? "ro" : "rw"];
      if (m.subPath) flags.push(`path=${JSON.stringify(m.subPath)}`);
      w.write(L3, `${m.mountPath} from ${m.name} (${flags.join(",")})\n`);
    }
  }
}

function describeEnvVar(w: DescribeWriter, e: EnvVar, c: Container, resolve?: (e: EnvVar) => string): void {
  const from = e.valueFrom;
  if (!from) {
    e.value.split("\n").forEach((s, i) => w.write(L3, i === 0 ? `${e.name}:\t${s}\n` : `\t${s}\n`));
    return;
  }
  if (from.fieldRef) {
    const value = resolve ? resolve(e) : "";
    w.write(L3, `${e.name}:\t${value} (${from.fieldRef.apiVersion || "v1"}:${from.fieldRef.fieldPath})\n`);
  } else if (from.resourceFieldRef) {
    const resource = from.resourceFieldRef.resource;
    const [bucket, res] = resource.split(".", 2) as [string, string | undefined];
    const list = bucket === "limits" ? c.resources?.limits : bucket === "requests" ? c.resources?.requests : undefined;
    let value = res ? (list?.[res] ?? "") : "";
    if (!value && (resource === "limits.cpu" || resource === "limits.memory")) value = "node allocatable";
    w.write(L3, `${e.name}:\t${value} (${resource})\n`);
  } else if (from.secretKeyRef) {
    const r = from.secretKeyRef;
    w.write(L3, `${e.name}:\t<set to the key '${r.key}' in secret '${r.name}'>\tOptional: ${r.optional ?? false}\n`);
  } else if (from.configMapKeyRef) {
    const r = from.configMapKeyRef;
    w.write(L3, `${e.name}:\t<set to the key '${r.key}' of config map '${r.name}'>\tOptional: ${r.optional ?? false}\n`);
  } else {
    w.write(L3, `${e.name}:\t\n`);
  }
}

function describeState(w: DescribeWriter, name: string, state: ContainerState | undefined): void {
  if (state?.running) {
    w.write(L2, `${name}:\tRunning\n`);
    w.write(L3, `Started:\t${formatTime(state.running.startedAt)}\n`);
  } else if (state?.waiting) {
    w.write(L2, `${name}:\tWaiting\n`);
    if (state.waiting.reason) w.write(L3, `Reason:\t${state.waiting.reason}\n`);
  } else if (state?.terminated) {
    const t = state.terminated;
    w.write(L2, `${name}:\tTerminated\n`);
    if (t.reason) w.write(L3, `Reason:\t${t.reason}\n`);
    if (t.message) w.write(L3, `Message:\t${t.message}\n`);
    w.write(L3, `Exit Code:\t${t.exitCode}\n`);
    if (t.signal > 0) w.write(L3, `Signal:\t${t.signal}\n`);
    w.write(L3, `Started:\t${formatTime(t.startedAt)}\n`);
    w.write(L3, `Finished:\t${formatTime(t.finishedAt)}\n`);
  } else {
    w.write(L2, `${name}:\tWaiting\n`);
  }
}

/** cpu, memory, ephemeral-storage first (in that order), then the rest sorted. */
function sortedResourceNames(m: Record<string, string>): string[] {
  const standard = ["cpu", "memory", "ephemeral-storage"];
  const rank = (k: string) => (standard.includes(k) ? standard.indexOf(k) : standard.length);
  return Object.keys(m).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** "http-get http://:8080/healthz delay=10s timeout=1s period=10s #success=1 #failure=3" */
export function describeProbe(p: Probe): string {
  // Zero means unset; show what Kubernetes defaults them to.
  const attrs =
    `delay=${p.initialDelaySeconds}s timeout=${p.timeoutSeconds || 1}s period=${p.periodSeconds || 10}s ` +
    `#success=${p.successThreshold || 1} #failure=${p.failureThreshold || 3}`;
  if (p.exec) return `exec [${p.exec.command.join(" ")}] ${attrs}`;
  if (p.httpGet) {
    const g = p.httpGet;
    const port = intOrString(g.port);
    const host = port ? joinHostPort(g.host, port) : g.host;
    return `http-get ${(g.scheme || "HTTP").toLowerCase()}://${host}${g.path} ${attrs}`;
  }
  if (p.tcpSocket) return `tcp-socket ${p.tcpSocket.host}:${intOrString(p.tcpSocket.port)} ${attrs}`;
  return `unknown ${attrs}`;
}

function describeVolumes(w: DescribeWriter, volumes: readonly Volume[], space: string): void {
  if (volumes.length === 0) {
    w.write(L0, `${space}Volumes:\t<none>\n`);
    return;
  }
  w.write(L0, `${space}Volumes:\n`);
  for (const v of volumes) {
    w.write(L1, `${space ? " " : ""}${v.name}:\n`);
    if (v.hostPath) {
      w.write(L2, "Type:\tHostPath (bare host directory volume)\n");
      w.write(L2, `Path:\t${v.hostPath.path}\n`);
      w.write(L2, `HostPathType:\t${v.hostPath.type ?? ""}\n`);
    } else if (v.emptyDir) {
      w.write(L2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n");
      w.write(L2, `Medium:\t${v.emptyDir.medium}\n`);
      w.write(L2, `SizeLimit:\t${v.emptyDir.sizeLimit || "<unset>"}\n`);
    } else if (v.configMap) {
      w.write(L2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n");
      w.write(L2, `Name:\t${v.configMap.name}\n`);
      w.write(L2, `Optional:\t${v.configMap.optional ?? false}\n`);
    } else if (v.secret) {
      w.write(L2, "Type:\tSecret (a volume populated by a Secret)\n");
      w.write(L2, `SecretName:\t${v.secret.secretName}\n`);
      w.write(L2, `Optional:\t${v.secret.optional ?? false}\n`);
    } else if (v.persistentVolumeClaim) {
      w.write(L2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n");
      w.write(L2, `ClaimName:\t${v.persistentVolumeClaim.claimName}\n`);
      w.write(L2, `ReadOnly:\t${v.persistentVolumeClaim.readOnly}\n`);
    } else {
      w.write(L2, "<unknown>\n");
    }
  }
}

function describePodTemplate(w: DescribeWriter, t: PodTemplateSpec | undefined): void {
  w.write(L0, "Pod Template:\n");
  if (!t) {
    w.write(L1, "<unset>\n");
    return;
  }
  printLabels(w, "  Labels", t.metadata?.labels);
  if (Object.keys(t.metadata?.annotations ?? {}).length > 0) printAnnotations(w, "  Annotations", t.metadata?.annotations);
  const spec = t.spec;
  if (spec?.serviceAccountName) w.write(L1, `Service Account:\t${spec.serviceAccountName}\n`);
  if (spec && spec.initContainers.length > 0) describeContainers(w, "Init Containers", spec.initContainers, undefined, "  ");
  describeContainers(w, "Containers", spec?.containers ?? [], undefined, "  ");
  describeVolumes(w, spec?.volumes ?? [], "  ");
  if (spec?.priorityClassName) w.write(L1, `Priority Class Name:\t${spec.priorityClassName}\n`);
  printLabels(w, "  Node-Selectors", spec?.nodeSelector);
  printTolerations(w, "  Tolerations", spec?.tolerations ?? []);
}

// ---------- deployments ----------

function describeDeployment(w: DescribeWriter, d: Deployment): void {
  header(w, d.metadata, true);
  w.write(L0, `CreationTimestamp:\t${formatTime(d.metadata?.creationTimestamp)}\n`);
  printLabels(w, "Labels", d.metadata?.labels);
  printAnnotations(w, "Annotations", d.metadata?.annotations);
  w.write(L0, `Selector:\t${formatSelector(d.spec?.selector)}\n`);
  const s = d.status;
  w.write(
    L0,
    `Replicas:\t${d.spec?.replicas ?? 1} desired | ${s?.updatedReplicas ?? 0} updated | ${s?.replicas ?? 0} total | ` +
      `${s?.availableReplicas ?? 0} available | ${s?.unavailableReplicas ?? 0} unavailable\n`,
  );
  const strategy = d.spec?.strategy?.type || "RollingUpdate";
  w.write(L0, `StrategyType:\t${strategy}\n`);
  w.write(L0, `MinReadySeconds:\t${d.spec?.minReadySeconds ?? 0}\n`);
  if (strategy === "RollingUpdate") {
    const ru = d.spec?.strategy?.rollingUpdate;
    w.write(L0, `RollingUpdateStrategy:\t${intOrString(ru?.maxUnavailable, "25%")} max unavailable, ${intOrString(ru?.maxSurge, "25%")} max surge\n`);
  }
  describePodTemplate(w, d.spec?.template);
  const conditions = s?.conditions ?? [];
  if (conditions.length > 0) {
    w.write(L0, "Conditions:\n  Type\tStatus\tReason\n");
    w.write(L1, "----\t------\t------\n");
    for (const c of conditions) w.write(L1, `${c.type} \t${c.status}\t${c.reason}\n`);
  }
}

// ---------- services ----------

function describeService(w: DescribeWriter, svc: Service, endpoints: Endpoints | undefined): void {
  header(w, svc.metadata, true);
  printLabels(w, "Labels", svc.metadata?.labels);
  printAnnotations(w, "Annotations", svc.metadata?.annotations);
  const spec = svc.spec;
  w.write(L0, `Selector:\t${formatLabels(spec?.selector)}\n`);
  w.write(L0, `Type:\t${spec?.type || "ClusterIP"}\n`);
  w.write(L0, `IP:\t${spec?.clusterIp ?? ""}\n`);
  if (spec && spec.clusterIps.length > 0) w.write(L0, `IPs:\t${spec.clusterIps.join(",")}\n`);
  if (spec && spec.externalIps.length > 0) w.write(L0, `External IPs:\t${spec.externalIps.join(",")}\n`);
  for (const p of spec?.ports ?? []) {
    const name = p.name || "<unset>";
    const proto = p.protocol || "TCP";
    w.write(L0, `Port:\t${name}\t${p.port}/${proto}\n`);
    // An unset targetPort means the same as port.
    w.write(L0, `TargetPort:\t${intOrString(p.targetPort, String(p.port))}/${proto}\n`);
    if (p.nodePort !== 0) w.write(L0, `NodePort:\t${name}\t${p.nodePort}/${proto}\n`);
    w.write(L0, `Endpoints:\t${formatEndpoints(endpoints, new Set([p.name]))}\n`);
  }
  if ((spec?.ports ?? []).length === 0) w.write(L0, `Endpoints:\t${formatEndpoints(endpoints)}\n`);
  w.write(L0, `Session Affinity:\t${spec?.sessionAffinity || "None"}\n`);
  if (spec?.externalTrafficPolicy) w.write(L0, `External Traffic Policy:\t${spec.externalTrafficPolicy}\n`);
  if (spec?.internalTrafficPolicy) w.write(L0, `Internal Traffic Policy:\t${spec.internalTrafficPolicy}\n`);
}

// ---------- nodes ----------

function describeNode(w: DescribeWriter, node: Node, lease: Lease | undefined): void {
  header(w, node.metadata, false);
  w.write(L0, `Roles:\t${nodeRoles(node).join(",") || "<none>"}\n`);
  printLabels(w, "Labels", node.metadata?.labels);
  printAnnotations(w, "Annotations", node.metadata?.annotations);
  w.write(L0, `CreationTimestamp:\t${formatTime(node.metadata?.creationTimestamp)}\n`);
  printTaints(w, node.spec?.taints ?? []);
  w.write(L0, `Unschedulable:\t${node.spec?.unschedulable ?? false}\n`);
  if (lease) {
    w.write(L0, "Lease:\n");
    w.write(L1, `HolderIdentity:\t${lease.spec?.holderIdentity ?? "<unset>"}\n`);
    w.write(L1, `AcquireTime:\t${formatTime(lease.spec?.acquireTime)}\n`);
    w.write(L1, `RenewTime:\t${formatTime(lease.spec?.renewTime)}\n`);
  }
  const status = node.status;
  const conditions = status?.conditions ?? [];
  if (conditions.length > 0) {
    w.write(L0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n");
    w.write(L1, "----\t------\t-----------------\t------------------\t------\t-------\n");
    for (const c of conditions) {
      w.write(
        L1,
        `${c.type} \t${c.status} \t${formatTime(c.lastHeartbeatTime)} \t${formatTime(c.lastTransitionTime)} \t${c.reason} \t${c.message}\n`,
      );
    }
  }
  w.write(L0, "Addresses:\n");
  for (const a of status?.addresses ?? []) w.write(L1, `${a.type}:\t${a.address}\n`);
  const resources = (title: string, m: Record<string, string> | undefined) => {
    if (Object.keys(m ?? {}).length === 0) return;
    w.write(L0, `${title}:\n`);
    for (const k of sortedResourceNames(m!)) w.write(L0, `  ${k}:\t${m![k]}\n`);
  };
  resources("Capacity", status?.capacity);
  resources("Allocatable", status?.allocatable);
  const info = status?.nodeInfo;
  w.write(L0, "System Info:\n");
  w.write(L0, `  Machine ID:\t${info?.machineId ?? ""}\n`);
  w.write(L0, `  System UUID:\t${info?.systemUuid ?? ""}\n`);
  w.write(L0, `  Boot ID:\t${info?.bootId ?? ""}\n`);
  w.write(L0, `  Kernel Version:\t${info?.kernelVersion ?? ""}\n`);
  w.write(L0, `  OS Image:\t${info?.osImage ?? ""}\n`);
  w.write(L0, `  Operating System:\t${info?.operatingSystem ?? ""}\n`);
  w.write(L0, `  Architecture:\t${info?.architecture ?? ""}\n`);
  w.write(L0, `  Container Runtime Version:\t${info?.containerRuntimeVersion ?? ""}\n`);
  w.write(L0, `  Kubelet Version:\t${info?.kubeletVersion ?? ""}\n`);
  w.write(L0, `  Kube-Proxy Version:\t${info?.kubeProxyVersion ?? ""}\n`);
  if (node.spec?.podCidr) w.write(L0, `PodCIDR:\t${node.spec.podCidr}\n`);
  if (node.spec && node.spec.podCidrs.length > 0) w.write(L0, `PodCIDRs:\t${node.spec.podCidrs.join(",")}\n`);
  if (node.spec?.providerId) w.write(L0, `ProviderID:\t${node.spec.providerId}\n`);
}

// ---------- config maps and secrets ----------

function describeConfigMap(w: DescribeWriter, cm: ConfigMap): void {
  header(w, cm.metadata, true);
  printLabels(w, "Labels", cm.metadata?.labels);
  printAnnotations(w, "Annotations", cm.metadata?.annotations);
  w.write(L0, "\nData\n====\n");
  for (const k of Object.keys(cm.data).sort()) {
    w.write(L0, `${k}:\n----\n`);
    w.write(L0, `${cm.data[k]}\n`);
    w.write(L0, "\n");
  }
  w.write(L0, "\nBinaryData\n====\n");
  for (const k of Object.keys(cm.binaryData).sort()) w.write(L0, `${k}: ${cm.binaryData[k]!.length} bytes\n`);
  w.write(L0, "\n");
}

function describeSecret(w: DescribeWriter, s: Secret): void {
  header(w, s.metadata, true);
  printLabels(w, "Labels", s.metadata?.labels);
  printAnnotations(w, "Annotations", s.metadata?.annotations);
  w.write(L0, `\nType:\t${s.type || "Opaque"}\n`);
  w.write(L0, "\nData\n====\n");
  // Never the values: only their sizes.
  for (const k of Object.keys(s.data).sort()) w.write(L0, `${k}:\t${s.data[k]!.length} bytes\n`);
}

// ---------- everything else ----------

/** Name, Namespace, Labels, Annotations, then every other field as kubectl's generic describer prints it. */
function describeGeneric(w: DescribeWriter, kind: KindInfo, obj: ApiObject): void {
  header(w, obj.metadata, kind.namespaced);
  printLabels(w, "Labels", obj.metadata?.labels);
  printAnnotations(w, "Annotations", obj.metadata?.annotations);
  const json = toManifest(kind, obj);
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) if (k !== "apiVersion" && k !== "kind" && k !== "metadata") rest[k] = v;
  printUnstructured(w, L0, rest);
}

function printUnstructured(w: DescribeWriter, level: number, content: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(content)) {
    const label = smartLabel(field);
    if (Array.isArray(value)) {
      w.write(level, `${label}:\n`);
      for (const item of value) {
        if (isObject(item)) printUnstructured(w, level + 1, item);
        else w.write(level + 1, `${String(item)}\n`);
      }
    } else if (isObject(value)) {
      w.write(level, `${label}:\n`);
      printUnstructured(w, level + 1, value);
    } else {
      w.write(level, `${label}:\t${String(value)}\n`);
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const ACRONYMS = new Set(["API", "URL", "UID", "OSB", "GUID", "IP", "CIDR", "ID", "TTL"]);

/** kubectl's smartLabelFor: "holderIdentity" -> "Holder Identity", "podIP" -> "Pod IP"; odd keys unchanged. */
export function smartLabel(field: string): string {
  if (!/^[A-Za-z-]+$/.test(field)) return field;
  const parts = field.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[A-Z]+|-/g) ?? [field];
  return parts
    .filter((p) => p !== "-")
    .map((p) => (ACRONYMS.has(p.toUpperCase()) ? p.toUpperCase() : p[0]!.toUpperCase() + p.slice(1)))
    .join(" ");
}
