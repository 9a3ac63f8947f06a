import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ConfigMaps,
  ConfigMapSchema,
  DeploymentSchema,
  Deployments,
  NamespaceSchema,
  Namespaces,
  NodeSchema,
  Nodes,
  PodSchema,
  Pods,
  SecretSchema,
  Secrets,
  type ApiObject,
  type Deployment,
  type Namespace,
  type Node,
  type Pod,
  type Secret,
} from "@corral/api";
import {
  mergeForStatusUpdate,
  mergeForUpdate,
  normalizeContent,
  normalizeMeta,
  prepareForCreate,
  randomSuffix,
  readyToRemove,
  sameContent,
  specChanged,
} from "./prepare.js";

const now = new Date("2024-05-01T12:00:00.000Z");
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

function deployment(replicas: number, extra: Partial<{ labels: Record<string, string>; status: number }> = {}): Deployment {
  return create(DeploymentSchema, {
    metadata: { name: "web", namespace: "default", labels: extra.labels ?? { app: "web" } },
    spec: {
      replicas,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
    },
    status: extra.status === undefined ? undefined : { replicas: extra.status, readyReplicas: extra.status },
  });
}

/** A stored Deployment: what prepareForCreate made of it. */
function stored(d: Deployment, generation = 3n): Deployment {
  d.metadata!.uid = "uid-1";
  d.metadata!.creationTimestamp = timestampFromDate(new Date("2024-01-01T00:00:00Z"));
  d.metadata!.generation = generation;
  d.metadata!.resourceVersion = "42";
  return d;
}

