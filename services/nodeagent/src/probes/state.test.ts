import { create } from "@bufbuild/protobuf";
import { ContainerSchema, IntOrStringSchema, ProbeSchema } from "@corral/api";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  execOutcome,
  failureMessage,
  httpOutcome,
  initialResult,
  nextRunAt,
  probeOf,
  probeSettings,
  probeUrl,
  resolvePort,
  ThresholdState,
  type ProbeOutcome,
} from "./state.js";

const ok: ProbeOutcome = { result: "success", message: "" };
const bad = (message = "HTTP probe failed with statuscode: 500"): ProbeOutcome => ({ result: "failure", message });
const err: ProbeOutcome = { result: "error", message: "boom" };

describe("probeSettings", () => {
  it("fills Kubernetes' defaults", () => {
    assert.deepEqual(probeSettings(create(ProbeSchema, {}), "readiness"), {
      initialDelaySeconds: 0,
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });
  it("keeps given values, but liveness and startup succeed after one success", () => {
    const p = create(ProbeSchema, { initialDelaySeconds: 5, periodSeconds: 2, timeoutSeconds: 3, successThreshold: 4, failureThreshold: 6 });
    assert.equal(probeSettings(p, "readiness").successThreshold, 4);
    assert.equal(probeSettings(p, "liveness").successThreshold, 1);
    assert.equal(probeSettings(p, "startup").successThreshold, 1);
    assert.equal(probeSettings(p, "liveness").failureThreshold, 6);
    assert.equal(probeSettings(p, "liveness").initialDelaySeconds, 5);
  });
});

describe("probeOf", () => {
  it("ignores a probe without a handler", () => {
    const c = create(ContainerSchema, { name: "a", livenessProbe: { periodSeconds: 3 }, readinessProbe: { tcpSocket: {} } });
    assert.equal(probeOf(c, "liveness"), undefined);
    assert.ok(probeOf(c, "readiness"));
    assert.equal(probeOf(c, "startup"), undefined);
  });
});

describe("ThresholdState", () => {
  it("starts as the kubelet does: readiness failure, liveness success, startup unknown", () => {
    assert.equal(initialResult("readiness"), "failure");
    assert.equal(initialResult("liveness"), "success");
    assert.equal(initialResult("startup"), "unknown");
  });

  it("readiness flips to success after successThreshold successes in a row and back after failureThreshold failures", () => {
    const s = new ThresholdState("readiness", { successThreshold: 2, failureThreshold: 3 });
    assert.deepEqual(s.record(ok), { changed: false, result: "failure" });
    assert.deepEqual(s.record(bad()), { changed: false, result: "failure" });
    assert.deepEqual(s.record(ok), { changed: false, result: "failure" });
    assert.deepEqual(s.record(ok), { changed: true, result: "success" });
    assert.deepEqual(s.record(ok), { changed: false, result: "success" });
    s.record(bad());
    s.record(bad());
    assert.equal(s.result, "success");
    assert.deepEqual(s.record(bad("x")), { changed: true, result: "failure" });
    assert.equal(s.lastFailure, "x");
    assert.equal(s.onHold, false, "readiness keeps probing");
    assert.deepEqual(s.record(ok), { changed: false, result: "failure" });
    assert.deepEqual(s.record(ok), { changed: true, result: "success" });
  });

  it("a success breaks a run of failures", () => {
    const s = new ThresholdState("liveness", { successThreshold: 1, failureThreshold: 3 });
    s.record(bad());
    s.record(bad());
    s.record(ok);
    s.record(bad());
    s.record(bad());
    assert.equal(s.result, "success");
    assert.deepEqual(s.record(bad()), { changed: true, result: "failure" });
  });

  it("errors change nothing", () => {
    const s = new ThresholdState("readiness", { successThreshold: 1, failureThreshold: 1 });
    assert.deepEqual(s.record(err), { changed: false, result: "failure" });
    assert.deepEqual(s.record(ok), { changed: true, result: "success" });
    assert.deepEqual(s.record(err), { changed: false, result: "success" });
  });

  it("liveness at its failure threshold goes on hold until the container is replaced", () => {
    const s = new ThresholdState("liveness", { successThreshold: 1, failureThreshold: 2 });
    s.record(bad());
    assert.equal(s.done, false);
    assert.deepEqual(s.record(bad("dead")), { changed: true, result: "failure" });
    assert.equal(s.done, true);
    assert.deepEqual(s.record(ok), { changed: false, result: "failure" }, "on hold: nothing changes any more");
    assert.equal(s.lastFailure, "dead");
  });

  it("startup is done once it succeeded, and fails like liveness", () => {
    const s = new ThresholdState("startup", { successThreshold: 1, failureThreshold: 2 });
    s.record(bad());
    assert.equal(s.result, "unknown");
    assert.deepEqual(s.record(ok), { changed: true, result: "success" });
    assert.equal(s.done, true);
    const f = new ThresholdState("startup", { successThreshold: 1, failureThreshold: 2 });
    f.record(bad());
    assert.deepEqual(f.record(bad()), { changed: true, result: "failure" });
    assert.equal(f.done, true);
  });
});

describe("messages", () => {
  it("reads like the kubelet's", () => {
    assert.equal(
      failureMessage("liveness", httpOutcome(500, "")),
      "Liveness probe failed: HTTP probe failed with statuscode: 500",
    );
    assert.equal(failureMessage("readiness", err), "Readiness probe errored: boom");
    assert.deepEqual(httpOutcome(200, "x"), { result: "success", message: "" });
    assert.deepEqual(httpOutcome(302, ""), { result: "success", message: "" });
    assert.equal(httpOutcome(404, " not here \n").message, "HTTP probe failed with statuscode: 404 (not here)");
    assert.equal(httpOutcome(199, "").result, "failure");
    assert.equal(httpOutcome(400, "").result, "failure");
  });

  it("exec: exit 0 succeeds; otherwise the output, or the exit code when there is none", () => {
    assert.equal(execOutcome(["true"], 0, "hello").result, "success");
    assert.deepEqual(execOutcome(["cat", "/tmp/healthy"], 1, "cat: can't open '/tmp/healthy'\n"), {
      result: "failure",
      message: "cat: can't open '/tmp/healthy'",
    });
    assert.equal(execOutcome(["false"], 1, "").message, 'command "false" exited with code 1');
  });
});

describe("resolvePort", () => {
  const c = create(ContainerSchema, { name: "web", ports: [{ name: "http", containerPort: 8080 }, { containerPort: 9090 }] });
  const port = (v: number | string) =>
    create(IntOrStringSchema, { value: typeof v === "number" ? { case: "intVal", value: v } : { case: "strVal", value: v } });
  it("takes numbers, names of the container's ports, and numeric strings", () => {
    assert.equal(resolvePort(port(80), c), 80);
    assert.equal(resolvePort(port("http"), c), 8080);
    assert.equal(resolvePort(port("9090"), c), 9090);
  });
  it("names what is wrong", () => {
    assert.throws(() => resolvePort(port("metrics"), c), /couldn't find port "metrics" in container "web" \(ports: \[http 9090\]\)/);
    assert.throws(() => resolvePort(port(0), c), /invalid port number: 0/);
    assert.throws(() => resolvePort(port(70000), c), /invalid port number/);
    assert.throws(() => resolvePort(undefined, c), /has no port/);
  });
});

describe("probeUrl", () => {
  it("builds the URL from scheme, host, port and path", () => {
    assert.equal(probeUrl("HTTP", "10.0.0.5", 8080, "/healthz").href, "http://10.0.0.5:8080/healthz");
    assert.equal(probeUrl("HTTPS", "10.0.0.5", 8443, "").href, "https://10.0.0.5:8443/");
    assert.equal(probeUrl("", "fd00::5", 8080, "ready?x=1").href, "http://[fd00::5]:8080/ready?x=1");
  });
});

describe("nextRunAt", () => {
  const s = { initialDelaySeconds: 5, periodSeconds: 10 };
  it("waits for initialDelaySeconds after the container started, then every period", () => {
    assert.equal(nextRunAt(1_000, 0, s, undefined), 5_000);
    assert.equal(nextRunAt(7_000, 0, s, undefined), 7_000, "the delay is already over");
    assert.equal(nextRunAt(7_100, 0, s, 7_000), 17_000);
    assert.equal(nextRunAt(20_000, 0, s, 7_000), 20_000, "an overrun runs at once");
    assert.equal(nextRunAt(0, 0, s, undefined, 10), 50, "scaled seconds");
  });
});
