import { create } from "@bufbuild/protobuf";
import { PodSchema, type Pod } from "@corral/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ObservedContainer, ObservedPod } from "./observed.js";
import { podStatus, type StatusContext } from "./status.js";

const pod = (restartPolicy = "Always", init: string[] = []): Pod =>
  create(PodSchema, {
    metadata: { name: "p", namespace: "default", uid: "u1" },
    spec: { restartPolicy, initContainers: init.map((name) => ({ name, image: "i" })), containers: [{ name: "app", image: "busybox" }] },
  });

const ctx = (over: Partial<StatusContext> = {}): StatusContext => ({
  now: 1_000_000,
  hostIP: "127.0.0.1",
  isReady: () => true,
  isStarted: () => true,
  waiting: new Map(),
  backoff: new Map(),
  ...over,
});

const c = (o: Partial<ObservedContainer>): ObservedContainer => ({
  id: "c1", sandboxId: "sb", name: "app", isInit: false, restartCount: 0, hash: "", state: "running",
  exitCode: 0, reason: "", message: "", createdAt: 1000, startedAt: 1000, finishedAt: 0, imageRef: "sha256:abc", ...o,
});
const sb = { id: "sb", ready: true, attempt: 0, createdAt: 1, ip: "10.244.0.9" };
const obs = (containers: ObservedContainer[], sandboxes = [sb]): ObservedPod => ({ uid: "u1", sandboxes, containers });
const cond = (s: ReturnType<typeof podStatus>, type: string) => s.conditions.find((x) => x.type === type)?.status;

describe("podStatus", () => {
  test("no sandbox yet: Pending, ContainerCreating", () => {
    const s = podStatus(pod(), obs([], []), ctx());
    assert.equal(s.phase, "Pending");
    assert.equal(s.containerStatuses[0]!.state?.waiting?.reason, "ContainerCreating");
    assert.equal(cond(s, "PodScheduled"), "True");
  });

  test("running and ready: Running, Ready, pod IP, containerID", () => {
    const s = podStatus(pod(), obs([c({})]), ctx());
    assert.equal(s.phase, "Running");
    assert.equal(s.podIp, "10.244.0.9");
    assert.equal(cond(s, "Ready"), "True");
    assert.equal(s.containerStatuses[0]!.containerId, "containerd://c1");
    assert.equal(s.containerStatuses[0]!.ready, true);
  });

  test("a failing readiness probe: Running but not Ready, naming the container", () => {
    const s = podStatus(pod(), obs([c({})]), ctx({ isReady: () => false }));
    assert.equal(s.phase, "Running");
    assert.equal(cond(s, "Ready"), "False");
    assert.match(s.conditions.find((x) => x.type === "Ready")!.message, /\[app\]/);
  });

  test("crash loop: waiting CrashLoopBackOff with the last termination and restart count", () => {
    const exited = c({ state: "exited", exitCode: 1, reason: "Error", restartCount: 2, finishedAt: 5000 });
    const s = podStatus(pod(), obs([exited]), ctx({ backoff: new Map([["app/app", 20_000]]) }));
    const st = s.containerStatuses[0]!;
    assert.equal(st.state?.waiting?.reason, "CrashLoopBackOff");
    assert.match(st.state!.waiting!.message, /back-off 20s/);
    assert.equal(st.lastState?.terminated?.exitCode, 1);
    assert.equal(st.restartCount, 2);
    assert.equal(s.phase, "Running");
  });

  test("OOMKilled is reported as the termination reason", () => {
    const s = podStatus(pod("Never"), obs([c({ state: "exited", exitCode: 137, reason: "OOMKilled", finishedAt: 2 })]), ctx());
    assert.equal(s.containerStatuses[0]!.state?.terminated?.reason, "OOMKilled");
    assert.equal(s.phase, "Failed");
  });

  test("phases of finished pods follow restartPolicy", () => {
    const done = (exitCode: number) => obs([c({ state: "exited", exitCode, finishedAt: 2 })]);
    assert.equal(podStatus(pod("Never"), done(0), ctx()).phase, "Succeeded");
    assert.equal(podStatus(pod("OnFailure"), done(0), ctx()).phase, "Succeeded");
    assert.equal(podStatus(pod("Never"), done(3), ctx()).phase, "Failed");
  });

  test("init containers: Pending and not Initialized until they succeed", () => {
    const p = pod("Always", ["setup"]);
    const running = podStatus(p, obs([c({ id: "i1", name: "setup", isInit: true })]), ctx());
    assert.equal(running.phase, "Pending");
    assert.equal(cond(running, "Initialized"), "False");
    assert.equal(running.containerStatuses[0]!.state?.waiting?.reason, "PodInitializing");
    const done = podStatus(p, obs([c({}), c({ id: "i1", name: "setup", isInit: true, state: "exited", finishedAt: 2 })]), ctx());
    assert.equal(cond(done, "Initialized"), "True");
    assert.equal(done.phase, "Running");
  });

  test("errors that keep a container from starting show as its waiting reason", () => {
    const waiting = new Map([["app/app", { reason: "CreateContainerConfigError", message: 'configmap "x" not found' }]]);
    const s = podStatus(pod(), obs([]), ctx({ waiting }));
    assert.deepEqual(
      [s.containerStatuses[0]!.state?.waiting?.reason, s.containerStatuses[0]!.state?.waiting?.message],
      ["CreateContainerConfigError", 'configmap "x" not found'],
    );
  });

  test("transition times are kept while a condition holds", () => {
    const p = pod();
    const first = podStatus(p, obs([c({})]), ctx());
    p.status = first;
    const later = podStatus(p, obs([c({})]), ctx({ now: 9_000_000 }));
    assert.deepEqual(later.conditions, first.conditions);
  });
});