describe("randomSuffix", () => {
  it("is five characters without vowels", () => {
    for (let i = 0; i < 100; i++) assert.match(randomSuffix(), /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
});

describe("normalizeMeta", () => {
  it("puts namespaced objects without a namespace in \"default\"", () => {
    const pod = create(PodSchema, { metadata: { name: "p" } });
    normalizeMeta(Pods, pod);
    assert.equal(pod.metadata!.namespace, "default");
  });

  it("honours another default namespace and keeps an explicit one", () => {
    const a = create(PodSchema, { metadata: { name: "p" } });
    normalizeMeta(Pods, a, "team-a");
    assert.equal(a.metadata!.namespace, "team-a");
    const b = create(PodSchema, { metadata: { name: "p", namespace: "kube-system" } });
    normalizeMeta(Pods, b, "team-a");
    assert.equal(b.metadata!.namespace, "kube-system");
  });

  it("clears the namespace of cluster-scoped objects", () => {
    const node = create(NodeSchema, { metadata: { name: "node-a", namespace: "default" } });
    normalizeMeta(Nodes, node);
    assert.equal(node.metadata!.namespace, "");
    const ns = create(NamespaceSchema, { metadata: { name: "team-a" } });
    normalizeMeta(Namespaces, ns);
    assert.equal(ns.metadata!.namespace, "");
  });

  it("creates metadata when it is missing", () => {
    const pod = create(PodSchema, {});
    normalizeMeta(Pods, pod);
    assert.equal(pod.metadata?.namespace, "default");
    assert.equal(pod.metadata?.name, "");
  });

  it("names an object from generateName plus a five-character suffix", () => {
    const names = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const pod = create(PodSchema, { metadata: { generateName: "web-" } });
      normalizeMeta(Pods, pod);
      assert.match(pod.metadata!.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      assert.equal(pod.metadata!.generateName, "web-");
      names.add(pod.metadata!.name);
    }
    assert.ok(names.size > 1, "generated names vary");
  });

  it("keeps an explicit name over generateName", () => {
    const pod = create(PodSchema, { metadata: { name: "web-1", generateName: "web-" } });
    normalizeMeta(Pods, pod);
    assert.equal(pod.metadata!.name, "web-1");
  });
});

describe("normalizeContent", () => {
  it("merges a Secret's stringData into data, stringData winning, and never stores stringData", () => {
    const s = create(SecretSchema, {
      metadata: { name: "s", namespace: "default" },
      data: { user: bytes("old"), keep: bytes("k") },
      stringData: { user: "admin", password: "hunter2" },
    });
    normalizeContent(Secrets, s);
    assert.deepEqual(Object.keys(s.stringData), []);
    assert.equal(text(s.data.user), "admin");
    assert.equal(text(s.data.password), "hunter2");
    assert.equal(text(s.data.keep), "k");
  });

  it("defaults a Secret's type to Opaque and keeps a given type", () => {
    const a = create(SecretSchema, { metadata: { name: "a" } });
    normalizeContent(Secrets, a);
    assert.equal(a.type, "Opaque");
    const b = create(SecretSchema, { metadata: { name: "b" }, type: "kubernetes.io/tls" });
    normalizeContent(Secrets, b);
    assert.equal(b.type, "kubernetes.io/tls");
  });

  it("leaves other kinds alone", () => {
    const cm = create(ConfigMapSchema, { metadata: { name: "c" }, data: { a: "1" } });
    const before = create(ConfigMapSchema, { metadata: { name: "c" }, data: { a: "1" } });
    normalizeContent(ConfigMaps, cm);
    assert.deepEqual(cm, before);
  });
});

describe("prepareForCreate", () => {
  it("sets uid, creationTimestamp and generation 1, and clears what clients may not set", () => {
    const pod = create(PodSchema, {
      metadata: {
        name: "p",
        namespace: "default",
        uid: "client-uid",
        resourceVersion: "99",
        generation: 7n,
        deletionTimestamp: timestampFromDate(now),
        deletionGracePeriodSeconds: 30n,
        finalizers: ["example.com/keep"],
        labels: { app: "web" },
      },
    });
    prepareForCreate(Pods, pod, now);
    const m = pod.metadata!;
    assert.match(m.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual(m.uid, "client-uid");
    assert.equal(timestampDate(m.creationTimestamp!).toISOString(), now.toISOString());
    assert.equal(m.generation, 1n);
    assert.equal(m.resourceVersion, "");
    assert.equal(m.deletionTimestamp, undefined);
    assert.equal(m.deletionGracePeriodSeconds, undefined);
    assert.deepEqual(m.finalizers, ["example.com/keep"]);
    assert.deepEqual(m.labels, { app: "web" });
  });

  it("gives every object its own uid", () => {
    const a = create(PodSchema, { metadata: { name: "a" } });
    const b = create(PodSchema, { metadata: { name: "b" } });
    prepareForCreate(Pods, a, now);
    prepareForCreate(Pods, b, now);
    assert.notEqual(a.metadata!.uid, b.metadata!.uid);
  });

  it("starts a Pod Pending, whatever status the client sent", () => {
    const pod = create(PodSchema, {
      metadata: { name: "p" },
      spec: { containers: [{ name: "c", image: "nginx" }] },
      status: { phase: "Running", podIp: "10.0.0.5" },
    });
    prepareForCreate(Pods, pod, now);
    assert.equal(pod.status?.phase, "Pending");
    assert.equal(pod.status?.podIp, "");
    assert.equal(pod.spec?.containers[0]?.image, "nginx");
  });

  it("starts a Namespace Active", () => {
    const ns = create(NamespaceSchema, { metadata: { name: "team-a" }, status: { phase: "Terminating" } });
    prepareForCreate(Namespaces, ns, now);
    assert.equal((ns as Namespace).status?.phase, "Active");
  });

  it("drops the status a client sends with a Deployment", () => {
    const d = deployment(3, { status: 3 });
    prepareForCreate(Deployments, d, now);
    assert.equal(d.status, undefined);
    assert.equal(d.spec?.replicas, 3);
  });

  it("keeps a Node's status: the node agent registers with its capacity", () => {
    const node = create(NodeSchema, {
      metadata: { name: "node-a" },
      status: { capacity: { cpu: "4", memory: "8Gi" }, conditions: [{ type: "Ready", status: "True" }] },
    });
    prepareForCreate(Nodes, node, now);
    assert.deepEqual((node as Node).status?.capacity, { cpu: "4", memory: "8Gi" });
    assert.equal((node as Node).status?.conditions[0]?.type, "Ready");
  });

  it("does not touch kinds without status", () => {
    const s = create(SecretSchema, { metadata: { name: "s" }, data: { a: bytes("1") } });
    prepareForCreate(Secrets, s, now);
    assert.equal(text((s as Secret).data.a), "1");
    assert.equal(s.metadata!.generation, 1n);
  });
});

describe("specChanged", () => {
  it("is false for changes to metadata or status only", () => {
    const a = deployment(3, { status: 1 });
    const b = deployment(3, { labels: { app: "web", extra: "yes" }, status: 3 });
    b.metadata!.annotations = { note: "x" };
    b.metadata!.resourceVersion = "77";
    assert.equal(specChanged(Deployments, a, b), false);
  });

  it("is true for a change to the spec", () => {
    assert.equal(specChanged(Deployments, deployment(3), deployment(4)), true);
    const c = deployment(3);
    c.spec!.template!.spec!.containers[0]!.image = "nginx:2";
    assert.equal(specChanged(Deployments, deployment(3), c), true);
  });

  it("does not modify its arguments", () => {
    const a = deployment(3, { status: 1 });
    specChanged(Deployments, a, deployment(4));
    assert.equal(a.metadata?.name, "web");
    assert.equal(a.status?.replicas, 1);
  });

  it("treats a Secret's data as its spec", () => {
    const a = create(SecretSchema, { metadata: { name: "s" }, data: { a: bytes("1") } });
    const b = create(SecretSchema, { metadata: { name: "s", labels: { x: "y" } }, data: { a: bytes("1") } });
    const c = create(SecretSchema, { metadata: { name: "s" }, data: { a: bytes("2") } });
    assert.equal(specChanged(Secrets, a, b), false);
    assert.equal(specChanged(Secrets, a, c), true);
  });
});

describe("mergeForUpdate", () => {
  it("keeps the current status, uid and creationTimestamp, and takes the client's metadata and spec", () => {
    const current = stored(deployment(3, { status: 3 }));
    const incoming = deployment(5, { labels: { app: "web", tier: "front" }, status: 0 });
    incoming.metadata!.uid = "forged";
    incoming.metadata!.creationTimestamp = timestampFromDate(now);
    incoming.metadata!.generation = 100n;
    incoming.metadata!.resourceVersion = "42";
    const next = mergeForUpdate(Deployments, current, incoming) as Deployment;
    assert.equal(next.metadata!.uid, "uid-1");
    assert.equal(timestampDate(next.metadata!.creationTimestamp!).toISOString(), "2024-01-01T00:00:00.000Z");
    assert.equal(next.metadata!.resourceVersion, "");
    assert.deepEqual(next.metadata!.labels, { app: "web", tier: "front" });
    assert.equal(next.spec?.replicas, 5);
    assert.equal(next.status?.replicas, 3);
    assert.equal(next.status?.readyReplicas, 3);
  });

  it("bumps generation on a spec change", () => {
    const next = mergeForUpdate(Deployments, stored(deployment(3)), deployment(4));
    assert.equal(next.metadata!.generation, 4n);
  });

  it("keeps generation when only metadata or status differ", () => {
    const current = stored(deployment(3, { status: 3 }));
    const next = mergeForUpdate(Deployments, current, deployment(3, { labels: { app: "web", new: "label" }, status: 9 }));
    assert.equal(next.metadata!.generation, 3n);
    assert.equal((next as Deployment).status?.replicas, 3);
  });

  it("keeps the deletion mark: a client cannot undelete", () => {
    const current = stored(deployment(3));
    current.metadata!.deletionTimestamp = timestampFromDate(now);
    current.metadata!.deletionGracePeriodSeconds = 0n;
    current.metadata!.finalizers = ["example.com/keep"];
    const incoming = deployment(3);
    const next = mergeForUpdate(Deployments, current, incoming);
    assert.equal(timestampDate(next.metadata!.deletionTimestamp!).toISOString(), now.toISOString());
    assert.equal(next.metadata!.deletionGracePeriodSeconds, 0n);
    assert.deepEqual(next.metadata!.finalizers, [], "finalizers are the client's to remove");
    assert.equal(readyToRemove(next), true);
  });

  it("does not modify the incoming object", () => {
    const incoming = deployment(4, { status: 1 });
    mergeForUpdate(Deployments, stored(deployment(3, { status: 3 })), incoming);
    assert.equal(incoming.metadata!.uid, "");
    assert.equal(incoming.status?.replicas, 1);
  });

  it("takes everything from the client for kinds without status", () => {
    const current = create(SecretSchema, { metadata: { name: "s", uid: "u", generation: 1n }, data: { a: bytes("1") }, type: "Opaque" });
    const incoming = create(SecretSchema, { metadata: { name: "s" }, data: { a: bytes("2") }, type: "Opaque" });
    const next = mergeForUpdate(Secrets, current, incoming) as Secret;
    assert.equal(text(next.data.a), "2");
    assert.equal(next.metadata!.uid, "u");
    assert.equal(next.metadata!.generation, 2n);
  });
});

describe("mergeForStatusUpdate", () => {
  it("takes only the status from the client", () => {
    const current = stored(deployment(3, { status: 1 }));
    const incoming = deployment(10, { labels: { hacked: "yes" }, status: 3 });
    incoming.metadata!.uid = "forged";
    incoming.metadata!.resourceVersion = "42";
    const next = mergeForStatusUpdate(Deployments, current, incoming) as Deployment;
    assert.equal(next.status?.replicas, 3);
    assert.equal(next.spec?.replicas, 3);
    assert.deepEqual(next.metadata!.labels, { app: "web" });
    assert.equal(next.metadata!.uid, "uid-1");
    assert.equal(next.metadata!.generation, 3n);
    assert.equal(next.metadata!.resourceVersion, "");
  });

  it("does not modify the current object", () => {
    const current = stored(deployment(3, { status: 1 }));
    mergeForStatusUpdate(Deployments, current, deployment(3, { status: 3 }));
    assert.equal(current.status?.replicas, 1);
    assert.equal(current.metadata!.resourceVersion, "42");
  });

  it("lets a node agent report a Pod's phase", () => {
    const current = create(PodSchema, {
      metadata: { name: "p", namespace: "default", uid: "u" },
      spec: { nodeName: "node-a" },
      status: { phase: "Pending" },
    });
    const incoming = create(PodSchema, { metadata: { name: "p", namespace: "default" }, status: { phase: "Running", podIp: "10.0.0.5" } });
    const next = mergeForStatusUpdate(Pods, current, incoming) as Pod;
    assert.equal(next.status?.phase, "Running");
    assert.equal(next.status?.podIp, "10.0.0.5");
    assert.equal(next.spec?.nodeName, "node-a");
  });
});

describe("sameContent", () => {
  it("ignores resourceVersion only", () => {
    const a = stored(deployment(3));
    const b = stored(deployment(3));
    b.metadata!.resourceVersion = "43";
    assert.equal(sameContent(Deployments, a, b), true);
    assert.equal(a.metadata!.resourceVersion, "42", "arguments are not modified");
    b.metadata!.labels.extra = "x";
    assert.equal(sameContent(Deployments, a, b), false);
  });
});

describe("readyToRemove", () => {
  const obj = (m: Partial<{ deleted: boolean; finalizers: string[]; grace: bigint }>): ApiObject =>
    create(PodSchema, {
      metadata: {
        name: "p",
        deletionTimestamp: m.deleted ? timestampFromDate(now) : undefined,
        deletionGracePeriodSeconds: m.grace,
        finalizers: m.finalizers ?? [],
      },
    });

  it("is false for an object not marked for deletion", () => {
    assert.equal(readyToRemove(obj({})), false);
  });

  it("is true once marked with no finalizers and no grace period left", () => {
    assert.equal(readyToRemove(obj({ deleted: true })), true);
    assert.equal(readyToRemove(obj({ deleted: true, grace: 0n })), true);
  });

  it("waits for finalizers", () => {
    assert.equal(readyToRemove(obj({ deleted: true, finalizers: ["example.com/keep"] })), false);
  });

  it("waits for the grace period", () => {
    assert.equal(readyToRemove(obj({ deleted: true, grace: 30n })), false);
  });
});
