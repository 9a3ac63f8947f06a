// `corral get` tables, column for column as kubectl prints them
// (k8s.io/kubernetes/pkg/printers/internalversion/printers.go).
import type {
  ApiObject,
  ConfigMap,
  DaemonSet,
  Deployment,
  Endpoints,
  Event,
  CronJob,
  Job,
  KindInfo,
  Lease,
  Namespace,
  Node,
  Pod,
  PodTemplateSpec,
  ReplicaSet,
  Secret,
  Service,
  StatefulSet,
} from "@corral/api";
import { formatAge, formatLabels, formatSelector, humanDuration, joinHostPort, textWidth, toDate, type TimeLike } from "./format.js";

export interface TableOptions {
  /** `-o wide`: the extra columns. */
  wide: boolean;
  /** `-A`: a NAMESPACE column first (namespaced kinds only). */
  allNamespaces: boolean;
  /** The time AGE is measured against. */
  now: Date;
}

/** Spaces between columns. (kubectl's tabwriter uses 3; Corral uses 2.) */
export const COLUMN_GAP = 2;

interface Printer<T> {
  headers: string[];
  wideHeaders?: string[];
  row(o: T, now: Date): string[];
  wideRow?(o: T, now: Date): string[];
}

function printer<T>(p: Printer<T>): Printer<ApiObject> {
  return p as unknown as Printer<ApiObject>;
}

const name = (o: ApiObject): string => o.metadata?.name ?? "";
const age = (o: ApiObject, now: Date): string => formatAge(o.metadata?.creationTimestamp, now);
const none = (s: string | undefined): string => (s ? s : "<none>");

// ---------- pods ----------

export interface PodSummary {
  /** "1/2" */
  ready: string;
  /** kubectl's STATUS: CrashLoopBackOff, Init:0/1, Completed, Terminating, Running, ... */
  status: string;
  /** "3" or "3 (2m ago)" */
  restarts: string;
}

/** READY, STATUS and RESTARTS the way `kubectl get pods` computes them (printPod). */
export function podSummary(pod: Pod, now: Date): PodSummary {
  const spec = pod.spec;
  const status = pod.status;
  let restarts = 0;
  let readyContainers = 0;
  let lastRestart: Date | undefined;
  const noteRestart = (t: TimeLike): void => {
    const d = toDate(t);
    if (d && (!lastRestart || d > lastRestart)) lastRestart = d;
  };
  let reason = status?.reason || status?.phase || "";
  if (status?.conditions.some((c) => c.type === "PodScheduled" && c.reason === "SchedulingGated")) reason = "SchedulingGated";

  const initStatuses = status?.initContainerStatuses ?? [];
  const initCount = spec?.initContainers.length ?? 0;
  let initializing = false;
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i]!;
    restarts += c.restartCount;
    noteRestart(c.lastState?.terminated?.finishedAt);
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (term) {
      reason = term.reason
        ? `Init:${term.reason}`
        : term.signal !== 0
          ? `Init:Signal:${term.signal}`
          : `Init:ExitCode:${term.exitCode}`;
    } else if (wait && wait.reason && wait.reason !== "PodInitializing") {
      reason = `Init:${wait.reason}`;
    } else {
      reason = `Init:${i}/${initCount}`;
    }
    initializing = true;
    break;
  }

  const initialized = status?.conditions.some((c) => c.type === "Initialized" && c.status === "True") ?? false;
  if (!initializing || initialized) {
    restarts = 0;
    let hasRunning = false;
    const statuses = status?.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i]!;
      restarts += c.restartCount;
      noteRestart(c.lastState?.terminated?.finishedAt);
      const wait = c.state?.waiting;
      const term = c.state?.terminated;
      if (wait && wait.reason) reason = wait.reason;
      else if (term && term.reason) reason = term.reason;
      else if (term) reason = term.signal !== 0 ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      const podReady = status?.conditions.some((c) => c.type === "Ready" && c.status === "True") ?? false;
      reason = podReady ? "Running" : "NotReady";
    }
  }

  if (pod.metadata?.deletionTimestamp && status?.reason === "NodeLost") reason = "Unknown";
  else if (pod.metadata?.deletionTimestamp) reason = "Terminating";

  let restartText = String(restarts);
  if (restarts !== 0 && lastRestart) restartText = `${restarts} (${formatAge(lastRestart, now)} ago)`;
  return { ready: `${readyContainers}/${spec?.containers.length ?? 0}`, status: reason, restarts: restartText };
}

