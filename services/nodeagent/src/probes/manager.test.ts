// The prober manager with its timers on a shrunken clock (1 probe-second = 10 ms): scripted probe
// outcomes for the scheduling and threshold rules, and one real HTTP server for the whole path.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { PodSchema, type ContainerSchema, type Pod } from "@corral/api";
import type { CriClient } from "@corral/cri";
import { createLogger } from "@corral/logging";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createProbeManager, type ProbeManager } from "./index.js";
import type { ProbeOutcome } from "./state.js";

const log = createLogger("probes-test", { level: "silent" });
const SECOND = 10;

function pod(containers: MessageInitShape<typeof ContainerSchema>[], uid = "uid-1"): Pod {
  return create(PodSchema, { metadata: { name: "web", namespace: "default", uid }, spec: { containers } });
}

async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Harness {
  pm: ProbeManager;
  changes: string[];
  events: { type: string; reason: string; message: string }[];
  calls: { kind: string; container: string; at: number }[];
}

/** `script(kind, containerName, n)` gives the nth (0-based) outcome of that probe. */
function harness(script: (probeName: string, container: string, n: number) => ProbeOutcome): Harness {
  const counts = new Map<string, number>();
  const h: Harness = { pm: undefined as unknown as ProbeManager, changes: [], events: [], calls: [] };
  h.pm = createProbeManager({
    cri: {} as CriClient,
    log,
    secondMs: SECOND,
    onChange: (k) => h.changes.push(k),
    recorder: {
      event: (_kind: unknown, _obj: unknown, type: string, reason: string, message: string) => void h.events.push({ type, reason, message }),
    } as never,
    runProbe: async (probe, _s, t) => {
      // The scripts tell probes apart by their exec command's first word.
      const name = probe.exec?.command[0] ?? "?";
      const key = `${t.container.name}/${name}`;
      const n = counts.get(key) ?? 0;
      counts.set(key, n + 1);
      h.calls.push({ kind: name, container: t.container.name, at: Date.now() });
      return script(name, t.container.name, n);
    },
  });
  return h;
}

const exec = (name: string, extra: Record<string, number> = {}) => ({ exec: { command: [name] }, periodSeconds: 1, ...extra });
const ok: ProbeOutcome = { result: "success", message: "" };
const fail = (m: string): ProbeOutcome => ({ result: "failure", message: m });

