import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import {
  EventSchema,
  Events,
  JobSchema,
  Jobs,
  NamespaceSchema,
  Namespaces,
  NodeSchema,
  Nodes,
  PodSchema,
  Pods,
  ReplicaSetSchema,
  ReplicaSets,
  SecretSchema,
  Secrets,
  type ApiObject,
  type KindInfo,
} from "@corral/api";
import { allowedFieldSelectors } from "@corral/apimachinery";
import { compileSelectors } from "./filter.js";

/** Every selector gives the same answer on the bytes as on the decoded object. */
function agree(kind: KindInfo, objects: ApiObject[], selectors: { labels?: string; fields?: string }[]): number {
  let checked = 0;
  for (const sel of selectors) {
    const s = compileSelectors(kind, sel.labels ?? "", sel.fields ?? "");
    assert.ok(s.bytes, `a bytes filter for ${JSON.stringify(sel)}`);
    for (const obj of objects) {
      const bytes = toBinary(kind.schema as DescMessage, obj as never);
      const decoded = fromBinary(kind.schema as DescMessage, bytes) as ApiObject;
      assert.equal(s.bytes(bytes), s.filter(decoded), `${JSON.stringify(sel)} on ${JSON.stringify(obj, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`);
      checked++;
    }
  }
  return checked;
}

/** For each allowed field: equal to a value, equal to "", and not equal to each. */
function fieldSelectors(kind: string, values: string[]): { fields: string }[] {
  return allowedFieldSelectors(kind).flatMap((f) => values.flatMap((v) => [{ fields: `${f}=${v}` }, { fields: `${f}!=${v}` }]));
}

describe("selectors on stored bytes", () => {
  it("answer as on the decoded object for every selectable field of a Pod, present, default or missing", () => {
    const pods = [
      create(PodSchema, {}),
      create(PodSchema, { metadata: { name: "a", namespace: "ns" } }),
      create(PodSchema, { metadata: { name: "a", namespace: "ns" }, spec: {} }),
      create(PodSchema, {
        metadata: { name: "b", namespace: "other", labels: { app: "web", tier: "front" } },
        spec: { nodeName: "n1", restartPolicy: "Never", schedulerName: "s", serviceAccountName: "sa", hostNetwork: true },
        status: { phase: "Running", podIp: "10.0.0.5", nominatedNodeName: "n2" },
      }),
      create(PodSchema, { metadata: { name: "ü-é" }, spec: { nodeName: "nöde" }, status: {} }),
    ];
    const n = agree(Pods as unknown as KindInfo, pods, [
      ...fieldSelectors("Pod", ["", "a", "ns", "n1", "true", "false", "Running", "10.0.0.5", "nöde"]),
      { fields: "spec.nodeName!=,metadata.namespace=other" },
      { labels: "app=web" },
      { labels: "app!=web" },
      { labels: "tier" },
      { labels: "!tier" },
      { labels: "app in (web,api),tier notin (back)" },
      { labels: "app=web", fields: "spec.nodeName=n1" },
    ]);
    assert.ok(n > 100);
  });

  it("answer as on the decoded object for the other kinds' fields (bools, numbers, aliases)", () => {
    agree(Nodes as unknown as KindInfo, [create(NodeSchema, {}), create(NodeSchema, { spec: {} }), create(NodeSchema, { spec: { unschedulable: true } })], fieldSelectors("Node", ["", "true", "false"]));
    agree(
      Events as unknown as KindInfo,
      [create(EventSchema, {}), create(EventSchema, { involvedObject: { kind: "Pod", name: "p", uid: "u" }, reason: "Scheduled", source: { component: "scheduler" }, type: "Normal" })],
      fieldSelectors("Event", ["", "Pod", "p", "u", "Scheduled", "scheduler", "Normal"]),
    );
    agree(Secrets as unknown as KindInfo, [create(SecretSchema, {}), create(SecretSchema, { type: "Opaque" })], fieldSelectors("Secret", ["", "Opaque"]));
    agree(Namespaces as unknown as KindInfo, [create(NamespaceSchema, {}), create(NamespaceSchema, { status: { phase: "Active" } })], fieldSelectors("Namespace", ["", "Active"]));
    agree(
      ReplicaSets as unknown as KindInfo,
      [create(ReplicaSetSchema, {}), create(ReplicaSetSchema, { status: {} }), create(ReplicaSetSchema, { status: { replicas: 3 } })],
      fieldSelectors("ReplicaSet", ["", "0", "3"]),
    );
    agree(Jobs as unknown as KindInfo, [create(JobSchema, {}), create(JobSchema, { status: { succeeded: 2 } })], fieldSelectors("Job", ["", "0", "2"]));
  });

  it("read a message sent twice as protobuf merges it: last scalar wins, map entries add up", () => {
    const s = compileSelectors(Pods as unknown as KindInfo, "app=web,tier=back", "spec.nodeName=n2");
    const first = toBinary(PodSchema, create(PodSchema, { metadata: { labels: { app: "web", tier: "front" } }, spec: { nodeName: "n1" } }));
    const second = toBinary(PodSchema, create(PodSchema, { metadata: { labels: { tier: "back" } }, spec: { nodeName: "n2" } }));
    const both = new Uint8Array([...first, ...second]);
    assert.equal(s.filter(fromBinary(PodSchema, both)), true);
    assert.equal(s.bytes!(both), true);
    assert.equal(s.bytes!(first), false);
  });

  it("throw on bytes that are not a message, rather than guess", () => {
    const s = compileSelectors(Pods as unknown as KindInfo, "", "spec.nodeName=n1");
    assert.throws(() => s.bytes!(new Uint8Array([0x12, 0x05, 0x01])), RangeError);
  });
});
