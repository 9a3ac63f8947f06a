// The repository's docker-compose.yml as a VM would run it: etcd, NATS, and two replicas each of
// the apiserver, the scheduler and the controller manager, from the locally built images (`npx tsc -b && bash scripts/build-images.sh` first), under a
// project name of its own, on free loopback ports and a subnet of its own, so it runs beside a
// local cluster (`corral up`) or a real deployment of the same file.
//
// Leftovers of a crashed run: docker-compose -p <project> down -v (projects are named
// corral-compose-test-*; `docker ps -a --filter name=corral-compose-test-` lists them).
import "../support/testcontainers-env.js"; // must stay first: sets TESTCONTAINERS_* defaults
import { create } from "@bufbuild/protobuf";
import { ConfigMapSchema, ConfigMaps, DeploymentSchema, Deployments, Events, Leases, Pods } from "@corral/api";
import { Clientset } from "@corral/client";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { Watched } from "../scheduler/until.js";
import { freePorts } from "../support/ports.js";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DockerComposeEnvironment, Wait, type StartedDockerComposeEnvironment } from "testcontainers";

/** The repository root, where docker-compose.yml lives (this file runs from test/dist/compose/). */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const STARTUP_TIMEOUT_MS = 60_000;

describe("docker-compose.yml", () => {
  let env: StartedDockerComposeEnvironment | undefined;
  let api1: Clientset;
  let api2: Clientset;
  const clients: Clientset[] = [];

  before(
    async () => {
      await preflight();
      for (let attempt = 1; ; attempt++) {
        const project = `corral-compose-test-${randomBytes(4).toString("hex")}`;
        const [apiPort, api2Port, metricsPort, metrics2Port] = await freePorts(4);
        try {
          // Compose v1 names containers <project>_<service>_<n>.
          const c = (service: string) => `${project}_${service}_1`;
          const t0 = performance.now();
          env = await new DockerComposeEnvironment(ROOT, "docker-compose.yml")
            .withProjectName(project)
            .withClientOptions({ executable: { standalone: true } }) // docker-compose v1
            .withEnvironment({
              CORRAL_BIND_ADDRESS: "127.0.0.1",
              CORRAL_API_PORT: String(apiPort),
              CORRAL_API2_PORT: String(api2Port),
              CORRAL_METRICS_PORT: String(metricsPort),
              CORRAL_METRICS2_PORT: String(metrics2Port),
              // Not the default 10.213.0.0/24, which a deployment on this machine may hold.
              CORRAL_SUBNET: `10.213.${randomInt(1, 255)}.0/24`,
              CORRAL_LOG_LEVEL: process.env.CORRAL_LOG_LEVEL ?? "info",
            })
            // The images are FROM scratch (no shell), so the default port wait cannot work: wait
            // for each program's "ready" log line instead. The apiserver logs "apiserver serving"
            // only after it has reached etcd and NATS and loaded proto/ for reflection.
            .withWaitStrategy(c("etcd"), Wait.forLogMessage(/serving client traffic/))
            .withWaitStrategy(c("nats"), Wait.forLogMessage(/Server is ready/))
            .withWaitStrategy(c("apiserver-1"), Wait.forLogMessage(/apiserver serving/))
            .withWaitStrategy(c("apiserver-2"), Wait.forLogMessage(/apiserver serving/))
            .withWaitStrategy(c("scheduler-1"), Wait.forLogMessage(/caches synced/))
            .withWaitStrategy(c("scheduler-2"), Wait.forLogMessage(/caches synced/))
            .withWaitStrategy(c("controller-1"), Wait.forLogMessage(/controller manager starting/))
            .withWaitStrategy(c("controller-2"), Wait.forLogMessage(/controller manager starting/))
            .withStartupTimeout(STARTUP_TIMEOUT_MS)
            .up();
          console.log(`compose up (${project}) in ${Math.round(performance.now() - t0)} ms`);
        } catch (err) {
          // Another process may have taken a port (or a subnet) between the pick and the bind.
          if (attempt >= 3 || !/already allocated|address already in use|Pool overlaps/i.test(String(err))) throw err;
          continue;
        }
        api1 = Clientset.connect(`127.0.0.1:${apiPort}`);
        api2 = Clientset.connect(`127.0.0.1:${api2Port}`);
        clients.push(api1, api2);
        return;
      }
    },
    { timeout: 3 * STARTUP_TIMEOUT_MS },
  );

  after(
    async () => {
      for (const c of clients) c.close();
      const t0 = performance.now();
      await env?.down({ removeVolumes: true, timeout: 10_000 });
      if (env) console.log(`compose down -v in ${Math.round(performance.now() - t0)} ms`);
    },
    { timeout: 60_000 },
  );

  it("serves a ConfigMap created through apiserver-1 from apiserver-2", async () => {
    const made = await api1.for(ConfigMaps).create(create(ConfigMapSchema, { metadata: { name: "x" }, data: { greeting: "hello" } }));
    assert.equal(made.metadata!.namespace, "default");
    const got = await api2.for(ConfigMaps).get({ namespace: "default", name: "x" });
    assert.equal(got.metadata!.uid, made.metadata!.uid);
    assert.equal(got.metadata!.resourceVersion, made.metadata!.resourceVersion);
    assert.deepEqual(got.data, { greeting: "hello" });
  });

  it("tells a watcher on apiserver-2 about a write through apiserver-1 (etcd -> NATS JetStream -> watch)", async () => {
    const from = (await api2.for(ConfigMaps).list({ namespace: "default" })).metadata!.resourceVersion;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 15_000);
    const seen = (async () => {
      try {
        for await (const ev of api2.for(ConfigMaps).watch({ namespace: "default", resourceVersion: from }, { signal: ac.signal })) {
          if (ev.object?.metadata?.name === "watched") return ev;
        }
        throw new Error("the watch ended without the event");
      } finally {
        clearTimeout(timer);
      }
    })();
    // The watch starts from `from`, so the event cannot come from an initial listing.
    const made = await api1.for(ConfigMaps).create(create(ConfigMapSchema, { metadata: { name: "watched" } }));
    const ev = await seen;
    ac.abort();
    assert.equal(ev.type, "ADDED");
    assert.equal(ev.object!.metadata!.resourceVersion, made.metadata!.resourceVersion);
  });

  it("runs the controllers and the scheduler: a Deployment gets its pods, which wait for a node", async () => {
    await api1.for(Deployments).create(
      create(DeploymentSchema, {
        metadata: { name: "web" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "web" } },
          template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "busybox" }] } },
        },
      }),
    );
    // The controller manager (through either apiserver) made a ReplicaSet and its 2 pods; the
    // scheduler found no node for them and said so. No node runs in this deployment.
    const pods = await Watched.start(api2.for(Pods), { namespace: "default" });
    const events = await Watched.start(api2.for(Events), { namespace: "default" });
    try {
      await pods.until("the Deployment's 2 pods", (all) => all.filter((p) => p.metadata?.labels.app === "web").length === 2, 60_000);
      await events.until(
        "a FailedScheduling event",
        (all) => all.some((e) => e.reason === "FailedScheduling" && /no nodes available to schedule pods/.test(e.message)),
        60_000,
      );
    } finally {
      await pods.stop();
      await events.stop();
    }
    const holders = await Promise.all(
      ["corral-scheduler", "corral-controller-manager"].map(async (name) => (await api1.for(Leases).get({ namespace: "corral-system", name })).spec?.holderIdentity),
    );
    assert.match(holders[0] ?? "", /^scheduler-[12]$/);
    assert.match(holders[1] ?? "", /^controller-[12]$/);
  });
});

/** Fails early, with what to do, when docker-compose or an image is missing. */
async function preflight(): Promise<void> {
  const run = promisify(execFile);
  await run("docker-compose", ["version"]).catch(() => {
    throw new Error("docker-compose (v1) is not installed: apt-get install docker-compose");
  });
  for (const image of ["corral/etcd:3.4", "corral/nats:2.9", "corral/apiserver", "corral/scheduler", "corral/controller"]) {
    await run("docker", ["image", "inspect", image]).catch(() => {
      throw new Error(`image ${image} is missing: run \`npx tsc -b && bash scripts/build-images.sh\` (make build images)`);
    });
  }
}