describe("ProbeManager", () => {
  let pm: ProbeManager | undefined;
  afterEach(() => pm?.stop());

  it("readiness: not ready until successThreshold successes, then flips with onChange both ways", async () => {
    let healthy = true;
    const h = harness(() => (healthy ? ok : fail("HTTP probe failed with statuscode: 503")));
    pm = h.pm;
    const p = pod([{ name: "app", readinessProbe: exec("ready", { successThreshold: 2, failureThreshold: 2 }) }]);
    pm.sync(p, "10.0.0.5", [{ name: "app", id: "c1", startedAt: new Date() }]);
    assert.equal(pm.isReady("uid-1", "c1"), false);
    assert.equal(pm.isStarted("uid-1", "c1"), true, "no startup probe: started");
    await until(() => pm!.isReady("uid-1", "c1"), "ready");
    await until(() => h.changes.length === 1, "onChange");
    assert.deepEqual(h.changes, ["default/web"]);
    assert.ok(h.calls.length >= 2);
    healthy = false;
    await until(() => !pm!.isReady("uid-1", "c1"), "not ready");
    await until(() => h.changes.length === 2, "second onChange");
    assert.deepEqual(h.events[0], { type: "Warning", reason: "Unhealthy", message: "Readiness probe failed: HTTP probe failed with statuscode: 503" });
    assert.equal(pm.shouldRestart("uid-1", "c1").restart, false, "readiness never restarts");
  });

  it("liveness: restart after failureThreshold failures in a row, with the probe's message; then the worker holds", async () => {
    const h = harness((_k, _c, n) => (n === 0 ? ok : fail("HTTP probe failed with statuscode: 500")));
    pm = h.pm;
    pm.sync(pod([{ name: "app", livenessProbe: exec("live", { failureThreshold: 3 }) }]), "10.0.0.5", [
      { name: "app", id: "c1", startedAt: new Date() },
    ]);
    assert.deepEqual(pm.shouldRestart("uid-1", "c1"), { restart: false, message: "" });
    await until(() => pm!.shouldRestart("uid-1", "c1").restart, "restart");
    assert.deepEqual(pm.shouldRestart("uid-1", "c1"), {
      restart: true,
      message: "Liveness probe failed: HTTP probe failed with statuscode: 500",
    });
    assert.equal(h.calls.length, 4, "1 success, then 3 failures");
    assert.equal(h.events.length, 3);
    assert.ok(h.events.every((e) => e.reason === "Unhealthy" && e.type === "Warning"));
    await until(() => h.changes.length === 1, "onChange");
    await sleep(SECOND * 5);
    assert.equal(h.calls.length, 4, "on hold: no more probing of this container");

    // The restarted container is a new id: a new worker, healthy again.
    pm.sync(pod([{ name: "app", livenessProbe: exec("live", { failureThreshold: 3 }) }]), "10.0.0.5", [
      { name: "app", id: "c2", startedAt: new Date() },
    ]);
    assert.deepEqual(pm.shouldRestart("uid-1", "c2"), { restart: false, message: "" });
    assert.equal(pm.shouldRestart("uid-1", "c1").restart, false, "the old container is forgotten");
  });

  it("startup: liveness and readiness wait for it; not ready and not started until it succeeds", async () => {
    const h = harness((k, _c, n) => (k === "start" ? (n < 3 ? fail("not yet") : ok) : ok));
    pm = h.pm;
    pm.sync(
      // Liveness and readiness have a long period: only the kick after startup can run them soon.
      pod([
        {
          name: "app",
          startupProbe: exec("start", { failureThreshold: 10 }),
          livenessProbe: exec("live", { periodSeconds: 50 }),
          readinessProbe: exec("ready", { periodSeconds: 50 }),
        },
      ]),
      "10.0.0.5",
      [{ name: "app", id: "c1", startedAt: new Date() }],
    );
    assert.equal(pm.isStarted("uid-1", "c1"), false);
    assert.equal(pm.isReady("uid-1", "c1"), false);
    await until(() => pm!.isStarted("uid-1", "c1"), "started");
    await until(() => pm!.isReady("uid-1", "c1"), "ready");
    const starts = h.calls.filter((c) => c.kind === "start");
    const others = h.calls.filter((c) => c.kind !== "start");
    const startedAt = starts[3]!.at;
    assert.ok(
      others.every((c) => c.at >= startedAt),
      "liveness and readiness did not run before startup succeeded",
    );
    const firstReady = others.find((c) => c.kind === "ready")!;
    assert.ok(firstReady.at - startedAt < 25 * SECOND, "readiness ran right after startup succeeded, not a period later");
    await sleep(SECOND * 4);
    assert.equal(h.calls.filter((c) => c.kind === "start").length, 4, "startup runs no more once it succeeded");
    assert.ok(h.changes.length >= 2, "started and ready each synced the pod");
  });

  it("startup failing its threshold restarts the container", async () => {
    const h = harness(() => fail("connection refused"));
    pm = h.pm;
    pm.sync(pod([{ name: "app", startupProbe: exec("start", { failureThreshold: 2 }) }]), "", [{ name: "app", id: "c1", startedAt: new Date() }]);
    await until(() => pm!.shouldRestart("uid-1", "c1").restart, "restart");
    assert.equal(pm.shouldRestart("uid-1", "c1").message, "Startup probe failed: connection refused");
  });

  it("waits initialDelaySeconds from the container's start, then probes every periodSeconds", async () => {
    const h = harness(() => ok);
    pm = h.pm;
    const started = Date.now();
    pm.sync(pod([{ name: "app", readinessProbe: exec("ready", { initialDelaySeconds: 10, periodSeconds: 5 }) }]), "ip", [
      { name: "app", id: "c1", startedAt: new Date(started) },
    ]);
    await until(() => h.calls.length >= 3, "three probes", 3000);
    const [a, b, c] = h.calls.map((x) => x.at - started);
    assert.ok(a! >= 10 * SECOND - 2, `first probe after the initial delay (${a} ms)`);
    assert.ok(b! - a! >= 5 * SECOND - 2 && c! - b! >= 5 * SECOND - 2, `then every period (${a}, ${b}, ${c})`);
  });

  it("errors are thrown away (only an event)", async () => {
    const h = harness(() => ({ result: "error", message: "the pod has no IP yet" }));
    pm = h.pm;
    pm.sync(pod([{ name: "app", livenessProbe: exec("live", { failureThreshold: 1 }) }]), "", [{ name: "app", id: "c1", startedAt: new Date() }]);
    await until(() => h.events.length >= 3, "events");
    assert.equal(pm.shouldRestart("uid-1", "c1").restart, false);
    assert.equal(h.events[0]!.message, "Liveness probe errored: the pod has no IP yet");
  });

  it("containers without probes are ready and started; a container asked about before sync() knew it resyncs the pod", async () => {
    const h = harness(() => ok);
    pm = h.pm;
    assert.equal(pm.isReady("uid-1", "c1"), false, "unknown container");
    pm.sync(pod([{ name: "app" }]), "ip", [{ name: "app", id: "c1", startedAt: new Date() }]);
    assert.equal(pm.isReady("uid-1", "c1"), true);
    assert.equal(pm.isStarted("uid-1", "c1"), true);
    await until(() => h.changes.length === 1, "onChange for the early question");
    await sleep(20);
    assert.equal(h.changes.length, 1);
  });

  it("removePod and sync without a container stop their workers", async () => {
    const h = harness(() => ok);
    pm = h.pm;
    const p = pod([{ name: "a", readinessProbe: exec("ready") }, { name: "b", readinessProbe: exec("ready") }]);
    pm.sync(p, "ip", [
      { name: "a", id: "ca", startedAt: new Date() },
      { name: "b", id: "cb", startedAt: new Date() },
    ]);
    await until(() => h.calls.some((c) => c.container === "b"), "b probed");
    pm.sync(p, "ip", [{ name: "a", id: "ca", startedAt: new Date() }]);
    const nb = h.calls.filter((c) => c.container === "b").length;
    await sleep(SECOND * 4);
    assert.equal(h.calls.filter((c) => c.container === "b").length, nb, "b is no longer probed");
    assert.equal(pm.isReady("uid-1", "cb"), false);
    pm.removePod("uid-1");
    const n = h.calls.length;
    await sleep(SECOND * 4);
    assert.equal(h.calls.length, n, "nothing probed after removePod");
    assert.equal(pm.isReady("uid-1", "ca"), false);
  });
});

