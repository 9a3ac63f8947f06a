// Endpoints following pods, and deletion cascading through ownerReferences (background,
// foreground, orphan) and through a namespace, on a real node.
import { create } from "@bufbuild/protobuf";
import {
  ConfigMaps,
  ConfigMapSchema,
  Deployments,
  EndpointsKind,
  Namespaces,
  Pods,
  ReplicaSets,
  Services,
  ServiceSchema,
  type Endpoints,
  type Namespace,
  type ReplicaSet,
} from "@corral/api";
import { Code, errorCode } from "@corral/grpc";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Watched } from "../scheduler/until.js";
import { createNamespace, deployment, editDeployment, describePods, isReady, live, podsOf, startCluster, webSpec, type Cluster } from "./cluster.js";

const NS = "cascade-e2e";

describe("Endpoints and cascading deletion on a real node", { timeout: 600_000 }, () => {
  let c: Cluster;
  let rss: Watched<ReplicaSet>;
  let eps: Watched<Endpoints>;
  let nss: Watched<Namespace>;

  before(async () => {
    c = await startCluster();
    await createNamespace(c.clients, NS);
    rss = await Watched.start(c.clients.for(ReplicaSets));
    eps = await Watched.start(c.clients.for(EndpointsKind));
    nss = await Watched.start(c.clients.for(Namespaces));
  });
  after(async () => {
    await Promise.allSettled([rss?.stop(), eps?.stop(), nss?.stop()]);
    await c?.stop();
  });

  const appPods = (app: string, ns = NS) => podsOf(c.pods.list(), ns, app);
  const readyPods = (app: string, n: number) =>
    c.pods.until(`${n} ready pods of ${app}`, () => {
      const ps = appPods(app);
      return ps.length === n && ps.every((p) => live(p) && isReady(p) && p.status?.podIp) && ps;
    }, 90_000, () => describePods(appPods(app)));
  const gone = async (what: string, get: () => Promise<unknown>) => {
    try {
      await get();
      return false;
    } catch (err) {
      if (errorCode(err) === Code.NOT_FOUND) return true;
      throw err;
    }
  };

  it("Endpoints list the ready pods' IPs on the named target port, and follow readiness, scaling and deletion", async () => {
    // Ready while /tmp/ready exists.
    const spec = webSpec(c.image);
    spec.containers![0]!.command = ["sh", "-c", "touch /tmp/ready; exec httpd -f -p 8080 -h /tmp"];
    spec.containers![0]!.readinessProbe = { exec: { command: ["test", "-f", "/tmp/ready"] }, periodSeconds: 1, failureThreshold: 1 };
    await c.clients.for(Deployments).create(deployment(NS, "ep", 2, spec));
    await c.clients.for(Services).create(
      create(ServiceSchema, {
        metadata: { name: "ep", namespace: NS, labels: { tier: "web" } },
        spec: { selector: { app: "ep" }, ports: [{ name: "web", port: 80, targetPort: { value: { case: "strVal", value: "http" } } }] },
      }),
    );
    const epOf = (want: (e: Endpoints) => boolean) => eps.until("endpoints", (all) => all.find((e) => e.metadata?.namespace === NS && e.metadata.name === "ep" && want(e)), 60_000, (all) => all.filter((e) => e.metadata?.name === "ep").map((e) => e.subsets));
    const addrs = (e: Endpoints) => e.subsets.flatMap((s) => s.addresses.map((a) => a.ip)).sort();
    const notReady = (e: Endpoints) => e.subsets.flatMap((s) => s.notReadyAddresses.map((a) => a.ip)).sort();
    let pods = await readyPods("ep", 2);
    let e = await epOf((x) => addrs(x).length === 2);
    assert.deepEqual(addrs(e), pods.map((p) => p.status!.podIp).sort());
    assert.deepEqual(e.subsets[0]!.ports.map((p) => [p.name, p.port, p.protocol]), [["web", 8080, "TCP"]]);
    assert.equal(e.metadata!.labels.tier, "web");
    const a0 = e.subsets[0]!.addresses[0]!;
    assert.equal(a0.targetRef?.kind, "Pod");
    assert.equal(a0.nodeName, c.node.nodeName);

    // A pod that stops being ready moves to notReadyAddresses.
    const victim = pods[0]!;
    const id = victim.status!.containerStatuses[0]!.containerId.replace("containerd://", "");
    await c.node.agent!.cri.runtime.execSync({ containerId: id, cmd: ["rm", "/tmp/ready"], timeout: 10n });
    e = await epOf((x) => notReady(x).includes(victim.status!.podIp) && addrs(x).length === 1);
    assert.deepEqual(addrs(e), [pods[1]!.status!.podIp]);

    // Scaling up adds an address; a deleted pod's address goes, its replacement's comes.
    await editDeployment(c.clients, NS, "ep", (d) => (d.spec!.replicas = 3));
    e = await epOf((x) => addrs(x).length === 2 && notReady(x).length === 1);
    assert.ok(!addrs(e).includes(victim.status!.podIp));
    await c.clients.for(Pods).delete({ namespace: NS, name: victim.metadata!.name, gracePeriodSeconds: 0n });
    e = await epOf((x) => !notReady(x).includes(victim.status!.podIp) && !addrs(x).includes(victim.status!.podIp) && addrs(x).length === 3);
    pods = await readyPods("ep", 3);
    assert.deepEqual(addrs(e), pods.map((p) => p.status!.podIp).sort());

    // The Service goes, and its Endpoints with it.
    await c.clients.for(Services).delete({ namespace: NS, name: "ep" });
    await eps.until("endpoints removed", (all) => !all.some((x) => x.metadata?.namespace === NS && x.metadata.name === "ep"));
    await c.clients.for(Deployments).delete({ namespace: NS, name: "ep" });
  });

  it("deleting a Deployment removes its ReplicaSets and pods (background, the default)", async () => {
    const d = await c.clients.for(Deployments).create(deployment(NS, "bg", 2, webSpec(c.image)));
    await readyPods("bg", 2);
    await c.clients.for(Deployments).delete({ namespace: NS, name: "bg" });
    await rss.until("bg's ReplicaSet gone", (all) => !all.some((r) => r.metadata!.ownerReferences.some((o) => o.uid === d.metadata!.uid)), 60_000);
    await c.pods.until("bg's pods gone", () => appPods("bg").length === 0, 60_000, () => describePods(appPods("bg")));
  });

  it("foreground deletion keeps the Deployment until its ReplicaSets and pods are gone", async () => {
    await c.clients.for(Deployments).create(deployment(NS, "fg", 2, webSpec(c.image)));
    await readyPods("fg", 2);
    await c.clients.for(Deployments).delete({ namespace: NS, name: "fg", propagationPolicy: "Foreground" });
    const marked = await c.clients.for(Deployments).get({ namespace: NS, name: "fg" });
    assert.ok(marked.metadata!.deletionTimestamp, "marked for deletion");
    assert.deepEqual(marked.metadata!.finalizers, ["foregroundDeletion"]);
    // Wait for the Deployment to go (through its watch), then nothing of it may be left.
    const deps = await Watched.start(c.clients.for(Deployments), { namespace: NS });
    try {
      await deps.until("fg gone", (all) => !all.some((x) => x.metadata?.name === "fg"), 90_000);
    } finally {
      await deps.stop();
    }
    const pods = await c.clients.for(Pods).list({ namespace: NS, labelSelector: "app=fg" });
    assert.equal(pods.items.length, 0, "every pod was gone before the Deployment");
    const left = (await c.clients.for(ReplicaSets).list({ namespace: NS, labelSelector: "app=fg" })).items;
    assert.equal(left.length, 0, "every ReplicaSet was gone before the Deployment");
  });

  it("orphan deletion leaves the ReplicaSet and its pods, without the owner reference", async () => {
    const d = await c.clients.for(Deployments).create(deployment(NS, "orph", 2, webSpec(c.image)));
    const before = await readyPods("orph", 2);
    await c.clients.for(Deployments).delete({ namespace: NS, name: "orph", propagationPolicy: "Orphan" });
    const deps = await Watched.start(c.clients.for(Deployments), { namespace: NS });
    try {
      await deps.until("orph gone", (all) => !all.some((x) => x.metadata?.name === "orph"), 60_000);
    } finally {
      await deps.stop();
    }
    const rs = (await c.clients.for(ReplicaSets).list({ namespace: NS, labelSelector: "app=orph" })).items;
    assert.equal(rs.length, 1);
    assert.ok(!rs[0]!.metadata!.ownerReferences.some((o) => o.uid === d.metadata!.uid), "no reference to the deleted Deployment");
    assert.equal(rs[0]!.metadata!.ownerReferences.length, 0);
    const pods = (await c.clients.for(Pods).list({ namespace: NS, labelSelector: "app=orph" })).items;
    assert.deepEqual(pods.map((p) => p.metadata!.uid).sort(), before.map((p) => p.metadata!.uid).sort(), "the same pods still run");
    assert.ok(pods.every((p) => p.metadata!.ownerReferences[0]?.uid === rs[0]!.metadata!.uid));
    await c.clients.for(ReplicaSets).delete({ namespace: NS, name: rs[0]!.metadata!.name });
    await c.pods.until("orph's pods gone", () => appPods("orph").length === 0, 60_000);
  });

  it("deleting a namespace removes everything inside it, then the namespace", async () => {
    const ns = "doomed";
    await createNamespace(c.clients, ns);
    await c.clients.for(Deployments).create(deployment(ns, "app", 2, webSpec(c.image)));
    await c.clients.for(Services).create(create(ServiceSchema, { metadata: { name: "app", namespace: ns }, spec: { selector: { app: "app" }, ports: [{ port: 80 }] } }));
    await c.clients.for(ConfigMaps).create(create(ConfigMapSchema, { metadata: { name: "cfg", namespace: ns }, data: { a: "b" } }));
    await c.pods.until("app's pods ready", () => {
      const ps = appPods("app", ns);
      return ps.length === 2 && ps.every(isReady);
    }, 90_000);
    await c.clients.for(Namespaces).delete({ name: ns });
    const marked = await c.clients.for(Namespaces).get({ name: ns });
    assert.equal(marked.status?.phase, "Terminating");
    await nss.until(`namespace ${ns} seen terminating`, (all) => all.some((n) => n.metadata?.name === ns && n.metadata.deletionTimestamp));
    await nss.until(`namespace ${ns} gone`, (all) => !all.some((n) => n.metadata?.name === ns), 120_000, (all) => all.find((n) => n.metadata?.name === ns)?.status);
    assert.ok(await gone("configmap", () => c.clients.for(ConfigMaps).get({ namespace: ns, name: "cfg" })));
    assert.equal((await c.clients.for(Pods).list({ namespace: ns })).items.length, 0);
    assert.equal((await c.clients.for(ReplicaSets).list({ namespace: ns })).items.length, 0);
  });
});
