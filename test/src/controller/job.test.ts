// Jobs on a real node: run to completion (completions, parallelism), stopped by backoffLimit or
// activeDeadlineSeconds, and `corral logs job/NAME`.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Jobs, JobSchema, JobSpecSchema, type Job } from "@corral/api";
import { writeConfig } from "@corral/client";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Watched } from "../scheduler/until.js";
import { corralRunner } from "../support/cli.js";
import { createNamespace, describePods, live, startCluster, type Cluster } from "./cluster.js";

const NS = "job-e2e";

describe("Jobs on a real node", { timeout: 600_000 }, () => {
  let c: Cluster;
  let jobs: Watched<Job>;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const corral = corralRunner(() => env, 60_000);

  before(async () => {
    c = await startCluster({ controllers: { jobBackoffBaseMs: 500 } });
    await createNamespace(c.clients, NS);
    jobs = await Watched.start(c.clients.for(Jobs), { namespace: NS });
    dir = await mkdtemp(join(tmpdir(), "corral-job-e2e-"));
    env = { ...process.env, CORRAL_CONFIG: join(dir, "config") };
    await writeConfig({ server: c.node.cp.servers[0]!.address, namespace: NS }, env.CORRAL_CONFIG);
  });
  after(async () => {
    await jobs?.stop();
    await c?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const job = (name: string, command: string[], spec: Omit<MessageInitShape<typeof JobSpecSchema>, "$typeName"> = {}, restartPolicy = "Never") =>
    create(JobSchema, {
      metadata: { name, namespace: NS },
      spec: {
        selector: { matchLabels: { job: name } },
        template: {
          metadata: { labels: { job: name } },
          spec: { restartPolicy, terminationGracePeriodSeconds: 1n, containers: [{ name: "main", image: c.image, command }] },
        },
        ...spec,
      },
    });
  const jobPods = (name: string) => c.pods.list().filter((p) => p.metadata?.namespace === NS && p.metadata.labels.job === name);
  const finished = (name: string, type: string) => (all: Job[]) => {
    const j = all.find((x) => x.metadata?.name === name);
    return j?.status?.conditions.some((k) => k.type === type && k.status === "True") && j;
  };

  it("runs to completion: 3 completions, at most 2 at once, and says so in its conditions", async () => {
    let maxActive = 0;
    const check = () => {
      maxActive = Math.max(maxActive, jobPods("count").filter(live).length);
    };
    c.pods.informer.addEventHandler({ add: check, update: check, delete: check });
    await c.clients.for(Jobs).create(job("count", ["sh", "-c", "echo job says hello; sleep 1"], { completions: 3, parallelism: 2 }));
    const j = await jobs.until("count complete", finished("count", "Complete"), 120_000, (all) => all.map((x) => x.status));
    assert.equal(j.status!.succeeded, 3);
    assert.equal(j.status!.failed, 0);
    assert.equal(j.status!.active, 0);
    assert.ok(j.status!.startTime && j.status!.completionTime);
    assert.equal(j.status!.conditions.find((k) => k.type === "Complete")!.reason, "CompletionsReached");
    assert.ok(maxActive <= 2, `${maxActive} pods ran at once (parallelism 2)`);
    const pods = jobPods("count");
    assert.equal(pods.length, 3, JSON.stringify(describePods(pods)));
    assert.ok(pods.every((p) => p.status?.phase === "Succeeded"));
    assert.ok(pods.every((p) => p.metadata!.labels["batch.kubernetes.io/job-name"] === "count" && p.metadata!.labels["controller-uid"] === j.metadata!.uid));
    const logs = await corral("logs", "job/count");
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, "job says hello\n");
  });

  it("a failing Job is stopped by backoffLimit", async () => {
    await c.clients.for(Jobs).create(job("fail", ["sh", "-c", "echo trying; exit 3"], { backoffLimit: 1 }));
    const j = await jobs.until("fail failed", finished("fail", "Failed"), 120_000, (all) => all.map((x) => x.status));
    const cond = j.status!.conditions.find((k) => k.type === "Failed")!;
    assert.equal(cond.reason, "BackoffLimitExceeded");
    assert.equal(cond.message, "Job has reached the specified backoff limit");
    assert.equal(j.status!.failed, 2);
    assert.equal(j.status!.active, 0);
    const pods = jobPods("fail");
    assert.equal(pods.length, 2, "backoffLimit 1: the first try and one retry");
    assert.ok(pods.every((p) => p.status?.phase === "Failed"));
  });

  it("activeDeadlineSeconds stops a Job that runs too long", async () => {
    await c.clients.for(Jobs).create(job("slow", ["sleep", "600"], { activeDeadlineSeconds: 3n }));
    const j = await jobs.until("slow failed", finished("slow", "Failed"), 60_000, (all) => all.map((x) => x.status));
    assert.equal(j.status!.conditions.find((k) => k.type === "Failed")!.reason, "DeadlineExceeded");
    await c.pods.until("slow's pod stopped", () => jobPods("slow").every((p) => !live(p)) || undefined, 60_000);
  });

  it("a Kubernetes Job manifest without a selector applies (twice) and runs to completion", async () => {
    const file = join(dir, "pi.yaml");
    await writeFile(
      file,
      [
        "apiVersion: batch/v1",
        "kind: Job",
        "metadata:",
        "  name: pi",
        "spec:",
        "  backoffLimit: 0",
        "  template:",
        "    spec:",
        "      restartPolicy: Never",
        "      terminationGracePeriodSeconds: 1",
        "      containers:",
        "      - name: pi",
        `        image: ${c.image}`,
        "        command: [\"sh\", \"-c\", \"echo 3.14\"]",
        "",
      ].join("\n"),
    );
    for (const verb of ["created", "unchanged"]) {
      const r = await corral("apply", "-f", file);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`job.batch/pi ${verb}`));
    }
    const j = await jobs.until("pi complete", finished("pi", "Complete"), 120_000, (all) => all.map((x) => x.status));
    assert.deepEqual(j.spec!.selector!.matchLabels, { "batch.kubernetes.io/controller-uid": j.metadata!.uid });
    const logs = await corral("logs", "job/pi");
    assert.equal(logs.stdout, "3.14\n", logs.stderr);
  });
});
