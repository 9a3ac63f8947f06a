import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  ConfigMapSchema,
  ConfigMaps,
  EndpointsKind,
  EndpointsSchema,
  EventSchema,
  Events,
  LeaseSchema,
  Leases,
  NamespaceSchema,
  Namespaces,
  NodeSchema,
  Nodes,
  SecretSchema,
  Secrets,
} from "@corral/api";
import { validateObject } from "./index.js";
import { assertError, assertValid } from "./test-fixtures.js";

const meta = { name: "x", namespace: "default" };

describe("Node", () => {
  it("checks taints", () => {
    const node = create(NodeSchema, {
      metadata: { name: "node-1" },
      spec: {
        taints: [
          { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" },
          { key: "dedicated", value: "gpu", effect: "NoExecute" },
        ],
      },
      status: { capacity: { cpu: "4", memory: "8Gi", pods: "110" } },
    });
    assertValid(validateObject(Nodes, node));
    node.spec!.taints.push(
      ...create(NodeSchema, {
        spec: { taints: [{ key: "dedicated", value: "gpu", effect: "NoExecute" }, { key: "", effect: "Sometimes" }, { key: "a" }] },
      }).spec!.taints,
    );
    node.status!.allocatable = { memory: "lots" };
    const errs = validateObject(Nodes, node);
    assertError(errs, "spec.taints[2]", 'Duplicate value: "dedicated:NoExecute"');
    assertError(errs, "spec.taints[3].key", "Required value");
    assertError(errs, "spec.taints[3].effect", 'Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"');
    assertError(errs, "spec.taints[4].effect", "Required value");
    assertError(errs, "status.allocatable[memory]", 'Invalid value: "lots"');
  });
});

describe("ConfigMap and Secret", () => {
  it("checks keys", () => {
    const cm = create(ConfigMapSchema, { metadata: meta, data: { "app.properties": "a=b", ".env": "X=1" } });
    assertValid(validateObject(ConfigMaps, cm));
    cm.data["bad/key"] = "x";
    cm.binaryData["app.properties"] = new Uint8Array([1]);
    const errs = validateObject(ConfigMaps, cm);
    assertError(errs, "data[bad/key]", /^Invalid value: "bad\/key": a valid config key must consist of alphanumeric characters/);
    assertError(errs, "data[app.properties]", "duplicate of key present in binaryData");
  });

  it("limits the total size to 1 MiB", () => {
    const cm = create(ConfigMapSchema, { metadata: meta, data: { big: "x".repeat(1024 * 1024 + 1) } });
    assertError(validateObject(ConfigMaps, cm), "data", "Too long: must have at most 1048576 bytes");
  });

  it("checks secret keys and typed secrets", () => {
    const s = create(SecretSchema, { metadata: meta, type: "Opaque", data: { "password.txt": new Uint8Array([1]) } });
    assertValid(validateObject(Secrets, s));
    s.stringData["..x"] = "y";
    assertError(validateObject(Secrets, s), "stringData[..x]", "must not start with '..'");
    const tls = create(SecretSchema, { metadata: meta, type: "kubernetes.io/tls", data: { "tls.crt": new Uint8Array([1]) } });
    assertError(validateObject(Secrets, tls), "data[tls.key]", "Required value");
  });
});

describe("Lease, Event, Endpoints, Namespace", () => {
  it("checks lease durations", () => {
    assertValid(validateObject(Leases, create(LeaseSchema, { metadata: meta, spec: { holderIdentity: "n1", leaseDurationSeconds: 40 } })));
    const errs = validateObject(Leases, create(LeaseSchema, { metadata: meta, spec: { leaseDurationSeconds: 0, leaseTransitions: -1 } }));
    assertError(errs, "spec.leaseDurationSeconds", "must be greater than 0");
    assertError(errs, "spec.leaseTransitions", "must be greater than or equal to 0");
  });

  it("requires an event's involvedObject", () => {
    const ev = create(EventSchema, { metadata: meta, reason: "Scheduled", type: "Normal" });
    assertError(validateObject(Events, ev), "involvedObject", "Required value");
    ev.involvedObject = create(EventSchema, { involvedObject: { kind: "Pod", name: "web", namespace: "other" } }).involvedObject;
    ev.type = "Info";
    const errs = validateObject(Events, ev);
    assertError(errs, "involvedObject.namespace", "does not match event.namespace");
    assertError(errs, "type", 'Unsupported value: "Info": supported values: "Normal", "Warning"');
    ev.involvedObject!.namespace = "default";
    ev.type = "Warning";
    assertValid(validateObject(Events, ev));
  });

  it("checks endpoints addresses and ports", () => {
    const ep = create(EndpointsSchema, {
      metadata: meta,
      subsets: [{ addresses: [{ ip: "10.0.0.1" }], ports: [{ port: 80, protocol: "TCP" }] }],
    });
    assertValid(validateObject(EndpointsKind, ep));
    const bad = create(EndpointsSchema, {
      metadata: meta,
      subsets: [{ addresses: [{ ip: "" }, { ip: "not-an-ip" }], notReadyAddresses: [{ ip: "1.2.3" }], ports: [{ port: 0 }, { name: "b", port: 81 }] }],
    });
    const errs = validateObject(EndpointsKind, bad);
    assertError(errs, "subsets[0].addresses[0].ip", "Required value");
    assertError(errs, "subsets[0].addresses[1].ip", "must be a valid IP address");
    assertError(errs, "subsets[0].notReadyAddresses[0].ip", "must be a valid IP address");
    assertError(errs, "subsets[0].ports[0].port", "must be between 1 and 65535, inclusive");
    assertError(errs, "subsets[0].ports[0].name", "Required value");
  });

  it("checks namespaces", () => {
    assertValid(validateObject(Namespaces, create(NamespaceSchema, { metadata: { name: "team-a" }, spec: { finalizers: ["kubernetes"] } })));
    const ns = create(NamespaceSchema, { metadata: { name: "team-a" }, spec: { finalizers: ["bad finalizer"] }, status: { phase: "Gone" } });
    const errs = validateObject(Namespaces, ns);
    assertError(errs, "spec.finalizers[0]", "Invalid value");
    assertError(errs, "status.phase", 'Unsupported value: "Gone"');
    assert.equal(errs.length, 2);
  });
});
