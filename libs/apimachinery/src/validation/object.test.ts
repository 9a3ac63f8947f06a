import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ConfigMapSchema, ConfigMaps, NamespaceSchema, Namespaces, NodeSchema, Nodes, Pods, ServiceSchema, Services } from "@corral/api";
import { validateObject } from "./index.js";
import { assertError, assertValid, validPod } from "./test-fixtures.js";

describe("metadata validation", () => {
  it("accepts a valid object", () => {
    assertValid(validateObject(Pods, validPod()));
  });

  it("requires name or generateName", () => {
    const pod = validPod();
    pod.metadata!.name = "";
    assertError(validateObject(Pods, pod), "metadata.name", "Required value: name or generateName is required");
    pod.metadata!.generateName = "web-";
    assertValid(validateObject(Pods, pod));
  });

  it("checks the name syntax for the kind", () => {
    const pod = validPod();
    pod.metadata!.name = "Foo_";
    assertError(validateObject(Pods, pod), "metadata.name", /^Invalid value: "Foo_": a lowercase RFC 1123 subdomain must consist of/);
    pod.metadata!.name = "a.b";
    assertValid(validateObject(Pods, pod));

    const ns = create(NamespaceSchema, { metadata: { name: "a.b" } });
    assertError(validateObject(Namespaces, ns), "metadata.name", "a lowercase RFC 1123 label");
    ns.metadata!.name = "team-a";
    assertValid(validateObject(Namespaces, ns));

    const svc = create(ServiceSchema, { metadata: { name: "1web", namespace: "default" }, spec: { ports: [{ port: 80 }] } });
    assertError(validateObject(Services, svc), "metadata.name", "a DNS-1035 label");
    svc.metadata!.name = "web";
    assertValid(validateObject(Services, svc));
  });

  it("checks generateName as a prefix", () => {
    const pod = validPod();
    pod.metadata!.name = "";
    pod.metadata!.generateName = "Web-";
    assertError(validateObject(Pods, pod), "metadata.generateName", "Invalid value");
  });

  it("requires a namespace for namespaced kinds and forbids it otherwise", () => {
    const pod = validPod();
    pod.metadata!.namespace = "";
    assertError(validateObject(Pods, pod), "metadata.namespace", "Required value");
    pod.metadata!.namespace = "Bad_NS";
    assertError(validateObject(Pods, pod), "metadata.namespace", "Invalid value");
    const node = create(NodeSchema, { metadata: { name: "n1", namespace: "default" } });
    assertError(validateObject(Nodes, node), "metadata.namespace", "Forbidden: not allowed on this type");
  });

  it("checks label keys and values", () => {
    const pod = validPod();
    pod.metadata!.labels = { "bad key": "x", ok: "-bad", "app.kubernetes.io/name": "web" };
    const errs = validateObject(Pods, pod);
    assertError(errs, "metadata.labels", /^Invalid value: "bad key": name part must consist of/);
    assertError(errs, "metadata.labels[ok]", /^Invalid value: "-bad": a valid label must be an empty string/);
  });

  it("checks annotation keys and total size", () => {
    const cm = create(ConfigMapSchema, { metadata: { name: "c", namespace: "d", annotations: { "example.com/Note": "x" } } });
    assertValid(validateObject(ConfigMaps, cm));
    cm.metadata!.annotations = { "-x": "y" };
    assertError(validateObject(ConfigMaps, cm), "metadata.annotations", "Invalid value");
    cm.metadata!.annotations = { big: "x".repeat(256 * 1024) };
    assertError(validateObject(ConfigMaps, cm), "metadata.annotations", "Too long: must have at most 262144 bytes");
  });

  it("checks owner references", () => {
    const pod = validPod();
    pod.metadata!.ownerReferences = [
      { $typeName: "corral.v1.OwnerReference", apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u1", controller: true },
      { $typeName: "corral.v1.OwnerReference", apiVersion: "", kind: "", name: "", uid: "", controller: true },
    ];
    const errs = validateObject(Pods, pod);
    for (const f of ["apiVersion", "kind", "name", "uid"]) assertError(errs, `metadata.ownerReferences[1].${f}`, "Required value");
    assertError(errs, "metadata.ownerReferences", "only one reference can have controller set to true");
  });

  it("reports an object of the wrong kind", () => {
    const ns = create(NamespaceSchema, { metadata: { name: "x" } });
    // @ts-expect-error: a Namespace is not a Pod
    assertError(validateObject(Pods, ns), "kind", "expected a Pod");
  });
});
