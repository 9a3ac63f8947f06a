import { create } from "@bufbuild/protobuf";
import { PodTemplateSpecSchema } from "@corral/api";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideClaims } from "./claim.js";
import { removeCondition, setCondition } from "./conditions.js";
import { Expectations } from "./expectations.js";
import { canonicalJson, computeHash, fnv32a, safeEncode } from "./hash.js";
import { scaledValue } from "./intstr.js";
import { deletionOrder, isActive, isAvailable, msUntilAvailable, podsToDelete, slowStartBatch } from "./pods.js";
import { toleratesTaint, untoleratedTaints } from "@corral/apimachinery";
import { nodeMatchesPodSpec } from "./scheduling.js";
import { node, pod, T0 } from "./test-fixtures.js";

describe("hash", () => {
  it("is FNV-1a 32 written with the safe alphabet", () => {
    assert.equal(fnv32a(""), 0x811c9dc5);
    assert.equal(fnv32a("a"), 0xe40c292c);
    assert.equal(fnv32a("foobar"), 0xbf9cf968);
    assert.equal(safeEncode("0123456789"), "456789bcdf");
  });
  it("is the same for equal templates whatever the order of their maps, and changes with the collision count", () => {
    const a = create(PodTemplateSpecSchema, { metadata: { labels: { a: "1", b: "2" } }, spec: { containers: [{ name: "c", image: "x" }] } });
    const b = create(PodTemplateSpecSchema, { metadata: { labels: { b: "2", a: "1" } }, spec: { containers: [{ name: "c", image: "x" }] } });
    assert.equal(computeHash(a), computeHash(b));
    assert.notEqual(computeHash(a), computeHash(a, 1));
    assert.match(computeHash(a), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null }), '{"a":null,"b":[1,{"c":2,"d":1}]}');
  });
});

describe("scaledValue (IntOrString)", () => {
  it("takes numbers as they are and percentages of the total, rounded as asked", () => {
    assert.equal(scaledValue({ value: { case: "intVal", value: 2 } } as never, 10, true, "25%"), 2);
    assert.equal(scaledValue({ value: { case: "strVal", value: "25%" } } as never, 10, true, 0), 3);
    assert.equal(scaledValue({ value: { case: "strVal", value: "25%" } } as never, 10, false, 0), 2);
    assert.equal(scaledValue(undefined, 3, true, "25%"), 1);
    assert.equal(scaledValue(undefined, 3, false, "25%"), 0);
    assert.equal(scaledValue(undefined, 3, false, 1), 1);
  });
});

describe("Expectations", () => {
  it("holds a controller back until its creations and deletions are observed", () => {
    const e = new Expectations();
    assert.ok(e.satisfied("k"));
    e.expectCreations("k", 2);
    assert.ok(!e.satisfied("k"));
    e.creationObserved("k");
    assert.ok(!e.satisfied("k"));
    e.creationObserved("k");
    assert.ok(e.satisfied("k"));
    e.expectDeletions("k", ["u1", "u2"]);
    e.deletionObserved("k", "u1");
    e.deletionObserved("k", "u1");
    assert.ok(!e.satisfied("k"));
    e.deletionObserved("k", "u2");
    assert.ok(e.satisfied("k"));
  });
  it("adds the creations and deletions of one reconcile together", () => {
    const e = new Expectations();
    e.expectDeletions("k", ["u1"]);
    e.expectCreations("k", 1);
    assert.deepEqual(e.pending("k"), { adds: 1, dels: 1 });
  });
  it("gives up waiting after the timeout", () => {
    let now = 0;
    const e = new Expectations(1000, () => now);
    e.expectCreations("k", 1);
    now = 999;
    assert.ok(!e.satisfied("k"));
    now = 1001;
    assert.ok(e.satisfied("k"));
  });
});

describe("pods", () => {
  it("active: neither finished nor being deleted", () => {
    assert.ok(isActive(pod("a", { node: "n" })));
    assert.ok(!isActive(pod("a", { phase: "Succeeded" })));
    assert.ok(!isActive(pod("a", { deleting: true })));
  });
  it("available: ready for minReadySeconds", () => {
    const p = pod("a", { readySince: T0 });
    assert.ok(isAvailable(p, 0, T0));
    assert.ok(!isAvailable(p, 5, T0 + 4_000));
    assert.ok(isAvailable(p, 5, T0 + 5_000));
    assert.equal(msUntilAvailable(p, 5, T0 + 1_000), 4_000);
    assert.equal(msUntilAvailable(pod("b"), 5, T0), undefined);
  });
  it("deletes first the pods that matter least: unscheduled, pending, not ready, recently ready, restarting, newest", () => {
    const pods = [
      pod("ready-old", { node: "n", readySince: T0, created: T0 }),
      pod("unscheduled"),
      pod("pending", { node: "n", phase: "Pending" }),
      pod("not-ready", { node: "n" }),
      pod("ready-recent", { node: "n", readySince: T0 + 5_000, created: T0 }),
      pod("ready-restarts", { node: "n", readySince: T0, restarts: 3, created: T0 }),
      pod("ready-newer", { node: "n", readySince: T0, created: T0 + 1 }),
    ];
    assert.deepEqual([...pods].sort(deletionOrder).map((p) => p.metadata!.name), [
      "unscheduled",
      "pending",
      "not-ready",
      "ready-recent",
      "ready-restarts",
      "ready-newer",
      "ready-old",
    ]);
    assert.deepEqual(podsToDelete(pods, 2).map((p) => p.metadata!.name), ["unscheduled", "pending"]);
  });
  it("slow start creates 1, 2, 4, ... at once and stops at the first failure", async () => {
    let calls = 0;
    const ok = await slowStartBatch(10, 1, async () => void calls++);
    assert.deepEqual([ok.successes, calls], [10, 10]);
    let n = 0;
    const bad = await slowStartBatch(10, 1, async () => {
      if (++n === 3) throw new Error("quota");
    });
    assert.equal(bad.successes, 2, "batches of 1 and 2; the second batch had the failure");
    assert.equal(n, 3);
    assert.match(String(bad.error), /quota/);
  });
});