const pods = printer<Pod>({
  headers: ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
  wideHeaders: ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
  row(p, now) {
    const s = podSummary(p, now);
    return [name(p), s.ready, s.status, s.restarts, age(p, now)];
  },
  wideRow: (p) => [none(p.status?.podIp), none(p.spec?.nodeName), none(p.status?.nominatedNodeName), "<none>"],
});

// ---------- nodes ----------

/** Roles from node-role.kubernetes.io/<role> and kubernetes.io/role labels, sorted. */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) {
      const role = k.slice("node-role.kubernetes.io/".length);
      if (role) roles.add(role);
    } else if (k === "kubernetes.io/role" && v) {
      roles.add(v);
    }
  }
  return [...roles].sort();
}

/** "Ready", "NotReady", "Unknown", plus ",SchedulingDisabled" when cordoned. */
export function nodeStatus(node: Node): string {
  const status: string[] = [];
  const ready = node.status?.conditions.find((c) => c.type === "Ready");
  if (ready) status.push(ready.status === "True" ? "Ready" : "NotReady");
  if (status.length === 0) status.push("Unknown");
  if (node.spec?.unschedulable) status.push("SchedulingDisabled");
  return status.join(",");
}

const nodeAddress = (n: Node, type: string): string => none(n.status?.addresses.find((a) => a.type === type)?.address);
const unknown = (s: string | undefined): string => (s ? s : "<unknown>");

const nodes = printer<Node>({
  headers: ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
  wideHeaders: ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
  row: (n, now) => [name(n), nodeStatus(n), nodeRoles(n).join(",") || "<none>", age(n, now), n.status?.nodeInfo?.kubeletVersion ?? ""],
  wideRow: (n) => [
    nodeAddress(n, "InternalIP"),
    nodeAddress(n, "ExternalIP"),
    unknown(n.status?.nodeInfo?.osImage),
    unknown(n.status?.nodeInfo?.kernelVersion),
    unknown(n.status?.nodeInfo?.containerRuntimeVersion),
  ],
});

// ---------- services and endpoints ----------

/** PORT(S): "80/TCP,443:30443/TCP"; "<none>" without ports. */
export function servicePorts(svc: Service): string {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return "<none>";
  return ports
    .map((p) => {
      const proto = p.protocol || "TCP";
      return p.nodePort > 0 ? `${p.port}:${p.nodePort}/${proto}` : `${p.port}/${proto}`;
    })
    .join(",");
}

function serviceExternalIp(svc: Service): string {
  const type = svc.spec?.type || "ClusterIP";
  const external = svc.spec?.externalIps ?? [];
  switch (type) {
    case "ClusterIP":
    case "NodePort":
      return external.length ? external.join(",") : "<none>";
    case "LoadBalancer":
      return external.length ? external.join(",") : "<pending>";
    default:
      return "<unknown>";
  }
}

const services = printer<Service>({
  headers: ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
  wideHeaders: ["SELECTOR"],
  row: (s, now) => [name(s), s.spec?.type || "ClusterIP", none(s.spec?.clusterIp), serviceExternalIp(s), servicePorts(s), age(s, now)],
  wideRow: (s) => [formatLabels(s.spec?.selector)],
});

/**
 * "10.0.0.5:80,10.0.0.6:80 + 2 more..." (at most three shown); "<none>" when empty.
 * With `portNames`, only ports of those names count (describe service, per port).
 */
export function formatEndpoints(ep: Endpoints | undefined, portNames?: ReadonlySet<string>): string {
  if (!ep || ep.subsets.length === 0) return "<none>";
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of ep.subsets) {
    if (ss.ports.length === 0) {
      count += ss.addresses.length;
      for (const a of ss.addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ss.ports) {
      if (portNames && !portNames.has(port.name)) continue;
      count += ss.addresses.length;
      for (const a of ss.addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(a.ip, port.port));
      }
    }
  }
  if (list.length === 0) return "<none>";
  const text = list.join(",");
  return more ? `${text} + ${count - max} more...` : text;
}

const endpoints = printer<Endpoints>({
  headers: ["NAME", "ENDPOINTS", "AGE"],
  row: (e, now) => [name(e), formatEndpoints(e), age(e, now)],
});

// ---------- workloads ----------

function templateColumns(t: PodTemplateSpec | undefined): [string, string] {
  const cs = t?.spec?.containers ?? [];
  return [cs.map((c) => c.name).join(","), cs.map((c) => c.image).join(",")];
}

