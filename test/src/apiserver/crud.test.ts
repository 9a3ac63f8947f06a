import { create } from "@bufbuild/protobuf";
import {
  ConfigMapSchema,
  ConfigMaps,
  DeploymentSchema,
  DeploymentStatusSchema,
  Deployments,
  NamespaceSchema,
  Namespaces,
  PodSchema,
  Pods,
  SecretSchema,
  Secrets,
  type Pod,
} from "@corral/api";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";

function pod(name: string, labels: Record<string, string> = {}, namespace = "default"): Pod {
  return create(PodSchema, {
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: "main", image: "localhost:5000/corral/busybox", command: ["sleep", "3600"] }] },
  });
}

async function rejects(p: Promise<unknown>, code: Code, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.equal(errorCode(err), code, `expected ${Code[code]}, got ${Code[errorCode(err)]}: ${errorMessage(err)}`);
    assert.match(errorMessage(err), message);
    return true;
  });
}

describe("apiserver CRUD", () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  it("has the default and corral-system namespaces from the start", async () => {
    const names = (await cp.clients.for(Namespaces).list({})).items.map((n) => n.metadata!.name);
    assert.ok(names.includes("default") && names.includes("corral-system"), names.join(","));
    await rejects(cp.clients.for(Namespaces).delete({ name: "default" }), Code.PERMISSION_DENIED, /may not be deleted/);
  });

  it("sets uid, creationTimestamp, generation and resourceVersion on create", async () => {
    const p = await cp.clients.for(Pods).create(pod("server-fields"));
    assert.match(p.metadata!.uid, /^[0-9a-f-]{36}$/);
    assert.ok(p.metadata!.creationTimestamp);
    assert.equal(p.metadata!.generation, 1n);
    assert.match(p.metadata!.resourceVersion, /^\d+$/);
    assert.equal(p.status?.phase, "Pending");
    const got = await cp.clients.for(Pods).get({ namespace: "default", name: "server-fields" });
    assert.equal(got.metadata!.resourceVersion, p.metadata!.resourceVersion);
    await rejects(cp.clients.for(Pods).create(pod("server-fields")), Code.ALREADY_EXISTS, /pods "server-fields" already exists/);
  });

  it("generates names from generateName", async () => {
    const p = pod("");
    p.metadata!.generateName = "gen-";
    const a = await cp.clients.for(Pods).create(p);
    const b = await cp.clients.for(Pods).create(p);
    assert.match(a.metadata!.name, /^gen-[a-z0-9]{5}$/);
    assert.notEqual(a.metadata!.name, b.metadata!.name);
  });

  it("refuses a stale update with ABORTED and keeps the newer write", async () => {
    const client = cp.clients.for(ConfigMaps);
    const v1 = await client.create(create(ConfigMapSchema, { metadata: { name: "stale" }, data: { a: "1" } }));
    const v2 = await client.update({ ...v1, data: { a: "2" } });
    await rejects(client.update({ ...v1, data: { a: "3" } }), Code.ABORTED, /has been modified.*resourceVersion/);
    const now = await client.get({ namespace: "default", name: "stale" });
    assert.deepEqual(now.data, { a: "2" });
    assert.equal(now.metadata!.resourceVersion, v2.metadata!.resourceVersion);
  });

  it("bumps generation on spec changes only; status is a subresource", async () => {
    const client = cp.clients.for(Deployments);
    const d = await client.create(
      create(DeploymentSchema, {
        metadata: { name: "web" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "web", image: "localhost:5000/corral/busybox" }] },
          },
        },
        status: { replicas: 99 },
      }),
    );
    assert.equal(d.metadata!.generation, 1n);
    assert.equal(d.status, undefined, "status given on create is dropped");

    const labelled = await client.update({ ...d, metadata: { ...d.metadata!, labels: { team: "a" } } });
    assert.equal(labelled.metadata!.generation, 1n, "a metadata change is not a spec change");

    const withStatus = await client.updateStatus({ ...labelled, status: create(DeploymentStatusSchema, { replicas: 2, observedGeneration: 1n }) });
    assert.equal(withStatus.status?.replicas, 2);
    assert.equal(withStatus.metadata!.generation, 1n);

    // A spec write carrying a different status leaves the stored status alone.
    const scaled = await client.update({ ...withStatus, spec: { ...withStatus.spec!, replicas: 5 }, status: undefined });
    assert.equal(scaled.metadata!.generation, 2n);
    assert.equal(scaled.status?.replicas, 2);

    // A status write carrying a different spec leaves the stored spec alone.
    const st = await client.updateStatus({ ...scaled, spec: { ...scaled.spec!, replicas: 1 }, status: create(DeploymentStatusSchema, { replicas: 5 }) });
    assert.equal(st.spec?.replicas, 5);
    assert.equal(st.status?.replicas, 5);
    assert.equal(st.metadata!.generation, 2n);
  });

  it("marks an object with finalizers instead of removing it, and removes it when they are gone", async () => {
    const client = cp.clients.for(ConfigMaps);
    await client.create(create(ConfigMapSchema, { metadata: { name: "fin", finalizers: ["example.com/hold"] } }));
    const marked = await client.delete({ namespace: "default", name: "fin", propagationPolicy: "Foreground" });
    assert.ok(marked.metadata!.deletionTimestamp, "deletionTimestamp set");
    const still = await client.get({ namespace: "default", name: "fin" });
    // Foreground propagation adds the garbage collector's finalizer beside the object's own.
    assert.deepEqual(still.metadata!.finalizers, ["example.com/hold", "foregroundDeletion"]);
    await client.update({ ...still, metadata: { ...still.metadata!, finalizers: [] } });
    await rejects(client.get({ namespace: "default", name: "fin" }), Code.NOT_FOUND, /configmaps "fin" not found/);
    await rejects(client.delete({ namespace: "default", name: "x", propagationPolicy: "Sideways" }), Code.INVALID_ARGUMENT, /propagationPolicy/);
  });

  it("requires the namespace of a namespaced object to exist", async () => {
    await rejects(cp.clients.for(Pods).create(pod("p", {}, "nowhere")), Code.NOT_FOUND, /namespaces "nowhere" not found/);
    await cp.clients.for(Namespaces).create(create(NamespaceSchema, { metadata: { name: "team-a" } }));
    const p = await cp.clients.for(Pods).create(pod("p", {}, "team-a"));
    assert.equal(p.metadata!.namespace, "team-a");
    // A namespace with content is marked Terminating and refuses new content.
    const ns = await cp.clients.for(Namespaces).delete({ name: "team-a" });
    assert.equal((ns.status as { phase?: string } | undefined)?.phase, "Terminating");
    await rejects(cp.clients.for(Pods).create(pod("q", {}, "team-a")), Code.FAILED_PRECONDITION, /being terminated/);
  });

  it("lists by label and field selector, one namespace or all, in pages", async () => {
    await cp.clients.for(Namespaces).create(create(NamespaceSchema, { metadata: { name: "list-b" } }));
    const pods = cp.clients.for(Pods);
    for (let i = 0; i < 7; i++) await pods.create(pod(`l-${i}`, { app: "list", tier: i % 2 ? "odd" : "even" }));
    await pods.create(pod("l-other", { app: "list", tier: "odd" }, "list-b"));

    const odd = await pods.list({ namespace: "default", labelSelector: "app=list,tier in (odd)" });
    assert.deepEqual(odd.items.map((p) => p.metadata!.name), ["l-1", "l-3", "l-5"]);
    const all = await pods.list({ labelSelector: "app=list,tier!=even" });
    assert.equal(all.items.length, 4);
    const byName = await pods.list({ namespace: "default", fieldSelector: "metadata.name=l-2" });
    assert.deepEqual(byName.items.map((p) => p.metadata!.name), ["l-2"]);

    const seen: string[] = [];
    let cont = "";
    let pages = 0;
    do {
      const page = await pods.list({ namespace: "default", labelSelector: "app=list", limit: 3n, continue: cont });
      assert.ok(page.items.length <= 3);
      seen.push(...page.items.map((p) => p.metadata!.name));
      cont = page.metadata!.continue;
      pages++;
    } while (cont);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ["l-0", "l-1", "l-2", "l-3", "l-4", "l-5", "l-6"]);

    await rejects(pods.list({ labelSelector: "app in (" }), Code.INVALID_ARGUMENT, /labelSelector/);
    await rejects(pods.list({ fieldSelector: "spec.bogus=1" }), Code.INVALID_ARGUMENT, /field label not supported/);
  });

  it("merges Secret stringData into data and never stores it", async () => {
    const s = await cp.clients.for(Secrets).create(
      create(SecretSchema, { metadata: { name: "creds" }, data: { a: new TextEncoder().encode("x") }, stringData: { b: "plain" } }),
    );
    assert.equal(new TextDecoder().decode(s.data.b), "plain");
    assert.deepEqual(s.stringData, {});
    assert.equal(s.type, "Opaque");
  });
});
