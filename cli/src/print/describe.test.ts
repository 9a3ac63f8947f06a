import { test } from "node:test";
import assert from "node:assert/strict";
import { type ApiObject, type Endpoints, type Event, type KindInfo, type Lease } from "@corral/api";
import { parseManifests } from "@corral/manifest";
import { describeObject } from "./describe.js";

const NOW = new Date("2024-05-01T12:00:00Z");

function load(yaml: string): { kind: KindInfo; object: ApiObject }[] {
  return parseManifests(yaml, "test.yaml");
}

/** The value on the first line whose label (after indentation) is `label:`; undefined if none. */
function field(text: string, label: string, from = 0): string | undefined {
  for (const line of text.split("\n").slice(from)) {
    const m = /^\s*([^:]+):(?:\s+(.*))?$/.exec(line);
    if (m && m[1] === label) return (m[2] ?? "").trim();
  }
  return undefined;
}

function lineIndex(text: string, re: RegExp): number {
  return text.split("\n").findIndex((l) => re.test(l));
}

const POD = `
apiVersion: v1
kind: Pod
metadata:
  name: web-abc
  namespace: shop
  labels: {app: web, pod-template-hash: 7d4b9c}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d4b9c, uid: x, controller: true}]
spec:
  nodeName: node-1
  containers:
  - name: web
    image: nginx:1.25
    ports: [{containerPort: 80}]
    env:
    - {name: MODE, value: prod}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: PASS, valueFrom: {secretKeyRef: {name: db, key: password}}}
    - {name: LEVEL, valueFrom: {configMapKeyRef: {name: cfg, key: level, optional: true}}}
    resources: {limits: {memory: 128Mi, cpu: 500m}, requests: {cpu: 250m, memory: 64Mi}}
    livenessProbe: {httpGet: {path: /healthz, port: http}, initialDelaySeconds: 10, periodSeconds: 5}
    readinessProbe: {tcpSocket: {port: 80}}
    volumeMounts: [{name: cfg, mountPath: /etc/web, readOnly: true}, {name: cache, mountPath: /cache, subPath: web}]
  - name: sidecar
    image: envoy
    command: [envoy, -c, /etc/envoy.yaml]
  volumes:
  - {name: cfg, configMap: {name: web-config}}
  - {name: cache, emptyDir: {medium: Memory}}
status:
  phase: Running
  hostIP: 192.168.1.10
  podIP: 10.0.0.5
  startTime: "2024-05-01T11:00:00Z"
  conditions: [{type: Ready, status: "True"}, {type: PodScheduled, status: "True"}]
  containerStatuses:
  - name: web
    ready: true
    restartCount: 2
    state: {running: {startedAt: "2024-05-01T11:00:05Z"}}
    lastState: {terminated: {exitCode: 137, reason: OOMKilled}}
  - name: sidecar
    state: {waiting: {reason: CrashLoopBackOff}}
`;

const EVENTS = `
apiVersion: v1
kind: Event
metadata: {name: e2, namespace: shop}
involvedObject: {kind: Pod, name: web-abc}
reason: BackOff
message: "Back-off restarting failed container "
type: Warning
source: {component: kubelet}
firstTimestamp: "2024-05-01T11:00:02Z"
lastTimestamp: "2024-05-01T11:58:00Z"
count: 5
---
apiVersion: v1
kind: Event
metadata: {name: e1, namespace: shop}
involvedObject: {kind: Pod, name: web-abc}
reason: Scheduled
message: Successfully assigned shop/web-abc to node-1
type: Normal
source: {component: default-scheduler}
firstTimestamp: "2024-05-01T11:00:00Z"
lastTimestamp: "2024-05-01T11:00:00Z"
count: 1
`;

