import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromJson, toJson, type JsonObject } from "@bufbuild/protobuf";
import { DeploymentSchema, DeploymentStatusSchema, ServiceSchema, type Deployment, type Service } from "@corral/api";
import { parseManifests, threeWayMerge } from "./index.js";

const json = (yaml: string) => parseManifests(yaml)[0]!.json;

const V1 = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1
        env: [{name: A, value: "1"}]
`;

/** The live Deployment: as applied, then changed by others (scaled, annotated by the controller, paused). */
function live(): JsonObject {
  const d = fromJson(DeploymentSchema, json(V1)) as Deployment;
  d.metadata!.uid = "u-1";
  d.metadata!.annotations["deployment.kubernetes.io/revision"] = "2";
  d.spec!.replicas = 5;
  d.spec!.paused = true;
  d.status = create(DeploymentStatusSchema, { replicas: 5, readyReplicas: 5 });
  return toJson(DeploymentSchema, d) as JsonObject;
}

test("fields the manifest leaves out keep what others wrote; fields it sets win", () => {
  const next = json(V1.replace("nginx:1", "nginx:2").replace("  replicas: 3\n", ""));
  const out = fromJson(DeploymentSchema, threeWayMerge(DeploymentSchema, live(), json(V1), next)) as Deployment;
  assert.equal(out.spec!.template!.spec!.containers[0]!.image, "nginx:2");
  // replicas: in the last manifest, not in this one: removed (the default then applies).
  assert.equal(out.spec!.replicas, undefined);
  // Never in a manifest: kept.
  assert.equal(out.spec!.paused, true);
  assert.equal(out.metadata!.uid, "u-1");
  assert.equal(out.metadata!.annotations["deployment.kubernetes.io/revision"], "2");
  assert.equal(out.status!.readyReplicas, 5, "status is left alone");
});

test("a field never in any manifest (scaled by hand) survives a manifest without it", () => {
  const noReplicas = V1.replace("  replicas: 3\n", "");
  const out = fromJson(DeploymentSchema, threeWayMerge(DeploymentSchema, live(), json(noReplicas), json(noReplicas))) as Deployment;
  assert.equal(out.spec!.replicas, 5);
});

test("a label dropped from the manifest is removed; one added by someone else stays", () => {
  const l = live();
  ((l["metadata"] as JsonObject)["labels"] as JsonObject)["owner"] = "ops";
  const next = json(V1.replace("labels: {app: web, tier: front}", "labels: {app: web}"));
  const out = fromJson(DeploymentSchema, threeWayMerge(DeploymentSchema, l, json(V1), next)) as Deployment;
  assert.deepEqual(out.metadata!.labels, { app: "web", owner: "ops" });
});

test("without a last manifest nothing is removed; lists are replaced whole", () => {
  const next = json(V1.replace(`env: [{name: A, value: "1"}]`, `env: [{name: B, value: "2"}]`).replace("labels: {app: web, tier: front}", "labels: {app: web}"));
  const out = fromJson(DeploymentSchema, threeWayMerge(DeploymentSchema, live(), undefined, next)) as Deployment;
  assert.deepEqual(out.metadata!.labels, { app: "web", tier: "front" });
  assert.deepEqual(out.spec!.template!.spec!.containers[0]!.env.map((e) => e.name), ["B"]);
});

test("an IntOrString is replaced whole (a name after a number is not both)", () => {
  const svc = (target: string) => `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: ${target}}]
`;
  const l = toJson(ServiceSchema, fromJson(ServiceSchema, json(svc("8080")))) as JsonObject;
  (l["spec"] as JsonObject)["clusterIP"] = "10.96.0.7";
  const out = fromJson(ServiceSchema, threeWayMerge(ServiceSchema, l, json(svc("8080")), json(svc("http")))) as Service;
  assert.equal(out.spec!.ports[0]!.targetPort?.value.case, "strVal");
  assert.equal(out.spec!.clusterIp, "10.96.0.7", "the allocated clusterIP is kept");
});
