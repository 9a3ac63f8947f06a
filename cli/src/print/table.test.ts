import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CronJobs,
  ConfigMaps,
  DaemonSets,
  Deployments,
  EndpointsKind,
  Events,
  Jobs,
  Leases,
  Namespaces,
  Nodes,
  Pods,
  ReplicaSets,
  Secrets,
  Services,
  StatefulSets,
  type ApiObject,
  type KindInfo,
} from "@corral/api";
import { decodeManifest } from "@corral/manifest";
import { printTable } from "./table.js";

const NOW = new Date("2024-05-01T12:00:00Z");
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

function obj(kind: KindInfo, json: Record<string, unknown>): ApiObject {
  const [m] = decodeManifest({ apiVersion: kind.apiVersion, kind: kind.kind, ...json });
  return m!.object;
}

/** Splits printed lines into columns on runs of 2+ spaces (cells never contain those). */
function grid(text: string): string[][] {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => l.split(/ {2,}/));
}

function table(kind: KindInfo, objs: ApiObject[], wide = false, allNamespaces = false): Record<string, string>[] {
  const [headers, ...rows] = grid(printTable(kind, objs, { wide, allNamespaces, now: NOW }));
  return rows.map((r) => Object.fromEntries(headers!.map((h, i) => [h, r[i] ?? ""])));
}

function headers(kind: KindInfo, objs: ApiObject[], wide = false, allNamespaces = false): string[] {
  return grid(printTable(kind, objs, { wide, allNamespaces, now: NOW }))[0]!;
}

const meta = (name: string, age: number, extra: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: "default", creationTimestamp: ago(age), ...extra },
});

function pod(name: string, status: Record<string, unknown>, extra: Record<string, unknown> = {}): ApiObject {
  return obj(Pods, {
    ...meta(name, 5 * M, extra),
    spec: { nodeName: "node-1", containers: [{ name: "app", image: "nginx" }] },
    status,
  });
}

test("layout: upper-case headers, two spaces between columns, no trailing blanks", () => {
  const text = printTable(
    ConfigMaps,
    [obj(ConfigMaps, { ...meta("a", 5 * S), data: { x: "1" } }), obj(ConfigMaps, { ...meta("much-longer-name", 3 * M) })],
    { wide: false, allNamespaces: false, now: NOW },
  );
  assert.equal(text, "NAME              DATA  AGE\na                 1     5s\nmuch-longer-name  0     3m\n");
  assert.equal(printTable(ConfigMaps, [], { wide: false, allNamespaces: false, now: NOW }), "");
});

