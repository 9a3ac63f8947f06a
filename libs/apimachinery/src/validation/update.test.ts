import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clone, create } from "@bufbuild/protobuf";
import {
  ConfigMapSchema,
  ConfigMaps,
  DeploymentSchema,
  Deployments,
  JobSchema,
  Jobs,
  PodSchema,
  Pods,
  SecretSchema,
  Secrets,
  ServiceSchema,
  Services,
  TolerationSchema,
} from "@corral/api";
import { formatFieldErrors } from "./errors.js";
import { validateUpdate } from "./index.js";
import { POD_UPDATE_FORBIDDEN } from "./update.js";
import { assertError, assertValid, validPod, validTemplate } from "./test-fixtures.js";

describe("validateUpdate: metadata", () => {
  it("keeps name, namespace and uid", () => {
    const old = validPod();
    old.metadata!.uid = "u1";
    const next = clone(PodSchema, old);
    assertValid(validateUpdate(Pods, old, next));
    next.metadata!.name = "web-2";
    next.metadata!.namespace = "other";
    next.metadata!.uid = "u2";
    next.metadata!.labels = { changed: "yes" };
    const errs = validateUpdate(Pods, old, next);
    assertError(errs, "metadata.name", 'Invalid value: "web-2": field is immutable');
    assertError(errs, "metadata.namespace", 'Invalid value: "other": field is immutable');
    assertError(errs, "metadata.uid", 'Invalid value: "u2": field is immutable');
    assert.equal(errs.length, 3, formatFieldErrors(errs));
  });

  it("treats an empty new uid as unchanged", () => {
    const old = validPod();
    old.metadata!.uid = "u1";
    const next = clone(PodSchema, old);
    next.metadata!.uid = "";
    assertValid(validateUpdate(Pods, old, next));
  });
});

describe("validateUpdate: Pod", () => {
  it("allows image changes", () => {
    const old = validPod();
    const next = clone(PodSchema, old);
    next.spec!.containers[0].image = "nginx:1.28";
    assertValid(validateUpdate(Pods, old, next));
  });

  it("forbids other spec changes", () => {
    const old = validPod();
    const next = clone(PodSchema, old);
    next.spec!.containers[0].resources!.limits.cpu = "2";
    const errs = validateUpdate(Pods, old, next);
    assert.equal(formatFieldErrors(errs), `spec: Forbidden: ${POD_UPDATE_FORBIDDEN}`);
    assert.match(POD_UPDATE_FORBIDDEN, /^pod updates may not change fields other than `spec.containers\[\*\].image`/);
  });

  it("allows setting nodeName once, not changing it", () => {
    const old = validPod();
    const bound = clone(PodSchema, old);
    bound.spec!.nodeName = "node-a";
    assertValid(validateUpdate(Pods, old, bound));
    const moved = clone(PodSchema, bound);
    moved.spec!.nodeName = "node-b";
    assertError(validateUpdate(Pods, bound, moved), "spec.nodeName", "field is immutable");
  });

  it("allows adding tolerations but not removing them", () => {
    const old = validPod();
    old.spec!.tolerations = [create(TolerationSchema, { key: "a", operator: "Exists" })];
    const added = clone(PodSchema, old);
    added.spec!.tolerations.push(create(TolerationSchema, { key: "b", operator: "Exists" }));
    assertValid(validateUpdate(Pods, old, added));
    const removed = clone(PodSchema, old);
    removed.spec!.tolerations = [];
    assertError(validateUpdate(Pods, old, removed), "spec.tolerations", "Forbidden");
  });

  it("allows setting or lowering activeDeadlineSeconds only", () => {
    const old = validPod();
    const set = clone(PodSchema, old);
    set.spec!.activeDeadlineSeconds = 100n;
    assertValid(validateUpdate(Pods, old, set));
    const lower = clone(PodSchema, set);
    lower.spec!.activeDeadlineSeconds = 50n;
    assertValid(validateUpdate(Pods, set, lower));
    const raise = clone(PodSchema, set);
    raise.spec!.activeDeadlineSeconds = 200n;
    assertError(validateUpdate(Pods, set, raise), "spec.activeDeadlineSeconds", "must be less than or equal to previous value");
    assertError(validateUpdate(Pods, set, old), "spec.activeDeadlineSeconds", "Forbidden");
  });

  it("ignores status changes", () => {
    const old = validPod();
    const next = clone(PodSchema, old);
    next.status = create(PodSchema, { status: { phase: "Running" } }).status;
    assertValid(validateUpdate(Pods, old, next));
  });
});

