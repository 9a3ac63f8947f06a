import { test } from "node:test";
import assert from "node:assert/strict";
import { create, equals } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ConfigMaps,
  Deployments,
  PodSchema,
  Pods,
  type Deployment,
  type Job,
  type Lease,
  type Pod,
  type Secret,
  type Service,
} from "@corral/api";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { ManifestError, decodeManifest, parseManifests, toManifest, toYaml } from "./index.js";

const DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
    app.kubernetes.io/part-of: shop
  annotations:
    deployment.kubernetes.io/revision: "3"
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 30
      containers:
      - name: web
        image: nginx:1.25
        imagePullPolicy: IfNotPresent
        args: ["--port", "8080"]
        ports:
        - name: http
          containerPort: 8080
          protocol: TCP
        env:
        - name: MODE
          value: production
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef:
              name: db
              key: password
              optional: false
        - name: LOG_LEVEL
          valueFrom:
            configMapKeyRef:
              name: web-config
              key: logLevel
        resources:
          limits:
            cpu: 500m
            memory: 128Mi
          requests:
            cpu: 250m
            memory: 64Mi
        livenessProbe:
          httpGet:
            path: /healthz
            port: http
            scheme: HTTP
          initialDelaySeconds: 10
          periodSeconds: 5
        readinessProbe:
          tcpSocket:
            port: 8080
          failureThreshold: 3
        startupProbe:
          exec:
            command: ["cat", "/tmp/ready"]
        volumeMounts:
        - name: config
          mountPath: /etc/web
          readOnly: true
        - name: cache
          mountPath: /var/cache/nginx
      volumes:
      - name: config
        configMap:
          name: web-config
          defaultMode: 420
      - name: cache
        emptyDir:
          sizeLimit: 1Gi
      - name: certs
        secret:
          secretName: web-tls
      - name: logs
        hostPath:
          path: /var/log/web
          type: DirectoryOrCreate
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 25%
status:
  observedGeneration: 4
  replicas: 3
  readyReplicas: 3
  conditions:
  - type: Available
    status: "True"
    lastUpdateTime: "2024-05-01T10:00:00Z"
    lastTransitionTime: "2024-05-01T10:00:00Z"
    reason: MinimumReplicasAvailable
    message: Deployment has minimum availability.
`;

const SERVICE = `
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  type: NodePort
  selector:
    app: web
  clusterIP: 10.96.0.20
  ports:
  - name: http
    port: 80
    targetPort: http
    nodePort: 30080
    protocol: TCP
  - name: metrics
    port: 9090
    targetPort: 9091
    protocol: TCP
  sessionAffinity: None
`;

const CONFIGMAP = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  logLevel: debug
  nginx.conf: |
    server {
      listen 8080;
    }
binaryData:
  logo.png: iVBORw0KGgo=
`;

const SECRET = `
apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
data:
  password: czNjcjN0
  username: YWRtaW4=
stringData:
  host: db.shop.svc
`;

const JOB = `
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  backoffLimit: 4
  completions: 1
  parallelism: 1
  activeDeadlineSeconds: 600
  ttlSecondsAfterFinished: 100
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: shop/migrate:2
        command: ["/bin/migrate", "up"]
status:
  startTime: "2024-05-01T10:00:00Z"
  completionTime: "2024-05-01T10:01:30.250Z"
  succeeded: 1
`;

const LEASE = `
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: kube-scheduler
  namespace: kube-system
spec:
  holderIdentity: scheduler-1_8d3c
  leaseDurationSeconds: 15
  acquireTime: "2024-05-01T10:00:00.123456Z"
  renewTime: "2024-05-01T10:05:00Z"
  leaseTransitions: 2
`;

const NAMESPACE = `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    team: payments
status:
  phase: Active
`;

function roundTrip(text: string): void {
  const [obj, ...rest] = parseManifests(text, "t.yaml");
  assert.equal(rest.length, 0);
  assert.ok(obj);
  assert.deepEqual(toManifest(obj.kind, obj.object), parseYaml(text));
}

