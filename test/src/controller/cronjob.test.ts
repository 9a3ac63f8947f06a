// CronJobs on a real node: a Job at the next minute, which runs to completion, the CronJob's
// status and `corral get cj`; deleting the CronJob takes its Jobs with it.
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { CronJobs, CronJobSchema, Jobs, type CronJob, type Job } from "@corral/api";
import { writeConfig } from "@corral/client";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Watched } from "../scheduler/until.js";
import { corralRunner } from "../support/cli.js";
import { createNamespace, startCluster, type Cluster } from "./cluster.js";

const NS = "cronjob-e2e";

describe("CronJobs on a real node", { timeout: 600_000 }, () => {
  let c: Cluster;
  let crons: Watched<CronJob>;
  let jobs: Watched<Job>;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const corral = corralRunner(() => env, 60_000);

  before(async () => {
    c = await startCluster();
    await createNamespace(c.clients, NS);
    crons = await Watched.start(c.clients.for(CronJobs), { namespace: NS });
    jobs = await Watched.start(c.clients.for(Jobs), { namespace: NS });
    dir = await mkdtemp(join(tmpdir(), "corral-cronjob-e2e-"));
    env = { ...process.env, CORRAL_CONFIG: join(dir, "config") };
    await writeConfig({ server: c.node.cp.servers[0]!.address, namespace: NS }, env.CORRAL_CONFIG);
  });
  after(async () => {
    await jobs?.stop();
    await crons?.stop();
    await c?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("starts a Job at the next minute that runs to completion, and says so in its status", async () => {
    await c.clients.for(CronJobs).create(
      create(CronJobSchema, {
        metadata: { name: "tick", namespace: NS },
        spec: {
          schedule: "* * * * *",
          concurrencyPolicy: "Forbid",
          jobTemplate: {
            spec: {
              backoffLimit: 0,
              template: { spec: { restartPolicy: "Never", terminationGracePeriodSeconds: 1n, containers: [{ name: "tick", image: c.image, command: ["echo", "tick"] }] } },
            },
          },
        },
      }),
    );
    // At most a minute to the next run, then the pod's start and exit.
    const done = await jobs.until(
      "a completed Job of the CronJob",
      (all) => all.find((j) => j.metadata?.ownerReferences[0]?.name === "tick" && j.status?.conditions.some((k) => k.type === "Complete" && k.status === "True")),
      120_000,
      (all) => all.map((j) => ({ name: j.metadata?.name, status: j.status })),
    );
    const scheduled = Date.parse(done.metadata!.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]!);
    assert.equal(scheduled % 60_000, 0, "scheduled on a minute");
    assert.equal(done.metadata!.name, `tick-${scheduled / 60_000}`);
    assert.equal(done.metadata!.ownerReferences[0]!.kind, "CronJob");
    const cj = await crons.until("the CronJob's status", (all) => all.find((x) => x.status?.lastSuccessfulTime));
    assert.ok(timestampDate(cj.status!.lastScheduleTime!).getTime() >= scheduled);
    const logs = await corral("logs", `job/${done.metadata!.name}`);
    assert.equal(logs.stdout, "tick\n", logs.stderr);
    const table = await corral("get", "cj");
    assert.match(table.stdout, /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE$/m);
    assert.match(table.stdout, /^tick\s+\* \* \* \* \*\s+<none>\s+False\s+\d\s+\d+s\s+/m);
  });

  it("takes its Jobs along when it is deleted", async () => {
    assert.equal((await corral("delete", "cronjob", "tick")).code, 0);
    await jobs.until("no Jobs left", (all) => all.length === 0, 60_000, (all) => all.map((j) => j.metadata?.name));
  });
});
