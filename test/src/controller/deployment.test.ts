// Deployments end to end on a real node: the scheduler binds the pods, the node agent runs them
// (busybox httpd, ready when it listens), the controller manager keeps them. What a user does with
// `corral scale` and `corral rollout`, checked against the cluster's own state.
import { clone } from "@bufbuild/protobuf";
import { Deployments, Pods, ReplicaSets, type Deployment, type ReplicaSet } from "@corral/api";
import { writeConfig } from "@corral/client";
import { Code, errorCode } from "@corral/grpc";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Watched } from "../scheduler/until.js";
import { corralRunner } from "../support/cli.js";
import { createNamespace, deployment, describePods, isReady, live, podsOf, startCluster, webSpec, type Cluster } from "./cluster.js";

const NS = "deploy-e2e";

describe("Deployments on a real node", { timeout: 900_000 }, () => {
  let c: Cluster;
  let deps: Watched<Deployment>;
  let rss: Watched<ReplicaSet>;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const corral = corralRunner(() => env, 120_000);

  before(async () => {
    c = await startCluster();
    await createNamespace(c.clients, NS);
    deps = await Watched.start(c.clients.for(Deployments), { namespace: NS });
    rss = await Watched.start(c.clients.for(ReplicaSets), { namespace: NS });
    dir = await mkdtemp(join(tmpdir(), "corral-deploy-e2e-"));
    env = { ...process.env, CORRAL_CONFIG: join(dir, "config") };
    await writeConfig({ server: c.node.cp.servers[0]!.address, namespace: NS }, env.CORRAL_CONFIG);
  });
  after(async () => {
    await Promise.allSettled([deps?.stop(), rss?.stop()]);
    await c?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const appPods = (app: string) => podsOf(c.pods.list(), NS, app);
  const get = (name: string) => c.clients.for(Deployments).get({ namespace: NS, name });
  /** The rollout is complete, for the spec written as `since` (or later). */
  const complete = (name: string, replicas: number, since?: Deployment) => (ds: Deployment[]) => {
    const d = ds.find((x) => x.metadata?.name === name);
    const s = d?.status;
    return (
      !!s &&
      s!.observedGeneration >= d.metadata!.generation &&
      s!.observedGeneration >= (since?.metadata?.generation ?? 0n) &&
      s!.updatedReplicas === replicas &&
      s!.replicas === replicas &&
      s!.availableReplicas === replicas &&
      s!.readyReplicas === replicas &&
      d
    );
  };
  /** Exactly n live pods of the app, all ready, and no terminating one left. */
  const settled = (app: string, n: number, timeoutMs = 90_000) =>
    c.pods.until(
      `${n} ready pods of ${app} and none terminating`,
      () => {
        const ps = appPods(app);
        return ps.length === n && ps.every((p) => live(p) && isReady(p)) && ps;
      },
      timeoutMs,
      () => describePods(appPods(app)),
    );
  /** A change to a Deployment as a user makes it: read, change, write; again on a conflict. */
  async function edit(name: string, change: (d: Deployment) => void): Promise<Deployment> {
    for (let attempt = 0; ; attempt++) {
      const d = clone(Deployments.schema, await get(name));
      change(d);
      d.status = undefined;
      try {
        return await c.clients.for(Deployments).update(d);
      } catch (err) {
        if (errorCode(err) !== Code.ABORTED || attempt > 5) throw err;
      }
    }
  }

  it("a Deployment of 3 reaches 3 ready pods, through a ReplicaSet it owns", async () => {
    await c.clients.for(Deployments).create(
      deployment(NS, "web", 3, webSpec(c.image), {
        minReadySeconds: 1,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: { value: { case: "intVal", value: 1 } }, maxUnavailable: { value: { case: "intVal", value: 0 } } } },
      }),
    );
    const d = await deps.until("web complete", complete("web", 3), 120_000, (ds) => ds.map((x) => x.status));
    const pods = await settled("web", 3);
    const conds = Object.fromEntries(d.status!.conditions.map((x) => [x.type, `${x.status}/${x.reason}`]));
    assert.equal(conds.Available, "True/MinimumReplicasAvailable");
    assert.equal(conds.Progressing, "True/NewReplicaSetAvailable");
    assert.equal(d.metadata!.annotations["deployment.kubernetes.io/revision"], "1");
    const [rs, ...more] = rss.list().filter((r) => r.metadata!.ownerReferences[0]?.uid === d.metadata!.uid);
    assert.equal(more.length, 0, "one ReplicaSet");
    const hash = rs!.metadata!.labels["pod-template-hash"]!;
    assert.equal(rs!.metadata!.name, `web-${hash}`);
    assert.equal(rs!.metadata!.annotations["deployment.kubernetes.io/revision"], "1");
    assert.deepEqual(rs!.spec!.selector!.matchLabels, { app: "web", "pod-template-hash": hash });
    const ref = rs!.metadata!.ownerReferences[0]!;
    assert.deepEqual([ref.kind, ref.name, ref.controller, ref.blockOwnerDeletion], ["Deployment", "web", true, true]);
    for (const p of pods) {
      assert.equal(p.metadata!.labels["pod-template-hash"], hash);
      const pref = p.metadata!.ownerReferences[0]!;
      assert.deepEqual([pref.kind, pref.name, pref.uid, pref.controller, pref.blockOwnerDeletion], ["ReplicaSet", rs!.metadata!.name, rs!.metadata!.uid, true, true]);
      assert.equal(p.spec!.nodeName, c.node.nodeName);
    }
    const st = rss.list().find((r) => r.metadata!.uid === rs!.metadata!.uid)!.status!;
    assert.deepEqual([st.replicas, st.readyReplicas, st.availableReplicas], [3, 3, 3]);
  });

  it("a deleted pod is replaced", async () => {
    const victim = appPods("web")[0]!;
    await c.clients.for(Pods).delete({ namespace: NS, name: victim.metadata!.name });
    await c.pods.until("the deleted pod gone", () => !appPods("web").some((p) => p.metadata!.uid === victim.metadata!.uid), 60_000);
    const pods = await settled("web", 3);
    assert.ok(!pods.some((p) => p.metadata!.uid === victim.metadata!.uid), "another pod took its place");
  });

  it("scales up and down with `corral scale`", async () => {
    const up = await corral("scale", "deploy/web", "--replicas", "5");
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout, "deployment.apps/web scaled\n");
    await deps.until("web at 5", complete("web", 5), 90_000);
    await settled("web", 5);
    const down = await corral("scale", "deployment", "web", "--replicas", "2");
    assert.equal(down.code, 0, down.stderr);
    await deps.until("web at 2", complete("web", 2), 90_000);
    await settled("web", 2);
    const wrong = await corral("scale", "deploy/web", "--replicas", "3", "--current-replicas", "7");
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Expected replicas to be 7, was 2/);
    const back = await corral("scale", "deploy/web", "--replicas", "3");
    assert.equal(back.code, 0, back.stderr);
    await deps.until("web at 3", complete("web", 3), 90_000);
    await settled("web", 3);
  });

  it("rolls an image update out without ever having fewer than replicas − maxUnavailable ready pods (watched continuously)", async () => {
    // Every pod event, in order: the ready pods of web that are not being deleted, and all live ones.
    let minReady = Infinity;
    let maxLive = 0;
    let events = 0;
    let watching = true;
    const check = () => {
      if (!watching) return;
      events++;
      const ps = appPods("web").filter(live);
      minReady = Math.min(minReady, ps.filter(isReady).length);
      maxLive = Math.max(maxLive, ps.length);
    };
    c.pods.informer.addEventHandler({ add: check, update: check, delete: check });
    const status = corral("rollout", "status", "deploy/web", "--timeout", "2m");
    const e = await edit("web", (d) => {
      d.metadata!.annotations["kubernetes.io/change-cause"] = "image latest";
      d.spec!.template!.spec!.containers[0]!.image = c.image2;
    });
    const done = await status;
    const d = await deps.until("web rolled out", complete("web", 3, e), 120_000, (ds) => ds.map((x) => x.status));
    const pods = await settled("web", 3);
    watching = false;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /Waiting for deployment "web" rollout to finish: \d+ (out of|of) 3 (new|updated) replicas/);
    assert.match(done.stdout, /deployment "web" successfully rolled out\n$/);
    assert.ok(events > 10, `watched ${events} pod events`);
    assert.ok(minReady >= 3, `ready pods dropped to ${minReady} (maxUnavailable 0)`);
    assert.ok(maxLive <= 4, `${maxLive} pods at once (maxSurge 1)`);
    assert.ok(pods.every((p) => p.spec!.containers[0]!.image === c.image2));
    assert.equal(d.metadata!.annotations["deployment.kubernetes.io/revision"], "2");
    const mine = rss.list().filter((r) => r.metadata!.ownerReferences[0]?.uid === d.metadata!.uid);
    assert.equal(mine.length, 2);
    assert.deepEqual(mine.map((r) => [r.metadata!.annotations["deployment.kubernetes.io/revision"], r.spec!.replicas]).sort(), [["1", 0], ["2", 3]]);
  });

  it("rolls back with `corral rollout undo`, and `rollout history` lists the revisions", async () => {
    const undo = await corral("rollout", "undo", "deploy/web");
    assert.equal(undo.code, 0, undo.stderr);
    assert.equal(undo.stdout, "deployment.apps/web rolled back\n");
    const d = await deps.until(
      "web rolled back",
      (ds) => {
        const x = complete("web", 3)(ds);
        return x && x.spec!.template!.spec!.containers[0]!.image === c.image && x;
      },
      120_000,
    );
    const pods = await settled("web", 3);
    assert.ok(pods.every((p) => p.spec!.containers[0]!.image === c.image));
    assert.equal(d.metadata!.annotations["deployment.kubernetes.io/revision"], "3");
    const mine = rss.list().filter((r) => r.metadata!.ownerReferences[0]?.uid === d.metadata!.uid);
    assert.equal(mine.length, 2, "the first ReplicaSet came back: no third one");
    const back = mine.find((r) => r.spec!.template!.spec!.containers[0]!.image === c.image)!;
    assert.equal(back.metadata!.annotations["deployment.kubernetes.io/revision"], "3");
    assert.equal(back.metadata!.annotations["deployment.kubernetes.io/revision-history"], "1");
    const h = await corral("rollout", "history", "deploy/web");
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^deployment\.apps\/web\nREVISION +CHANGE-CAUSE\n2 +image latest\n3 +<none>\n/);
    const r2 = await corral("rollout", "history", "deploy/web", "--revision", "2");
    assert.match(r2.stdout, /with revision #2\nPod Template:[\s\S]*Image: +\S+:latest/);
  });

  it("a paused Deployment does not roll out until resumed", async () => {
    const p = await corral("rollout", "pause", "deploy/web");
    assert.equal(p.stdout, "deployment.apps/web paused\n");
    const before = new Set(appPods("web").map((x) => x.metadata!.uid));
    const edited = await edit("web", (d) => (d.spec!.template!.spec!.containers[0]!.image = c.image2));
    const d = await deps.until("pause observed", (ds) => {
      const x = ds.find((y) => y.metadata?.name === "web");
      return x && x.status!.observedGeneration >= edited.metadata!.generation && x.status!.conditions.some((k) => k.reason === "DeploymentPaused") && x;
    });
    assert.equal(d.status!.updatedReplicas, 0, "nothing of the new template runs");
    assert.equal(rss.list().filter((r) => r.metadata!.ownerReferences[0]?.uid === d.metadata!.uid).length, 2, "no new ReplicaSet");
    assert.deepEqual(new Set(appPods("web").map((x) => x.metadata!.uid)), before);
    const again = await corral("rollout", "pause", "deploy/web");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already paused/);
    const undo = await corral("rollout", "undo", "deploy/web");
    assert.equal(undo.code, 1);
    assert.match(undo.stderr, /cannot rollback a paused deployment/);
    const r = await corral("rollout", "resume", "deploy/web");
    assert.equal(r.stdout, "deployment.apps/web resumed\n");
    const status = await corral("rollout", "status", "deploy/web", "--timeout", "2m");
    assert.equal(status.code, 0, status.stderr);
    const done = await deps.until("web resumed and rolled out", complete("web", 3), 120_000);
    assert.equal(done.metadata!.annotations["deployment.kubernetes.io/revision"], "4");
    const pods = await settled("web", 3);
    assert.ok(pods.every((x) => x.spec!.containers[0]!.image === c.image2));
  });

  it("Recreate stops every old pod before the first new one starts", async () => {
    await c.clients.for(Deployments).create(deployment(NS, "rec", 2, webSpec(c.image), { strategy: { type: "Recreate" } }));
    await deps.until("rec complete", complete("rec", 2), 120_000);
    const oldHash = (await settled("rec", 2))[0]!.metadata!.labels["pod-template-hash"];
    let overlap = "";
    const check = () => {
      const ps = appPods("rec");
      const newOnes = ps.filter((p) => p.metadata!.labels["pod-template-hash"] !== oldHash);
      const oldOnes = ps.filter((p) => p.metadata!.labels["pod-template-hash"] === oldHash);
      if (newOnes.length > 0 && oldOnes.length > 0) overlap ||= JSON.stringify(describePods(ps));
    };
    c.pods.informer.addEventHandler({ add: check, update: check, delete: check });
    const e = await edit("rec", (d) => (d.spec!.template!.spec!.containers[0]!.image = c.image2));
    await deps.until("rec recreated", complete("rec", 2, e), 120_000);
    const pods = await settled("rec", 2);
    assert.equal(overlap, "", "old and new pods existed together");
    assert.ok(pods.every((p) => p.spec!.containers[0]!.image === c.image2));
  });

  it("keeps revisionHistoryLimit old ReplicaSets", async () => {
    const spec = (v: string) => {
      const s = webSpec(c.image);
      return { ...s, containers: [{ ...s.containers![0]!, env: [{ name: "V", value: v }] }] } as typeof s;
    };
    const d0 = await c.clients.for(Deployments).create(deployment(NS, "hist", 1, spec("1"), { revisionHistoryLimit: 1 }));
    await deps.until("hist v1", complete("hist", 1), 120_000);
    for (const v of ["2", "3", "4"]) {
      const e = await edit("hist", (d) => (d.spec!.template = deployment(NS, "hist", 1, spec(v)).spec!.template));
      await deps.until(`hist v${v}`, complete("hist", 1, e), 120_000);
    }
    const mine = await rss.until("2 ReplicaSets left", (rs) => {
      const m = rs.filter((r) => r.metadata!.ownerReferences[0]?.uid === d0.metadata!.uid);
      return m.length === 2 && m;
    });
    assert.deepEqual(mine.map((r) => r.metadata!.annotations["deployment.kubernetes.io/revision"]).sort(), ["3", "4"]);
  });

  it("a rollout stuck on failing pods is reported by progressDeadlineSeconds, and `rollout status` fails", async () => {
    await c.clients.for(Deployments).create(deployment(NS, "stuck", 1, webSpec("127.0.0.1:1/no/such-image:1"), { progressDeadlineSeconds: 4 }));
    const d = await deps.until("stuck timed out", (ds) => {
      const x = ds.find((y) => y.metadata?.name === "stuck");
      return x?.status?.conditions.find((k) => k.type === "Progressing" && k.status === "False" && k.reason === "ProgressDeadlineExceeded") && x;
    }, 60_000, (ds) => ds.map((x) => x.status?.conditions));
    assert.match(d.status!.conditions.find((k) => k.type === "Progressing")!.message, /ReplicaSet "stuck-\w+" has timed out progressing\./);
    const status = await corral("rollout", "status", "deploy/stuck");
    assert.equal(status.code, 1);
    assert.match(status.stderr, /deployment "stuck" exceeded its progress deadline/);
    await c.clients.for(Deployments).delete({ namespace: NS, name: "stuck" });
    await c.pods.until("stuck's pods gone", () => appPods("stuck").length === 0 || undefined, 60_000);
  });
});

