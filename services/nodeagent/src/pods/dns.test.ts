import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PodSchema } from "@corral/api";
import { clusterDNSConfig, podDNSConfig } from "./dns.js";

type Spec = NonNullable<Parameters<typeof create<typeof PodSchema>>[1]>["spec"];
const pod = (spec: Spec, namespace = "shop") => create(PodSchema, { metadata: { name: "p", namespace }, spec });
const cluster = clusterDNSConfig("10.96.0.10");

describe("podDNSConfig", () => {
  it("ClusterFirst (the default) searches the pod's namespace first", () => {
    const c = podDNSConfig(pod({}), cluster)!;
    assert.deepEqual(c.servers, ["10.96.0.10"]);
    assert.deepEqual(c.searches, ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"]);
    assert.deepEqual(c.options, ["ndots:5"]);
  });
  it("hostNetwork pods get the node's resolv.conf unless ClusterFirstWithHostNet", () => {
    assert.equal(podDNSConfig(pod({ hostNetwork: true }), cluster), undefined);
    assert.deepEqual(podDNSConfig(pod({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" }), cluster)!.servers, ["10.96.0.10"]);
  });
  it("Default is the node's; ClusterFirst without a cluster DNS falls back to it", () => {
    assert.equal(podDNSConfig(pod({ dnsPolicy: "Default" }), cluster), undefined);
    assert.equal(podDNSConfig(pod({}), undefined), undefined);
  });
  it("None takes spec.dnsConfig alone; otherwise it is merged in", () => {
    const none = podDNSConfig(pod({ dnsPolicy: "None", dnsConfig: { nameservers: ["192.0.2.53"], searches: ["corp.example"], options: [{ name: "ndots", value: "2" }] } }), cluster)!;
    assert.deepEqual([none.servers, none.searches, none.options], [["192.0.2.53"], ["corp.example"], ["ndots:2"]]);
    const merged = podDNSConfig(pod({ dnsConfig: { searches: ["corp.example"], options: [{ name: "ndots", value: "1" }, { name: "edns0" }] } }), cluster)!;
    assert.deepEqual(merged.searches, ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"]);
    assert.deepEqual(merged.options, ["ndots:1", "edns0"]);
  });
});
