import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { EventSchema, JobSchema, NodeSchema, PodSchema } from "@corral/api";
import {
  FieldSelectorError,
  allowedFieldSelectors,
  fieldValue,
  formatFieldSelector,
  matchesFields,
  parseFieldSelector,
} from "./fields.js";

const pod = create(PodSchema, {
  metadata: { name: "web-1", namespace: "default" },
  spec: { nodeName: "node-a", restartPolicy: "Always", hostNetwork: true },
  status: { phase: "Running", podIp: "10.0.0.5" },
});

function matches(sel: string, obj = pod): boolean {
  return matchesFields(parseFieldSelector(sel), obj);
}

describe("parseFieldSelector", () => {
  it("parses =, == and != terms", () => {
    assert.deepEqual(parseFieldSelector("metadata.name=x,metadata.namespace!=y,spec.nodeName=,status.phase==Running"), [
      { field: "metadata.name", operator: "=", value: "x" },
      { field: "metadata.namespace", operator: "!=", value: "y" },
      { field: "spec.nodeName", operator: "=", value: "" },
      { field: "status.phase", operator: "=", value: "Running" },
    ]);
  });

  it("accepts the empty selector and ignores empty terms and whitespace", () => {
    assert.deepEqual(parseFieldSelector(""), []);
    assert.deepEqual(parseFieldSelector(" spec.nodeName = n1 ,, "), [{ field: "spec.nodeName", operator: "=", value: "n1" }]);
  });

  it("unescapes values", () => {
    assert.deepEqual(parseFieldSelector("metadata.name=a\\,b\\=c\\\\d"), [
      { field: "metadata.name", operator: "=", value: "a,b=c\\d" },
    ]);
    assert.equal(formatFieldSelector(parseFieldSelector("metadata.name=a\\,b")), "metadata.name=a\\,b");
  });

  it("rejects malformed terms", () => {
    assert.throws(() => parseFieldSelector("spec.nodeName"), FieldSelectorError);
    assert.throws(() => parseFieldSelector("=x"), /missing field name/);
    assert.throws(() => parseFieldSelector("metadata.name=a=b"), /unescaped "=" in value/);
    assert.throws(() => parseFieldSelector("metadata.name=a\\x"), /invalid escape sequence/);
  });

  it("checks fields against the kind", () => {
    assert.equal(parseFieldSelector("spec.nodeName=n1,status.podIP=1.2.3.4", "Pod").length, 2);
    assert.throws(() => parseFieldSelector("spec.nodeName=n1", "Service"), {
      name: "FieldSelectorError",
      message: "field label not supported: spec.nodeName",
    });
    assert.throws(() => parseFieldSelector("spec.containers=x", "Pod"), /^FieldSelectorError: field label not supported: spec.containers$/);
    assert.equal(parseFieldSelector("metadata.name=a", "Lease").length, 1);
  });
});

describe("allowedFieldSelectors", () => {
  it("lists metadata fields for every kind plus the kind's own", () => {
    assert.deepEqual(allowedFieldSelectors("ConfigMap"), ["metadata.name", "metadata.namespace"]);
    assert.ok(allowedFieldSelectors("Pod").includes("status.nominatedNodeName"));
    assert.ok(allowedFieldSelectors("Node").includes("spec.unschedulable"));
    assert.ok(allowedFieldSelectors("Event").includes("involvedObject.uid"));
    assert.ok(allowedFieldSelectors("Secret").includes("type"));
    assert.ok(allowedFieldSelectors("Namespace").includes("status.phase"));
  });
});

describe("matchesFields", () => {
  it("reads string fields by JSON name", () => {
    assert.equal(matches("metadata.name=web-1"), true);
    assert.equal(matches("spec.nodeName=node-a"), true);
    assert.equal(matches("spec.nodeName=node-b"), false);
    assert.equal(matches("spec.nodeName!=node-b"), true);
    assert.equal(matches("status.podIP=10.0.0.5"), true, "podIP (JSON) finds podIp (local name)");
    assert.equal(matches("status.phase=Running,metadata.namespace=default"), true);
    assert.equal(matches("status.phase=Running,metadata.namespace=kube-system"), false);
  });

  it("reads booleans as true/false and missing fields as empty", () => {
    assert.equal(matches("spec.hostNetwork=true"), true);
    assert.equal(matches("spec.schedulerName="), true);
    assert.equal(matches("status.nominatedNodeName="), true);
    const bare = create(PodSchema, {});
    assert.equal(matches("spec.nodeName=", bare), true, "an unscheduled pod has spec.nodeName=\"\"");
    assert.equal(matches("spec.nodeName!=", bare), false);
    assert.equal(matches("metadata.name=", bare), true);
    const node = create(NodeSchema, { spec: { unschedulable: false } });
    assert.equal(matchesFields(parseFieldSelector("spec.unschedulable=false"), node), true);
  });

  it("maps the Kubernetes aliases", () => {
    const ev = create(EventSchema, {
      involvedObject: { kind: "Pod", name: "web-1", uid: "u1" },
      source: { component: "kubelet" },
      type: "Warning",
    });
    assert.equal(matchesFields(parseFieldSelector("source=kubelet,involvedObject.kind=Pod,type=Warning", "Event"), ev), true);
    const job = create(JobSchema, { status: { succeeded: 3 } });
    assert.equal(fieldValue(job, "status.successful"), "3");
  });

  it("the empty selector matches everything", () => {
    assert.equal(matches(""), true);
  });
});
