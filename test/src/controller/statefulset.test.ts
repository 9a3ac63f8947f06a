// StatefulSets on a real node: pods made one at a time in ordinal order, each with its name as
// hostname and its own claim directory, which survives the pod (a replacement finds its data);
// a rolling update from the highest ordinal down; scaling down from the highest ordinal down.
import { clone, create } from "@bufbuild/protobuf";
import { StatefulSets, StatefulSetSchema, type Pod, type StatefulSet } from "@corral/api";
import { writeConfig } from "@corral/client";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Watched } from "../scheduler/until.js";
import { corralRunner } from "../support/cli.js";
import { createNamespace, describePods, isReady, startCluster, type Cluster } from "./cluster.js";

const NS = "sts-e2e";

describe("StatefulSets on a real node", { timeout: 600_000 }, () => {
  let c: Cluster;
  let sets: Watched<StatefulSet>;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const corral = corralRunner(() => env, 60_000);
  /** Things seen out of order, checked on every pod event: "what happened while what was not yet so". */
  const violations: string[] = [];

  before(async () => {
    c = await startCluster();
    await createNamespace(c.clients, NS);
    sets = await Watched.start(c.clients.for(StatefulSets), { namespace: NS });
    dir = await mkdtemp(join(tmpdir(), "corral-sts-e2e-"));
    env = { ...process.env, CORRAL_CONFIG: join(dir, "config") };
    await writeConfig({ server: c.node.cp.servers[0]!.address, namespace: NS }, env.CORRAL_CONFIG);
  });
  after(async () => {
    await sets?.stop();
    await c?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const pods = () => c.pods.list().filter((p) => p.metadata?.namespace === NS && p.metadata.labels.app === "db");
  const byName = (name: string) => pods().find((p) => p.metadata!.name === name);
  const dbSet = (version: string) =>
    create(StatefulSetSchema, {
      metadata: { name: "db", namespace: NS },
      spec: {
        replicas: 3,
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        volumeClaimTemplates: [{ metadata: { name: "data" } }],
        template: {
          metadata: { labels: { app: "db" }, annotations: { version } },
          spec: {
            terminationGracePeriodSeconds: 1n,
            containers: [
              {
                name: "db",
                image: c.image,
                // Each start appends the hostname to the claim's file, shows it, then serves.
                command: ["sh", "-c", "hostname >> /data/boots; cat /data/boots; exec httpd -f -p 8080 -h /tmp"],
                volumeMounts: [{ name: "data", mountPath: "/data" }],
                readinessProbe: { tcpSocket: { port: { value: { case: "intVal", value: 8080 } } }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    });
  /** Every pod of the set ready, at this template version, and nothing else. */
  const settled = (n: number, version: string) =>
    c.pods.until(
      `${n} db pods ready at ${version}`,
      () => {
        const ps = pods();
        return (
          ps.length === n &&
          ps.every((p) => isReady(p) && !p.metadata!.deletionTimestamp && p.metadata!.annotations.version === version) &&
          ps.map((p) => p.metadata!.name).sort().join() === Array.from({ length: n }, (_, i) => `db-${i}`).join()
        );
      },
      120_000,
      (all) => describePods(all.filter((p) => p.metadata?.namespace === NS)),
    );

  it("makes db-0, db-1, db-2 in order, each after the one before is ready, with its hostname and claim", async () => {
    c.pods.informer.addEventHandler({
      add: (p: Pod) => {
        const m = /^db-(\d+)$/.exec(p.metadata?.name ?? "");
        if (p.metadata?.namespace !== NS || !m || m[1] === "0") return;
        const prev = byName(`db-${Number(m[1]) - 1}`);
        if (!prev || !isReady(prev)) violations.push(`${p.metadata.name} created while db-${Number(m[1]) - 1} was not ready`);
      },
    });
    await c.clients.for(StatefulSets).create(dbSet("v1"));
    await settled(3, "v1");
    assert.deepEqual(violations, []);
    for (const i of [0, 1, 2]) {
      const p = byName(`db-${i}`)!;
      assert.equal(p.spec!.hostname, `db-${i}`);
      assert.equal(p.spec!.subdomain, "db");
      const logs = await corral("logs", `db-${i}`);
      assert.equal(logs.stdout, `db-${i}\n`, logs.stderr);
    }
    const s = await sets.until("status", (all) => all.find((x) => x.status?.readyReplicas === 3));
    assert.equal(s.status!.replicas, 3);
    assert.equal(s.status!.currentRevision, s.status!.updateRevision);
  });

  it("a deleted pod comes back under its name and finds its data", async () => {
    const before = byName("db-1")!.metadata!.uid;
    assert.equal((await corral("delete", "pod", "db-1")).code, 0);
    await c.pods.until("db-1 replaced", () => {
      const p = byName("db-1");
      return p && p.metadata!.uid !== before && isReady(p);
    }, 60_000);
    const logs = await corral("logs", "db-1");
    assert.equal(logs.stdout, "db-1\ndb-1\n", "the second start saw the first one's line");
  });

  it("a rolling update replaces db-2, then db-1, then db-0", async () => {
    const order: string[] = [];
    c.pods.informer.addEventHandler({
      update: (o: Pod, p: Pod) => {
        if (p.metadata?.namespace === NS && !o.metadata?.deletionTimestamp && p.metadata?.deletionTimestamp) order.push(p.metadata.name);
      },
    });
    const cur = sets.list().find((x) => x.metadata?.name === "db")!;
    const next = clone(StatefulSetSchema, cur);
    next.spec!.template!.metadata!.annotations.version = "v2";
    await c.clients.for(StatefulSets).update(next);
    await settled(3, "v2");
    assert.deepEqual(order, ["db-2", "db-1", "db-0"]);
    const s = await sets.until("the update is current", (all) => all.find((x) => x.status?.updatedReplicas === 3 && x.status.currentRevision === x.status.updateRevision));
    assert.match(s.status!.updateRevision, /^db-/);
    const rollout = await corral("rollout", "status", "statefulset/db", "--timeout=60s");
    assert.equal(rollout.code, 0, rollout.stderr);
    assert.equal(rollout.stdout, `statefulset rolling update complete 3 pods at revision ${s.status!.updateRevision}...\n`);
  });

  it("scales down from the highest ordinal, one pod at a time", async () => {
    const order: string[] = [];
    c.pods.informer.addEventHandler({
      update: (o: Pod, p: Pod) => {
        if (p.metadata?.namespace !== NS || o.metadata?.deletionTimestamp || !p.metadata?.deletionTimestamp) return;
        order.push(p.metadata.name);
        if (p.metadata.name === "db-1" && byName("db-2")) violations.push("db-1 deleted while db-2 was still there");
      },
    });
    const scaled = await corral("scale", "statefulset/db", "--replicas=1");
    assert.equal(scaled.code, 0, scaled.stderr);
    await settled(1, "v2");
    assert.deepEqual(order, ["db-2", "db-1"]);
    assert.deepEqual(violations, []);
  });

  it("a set deleted and made again at once gets its pods back once the old ones are gone", async () => {
    const old = byName("db-0")!.metadata!.uid;
    assert.equal((await corral("delete", "statefulset", "db")).code, 0);
    await c.clients.for(StatefulSets).create(dbSet("v3"));
    await settled(3, "v3");
    assert.notEqual(byName("db-0")!.metadata!.uid, old);
  });
});
