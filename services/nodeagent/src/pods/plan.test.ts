import { create } from "@bufbuild/protobuf";
import { PodSchema, type Pod } from "@corral/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { containerHash } from "./cri-config.js";
import type { ObservedContainer, ObservedPod } from "./observed.js";
import { planPod, type PlanContext } from "./plan.js";

function pod(extra: Partial<{ restartPolicy: string; init: string[]; apps: string[] }> = {}): Pod {
  return create(PodSchema, {
    metadata: { name: "p", namespace: "default", uid: "u1" },
    spec: {
      restartPolicy: extra.restartPolicy ?? "Always",
      initContainers: (extra.init ?? []).map((name) => ({ name, image: "busybox" })),
      containers: (extra.apps ?? ["app"]).map((name) => ({ name, image: "busybox" })),
    },
  });
}

const ctx = (over: Partial<PlanContext> = {}): PlanContext => ({
  now: 100_000,
  backoffRemaining: () => 0,
  livenessFailed: () => ({ restart: false, message: "" }),
  ...over,
});

function ctr(p: Pod, name: string, o: Partial<ObservedContainer> = {}): ObservedContainer {
  const spec = [...p.spec!.initContainers, ...p.spec!.containers].find((c) => c.name === name)!;
  return {
    id: `${name}-${o.restartCount ?? 0}`,
    sandboxId: "sb1",
    name,
    isInit: p.spec!.initContainers.some((c) => c.name === name),
    restartCount: 0,
    hash: containerHash(spec),
    state: "running",
    exitCode: 0,
    reason: "",
    message: "",
    createdAt: 1,
    startedAt: 1,
    finishedAt: 0,
    imageRef: "sha256:x",
    ...o,
  };
}

const sandbox = { id: "sb1", ready: true, attempt: 0, createdAt: 1, ip: "10.244.0.5" };
const observed = (containers: ObservedContainer[], sandboxes = [sandbox]): ObservedPod => ({ uid: "u1", sandboxes, containers });

describe("planPod", () => {
  test("a new pod gets a sandbox and its first init container, alone", () => {
    const p = pod({ init: ["a", "b"], apps: ["web"] });
    const a = planPod(p, observed([], []), ctx());
    assert.equal(a.createSandbox, true);
    assert.deepEqual(a.start.map((s) => s.container.name), ["a"]);
  });

  test("without init containers, every app container starts with the sandbox", () => {
    const a = planPod(pod({ apps: ["web", "sidecar"] }), observed([], []), ctx());
    assert.deepEqual(a.start.map((s) => s.container.name), ["web", "sidecar"]);
  });

  test("init containers run one at a time, each to completion, before the apps", () => {
    const p = pod({ init: ["a", "b"], apps: ["web"] });
    assert.deepEqual(planPod(p, observed([ctr(p, "a")]), ctx()).start, [], "waits while a runs");
    const aDone = ctr(p, "a", { state: "exited", exitCode: 0 });
    assert.deepEqual(planPod(p, observed([aDone]), ctx()).start.map((s) => s.container.name), ["b"]);
    const bDone = ctr(p, "b", { state: "exited", exitCode: 0 });
    assert.deepEqual(planPod(p, observed([bDone, aDone]), ctx()).start.map((s) => s.container.name), ["web"]);
  });

  test("a failed init container is retried unless restartPolicy is Never", () => {
    const p = pod({ init: ["a"] });
    const failed = ctr(p, "a", { state: "exited", exitCode: 1 });
    assert.deepEqual(planPod(p, observed([failed]), ctx()).start.map((s) => [s.container.name, s.restartCount]), [["a", 1]]);
    const never = pod({ init: ["a"], restartPolicy: "Never" });
    assert.deepEqual(planPod(never, observed([ctr(never, "a", { state: "exited", exitCode: 1 })]), ctx()).start, []);
  });

  test("exited containers restart by policy: Always always, OnFailure on non-zero exit, Never not", () => {
    for (const [policy, exit, restarts] of [
      ["Always", 0, true],
      ["Always", 1, true],
      ["OnFailure", 0, false],
      ["OnFailure", 2, true],
      ["Never", 1, false],
    ] as const) {
      const p = pod({ restartPolicy: policy });
      const a = planPod(p, observed([ctr(p, "app", { state: "exited", exitCode: exit, restartCount: 3 })]), ctx());
      assert.deepEqual(a.start.map((s) => s.restartCount), restarts ? [4] : [], `${policy} exit ${exit}`);
    }
  });

  test("a crash-looping container waits out its back-off", () => {
    const p = pod();
    const a = planPod(p, observed([ctr(p, "app", { state: "exited", exitCode: 1, finishedAt: 99_000 })]), ctx({ backoffRemaining: () => 9_000 }));
    assert.deepEqual(a.start, []);
    assert.deepEqual(a.backoff, [{ name: "app", isInit: false, remainingMs: 9_000 }]);
  });

  test("a failed liveness probe or a changed spec kills the running container", () => {
    const p = pod();
    const live = planPod(p, observed([ctr(p, "app")]), ctx({ livenessFailed: () => ({ restart: true, message: "boom" }) }));
    assert.equal(live.kill.length, 1);
    assert.match(live.kill[0]!.message, /failed liveness probe/);
    const changed = planPod(p, observed([ctr(p, "app", { hash: "old" })]), ctx());
    assert.match(changed.kill[0]!.message, /definition changed/);
  });

  test("a dead sandbox is replaced, and the restart count carries on", () => {
    const p = pod();
    const dead = { ...sandbox, ready: false };
    const a = planPod(p, observed([ctr(p, "app", { state: "exited", exitCode: 137, restartCount: 2 })], [dead]), ctx());
    assert.equal(a.createSandbox, true);
    assert.equal(a.sandboxAttempt, 1);
    assert.deepEqual(a.start.map((s) => s.restartCount), [3]);
  });

  test("a finished pod with restartPolicy Never is not started again when its sandbox dies", () => {
    const p = pod({ restartPolicy: "Never" });
    const a = planPod(p, observed([ctr(p, "app", { state: "exited", exitCode: 0 })], [{ ...sandbox, ready: false }]), ctx());
    assert.equal(a.createSandbox, false);
    assert.deepEqual(a.start, []);
  });

  test("a terminal or deleted pod is only stopped", () => {
    const p = pod();
    p.status = create(PodSchema).status ?? p.status;
    p.metadata!.deletionTimestamp = { $typeName: "google.protobuf.Timestamp", seconds: 1n, nanos: 0 };
    const a = planPod(p, observed([ctr(p, "app")]), ctx());
    assert.equal(a.killPod, true);
    assert.deepEqual(a.start, []);
  });

  test("old exited instances beyond the newest two are removed", () => {
    const p = pod();
    const cs = [3, 2, 1, 0].map((n) => ctr(p, "app", { state: "exited", exitCode: 1, restartCount: n }));
    assert.deepEqual(planPod(p, observed(cs), ctx()).remove, ["app-1", "app-0"]);
  });
});