describe("validateUpdate: workloads", () => {
  it("keeps the selector", () => {
    const old = create(DeploymentSchema, {
      metadata: { name: "web", namespace: "default" },
      spec: { selector: { matchLabels: { app: "web" } }, template: validTemplate() },
    });
    const scaled = clone(DeploymentSchema, old);
    scaled.spec!.replicas = 5;
    scaled.spec!.template!.spec!.containers[0].image = "nginx:2";
    assertValid(validateUpdate(Deployments, old, scaled));
    const moved = clone(DeploymentSchema, old);
    moved.spec!.selector!.matchLabels = { app: "api" };
    assertError(validateUpdate(Deployments, old, moved), "spec.selector", "field is immutable");

    const job = create(JobSchema, { metadata: { name: "j", namespace: "d" }, spec: { selector: { matchLabels: { a: "b" } } } });
    const job2 = clone(JobSchema, job);
    job2.spec!.selector = undefined;
    assertError(validateUpdate(Jobs, job, job2), "spec.selector", "Invalid value: null: field is immutable");
  });
});

describe("validateUpdate: Service", () => {
  const svc = (clusterIp: string) =>
    create(ServiceSchema, { metadata: { name: "web", namespace: "default" }, spec: { clusterIp, ports: [{ port: 80 }] } });

  it("allows allocating a clusterIP but not changing it", () => {
    assertValid(validateUpdate(Services, svc(""), svc("10.96.0.1")));
    assertValid(validateUpdate(Services, svc("10.96.0.1"), svc("10.96.0.1")));
    assertError(validateUpdate(Services, svc("10.96.0.1"), svc("10.96.0.2")), "spec.clusterIP", 'Invalid value: "10.96.0.2": field is immutable');
    assertError(validateUpdate(Services, svc("10.96.0.1"), svc("")), "spec.clusterIP", "field is immutable");
  });
});

describe("validateUpdate: immutable ConfigMap and Secret", () => {
  it("freezes ConfigMap data when immutable", () => {
    const cm = create(ConfigMapSchema, { metadata: { name: "c", namespace: "d" }, data: { a: "1" } });
    const changed = clone(ConfigMapSchema, cm);
    changed.data.a = "2";
    assertValid(validateUpdate(ConfigMaps, cm, changed));
    cm.immutable = true;
    changed.immutable = true;
    assertError(validateUpdate(ConfigMaps, cm, changed), "data", "Forbidden: field is immutable when `immutable` is set");
    const relabeled = clone(ConfigMapSchema, cm);
    relabeled.metadata!.labels = { x: "y" };
    assertValid(validateUpdate(ConfigMaps, cm, relabeled));
    const unfrozen = clone(ConfigMapSchema, cm);
    unfrozen.immutable = false;
    assertError(validateUpdate(ConfigMaps, cm, unfrozen), "immutable", "Forbidden");
  });

  it("freezes Secret data when immutable and keeps its type", () => {
    const s = create(SecretSchema, { metadata: { name: "s", namespace: "d" }, data: { a: new Uint8Array([1]) }, immutable: true });
    const same = clone(SecretSchema, s);
    assertValid(validateUpdate(Secrets, s, same));
    const changed = clone(SecretSchema, s);
    changed.stringData = { a: "x" };
    assertError(validateUpdate(Secrets, s, changed), "data", "Forbidden");
    const retyped = clone(SecretSchema, s);
    retyped.type = "kubernetes.io/tls";
    assertError(validateUpdate(Secrets, s, retyped), "type", "field is immutable");
    const opaque = clone(SecretSchema, s);
    opaque.type = "Opaque";
    assertValid(validateUpdate(Secrets, s, opaque));
  });
});
