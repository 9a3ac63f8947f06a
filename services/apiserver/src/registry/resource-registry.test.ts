import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clone, create, equals, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import {
  BindingSchema,
  ConfigMapSchema,
  ConfigMaps,
  DeleteRequestSchema,
  DeploymentSchema,
  Deployments,
  NodeSchema,
  Nodes,
  SecretSchema,
  Secrets,
  GetRequestSchema,
  JobSchema,
  Jobs,
  ListRequestSchema,
  NamespaceSchema,
  Namespaces,
  PodSchema,
  Pods,
  type ApiObject,
  type ConfigMap,
  type KindInfo,
  type ListRequest,
  type Pod,
} from "@corral/api";
import { Code, GrpcError } from "@corral/grpc";
import { createLogger } from "@corral/logging";
import type { WatchFeed } from "../events/event-hub.js";
import { EtcdStore } from "../storage/etcd-store.js";
import { MemoryKv } from "../storage/memory-kv.js";
import { NamespaceGuard } from "./namespace-guard.js";
import { ResourceRegistry } from "./resource-registry.js";

async function setup() {
  const kv = new MemoryKv();
  const store = new EtcdStore(kv);
  const deps = {
    store,
    feed: { recent: () => undefined } as unknown as WatchFeed, // no watch in these tests
    namespaces: new NamespaceGuard(store, []),
    log: createLogger("test", { level: "silent" }),
    maxObjectBytes: 64 * 1024,
  };
  const namespaces = new ResourceRegistry(Namespaces, deps);
  await namespaces.create(create(NamespaceSchema, { metadata: { name: "default" } }));
  return {
    kv,
    namespaces,
    pods: new ResourceRegistry(Pods, deps),
    configMaps: new ResourceRegistry(ConfigMaps, deps),
    nodes: new ResourceRegistry(Nodes, deps),
    deployments: new ResourceRegistry(Deployments, deps),
    secrets: new ResourceRegistry(Secrets, deps),
    jobs: new ResourceRegistry(Jobs, deps),
  };
}

const pod = (name: string) =>
  create(PodSchema, { metadata: { name, namespace: "default" }, spec: { containers: [{ name: "c", image: "busybox" }] } });

const binding = (name: string, node: string, pre: { uid?: string; resourceVersion?: string } = {}) =>
  create(BindingSchema, { metadata: { name, namespace: "default", ...pre }, target: { name: node } });

function rejectsWith(code: Code, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof GrpcError, `expected a GrpcError, got ${String(err)}`);
    assert.equal(err.code, code, `${Code[err.code]}: ${err.message}`);
    assert.match(err.message, message);
    return true;
  };
}