test("pod: header, containers, conditions, volumes, events", () => {
  const [pod] = load(POD);
  const events = load(EVENTS).map((e) => e.object as Event);
  const text = describeObject(pod!.kind, pod!.object, events, NOW);
  assert.equal(field(text, "Name"), "web-abc");
  assert.equal(field(text, "Namespace"), "shop");
  assert.equal(field(text, "Node"), "node-1/192.168.1.10");
  assert.equal(field(text, "Start Time"), "Wed, 01 May 2024 11:00:00 +0000");
  assert.equal(field(text, "Labels"), "app=web");
  assert.match(text, /^Labels:\s+app=web\n\s+pod-template-hash=7d4b9c\n/m);
  assert.equal(field(text, "Annotations"), "<none>");
  assert.equal(field(text, "Status"), "Running");
  assert.equal(field(text, "IP"), "10.0.0.5");
  assert.equal(field(text, "Controlled By"), "ReplicaSet/web-7d4b9c");

  const web = lineIndex(text, /^ {2}web:$/);
  const sidecar = lineIndex(text, /^ {2}sidecar:$/);
  assert.ok(web > 0 && sidecar > web);
  assert.equal(field(text, "Image", web), "nginx:1.25");
  assert.equal(field(text, "Port", web), "80/TCP");
  assert.equal(field(text, "State", web), "Running");
  assert.equal(field(text, "Last State", web), "Terminated");
  assert.equal(field(text, "Reason", web), "OOMKilled");
  assert.equal(field(text, "Ready", web), "True");
  assert.equal(field(text, "Restart Count", web), "2");
  assert.match(text, /Limits:\n\s+cpu:\s+500m\n\s+memory:\s+128Mi\n\s+Requests:\n\s+cpu:\s+250m\n\s+memory:\s+64Mi\n/);
  assert.equal(field(text, "Liveness", web), "http-get http://:http/healthz delay=10s timeout=1s period=5s #success=1 #failure=3");
  assert.equal(field(text, "Readiness", web), "tcp-socket :80 delay=0s timeout=1s period=10s #success=1 #failure=3");
  assert.equal(field(text, "MODE", web), "prod");
  assert.equal(field(text, "POD_NAME", web), "web-abc (v1:metadata.name)");
  assert.match(text, /PASS:\s+<set to the key 'password' in secret 'db'>\s+Optional: false/);
  assert.match(text, /LEVEL:\s+<set to the key 'level' of config map 'cfg'>\s+Optional: true/);
  assert.match(text, /Mounts:\n\s+\/cache from cache \(rw,path="web"\)\n\s+\/etc\/web from cfg \(ro\)\n/);
  assert.equal(field(text, "State", sidecar), "Waiting");
  assert.equal(field(text, "Reason", sidecar), "CrashLoopBackOff");
  assert.match(text, /Command:\n\s+envoy\n\s+-c\n\s+\/etc\/envoy\.yaml\n/);
  assert.equal(field(text, "Environment", sidecar), "<none>");
  assert.equal(field(text, "Mounts", sidecar), "<none>");

  assert.match(text, /^Conditions:\n {2}Type\s+Status\n {2}Ready\s+True\n {2}PodScheduled\s+True\n/m);
  const volumes = lineIndex(text, /^Volumes:$/);
  assert.equal(field(text, "Type", volumes), "ConfigMap (a volume populated by a ConfigMap)");
  assert.match(text, /cache:\n\s+Type:\s+EmptyDir \(a temporary directory that shares a pod's lifetime\)\n\s+Medium:\s+Memory\n/);
  assert.equal(field(text, "QoS Class"), "Burstable");
  assert.equal(field(text, "Tolerations"), "<none>");

  // Events last, oldest first, with repeat counts.
  const lines = text.trimEnd().split("\n");
  const ev = lineIndex(text, /^Events:$/);
  assert.ok(ev > volumes);
  assert.match(lines[ev + 1]!, /^ {2}Type\s+Reason\s+Age\s+From\s+Message$/);
  assert.match(lines[ev + 3]!, /^ {2}Normal\s+Scheduled\s+60m\s+default-scheduler\s+Successfully assigned shop\/web-abc to node-1$/);
  assert.match(lines[ev + 4]!, /^ {2}Warning\s+BackOff\s+2m \(x5 over 59m\)\s+kubelet\s+Back-off restarting failed container$/);
  assert.equal(lines.length, ev + 5);
});

test("pod: no events, terminating, none values", () => {
  const [pod] = load(`apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default, deletionTimestamp: "2024-05-01T11:59:30Z", deletionGracePeriodSeconds: 30}\nspec: {containers: [{name: c, image: busybox}]}\nstatus: {phase: Running}\n`);
  const text = describeObject(pod!.kind, pod!.object, [], NOW);
  assert.equal(field(text, "Node"), "<none>");
  assert.equal(field(text, "Status"), "Terminating (lasts 30s)");
  assert.equal(field(text, "Termination Grace Period"), "30s");
  assert.equal(field(text, "IPs"), "<none>");
  assert.equal(field(text, "Port"), "<none>");
  assert.equal(field(text, "Volumes"), "<none>");
  assert.equal(field(text, "QoS Class"), "BestEffort");
  assert.match(text, /\nEvents:\s+<none>\n$/);
  assert.ok(!describeObject(pod!.kind, pod!.object, null, NOW).includes("Events:"));
});

test("deployment: replicas line, strategy, pod template, conditions", () => {
  const [d] = load(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, creationTimestamp: "2024-05-01T11:00:00Z"}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}, matchExpressions: [{key: tier, operator: In, values: [fe, edge]}]}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.25", ports: [{containerPort: 80}], env: [{name: A, value: b}]}]
      volumes: [{name: data, hostPath: {path: /srv}}]
status: {replicas: 3, updatedReplicas: 3, availableReplicas: 3, readyReplicas: 3, conditions: [{type: Available, status: "True", reason: MinimumReplicasAvailable}]}
`);
  const text = describeObject(d!.kind, d!.object, [], NOW);
  assert.equal(field(text, "CreationTimestamp"), "Wed, 01 May 2024 11:00:00 +0000");
  assert.equal(field(text, "Selector"), "app=web,tier in (edge,fe)");
  assert.equal(field(text, "Replicas"), "3 desired | 3 updated | 3 total | 3 available | 0 unavailable");
  assert.equal(field(text, "StrategyType"), "RollingUpdate");
  assert.equal(field(text, "RollingUpdateStrategy"), "0 max unavailable, 25% max surge");
  const tpl = lineIndex(text, /^Pod Template:$/);
  assert.ok(tpl > 0);
  assert.match(text, /^ {2}Labels:\s+app=web$/m);
  assert.match(text, /^ {2}Containers:\n {3}web:\n {4}Image:\s+nginx:1\.25\n/m);
  assert.equal(field(text, "A", tpl), "b");
  assert.equal(field(text, "Path", tpl), "/srv");
  assert.match(text, /^Conditions:\n {2}Type\s+Status\s+Reason\n {2}----\s+------\s+------\n {2}Available\s+True\s+MinimumReplicasAvailable$/m);
  assert.match(text, /\nEvents:\s+<none>\n$/);
});

test("service: type, IP, ports, target ports, node ports, endpoints", () => {
  const [svc, ep] = load(`
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  clusterIP: 10.96.0.20
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080, protocol: TCP}, {name: metrics, port: 9090, targetPort: 9091}]
  sessionAffinity: ClientIP
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: shop}
subsets: [{addresses: [{ip: 10.0.0.5}, {ip: 10.0.0.6}], ports: [{name: http, port: 8080}, {name: metrics, port: 9091}]}]
`);
  const text = describeObject(svc!.kind, svc!.object, [], NOW, { endpoints: ep!.object as Endpoints });
  assert.equal(field(text, "Type"), "NodePort");
  assert.equal(field(text, "IP"), "10.96.0.20");
  assert.equal(field(text, "Selector"), "app=web");
  assert.match(text, /^Port:\s+http\s+80\/TCP\nTargetPort:\s+http\/TCP\nNodePort:\s+http\s+30080\/TCP\nEndpoints:\s+10\.0\.0\.5:8080,10\.0\.0\.6:8080\n/m);
  assert.match(text, /^Port:\s+metrics\s+9090\/TCP\nTargetPort:\s+9091\/TCP\nEndpoints:\s+10\.0\.0\.5:9091,10\.0\.0\.6:9091\n/m);
  assert.equal(field(text, "Session Affinity"), "ClientIP");
  const bare = describeObject(svc!.kind, svc!.object, [], NOW);
  assert.equal(field(bare, "Endpoints"), "<none>");
});

test("node: roles, taints, conditions, addresses, capacity, system info", () => {
  const [node, lease] = load(`