describe("ProbeManager with real HTTP probes", () => {
  it("a liveness httpGet on a named port answering 500 asks for a restart, with the kubelet's message", async () => {
    let code = 200;
    const server = http.createServer((_req, res) => void res.writeHead(code).end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const changes: string[] = [];
    const pm = createProbeManager({ cri: {} as CriClient, log, secondMs: SECOND, onChange: (k) => changes.push(k) });
    try {
      pm.sync(
        pod([
          {
            name: "web",
            ports: [{ name: "http", containerPort: port }],
            livenessProbe: { httpGet: { path: "/healthz", port: { value: { case: "strVal", value: "http" } } }, periodSeconds: 1, failureThreshold: 2 },
            readinessProbe: { tcpSocket: { port: { value: { case: "intVal", value: port } } }, periodSeconds: 1 },
          },
        ]),
        "127.0.0.1",
        [{ name: "web", id: "c1", startedAt: new Date() }],
      );
      await until(() => pm.isReady("uid-1", "c1"), "ready by tcpSocket");
      await sleep(SECOND * 3);
      assert.equal(pm.shouldRestart("uid-1", "c1").restart, false);
      code = 500;
      await until(() => pm.shouldRestart("uid-1", "c1").restart, "restart");
      assert.equal(pm.shouldRestart("uid-1", "c1").message, "Liveness probe failed: HTTP probe failed with statuscode: 500");
      assert.ok(changes.length >= 2);
    } finally {
      pm.stop();
      server.close();
    }
  });
});