describe("claims", () => {
  const owner = "uid-rs";
  const mine = (name: string, labels: Record<string, string>) => pod(name, { labels, owner: { kind: "ReplicaSet", name: "rs", uid: owner } });
  const matches = (p: { metadata?: { labels: Record<string, string> } }) => p.metadata?.labels.app === "web";
  it("owns its matching pods, adopts matching orphans, releases what stopped matching, leaves others' pods", () => {
    const d = decideClaims(owner, false, matches, [
      mine("kept", { app: "web" }),
      mine("relabelled", { app: "other" }),
      pod("orphan", { labels: { app: "web" } }),
      pod("orphan-other", { labels: { app: "db" } }),
      pod("theirs", { labels: { app: "web" }, owner: { kind: "ReplicaSet", name: "x", uid: "uid-x" } }),
      pod("orphan-going", { labels: { app: "web" }, deleting: true }),
    ]);
    assert.deepEqual(d.owned.map((p) => p.metadata!.name), ["kept"]);
    assert.deepEqual(d.adopt.map((p) => p.metadata!.name), ["orphan"]);
    assert.deepEqual(d.release.map((p) => p.metadata!.name), ["relabelled"]);
  });
  it("an owner being deleted adopts and releases nothing", () => {
    const d = decideClaims(owner, true, matches, [mine("relabelled", { app: "other" }), pod("orphan", { labels: { app: "web" } })]);
    assert.deepEqual([d.adopt.length, d.release.length], [0, 0]);
  });
});

describe("conditions", () => {
  it("keeps lastTransitionTime while the status stays, and nothing changes for an equal condition", () => {
    const t1 = { seconds: 1n, nanos: 0 } as never;
    const t2 = { seconds: 2n, nanos: 0 } as never;
    let conds = setCondition([], { type: "A", status: "True", reason: "r", message: "m", lastTransitionTime: t1 });
    conds = setCondition(conds, { type: "A", status: "True", reason: "r2", message: "m", lastTransitionTime: t2 });
    assert.equal(conds[0]!.lastTransitionTime, t1);
    assert.equal(conds[0]!.reason, "r2");
    conds = setCondition(conds, { type: "A", status: "False", reason: "r2", message: "m", lastTransitionTime: t2 });
    assert.equal(conds[0]!.lastTransitionTime, t2);
    assert.deepEqual(removeCondition(conds, "A"), []);
  });
});

describe("scheduling", () => {
  it("tolerations match taints as Kubernetes matches them", () => {
    const taint = { key: "k", value: "v", effect: "NoSchedule" } as never;
    assert.ok(toleratesTaint({ key: "k", operator: "Equal", value: "v", effect: "NoSchedule" } as never, taint));
    assert.ok(toleratesTaint({ key: "k", operator: "Exists", value: "", effect: "" } as never, taint));
    assert.ok(toleratesTaint({ key: "", operator: "Exists", value: "", effect: "" } as never, taint));
    assert.ok(!toleratesTaint({ key: "k", operator: "Equal", value: "w", effect: "" } as never, taint));
    assert.ok(!toleratesTaint({ key: "k", operator: "Exists", value: "", effect: "NoExecute" } as never, taint));
    const n = node("n", { taints: [{ key: "a", effect: "NoSchedule" }, { key: "b", effect: "NoExecute" }, { key: "c", effect: "PreferNoSchedule" }] });
    assert.deepEqual(untoleratedTaints(n.spec!.taints, [], ["NoExecute"]).map((t) => t.key), ["b"]);
  });
  it("nodeSelector and required node affinity select nodes", () => {
    const n = node("n1", { labels: { zone: "a", size: "4" } });
    assert.ok(nodeMatchesPodSpec({ nodeSelector: { zone: "a" } } as never, n));
    assert.ok(!nodeMatchesPodSpec({ nodeSelector: { zone: "b" } } as never, n));
    const aff = (matchExpressions: object[], matchFields: object[] = []) =>
      ({ nodeSelector: {}, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions, matchFields }] } } } }) as never;
    assert.ok(nodeMatchesPodSpec(aff([{ key: "size", operator: "Gt", values: ["2"] }]), n));
    assert.ok(!nodeMatchesPodSpec(aff([{ key: "size", operator: "Lt", values: ["2"] }]), n));
    assert.ok(nodeMatchesPodSpec(aff([], [{ key: "metadata.name", operator: "In", values: ["n1"] }]), n));
    assert.ok(!nodeMatchesPodSpec(aff([], [{ key: "metadata.name", operator: "In", values: ["n2"] }]), n));
  });
});