test("Deployment round-trips", () => roundTrip(DEPLOYMENT));
test("Service round-trips", () => roundTrip(SERVICE));
test("ConfigMap round-trips", () => roundTrip(CONFIGMAP));
test("Secret round-trips", () => roundTrip(SECRET));
test("Job round-trips", () => roundTrip(JOB));
test("Lease round-trips", () => roundTrip(LEASE));
test("Namespace round-trips", () => roundTrip(NAMESPACE));

test("Deployment fields land in the message", () => {
  const [m] = parseManifests(DEPLOYMENT, "deploy.yaml");
  assert.equal(m?.kind, Deployments);
  assert.equal(m?.source, "deploy.yaml#1");
  const d = m?.object as Deployment;
  assert.equal(d.metadata?.name, "web");
  assert.equal(d.spec?.replicas, 3);
  assert.deepEqual(d.spec?.strategy?.rollingUpdate?.maxSurge?.value, { case: "strVal", value: "25%" });
  assert.deepEqual(d.spec?.strategy?.rollingUpdate?.maxUnavailable?.value, { case: "intVal", value: 0 });
  const c = d.spec?.template?.spec?.containers[0];
  assert.deepEqual(c?.livenessProbe?.httpGet?.port?.value, { case: "strVal", value: "http" });
  assert.deepEqual(c?.readinessProbe?.tcpSocket?.port?.value, { case: "intVal", value: 8080 });
  assert.equal(c?.resources?.limits["memory"], "128Mi");
  assert.equal(c?.env[2]?.valueFrom?.secretKeyRef?.key, "password");
  assert.equal(d.spec?.template?.spec?.terminationGracePeriodSeconds, 30n);
  assert.equal(d.spec?.template?.spec?.volumes[3]?.hostPath?.type, "DirectoryOrCreate");
  assert.equal(d.status?.conditions[0]?.lastTransitionTime?.seconds, BigInt(Date.parse("2024-05-01T10:00:00Z") / 1000));
});

test("Service target ports: name, number and nodePort", () => {
  const [m] = parseManifests(SERVICE);
  const svc = m?.object as Service;
  assert.deepEqual(svc.spec?.ports[0]?.targetPort?.value, { case: "strVal", value: "http" });
  assert.equal(svc.spec?.ports[0]?.nodePort, 30080);
  assert.deepEqual(svc.spec?.ports[1]?.targetPort?.value, { case: "intVal", value: 9091 });
  const out = toManifest(m!.kind, svc) as { spec: { ports: { targetPort: unknown }[] } };
  assert.equal(out.spec.ports[0]?.targetPort, "http");
  assert.equal(out.spec.ports[1]?.targetPort, 9091);
});

test("Secret data stays base64 bytes, stringData plain text", () => {
  const [m] = parseManifests(SECRET);
  const s = m?.object as Secret;
  assert.equal(new TextDecoder().decode(s.data["password"]), "s3cr3t");
  assert.equal(s.stringData["host"], "db.shop.svc");
  assert.equal((toManifest(m!.kind, s) as { data: Record<string, string> }).data["username"], "YWRtaW4=");
});

test("timestamps and int64 come back in Kubernetes form", () => {
  const [job] = parseManifests(JOB);
  const j = job?.object as Job;
  assert.equal(j.spec?.activeDeadlineSeconds, 600n);
  assert.equal(j.status?.completionTime?.nanos, 250_000_000);
  const out = toManifest(job!.kind, j) as { spec: { activeDeadlineSeconds: unknown } };
  assert.equal(out.spec.activeDeadlineSeconds, 600);
  const [lease] = parseManifests(LEASE);
  assert.equal((lease?.object as Lease).spec?.holderIdentity, "scheduler-1_8d3c");
});

test("toManifest puts apiVersion and kind first, then metadata, spec, status", () => {
  const [m] = parseManifests(DEPLOYMENT);
  assert.deepEqual(Object.keys(toManifest(m!.kind, m!.object)), ["apiVersion", "kind", "metadata", "spec", "status"]);
  const pod = create(PodSchema, { metadata: { name: "p", generation: 2n, creationTimestamp: timestampFromDate(new Date("2024-01-02T03:04:05Z")) } });
  assert.deepEqual(toManifest(Pods, pod), {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", generation: 2, creationTimestamp: "2024-01-02T03:04:05Z" },
  });
});