test("pods: READY, STATUS, RESTARTS, AGE and wide IP/NODE", () => {
  const running = pod("web", {
    phase: "Running",
    podIP: "10.0.0.5",
    conditions: [{ type: "Ready", status: "True" }],
    containerStatuses: [{ name: "app", ready: true, restartCount: 0, state: { running: { startedAt: ago(4 * M) } } }],
  });
  const crashing = pod("crash", {
    phase: "Running",
    containerStatuses: [
      {
        name: "app",
        restartCount: 4,
        state: { waiting: { reason: "CrashLoopBackOff" } },
        lastState: { terminated: { exitCode: 1, reason: "Error", finishedAt: ago(2 * M) } },
      },
    ],
  });
  const creating = pod("new", { phase: "Pending", containerStatuses: [{ name: "app", state: { waiting: { reason: "ContainerCreating" } } }] });
  const done = pod("job-x", { phase: "Succeeded", containerStatuses: [{ name: "app", state: { terminated: { exitCode: 0, reason: "Completed" } } }] });
  const killed = pod("oom", { phase: "Running", containerStatuses: [{ name: "app", state: { terminated: { exitCode: 137, signal: 9 } } }] });
  const terminating = pod("old", { phase: "Running", containerStatuses: [{ name: "app", ready: true, state: { running: {} } }] }, { deletionTimestamp: ago(S) });
  const pending = pod("pending", { phase: "Pending" });
  const init = obj(Pods, {
    ...meta("init", 10 * S),
    spec: { initContainers: [{ name: "a", image: "x" }, { name: "b", image: "x" }], containers: [{ name: "app", image: "x" }] },
    status: {
      phase: "Pending",
      initContainerStatuses: [
        { name: "a", state: { terminated: { exitCode: 0 } } },
        { name: "b", state: { running: {} } },
      ],
    },
  });
  const initFailed = obj(Pods, {
    ...meta("init-fail", 10 * S),
    spec: { initContainers: [{ name: "a", image: "x" }], containers: [{ name: "app", image: "x" }] },
    status: { phase: "Pending", initContainerStatuses: [{ name: "a", restartCount: 2, state: { waiting: { reason: "CrashLoopBackOff" } } }] },
  });

  const rows = table(Pods, [running, crashing, creating, done, killed, terminating, pending, init, initFailed]);
  assert.deepEqual(headers(Pods, [running]), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
  assert.deepEqual(rows[0], { NAME: "web", READY: "1/1", STATUS: "Running", RESTARTS: "0", AGE: "5m" });
  assert.deepEqual(rows[1], { NAME: "crash", READY: "0/1", STATUS: "CrashLoopBackOff", RESTARTS: "4 (2m ago)", AGE: "5m" });
  assert.equal(rows[2]!["STATUS"], "ContainerCreating");
  assert.equal(rows[3]!["STATUS"], "Completed");
  assert.equal(rows[4]!["STATUS"], "Signal:9");
  assert.equal(rows[5]!["STATUS"], "Terminating");
  assert.equal(rows[6]!["STATUS"], "Pending");
  assert.equal(rows[6]!["READY"], "0/1");
  assert.equal(rows[7]!["STATUS"], "Init:1/2");
  assert.deepEqual([rows[8]!["STATUS"], rows[8]!["RESTARTS"]], ["Init:CrashLoopBackOff", "2"]);

  const wide = table(Pods, [running, pending], true);
  assert.deepEqual(headers(Pods, [running], true), ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
  assert.equal(wide[0]!["IP"], "10.0.0.5");
  assert.equal(wide[0]!["NODE"], "node-1");
  assert.equal(wide[1]!["IP"], "<none>");
});

test("all namespaces adds NAMESPACE first for namespaced kinds only", () => {
  const p = obj(Pods, { metadata: { name: "p", namespace: "kube-system" }, spec: { containers: [{ name: "c" }] }, status: { phase: "Pending" } });
  assert.deepEqual(headers(Pods, [p], false, true), ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
  assert.equal(table(Pods, [p], false, true)[0]!["NAMESPACE"], "kube-system");
  assert.equal(table(Pods, [p])[0]!["AGE"], "<unknown>");
  const n = obj(Namespaces, { metadata: { name: "x" } });
  assert.deepEqual(headers(Namespaces, [n], false, true), ["NAME", "STATUS", "AGE"]);
});

test("nodes: STATUS, ROLES, VERSION and wide system columns", () => {
  const n = obj(Nodes, {
    metadata: { name: "node-1", creationTimestamp: ago(2 * D + 4 * H), labels: { "node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": "" } },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: "Ready", status: "True" }],
      addresses: [{ type: "InternalIP", address: "192.168.1.10" }, { type: "Hostname", address: "node-1" }],
      nodeInfo: { kubeletVersion: "v1.30.0", osImage: "Debian GNU/Linux 12", kernelVersion: "6.1.0", containerRuntimeVersion: "corral://0.1" },
    },
  });
  const down = obj(Nodes, { metadata: { name: "node-2" }, status: { conditions: [{ type: "Ready", status: "Unknown" }] } });
  const rows = table(Nodes, [n, down], true);
  assert.deepEqual(rows[0], {
    NAME: "node-1",
    STATUS: "Ready,SchedulingDisabled",
    ROLES: "control-plane,worker",
    AGE: "2d4h",
    VERSION: "v1.30.0",
    "INTERNAL-IP": "192.168.1.10",
    "EXTERNAL-IP": "<none>",
    "OS-IMAGE": "Debian GNU/Linux 12",
    "KERNEL-VERSION": "6.1.0",
    "CONTAINER-RUNTIME": "corral://0.1",
  });
  assert.equal(rows[1]!["STATUS"], "NotReady");
  assert.equal(rows[1]!["ROLES"], "<none>");
});

