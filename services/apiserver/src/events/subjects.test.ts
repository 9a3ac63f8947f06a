import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CLUSTER_SCOPE_TOKEN, MARKER_SUBJECT, SUBJECT_ROOT, eventSubject, kindFilter } from "./subjects.js";

/** NATS subject matching: "*" is one token, ">" (last) is one or more tokens. */
function natsMatches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== "*" && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

describe("eventSubject", () => {
  it("is corral.v1.<resource>.<namespace>.<name> for namespaced objects", () => {
    assert.equal(eventSubject("pods", "default", "web-1"), "corral.v1.pods.default.web-1");
  });

  it("uses \"_\" as the namespace token of cluster-scoped objects", () => {
    assert.equal(CLUSTER_SCOPE_TOKEN, "_");
    assert.equal(eventSubject("nodes", "", "node-a"), "corral.v1.nodes._.node-a");
  });

  it("encodes dots in names as %2E so a name stays one token", () => {
    const subject = eventSubject("pods", "default", "web.example.com");
    assert.equal(subject, "corral.v1.pods.default.web%2Eexample%2Ecom");
    assert.equal(subject.split(".").length, 5);
    assert.equal(eventSubject("nodes", "", "node-a.cluster.local"), "corral.v1.nodes._.node-a%2Ecluster%2Elocal");
  });

  it("encodes NATS wildcards and the escape character itself, keeping distinct names distinct", () => {
    assert.equal(eventSubject("configmaps", "default", "a*b>c"), "corral.v1.configmaps.default.a%2Ab%3Ec");
    assert.equal(eventSubject("configmaps", "default", "a%2Eb"), "corral.v1.configmaps.default.a%252Eb");
    assert.notEqual(eventSubject("configmaps", "default", "a.b"), eventSubject("configmaps", "default", "a%2Eb"));
  });

  it("stays out of the marker subject", () => {
    assert.equal(MARKER_SUBJECT, `${SUBJECT_ROOT}._marker`);
    assert.ok(!natsMatches(kindFilter("pods"), MARKER_SUBJECT));
  });
});

describe("kindFilter", () => {
  it("selects every object of a kind", () => {
    assert.equal(kindFilter("pods"), "corral.v1.pods.>");
    assert.ok(natsMatches(kindFilter("pods"), eventSubject("pods", "default", "web-1")));
    assert.ok(natsMatches(kindFilter("pods"), eventSubject("pods", "kube-system", "dns.x")));
    assert.ok(natsMatches(kindFilter("nodes"), eventSubject("nodes", "", "node-a")));
  });

  it("selects one namespace of a kind", () => {
    assert.equal(kindFilter("pods", "default"), "corral.v1.pods.default.>");
    assert.ok(natsMatches(kindFilter("pods", "default"), eventSubject("pods", "default", "web.1")));
    assert.ok(!natsMatches(kindFilter("pods", "default"), eventSubject("pods", "other", "web-1")));
  });

  it("treats an empty namespace as all namespaces", () => {
    assert.equal(kindFilter("pods", ""), "corral.v1.pods.>");
  });

  it("does not catch other kinds with a common prefix", () => {
    assert.ok(!natsMatches(kindFilter("pods"), eventSubject("podtemplates", "default", "x")));
    assert.ok(!natsMatches(kindFilter("replicasets"), eventSubject("deployments", "default", "x")));
  });
});