test("multi-document stream: empty documents are skipped but still counted", () => {
  const text = `---\n# just a comment\n---\n${NAMESPACE}\n---\n---\n${CONFIGMAP}\n---\n`;
  const objs = parseManifests(text, "all.yaml");
  assert.deepEqual(
    objs.map((o) => [o.kind.kind, o.source]),
    [
      ["Namespace", "all.yaml#2"],
      ["ConfigMap", "all.yaml#4"],
    ],
  );
  assert.deepEqual(parseManifests(""), []);
  assert.deepEqual(parseManifests("# nothing\n"), []);
});

test("kind: List is expanded, typed lists may leave out apiVersion and kind", () => {
  const list = `
apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- ${JSON.stringify(parseYaml(NAMESPACE))}
- ${JSON.stringify(parseYaml(DEPLOYMENT))}
`;
  const objs = parseManifests(list, "list.yaml");
  assert.deepEqual(objs.map((o) => o.kind.kind), ["Namespace", "Deployment"]);
  assert.equal(objs[1]?.source, "list.yaml#1 items[1]");
  assert.deepEqual(toManifest(objs[1]!.kind, objs[1]!.object), parseYaml(DEPLOYMENT));

  const typed = parseManifests(`apiVersion: v1\nkind: ConfigMapList\nitems:\n- metadata: {name: a}\n- metadata: {name: b}\n`);
  assert.deepEqual(typed.map((o) => [o.kind, o.object.metadata?.name]), [
    [ConfigMaps, "a"],
    [ConfigMaps, "b"],
  ]);
});

test("JSON is accepted", () => {
  const json = JSON.stringify(parseYaml(SERVICE), null, "\t");
  const [m] = parseManifests(json, "svc.json");
  assert.equal(m?.source, "svc.json#1");
  assert.deepEqual(toManifest(m!.kind, m!.object), parseYaml(SERVICE));
  const [d] = decodeManifest(JSON.parse(json) as unknown, "api");
  assert.ok(d && equals(d.kind.schema, d.object, m!.object));
});

test("numbers where strings are expected become their string form, as written", () => {
  const text = `
apiVersion: v1
kind: Pod
metadata:
  name: p
  labels:
    version: 1.10
    build: 42
  annotations:
    replicas: 007
spec:
  containers:
  - name: c
    image: busybox
    args: [sleep, 3600]
    env:
    - name: PORT
      value: 8080
    - name: DEBUG
      value: true
    resources:
      limits: {cpu: 1, memory: 128974848}
      requests: {cpu: 0.5, memory: 1e3}
`;
  const [m] = parseManifests(text);
  const pod = m?.object as Pod;
  assert.deepEqual(pod.metadata?.labels, { version: "1.10", build: "42" });
  assert.equal(pod.metadata?.annotations["replicas"], "007");
  const c = pod.spec!.containers[0]!;
  assert.deepEqual(c.args, ["sleep", "3600"]);
  assert.deepEqual(c.env.map((e) => e.value), ["8080", "true"]);
  assert.deepEqual(c.resources?.limits, { cpu: "1", memory: "128974848" });
  assert.deepEqual(c.resources?.requests, { cpu: "0.5", memory: "1e3" });
  // Without the YAML source (already-parsed JSON), numbers get JavaScript's string form.
  const [j] = decodeManifest({ apiVersion: "v1", kind: "ConfigMap", data: { n: 2.5 } });
  assert.deepEqual((j?.object as unknown as { data: Record<string, string> }).data, { n: "2.5" });
});

