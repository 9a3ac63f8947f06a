// Two schedulers: one leads and binds; when it dies (SIGKILL, no goodbye) the other takes the
// Lease over within seconds and schedules what comes next.
import { Events, Leases, Pods, type Event, type Lease, type Pod } from "@corral/api";
import { createLogger } from "@corral/logging";
import { LEASE_NAME, LEASE_NAMESPACE, Scheduler } from "@corral/scheduler";
import { SimulatedNodes } from "@corral/simnode";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";
import { pod } from "./fixtures.js";
import { Watched } from "./until.js";

const log = createLogger("scheduler-test", { level: process.env.CORRAL_LOG_LEVEL ?? "warn" });
const schedulerMain = join(dirname(fileURLToPath(import.meta.resolve("@corral/scheduler"))), "main.js");

const LEASE_SECONDS = 3;

describe("scheduler leader election", () => {
  let cp: ControlPlane;
  let sim: SimulatedNodes;
  let child: ChildProcess | undefined;
  let follower: Scheduler | undefined;
  let pods: Watched<Pod>;
  let events: Watched<Event>;
  let leases: Watched<Lease>;

  before(async () => {
    cp = await startControlPlane();
    sim = await SimulatedNodes.start({ clients: cp.connect(), count: 2, prefix: "le-", runningDelayMs: -1, log });
    pods = await Watched.start(cp.clients.for(Pods));
    events = await Watched.start(cp.clients.for(Events));
    leases = await Watched.start(cp.clients.for(Leases), { namespace: LEASE_NAMESPACE });
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await new Promise((r) => child!.once("exit", r));
    }
    await follower?.stop();
    await Promise.allSettled([pods?.stop(), events?.stop(), leases?.stop()]);
    await sim?.stop();
    await cp?.stop();
  });

  const holder = (name: string) =>
    leases.until(`the scheduler Lease held by "${name}"`, (items) => items.find((l) => l.metadata!.name === LEASE_NAME && l.spec?.holderIdentity === name), 30_000, (items) =>
      items.filter((l) => l.metadata!.name === LEASE_NAME).map((l) => l.spec),
    );

  const boundBy = async (names: string[], identity: string) => {
    await pods.until(
      `${names.join(",")} bound`,
      (items) => names.every((n) => items.some((p) => p.metadata!.name === n && p.spec?.nodeName)),
      30_000,
      (items) => items.map((p) => `${p.metadata!.name}@${p.spec?.nodeName}`),
    );
    const scheduled = await events.until(`Scheduled events for ${names.join(",")}`, (items) => {
      const ev = items.filter((e) => e.reason === "Scheduled" && names.includes(e.involvedObject!.name));
      return ev.length === names.length && ev;
    });
    assert.deepEqual(new Set(scheduled.map((e) => e.reportingInstance)), new Set([identity]), `bound by ${identity}`);
  };

  it("one scheduler leads and binds; the other takes over within seconds when it dies", async () => {
    child = spawn(
      process.execPath,
      [schedulerMain, "--apiserver", cp.servers[0]!.address, "--identity", "sched-a", "--lease-duration-seconds", String(LEASE_SECONDS), "--lease-retry-ms", "300"],
      { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CORRAL_LOG_LEVEL: process.env.CORRAL_LOG_LEVEL ?? "warn" } },
    );
    await holder("sched-a");
    follower = await Scheduler.start({ clients: cp.connect(), identity: "sched-b", leaseDurationSeconds: LEASE_SECONDS, retryPeriodMs: 300, log });

    const first = ["one-0", "one-1", "one-2"];
    await Promise.all(first.map((n) => cp.clients.for(Pods).create(pod(n))));
    await boundBy(first, "sched-a");
    assert.equal(follower.isLeader, false, "the follower does not schedule");
    assert.equal(follower.stats.scheduled, 0);

    const killedAt = Date.now();
    child.kill("SIGKILL");
    await new Promise((r) => child!.once("exit", r));
    const second = ["two-0", "two-1", "two-2"];
    await Promise.all(second.map((n) => cp.clients.for(Pods).create(pod(n))));
    const lease = await holder("sched-b");
    const takeover = (Date.now() - killedAt) / 1000;
    assert.ok(takeover < LEASE_SECONDS * 3, `took over in ${takeover.toFixed(1)} s`);
    assert.ok((lease.spec!.leaseTransitions ?? 0) >= 1);
    await boundBy(second, "sched-b");
    assert.equal(follower.stats.scheduled, 3);
  });

  it("a stopped leader gives the Lease up at once", async () => {
    const third = await Scheduler.start({ clients: cp.connect(), identity: "sched-c", leaseDurationSeconds: 30, retryPeriodMs: 300, log });
    try {
      const stoppedAt = Date.now();
      await follower!.stop();
      follower = undefined;
      await holder("sched-c");
      // Far sooner than the 3 s lease would expire on its own... the old leader released it.
      assert.ok(Date.now() - stoppedAt < 2_500, `took ${Date.now() - stoppedAt} ms`);
      await cp.clients.for(Pods).create(pod("three-0"));
      await boundBy(["three-0"], "sched-c");
    } finally {
      await third.stop();
    }
  });
});