test("services: TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), wide SELECTOR", () => {
  const np = obj(Services, {
    ...meta("web", H),
    spec: {
      type: "NodePort",
      clusterIP: "10.96.0.20",
      selector: { app: "web", tier: "fe" },
      ports: [
        { port: 80, targetPort: "http", nodePort: 30080, protocol: "TCP" },
        { port: 53, protocol: "UDP" },
      ],
    },
  });
  const headless = obj(Services, { ...meta("db", H), spec: { clusterIP: "None" } });
  const rows = table(Services, [np, headless], true);
  assert.deepEqual(rows[0], {
    NAME: "web",
    TYPE: "NodePort",
    "CLUSTER-IP": "10.96.0.20",
    "EXTERNAL-IP": "<none>",
    "PORT(S)": "80:30080/TCP,53/UDP",
    AGE: "60m",
    SELECTOR: "app=web,tier=fe",
  });
  assert.deepEqual(rows[1], { NAME: "db", TYPE: "ClusterIP", "CLUSTER-IP": "None", "EXTERNAL-IP": "<none>", "PORT(S)": "<none>", AGE: "60m", SELECTOR: "<none>" });
});

test("endpoints: ip:port list, at most three", () => {
  const ep = obj(EndpointsKind, {
    ...meta("web", M),
    subsets: [{ addresses: [{ ip: "10.0.0.5" }, { ip: "10.0.0.6" }], ports: [{ port: 80 }] }],
  });
  const many = obj(EndpointsKind, {
    ...meta("many", M),
    subsets: [{ addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }, { ip: "10.0.0.3" }, { ip: "10.0.0.4" }, { ip: "fd00::1" }], ports: [{ port: 8080 }] }],
  });
  const empty = obj(EndpointsKind, meta("empty", M));
  const rows = table(EndpointsKind, [ep, many, empty]);
  assert.equal(rows[0]!["ENDPOINTS"], "10.0.0.5:80,10.0.0.6:80");
  assert.equal(rows[1]!["ENDPOINTS"], "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 2 more...");
  assert.equal(rows[2]!["ENDPOINTS"], "<none>");
});

test("workloads: deployments, replicasets, daemonsets, statefulsets, jobs", () => {
  const template = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.25" }, { name: "sidecar", image: "envoy" }] } };
  const d = obj(Deployments, {
    ...meta("web", 3 * M),
    spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template },
    status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  });
  assert.deepEqual(table(Deployments, [d], true)[0], {
    NAME: "web",
    READY: "2/3",
    "UP-TO-DATE": "3",
    AVAILABLE: "2",
    AGE: "3m",
    CONTAINERS: "web,sidecar",
    IMAGES: "nginx:1.25,envoy",
    SELECTOR: "app=web",
  });
  const rs = obj(ReplicaSets, { ...meta("web-abc", M), spec: { replicas: 3, template }, status: { replicas: 3, readyReplicas: 1 } });
  assert.deepEqual(table(ReplicaSets, [rs])[0], { NAME: "web-abc", DESIRED: "3", CURRENT: "3", READY: "1", AGE: "60s" });
  const ds = obj(DaemonSets, {
    ...meta("agent", M),
    spec: { template: { spec: { nodeSelector: { "kubernetes.io/os": "linux" }, containers: [{ name: "a" }] } } },
    status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 },
  });
  assert.deepEqual(table(DaemonSets, [ds])[0], {
    NAME: "agent",
    DESIRED: "3",
    CURRENT: "3",
    READY: "2",
    "UP-TO-DATE": "3",
    AVAILABLE: "2",
    "NODE SELECTOR": "kubernetes.io/os=linux",
    AGE: "60s",
  });
  const sts = obj(StatefulSets, { ...meta("db", M), spec: { template }, status: { readyReplicas: 1 } });
  assert.deepEqual(table(StatefulSets, [sts])[0], { NAME: "db", READY: "1/1", AGE: "60s" });

  const complete = obj(Jobs, {
    ...meta("migrate", 10 * M),
    spec: { completions: 1, template },
    status: { succeeded: 1, startTime: ago(10 * M), completionTime: ago(10 * M - 30 * S), conditions: [{ type: "Complete", status: "True" }] },
  });
  const running = obj(Jobs, { ...meta("work", 5 * M), spec: { parallelism: 3, template }, status: { startTime: ago(4 * M), active: 3 } });
  const rows = table(Jobs, [complete, running]);
  assert.deepEqual(headers(Jobs, [complete]), ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]);
  assert.deepEqual(rows[0], { NAME: "migrate", STATUS: "Complete", COMPLETIONS: "1/1", DURATION: "30s", AGE: "10m" });
  assert.deepEqual(rows[1], { NAME: "work", STATUS: "Running", COMPLETIONS: "0/1 of 3", DURATION: "4m", AGE: "5m" });

  const cj = obj(CronJobs, {
    ...meta("backup", 3 * 60 * M),
    spec: { schedule: "0 * * * *", jobTemplate: { spec: { template } } },
    status: { active: [{ kind: "Job", name: "backup-1" }], lastScheduleTime: ago(5 * M) },
  });
  assert.deepEqual(table(CronJobs, [cj])[0], { NAME: "backup", SCHEDULE: "0 * * * *", TIMEZONE: "<none>", SUSPEND: "False", ACTIVE: "1", "LAST SCHEDULE": "5m", AGE: "3h" });
});