describe("ResourceRegistry.bind", () => {
  it("sets spec.nodeName and PodScheduled=True, bumps generation, and returns the stored pod with its resourceVersion", async () => {
    const { pods } = await setup();
    const created = await pods.create(pod("web"));
    const { obj, bytes } = await pods.bind(binding("web", "node-a", { uid: created.metadata!.uid }));
    const stored = await pods.get(getRequest("web"));
    assert.equal(stored.spec?.nodeName, "node-a");
    assert.equal(stored.metadata?.generation, 2n);
    assert.deepEqual(
      stored.status?.conditions.map((c) => `${c.type}=${c.status}`),
      ["PodScheduled=True"],
    );
    assert.equal(stored.status?.phase, "Pending");
    assert.notEqual(stored.metadata?.resourceVersion, created.metadata?.resourceVersion);
    // The reply bytes are the stored pod with its resourceVersion.
    const reply = fromBinary(PodSchema, bytes);
    assert.equal(reply.metadata?.resourceVersion, stored.metadata?.resourceVersion);
    assert.equal(reply.spec?.nodeName, "node-a");
    assert.equal((obj as Pod).metadata?.resourceVersion, stored.metadata?.resourceVersion);
  });

  it("refuses a pod that already has a node, naming it (FAILED_PRECONDITION)", async () => {
    const { pods } = await setup();
    await pods.create(pod("web"));
    await pods.bind(binding("web", "node-a"));
    await assert.rejects(pods.bind(binding("web", "node-b")), rejectsWith(Code.FAILED_PRECONDITION, /already assigned to node "node-a"/));
    assert.equal((await pods.get(getRequest("web"))).spec?.nodeName, "node-a");
  });

  it("lets only one of two concurrent bindings through", async () => {
    const { pods } = await setup();
    await pods.create(pod("web"));
    const results = await Promise.allSettled([pods.bind(binding("web", "node-a")), pods.bind(binding("web", "node-b"))]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    rejectsWith(Code.FAILED_PRECONDITION, /already assigned/)(failed.reason);
  });

  it("checks the uid and resourceVersion preconditions (ABORTED)", async () => {
    const { pods } = await setup();
    const created = await pods.create(pod("web"));
    await assert.rejects(pods.bind(binding("web", "node-a", { uid: "another-pod" })), rejectsWith(Code.ABORTED, /UID in precondition/));
    await assert.rejects(pods.bind(binding("web", "node-a", { resourceVersion: "1" })), rejectsWith(Code.ABORTED, /has been modified/));
    await pods.bind(binding("web", "node-a", { resourceVersion: created.metadata!.resourceVersion }));
  });

  it("refuses a pod being deleted, a missing pod, and a bad node name", async () => {
    const { pods } = await setup();
    const p = pod("web");
    p.metadata!.finalizers = ["example.com/hold"];
    await pods.create(p);
    await pods.delete(create(DeleteRequestSchema, { namespace: "default", name: "web" }));
    await assert.rejects(pods.bind(binding("web", "node-a")), rejectsWith(Code.FAILED_PRECONDITION, /being deleted/));
    await assert.rejects(pods.bind(binding("nope", "node-a")), rejectsWith(Code.NOT_FOUND, /not found/));
    await assert.rejects(pods.bind(binding("web", "Node_A")), rejectsWith(Code.INVALID_ARGUMENT, /target.name/));
  });

  it("exists for pods only", async () => {
    const { configMaps } = await setup();
    await assert.rejects(configMaps.bind(binding("x", "node-a")), rejectsWith(Code.UNIMPLEMENTED, /binding/));
  });
});

describe("ResourceRegistry.createOwned from the request's bytes", () => {
  async function check<T extends ApiObject>(reg: ResourceRegistry<T>, kind: { schema: DescMessage }, obj: T) {
    const request = toBinary(kind.schema, obj);
    const { obj: stored, bytes } = await reg.createOwned(create(kind.schema, fromBinary(kind.schema, request)) as unknown as T, request);
    const fromStore = await reg.get(getRequest(stored.metadata!.name));
    assert.ok(equals(kind.schema, fromStore, stored), `stored bytes decode to the object (${stored.$typeName})`);
    assert.ok(equals(kind.schema, fromBinary(kind.schema, bytes), stored), "reply bytes decode to the object");
    return stored;
  }

  it("stores exactly the object prepared for create", async () => {
    const { kv, pods, configMaps, namespaces, nodes, deployments, secrets } = await setup();
    const p = await check(pods, Pods, create(PodSchema, {
      metadata: { name: "p", namespace: "default", labels: { a: "b" }, annotations: { x: "y" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u" }] },
      spec: { containers: [{ name: "c", image: "busybox", resources: { requests: { cpu: "100m" } } }] },
    }));
    assert.equal(p.status?.phase, "Pending");
    assert.equal(p.metadata?.generation, 1n);
    const c = await check(configMaps, ConfigMaps, create(ConfigMapSchema, { metadata: { name: "c", namespace: "default", labels: { z: "1" } }, data: { k: "v" } }));
    // The fast path was taken: the stored bytes are the request's, with uid, generation and
    // creationTimestamp after the labels (an encode would put them before).
    const raw = (await kv.range({ key: Buffer.from("/corral/configmaps/default/c") })).kvs[0]!.value;
    const canonical = toBinary(ConfigMapSchema, create(ConfigMapSchema, { ...c, metadata: { ...c.metadata!, resourceVersion: "" } }));
    assert.equal(raw.length, canonical.length);
    assert.notDeepEqual(Buffer.from(raw), Buffer.from(canonical));
    await check(namespaces, Namespaces, create(NamespaceSchema, { metadata: { name: "team-a" } }));
    const n = await check(nodes, Nodes, create(NodeSchema, { metadata: { name: "node-a" }, status: { capacity: { cpu: "4" } } }));
    assert.equal(n.status?.capacity.cpu, "4");
    await check(deployments, Deployments, create(DeploymentSchema, {
      metadata: { name: "d", namespace: "default" },
      spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i" }] } } },
      status: { replicas: 3 },
    }));
    // Not amendable: encoded as before, with the same result.
    const s = await check(secrets, Secrets, create(SecretSchema, { metadata: { name: "s", namespace: "default" }, stringData: { a: "1" } }));
    assert.deepEqual(Object.keys(s.data), ["a"]);
    const g = await check(pods, Pods, create(PodSchema, { metadata: { generateName: "g-", namespace: "default" }, spec: { containers: [{ name: "c", image: "i" }] } }));
    assert.match(g.metadata!.name, /^g-/);
    const forged = await check(pods, Pods, create(PodSchema, {
      metadata: { name: "f", namespace: "default", uid: "forged", generation: 7n },
      spec: { containers: [{ name: "c", image: "i" }] },
      status: { phase: "Running" },
    }));
    assert.notEqual(forged.metadata?.uid, "forged");
    assert.equal(forged.status?.phase, "Pending");
  });
});

describe("ResourceRegistry writes", () => {
  const cm = (data: Record<string, string>, labels: Record<string, string> = {}) =>
    create(ConfigMapSchema, { metadata: { name: "cfg", namespace: "default", labels }, data });

  it("answers create, get and update with the stored bytes plus the resourceVersion", async () => {
    const { configMaps } = await setup();
    const created = await configMaps.createOwned(cm({ a: "1" }));
    const fromReply = fromBinary(ConfigMapSchema, created.bytes);
    assert.equal(fromReply.metadata?.resourceVersion, created.obj.metadata?.resourceVersion);
    assert.match(fromReply.metadata?.uid ?? "", /^[0-9a-f-]{36}$/);
    const got = fromBinary(ConfigMapSchema, await configMaps.getBytes(getRequest("cfg")));
    assert.equal(got.metadata?.resourceVersion, created.obj.metadata?.resourceVersion);
    assert.deepEqual(got.data, { a: "1" });
    const gotRv = BigInt(got.metadata!.resourceVersion);
    // updateOwned changes its argument in place (it owns it): here, got's metadata too.
    const updated = await configMaps.updateOwned({ ...got, data: { a: "2" } } as ConfigMap);
    const u = fromBinary(ConfigMapSchema, updated.bytes);
    assert.deepEqual(u.data, { a: "2" });
    assert.equal(u.metadata?.uid, fromReply.metadata?.uid);
    assert.ok(BigInt(u.metadata!.resourceVersion) > gotRv);
  });

  it("skips a write that changes nothing, even with map entries in another order", async () => {
    const { configMaps, kv } = await setup();
    const created = await configMaps.create(cm({ a: "1", b: "2" }, { x: "1", y: "2" }));
    const rev = kv.revision;
    const same = create(ConfigMapSchema, {
      metadata: { ...created.metadata!, labels: { y: "2", x: "1" } },
      data: { b: "2", a: "1" },
    });
    const res = await configMaps.updateOwned(same);
    assert.equal(kv.revision, rev, "no write");
    assert.equal(res.obj.metadata?.resourceVersion, created.metadata?.resourceVersion);
  });

  it("keeps stale updates out (ABORTED) and generation for metadata-only changes", async () => {
    const { pods } = await setup();
    const created = await pods.create(pod("web"));
    const relabeled = create(PodSchema, { ...created, metadata: { ...created.metadata!, labels: { a: "b" } } });
    const after = (await pods.updateOwned(relabeled)).obj as Pod;
    assert.equal(after.metadata?.generation, 1n);
    assert.equal(after.status?.phase, "Pending", "status is kept");
    const stale = create(PodSchema, { ...created, metadata: { ...created.metadata!, labels: { c: "d" } } });
    await assert.rejects(pods.updateOwned(stale), rejectsWith(Code.ABORTED, /has been modified/));
  });

  it("lists as bytes, filtered and paged like list()", async () => {
    const { configMaps } = await setup();
    for (const [i, app] of ["a", "b", "a"].entries()) {
      await configMaps.create(create(ConfigMapSchema, { metadata: { name: `c${i}`, namespace: "default", labels: { app } } }));
    }
    const all = fromBinary(ConfigMaps.listSchema, await configMaps.listBytes(listRequest({ namespace: "default" })));
    assert.deepEqual(all.items.map((o: ApiObject) => o.metadata?.name), ["c0", "c1", "c2"]);
    assert.ok(all.items.every((o: ApiObject) => /^\d+$/.test(o.metadata?.resourceVersion ?? "")));
    const a = fromBinary(ConfigMaps.listSchema, await configMaps.listBytes(listRequest({ namespace: "default", labelSelector: "app=a" })));
    assert.deepEqual(a.items.map((o: ApiObject) => o.metadata?.name), ["c0", "c2"]);
    const page = fromBinary(ConfigMaps.listSchema, await configMaps.listBytes(listRequest({ namespace: "default", limit: 2n })));
    assert.equal(page.items.length, 2);
    assert.ok(page.metadata?.continue);
    const rest = fromBinary(
      ConfigMaps.listSchema,
      await configMaps.listBytes(listRequest({ namespace: "default", limit: 2n, continue: page.metadata!.continue })),
    );
    assert.deepEqual(rest.items.map((o: ApiObject) => o.metadata?.name), ["c2"]);
  });
});

function getRequest(name: string) {
  return create(GetRequestSchema, { namespace: "default", name });
}

function listRequest(init: { namespace?: string; labelSelector?: string; limit?: bigint; continue?: string }): ListRequest {
  return create(ListRequestSchema, init);
}

describe("Job selector generation", () => {
  const job = (name: string, spec: Record<string, unknown> = {}) =>
    create(JobSchema, {
      metadata: { name, namespace: "default" },
      spec: { template: { metadata: { labels: { app: "batch" } }, spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } }, ...spec },
    });
  const jobGet = (name: string) => create(GetRequestSchema, { name, namespace: "default" });

  it("gives a Job without a selector one on its uid, and its template the matching labels (as Kubernetes does)", async () => {
    const { jobs } = await setup();
    const request = toBinary(JobSchema, job("pi"));
    const { obj } = await jobs.createOwned(fromBinary(JobSchema, request), request);
    const uid = obj.metadata!.uid;
    assert.deepEqual(obj.spec?.selector?.matchLabels, { "batch.kubernetes.io/controller-uid": uid });
    assert.deepEqual(obj.spec?.template?.metadata?.labels, {
      app: "batch",
      "batch.kubernetes.io/controller-uid": uid,
      "controller-uid": uid,
      "batch.kubernetes.io/job-name": "pi",
      "job-name": "pi",
    });
    assert.ok(equals(JobSchema, await jobs.get(jobGet("pi")), obj), "stored as answered");
  });

  it("keeps the generated selector when the manifest is applied again without one", async () => {
    const { jobs } = await setup();
    const created = await jobs.create(job("pi"));
    const again = job("pi", { backoffLimit: 2 });
    const updated = await jobs.update(again);
    assert.deepEqual(updated.spec?.selector, created.spec?.selector);
    assert.deepEqual(updated.spec?.template?.metadata?.labels, created.spec?.template?.metadata?.labels);
    assert.equal(updated.spec?.backoffLimit, 2);
  });

  it("keeps a selector the Job brings, and wants one with manualSelector", async () => {
    const { jobs } = await setup();
    const own = await jobs.create(
      job("own", { selector: { matchLabels: { app: "batch" } } }),
    );
    assert.deepEqual(own.spec?.selector?.matchLabels, { app: "batch" });
    assert.equal(own.spec?.template?.metadata?.labels["batch.kubernetes.io/controller-uid"], undefined);
    await assert.rejects(jobs.create(job("manual", { manualSelector: true })), rejectsWith(Code.INVALID_ARGUMENT, /spec\.selector: Required value/));
  });
});

describe("a Terminating namespace", () => {
  it("outlives writes while it has content, and goes with the first write once it is empty", async () => {
    const store = new EtcdStore(new MemoryKv());
    const deps = {
      store,
      feed: { recent: () => undefined } as unknown as WatchFeed,
      namespaces: new NamespaceGuard(store, [ConfigMaps as unknown as KindInfo]),
      log: createLogger("test", { level: "silent" }),
      maxObjectBytes: 64 * 1024,
    };
    const namespaces = new ResourceRegistry(Namespaces, deps);
    const configMaps = new ResourceRegistry(ConfigMaps, deps);
    await namespaces.create(create(NamespaceSchema, { metadata: { name: "team" } }));
    await configMaps.create(create(ConfigMapSchema, { metadata: { name: "c", namespace: "team" } }));
    const marked = await namespaces.delete(create(DeleteRequestSchema, { name: "team" }));
    assert.ok(marked.metadata?.deletionTimestamp);
    const labelled = clone(NamespaceSchema, marked);
    labelled.metadata!.labels = { touched: "yes" };
    const kept = await namespaces.update(labelled);
    assert.equal(kept.metadata?.labels.touched, "yes", "the write is stored");
    assert.ok((await namespaces.get(create(GetRequestSchema, { name: "team" }))).metadata?.deletionTimestamp, "still there, still Terminating");
    await configMaps.delete(create(DeleteRequestSchema, { name: "c", namespace: "team" }));
    const again = clone(NamespaceSchema, kept);
    again.metadata!.labels = { touched: "twice" };
    await namespaces.update(again);
    await assert.rejects(namespaces.get(create(GetRequestSchema, { name: "team" })), rejectsWith(Code.NOT_FOUND, /not found/));
  });
});