test("toYaml prints kubectl-style multi-document YAML that parses back", () => {
  const objs = parseManifests(`${DEPLOYMENT}\n---\n${CONFIGMAP}\n---\n${SECRET}`);
  const text = toYaml(objs);
  assert.ok(text.startsWith("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"), text);
  assert.equal(text.split(/^---$/m).length, 3);
  assert.match(text, /^ {6}containers:\n {6}- name: web\n/m, "sequences are not indented under their key");
  assert.match(text, /^ {4}status: "True"$/m, "strings that look like other types are quoted");
  assert.match(text, /deployment\.kubernetes\.io\/revision: "3"/);
  assert.match(text, /nginx\.conf: \|\n {4}server \{\n/, "multi-line strings as block literals");
  const back = parseManifests(text);
  assert.equal(back.length, 3);
  back.forEach((b, i) => assert.ok(equals(b.kind.schema, b.object, objs[i]!.object)));
  // plain JSON documents work too
  assert.equal(toYaml([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } }]), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n");
  assert.equal(toYaml([]), "");
  assert.equal(parseAllDocuments(toYaml(objs)).length, 3);
});

// ---------- errors ----------

function parseError(text: string, source = "file.yaml"): ManifestError {
  try {
    parseManifests(text, source);
  } catch (e) {
    assert.ok(e instanceof ManifestError, `expected ManifestError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected an error");
}

test("unknown kind or apiVersion names the document", () => {
  const e = parseError(`${NAMESPACE}\n---\napiVersion: v1\nkind: Foo\nmetadata: {name: x}\n`);
  assert.match(e.message, /^file\.yaml#2: no kind "Foo" is registered for version "v1"/);
  assert.equal(e.source, "file.yaml#2");
  const e2 = parseError(`apiVersion: apps/v2\nkind: Deployment\n`);
  assert.match(e2.message, /^file\.yaml#1: no kind "Deployment" is registered for version "apps\/v2" \(did you mean apiVersion "apps\/v1"\?\)/);
  assert.match(parseError(`apiVersion: v1\nkind: Deployment\n`).message, /did you mean apiVersion "apps\/v1"/);
  assert.match(parseError(`apiVersion: v1\nkind: pod\n`).message, /did you mean kind "Pod"/);
  assert.match(parseError(`apiVersion: apps/v1\nkind: List\nitems: []\n`).message, /no kind "List" is registered for version "apps\/v1"/);
});

test("missing apiVersion or kind", () => {
  assert.match(parseError(`kind: Pod\nmetadata: {name: x}\n`).message, /^file\.yaml#1: missing required field "apiVersion"/);
  assert.match(parseError(`apiVersion: v1\nmetadata: {name: x}\n`).message, /^file\.yaml#1: missing required field "kind"/);
  assert.match(parseError(`apiVersion: v1\nkind: 3\n`).message, /^file\.yaml#1: kind: expected string, got number 3/);
  assert.match(parseError(`- a\n- b\n`).message, /^file\.yaml#1: expected an object with apiVersion and kind, got array/);
});

test("unknown field names the full path", () => {
  const e = parseError(DEPLOYMENT.replace("imagePullPolicy:", "imagePullPolicyy:"));
  assert.equal(e.path, "spec.template.spec.containers[0].imagePullPolicyy");
  assert.match(e.message, /^file\.yaml#1: spec\.template\.spec\.containers\[0\]\.imagePullPolicyy: unknown field \(did you mean "imagePullPolicy"\?\)/);
  assert.equal(e.line, 26);
  const pod = parseError(`apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    imagePullPolicyy: Always\n`);
  assert.match(pod.message, /spec\.containers\[0\]\.imagePullPolicyy: unknown field/);
  // Only Kubernetes' JSON names are accepted, not the proto names.
  assert.match(parseError(`apiVersion: v1\nkind: Service\nspec:\n  cluster_ip: 10.0.0.1\n`).message, /spec\.cluster_ip: unknown field/);
  assert.match(parseError(`apiVersion: v1\nkind: Service\nspec:\n  clusterIp: 10.0.0.1\n`).message, /spec\.clusterIp: unknown field \(did you mean "clusterIP"\?\)/);
  assert.match(parseError(`apiVersion: v1\nkind: Pod\nfoo: 1\n`).message, /^file\.yaml#1: foo: unknown field/);
  assert.match(parseError(`apiVersion: v1\nkind: List\nitems: []\nbar: 1\n`).message, /bar: unknown field/);
});

test("wrong types name the path and the expected type", () => {
  assert.match(parseError(DEPLOYMENT.replace("replicas: 3", 'replicas: "3"')).message, /^file\.yaml#1: spec\.replicas: expected integer, got string "3"/);
  assert.match(parseError(DEPLOYMENT.replace("replicas: 3", "replicas: 1.5")).message, /spec\.replicas: expected integer, got number 1\.5/);
  assert.match(parseError(DEPLOYMENT.replace("replicas: 3", "replicas: 3000000000")).message, /spec\.replicas: 3000000000 is out of range for int32/);
  assert.match(parseError(DEPLOYMENT.replace("readOnly: true", "readOnly: yes")).message, /spec\.template\.spec\.containers\[0\]\.volumeMounts\[0\]\.readOnly: expected boolean, got string "yes"/);
  assert.match(parseError(DEPLOYMENT.replace('args: ["--port", "8080"]', "args: --port")).message, /containers\[0\]\.args: expected array, got string "--port"/);
  assert.match(parseError(DEPLOYMENT.replace("maxSurge: 25%", "maxSurge: [1]")).message, /spec\.strategy\.rollingUpdate\.maxSurge: expected integer or string, got array/);
  assert.match(parseError(`apiVersion: v1\nkind: Pod\nmetadata: hello\n`).message, /^file\.yaml#1: metadata: expected object, got string "hello"/);
  assert.match(parseError(`apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    command: [sleep, {n: 1}]\n`).message, /spec\.containers\[0\]\.command\[1\]: expected string, got object/);
  assert.match(parseError(`apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: yesterday\n`).message, /metadata\.creationTimestamp: invalid timestamp "yesterday"; expected an RFC 3339 timestamp/);
  assert.match(parseError(`apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: 12\n`).message, /metadata\.creationTimestamp: expected an RFC 3339 timestamp .*, got number 12/);
});

test("boolean label values are rejected with a hint", () => {
  const e = parseError(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  labels:\n    enabled: true\n`);
  assert.match(e.message, /^file\.yaml#1: metadata\.labels\.enabled: expected string, got boolean true; quote it \("true"\)/);
  assert.equal(e.line, 6);
  assert.match(parseError(`apiVersion: v1\nkind: Namespace\nmetadata:\n  annotations:\n    example.com/flag: false\n`).message, /metadata\.annotations\["example\.com\/flag"\]: expected string, got boolean false/);
});

test("invalid base64 in Secret data names the key", () => {
  const e = parseError(`apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  password: hunter2!\n`);
  assert.match(e.message, /^file\.yaml#1: data\.password: invalid base64 value for key "password" \(data values are base64-encoded; put plain text under stringData\)/);
  assert.match(parseError(`apiVersion: v1\nkind: Secret\ndata:\n  pin: 1234\n`).message, /data\.pin: expected a base64-encoded string, got number 1234/);
  assert.match(parseError(`apiVersion: v1\nkind: Secret\ndata:\n  short: YQ\n`).message, /data\.short: invalid base64 value for key "short"/);
});

test("errors inside List items and bad YAML", () => {
  const e = parseError(`apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  data: {a: [1]}\n`);
  assert.match(e.message, /^file\.yaml#1: items\[0\]\.data\.a: expected string, got array/);
  assert.match(parseError(`apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n`).message, /^file\.yaml#1: items\[0\]: missing required field "apiVersion"/);
  assert.match(parseError(`apiVersion: v1\nkind: PodList\nitems:\n- {apiVersion: v1, kind: Service}\n`).message, /items\[0\]: a PodList can only hold Pod objects/);
  assert.match(parseError(`${NAMESPACE}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, name: b}\n`).message, /^file\.yaml#2: invalid YAML: Map keys must be unique/);
  assert.match(parseError(`apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n`).message, /^file\.yaml#1: invalid YAML/);
});

test("decodeManifest reports paths without lines", () => {
  assert.throws(
    () => decodeManifest({ apiVersion: "v1", kind: "Pod", spec: { nodeName: 1, hostNetwork: "no" } }, "server"),
    (e: unknown) => e instanceof ManifestError && e.message === 'server: spec.hostNetwork: expected boolean, got string "no"',
  );
});