test("configmaps, secrets, namespaces, leases", () => {
  const cm = obj(ConfigMaps, { ...meta("cfg", S), data: { a: "1", b: "2" }, binaryData: { c: "AA==" } });
  assert.deepEqual(table(ConfigMaps, [cm])[0], { NAME: "cfg", DATA: "3", AGE: "1s" });
  const s = obj(Secrets, { ...meta("tls", S), type: "kubernetes.io/tls", data: { "tls.crt": "AA==", "tls.key": "AA==" } });
  const opaque = obj(Secrets, { ...meta("plain", S), data: { a: "AA==" } });
  const rows = table(Secrets, [s, opaque]);
  assert.deepEqual(rows[0], { NAME: "tls", TYPE: "kubernetes.io/tls", DATA: "2", AGE: "1s" });
  assert.equal(rows[1]!["TYPE"], "Opaque");
  const ns = obj(Namespaces, { metadata: { name: "gone", creationTimestamp: ago(D) }, status: { phase: "Terminating" } });
  assert.deepEqual(table(Namespaces, [ns])[0], { NAME: "gone", STATUS: "Terminating", AGE: "24h" });
  const l = obj(Leases, { ...meta("node-1", 40 * D), spec: { holderIdentity: "node-1" } });
  assert.deepEqual(table(Leases, [l])[0], { NAME: "node-1", HOLDER: "node-1", AGE: "40d" });
});

test("events: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE", () => {
  const e = obj(Events, {
    ...meta("web.17a", 10 * M),
    involvedObject: { kind: "Pod", name: "web-1", namespace: "default", fieldPath: "spec.containers{app}" },
    reason: "BackOff",
    message: "Back-off restarting failed container  \n",
    type: "Warning",
    firstTimestamp: ago(10 * M),
    lastTimestamp: ago(30 * S),
    count: 7,
    source: { component: "kubelet", host: "node-1" },
  });
  const fresh = obj(Events, { ...meta("n.1", S), involvedObject: { kind: "Node" }, reason: "Starting", type: "Normal", eventTime: ago(S) });
  const rows = table(Events, [e, fresh]);
  assert.deepEqual(headers(Events, [e]), ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
  assert.deepEqual(rows[0], { "LAST SEEN": "30s", TYPE: "Warning", REASON: "BackOff", OBJECT: "pod/web-1", MESSAGE: "Back-off restarting failed container" });
  assert.equal(rows[1]!["LAST SEEN"], "1s");
  assert.equal(rows[1]!["OBJECT"], "node");
  const wide = table(Events, [e], true, true)[0]!;
  assert.equal(wide["NAMESPACE"], "default");
  assert.equal(wide["SUBOBJECT"], "spec.containers{app}");
  assert.equal(wide["SOURCE"], "kubelet, node-1");
  assert.equal(wide["FIRST SEEN"], "10m");
  assert.equal(wide["COUNT"], "7");
});