const deployments = printer<Deployment>({
  headers: ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
  wideHeaders: ["CONTAINERS", "IMAGES", "SELECTOR"],
  row: (d, now) => [
    name(d),
    `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
    String(d.status?.updatedReplicas ?? 0),
    String(d.status?.availableReplicas ?? 0),
    age(d, now),
  ],
  wideRow: (d) => [...templateColumns(d.spec?.template), formatSelector(d.spec?.selector)],
});

const replicasets = printer<ReplicaSet>({
  headers: ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
  wideHeaders: ["CONTAINERS", "IMAGES", "SELECTOR"],
  row: (r, now) => [
    name(r),
    String(r.spec?.replicas ?? 1),
    String(r.status?.replicas ?? 0),
    String(r.status?.readyReplicas ?? 0),
    age(r, now),
  ],
  wideRow: (r) => [...templateColumns(r.spec?.template), formatSelector(r.spec?.selector)],
});

const daemonsets = printer<DaemonSet>({
  headers: ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
  wideHeaders: ["CONTAINERS", "IMAGES", "SELECTOR"],
  row: (d, now) => {
    const s = d.status;
    return [
      name(d),
      String(s?.desiredNumberScheduled ?? 0),
      String(s?.currentNumberScheduled ?? 0),
      String(s?.numberReady ?? 0),
      String(s?.updatedNumberScheduled ?? 0),
      String(s?.numberAvailable ?? 0),
      formatLabels(d.spec?.template?.spec?.nodeSelector),
      age(d, now),
    ];
  },
  wideRow: (d) => [...templateColumns(d.spec?.template), formatSelector(d.spec?.selector)],
});

const statefulsets = printer<StatefulSet>({
  headers: ["NAME", "READY", "AGE"],
  wideHeaders: ["CONTAINERS", "IMAGES"],
  row: (s, now) => [name(s), `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}`, age(s, now)],
  wideRow: (s) => templateColumns(s.spec?.template),
});

/** "Complete", "Failed", "Terminating", "Suspended" or "Running" (kubectl ≥ 1.28's STATUS column). */
export function jobStatus(j: Job): string {
  const has = (type: string): boolean => j.status?.conditions.some((c) => c.type === type && c.status === "True") ?? false;
  if (has("Complete")) return "Complete";
  if (has("Failed")) return "Failed";
  if (j.metadata?.deletionTimestamp) return "Terminating";
  if (has("Suspended")) return "Suspended";
  if (has("FailureTarget")) return "FailureTarget";
  if (has("SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

/** COMPLETIONS: "1/3", or "0/1 of 3" for a work-queue job with parallelism. */
export function jobCompletions(j: Job): string {
  const succeeded = j.status?.succeeded ?? 0;
  const completions = j.spec?.completions;
  const parallelism = j.spec?.parallelism;
  if (completions !== undefined) return `${succeeded}/${completions}`;
  if (parallelism !== undefined && parallelism > 1) return `${succeeded}/1 of ${parallelism}`;
  return `${succeeded}/1`;
}

/** DURATION: start to completion, or start to now while running; empty before the start. */
export function jobDuration(j: Job, now: Date): string {
  const start = toDate(j.status?.startTime);
  if (!start) return "";
  const end = toDate(j.status?.completionTime) ?? now;
  return humanDuration(end.getTime() - start.getTime());
}

const jobs = printer<Job>({
  headers: ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
  wideHeaders: ["CONTAINERS", "IMAGES", "SELECTOR"],
  row: (j, now) => [name(j), jobStatus(j), jobCompletions(j), jobDuration(j, now), age(j, now)],
  wideRow: (j) => [...templateColumns(j.spec?.template), formatSelector(j.spec?.selector)],
});

// kubectl's columns: LAST SCHEDULE is how long ago the last run was scheduled.
const cronjobs = printer<CronJob>({
  headers: ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"],
  wideHeaders: ["CONTAINERS", "IMAGES", "SELECTOR"],
  row: (c, now) => [
    name(c),
    c.spec?.schedule ?? "",
    c.spec?.timeZone ?? "<none>",
    c.spec?.suspend ? "True" : "False",
    String(c.status?.active.length ?? 0),
    c.status?.lastScheduleTime ? formatAge(c.status.lastScheduleTime, now) : "<none>",
    age(c, now),
  ],
  wideRow: (c) => [...templateColumns(c.spec?.jobTemplate?.spec?.template), formatSelector(c.spec?.jobTemplate?.spec?.selector)],
});

// ---------- config ----------

const configmaps = printer<ConfigMap>({
  headers: ["NAME", "DATA", "AGE"],
  row: (c, now) => [name(c), String(Object.keys(c.data).length + Object.keys(c.binaryData).length), age(c, now)],
});

const secrets = printer<Secret>({
  headers: ["NAME", "TYPE", "DATA", "AGE"],
  row: (s, now) => [name(s), s.type || "Opaque", String(Object.keys(s.data).length), age(s, now)],
});

const namespaces = printer<Namespace>({
  headers: ["NAME", "STATUS", "AGE"],
  row: (n, now) => [name(n), n.status?.phase || "Active", age(n, now)],
});

const leases = printer<Lease>({
  headers: ["NAME", "HOLDER", "AGE"],
  row: (l, now) => [name(l), l.spec?.holderIdentity ?? "", age(l, now)],
});

// ---------- events ----------

/** FIRST SEEN / LAST SEEN of an event: eventTime for new-style events, else first/lastTimestamp. */
export function eventTimes(e: Event, now: Date): { first: string; last: string } {
  const first = toDate(e.firstTimestamp) ? formatAge(e.firstTimestamp, now) : formatAge(e.eventTime, now);
  const last = toDate(e.lastTimestamp) ? formatAge(e.lastTimestamp, now) : first;
  return { first, last };
}

/** "pod/web-1", or just "node" for an object without a name. */
export function eventObject(e: Event): string {
  const kind = (e.involvedObject?.kind ?? "").toLowerCase();
  const n = e.involvedObject?.name ?? "";
  return n ? `${kind}/${n}` : kind;
}

function eventSource(e: Event): string {
  const component = e.source?.component || e.reportingComponent;
  return [component, e.source?.host].filter((s) => s).join(", ");
}

const events = printer<Event>({
  headers: ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
  row: (e, now) => [eventTimes(e, now).last, e.type, e.reason, eventObject(e), e.message.trim()],
  // `-o wide` for events reorders columns, so it replaces the row instead of extending it.
});
const eventsWide = printer<Event>({
  headers: ["LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"],
  row: (e, now) => {
    const t = eventTimes(e, now);
    return [
      t.last,
      e.type,
      e.reason,
      eventObject(e),
      e.involvedObject?.fieldPath ?? "",
      eventSource(e),
      e.message.trim(),
      t.first,
      String(e.count),
      name(e),
    ];
  },
});

const generic = printer<ApiObject>({
  headers: ["NAME", "AGE"],
  row: (o, now) => [name(o), age(o, now)],
});

const PRINTERS: Record<string, Printer<ApiObject>> = {
  Pod: pods,
  Node: nodes,
  Service: services,
  Endpoints: endpoints,
  Deployment: deployments,
  ReplicaSet: replicasets,
  DaemonSet: daemonsets,
  StatefulSet: statefulsets,
  Job: jobs,
  CronJob: cronjobs,
  ConfigMap: configmaps,
  Secret: secrets,
  Namespace: namespaces,
  Event: events,
  Lease: leases,
};

/** The column headers printTable uses for a kind. */
export function tableHeaders(kind: KindInfo, opts: Omit<TableOptions, "now">): string[] {
  const p = pickPrinter(kind, opts.wide);
  return [
    ...(opts.allNamespaces && kind.namespaced ? ["NAMESPACE"] : []),
    ...p.headers,
    ...(opts.wide ? (p.wideHeaders ?? []) : []),
  ];
}

function pickPrinter(kind: KindInfo, wide: boolean): Printer<ApiObject> {
  if (kind.kind === "Event" && wide) return eventsWide;
  return PRINTERS[kind.kind] ?? generic;
}

/**
 * `kubectl get`-style table: a header line, then one line per object, columns separated by two
 * spaces, newline-terminated. Returns "" for no objects (the caller says "No resources found").
 */
export function printTable(kind: KindInfo, objs: readonly ApiObject[], opts: TableOptions): string {
  if (objs.length === 0) return "";
  const p = pickPrinter(kind, opts.wide);
  const nsColumn = opts.allNamespaces && kind.namespaced;
  const rows = objs.map((o) => [
    ...(nsColumn ? [o.metadata?.namespace ?? ""] : []),
    ...p.row(o, opts.now),
    ...(opts.wide && p.wideRow ? p.wideRow(o, opts.now) : []),
  ]);
  return renderColumns([tableHeaders(kind, opts), ...rows]);
}

/**
 * Pads columns by hand rather than with cli-table3: even with blank border characters
 * cli-table3 pads the last column (trailing spaces on every line), colours the header
 * unless told not to, and counts widths its own way. kubectl's output is simply
 * left-aligned columns with no trailing whitespace, which this does in a few lines.
 */
export function renderColumns(rows: readonly (readonly string[])[], gap = COLUMN_GAP): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, textWidth(c))));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c + " ".repeat(widths[i]! - textWidth(c) + gap)))
        .join("")
        .trimEnd(),
    )
    .join("\n")
    .concat("\n");
}