apiVersion: v1
kind: Node
metadata: {name: node-1, labels: {node-role.kubernetes.io/control-plane: "", kubernetes.io/hostname: node-1}}
spec: {unschedulable: true, taints: [{key: dedicated, value: gpu, effect: NoSchedule}, {key: node.kubernetes.io/unschedulable, effect: NoSchedule}]}
status:
  capacity: {pods: "110", memory: 8Gi, cpu: "4"}
  allocatable: {cpu: 3800m, memory: 7Gi, pods: "110"}
  conditions: [{type: Ready, status: "True", lastHeartbeatTime: "2024-05-01T11:59:50Z", reason: KubeletReady, message: kubelet is posting ready status}]
  addresses: [{type: InternalIP, address: 192.168.1.10}, {type: Hostname, address: node-1}]
  nodeInfo: {kernelVersion: 6.1.0, osImage: Debian 12, containerRuntimeVersion: "corral://0.1", kubeletVersion: v1.30.0, operatingSystem: linux, architecture: amd64}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: node-1, namespace: kube-node-lease}
spec: {holderIdentity: node-1, renewTime: "2024-05-01T11:59:59Z"}
`);
  const text = describeObject(node!.kind, node!.object, null, NOW, { lease: lease!.object as Lease });
  assert.ok(!/^Namespace:/m.test(text));
  assert.equal(field(text, "Roles"), "control-plane");
  assert.match(text, /^Taints:\s+dedicated=gpu:NoSchedule\n\s+node\.kubernetes\.io\/unschedulable:NoSchedule\n/m);
  assert.equal(field(text, "Unschedulable"), "true");
  assert.equal(field(text, "HolderIdentity"), "node-1");
  assert.match(text, /^ {2}Type\s+Status\s+LastHeartbeatTime\s+LastTransitionTime\s+Reason\s+Message$/m);
  assert.match(text, /^ {2}Ready\s+True\s+Wed, 01 May 2024 11:59:50 \+0000\s+<unset>\s+KubeletReady\s+kubelet is posting ready status$/m);
  assert.equal(field(text, "InternalIP"), "192.168.1.10");
  assert.match(text, /^Capacity:\n {2}cpu:\s+4\n {2}memory:\s+8Gi\n {2}pods:\s+110\n/m);
  assert.match(text, /^Allocatable:\n {2}cpu:\s+3800m\n/m);
  assert.equal(field(text, "Kubelet Version"), "v1.30.0");
  assert.equal(field(text, "Container Runtime Version"), "corral://0.1");
});

test("configmap and secret: data shown, secret values never", () => {
  const [cm, secret] = load(`
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data: {level: debug}
binaryData: {logo.png: iVBORw0KGgo=}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
type: Opaque
data: {password: czNjcjN0}
`);
  const c = describeObject(cm!.kind, cm!.object, [], NOW);
  assert.match(c, /^Data\n====\nlevel:\n----\ndebug\n/m);
  assert.match(c, /^BinaryData\n====\nlogo\.png: 8 bytes\n/m);
  const s = describeObject(secret!.kind, secret!.object, [], NOW);
  assert.equal(field(s, "Type"), "Opaque");
  assert.equal(field(s, "password"), "6 bytes");
  assert.ok(!s.includes("s3cr3t") && !s.includes("czNjcjN0"));
});

test("other kinds: generic dump of spec and status", () => {
  const [lease, job] = load(`
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: sched, namespace: kube-system, labels: {a: b}}
spec: {holderIdentity: sched-1, leaseDurationSeconds: 15}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec: {completions: 1, template: {spec: {restartPolicy: Never, containers: [{name: m, image: migrate}]}}}
status: {succeeded: 1}
`);
  const l = describeObject(lease!.kind, lease!.object, [], NOW);
  assert.equal(field(l, "Name"), "sched");
  assert.equal(field(l, "Labels"), "a=b");
  assert.match(l, /^Spec:\n {2}Holder Identity:\s+sched-1\n {2}Lease Duration Seconds:\s+15\n/m);
  const j = describeObject(job!.kind, job!.object, [], NOW);
  assert.match(j, /^Spec:\n {2}Completions:\s+1\n {2}Template:\n/m);
  assert.equal(field(j, "Image"), "migrate");
  assert.match(j, /^Status:\n {2}Succeeded:\s+1\n/m);
  assert.ok(j.trimEnd().endsWith("Events:  <none>"));
});
