import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { NodeSchema, Nodes, PodSchema, Pods, SecretSchema, Secrets, type ApiObject } from "@corral/api";
import { Code, GrpcError } from "@corral/grpc";
import { compileFilter } from "./filter.js";


const web = create(PodSchema, {
  metadata: { name: "web-1", namespace: "default", labels: { app: "web", tier: "frontend" } },
  spec: { nodeName: "node-a" },
  status: { phase: "Running", podIp: "10.0.0.5" },
});
const db = create(PodSchema, {
  metadata: { name: "db-0", namespace: "data", labels: { app: "db" } },
  spec: {},
  status: { phase: "Pending" },
});
const bare = create(PodSchema, { metadata: { name: "bare", namespace: "default" } });
const noMeta = create(PodSchema, {});
const pods: ApiObject[] = [web, db, bare];

function names(labelSelector: string, fieldSelector: string): string[] {
  const f = compileFilter(Pods, labelSelector, fieldSelector);
  return pods.filter(f).map((p) => p.metadata!.name);
}

function rejects(field: "labelSelector" | "fieldSelector", value: string) {
  return (err: unknown) => {
    assert.ok(err instanceof GrpcError, `expected a GrpcError, got ${String(err)}`);
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.ok(err.message.startsWith(`${field}: Invalid value: "${value}": `), err.message);
    return true;
  };
}

describe("compileFilter", () => {
  it("matches everything with empty selectors, even objects without metadata", () => {
    const f = compileFilter(Pods, "", "");
    assert.deepEqual(names("", ""), ["web-1", "db-0", "bare"]);
    assert.equal(f(noMeta), true);
  });

  it("filters by labels", () => {
    assert.deepEqual(names("app=web", ""), ["web-1"]);
    assert.deepEqual(names("app!=web", ""), ["db-0", "bare"]);
    assert.deepEqual(names("app in (web, db)", ""), ["web-1", "db-0"]);
    assert.deepEqual(names("app", ""), ["web-1", "db-0"]);
    assert.deepEqual(names("!app", ""), ["bare"]);
    assert.deepEqual(names("app=web,tier=backend", ""), []);
  });

  it("filters by fields", () => {
    assert.deepEqual(names("", "spec.nodeName=node-a"), ["web-1"]);
    assert.deepEqual(names("", "spec.nodeName="), ["db-0", "bare"]);
    assert.deepEqual(names("", "status.phase!=Running"), ["db-0", "bare"]);
    assert.deepEqual(names("", "status.podIP=10.0.0.5"), ["web-1"]);
    assert.deepEqual(names("", "metadata.namespace=default"), ["web-1", "bare"]);
    assert.deepEqual(names("", "metadata.name=db-0"), ["db-0"]);
  });

  it("requires both label and field selectors to match", () => {
    assert.deepEqual(names("app", "metadata.namespace=default"), ["web-1"]);
    assert.deepEqual(names("app=db", "spec.nodeName=node-a"), []);
  });

  it("does not match an object without labels against a label requirement", () => {
    assert.equal(compileFilter(Pods, "app=web", "")(noMeta), false);
    assert.equal(compileFilter(Pods, "!app", "")(noMeta), true);
  });

  it("uses the field set of the kind", () => {
    const node = create(NodeSchema, { metadata: { name: "node-a" }, spec: { unschedulable: true } });
    assert.equal(compileFilter(Nodes, "", "spec.unschedulable=true")(node), true);
    assert.equal(compileFilter(Nodes, "", "spec.unschedulable=false")(node), false);
    const secret = create(SecretSchema, { metadata: { name: "s" }, type: "Opaque" });
    assert.equal(compileFilter(Secrets, "", "type=Opaque")(secret), true);
    assert.throws(() => compileFilter(Nodes, "", "spec.nodeName=x"), rejects("fieldSelector", "spec.nodeName=x"));
    assert.throws(() => compileFilter(Secrets, "", "status.phase=x"), rejects("fieldSelector", "status.phase=x"));
  });

  it("rejects a bad label selector with INVALID_ARGUMENT naming labelSelector", () => {
    for (const bad of ["app in (web", "app=web=x", "=web", "a b"]) {
      assert.throws(() => compileFilter(Pods, bad, ""), rejects("labelSelector", bad), bad);
    }
  });

  it("rejects a bad field selector with INVALID_ARGUMENT naming fieldSelector", () => {
    for (const bad of ["spec.nodeName", "=x", "spec.containers=x", "metadata.labels=x"]) {
      assert.throws(() => compileFilter(Pods, "", bad), rejects("fieldSelector", bad), bad);
    }
  });

  it("says which field is not supported", () => {
    assert.throws(() => compileFilter(Pods, "", "spec.containers=x"), /field label not supported: spec\.containers/);
  });

  it("checks the label selector before the field selector", () => {
    assert.throws(() => compileFilter(Pods, "app in (", "nope"), rejects("labelSelector", "app in ("));
  });
});
