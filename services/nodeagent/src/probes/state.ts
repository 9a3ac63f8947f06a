// The probe logic without I/O: defaults, the threshold state machine of the kubelet's probe
// worker, port resolution and the words of results. Everything here is pure and unit-tested.
import type { Container, IntOrString, Probe } from "@corral/api";

export type ProbeKind = "liveness" | "readiness" | "startup";

export const PROBE_KINDS: readonly ProbeKind[] = ["startup", "liveness", "readiness"];

/** "Liveness", as the kubelet capitalises it in its messages. */
export function kindLabel(kind: ProbeKind): string {
  return kind[0]!.toUpperCase() + kind.slice(1);
}

/** The container's probe of a kind, if it has one with a handler. */
export function probeOf(container: Container, kind: ProbeKind): Probe | undefined {
  const p = kind === "liveness" ? container.livenessProbe : kind === "readiness" ? container.readinessProbe : container.startupProbe;
  if (!p || (!p.exec && !p.httpGet && !p.tcpSocket)) return undefined;
  return p;
}

/** A probe's timing and thresholds with Kubernetes' defaults filled in. */
export interface ProbeSettings {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

/**
 * Kubernetes' defaults: period 10 s, timeout 1 s, success threshold 1, failure threshold 3. A zero
 * (unset in proto3) or negative value takes the default. Liveness and startup probes must have a
 * success threshold of 1 (the API refuses anything else), so it is forced here.
 */
export function probeSettings(p: Probe, kind: ProbeKind): ProbeSettings {
  const pos = (v: number, d: number) => (v > 0 ? v : d);
  return {
    initialDelaySeconds: Math.max(0, p.initialDelaySeconds),
    periodSeconds: pos(p.periodSeconds, 10),
    timeoutSeconds: pos(p.timeoutSeconds, 1),
    successThreshold: kind === "readiness" ? pos(p.successThreshold, 1) : 1,
    failureThreshold: pos(p.failureThreshold, 3),
  };
}

/** What one probe attempt said. "error": the prober itself failed (the result is thrown away). */
export interface ProbeOutcome {
  result: "success" | "failure" | "error";
  /** Why it failed (or a warning on success): "HTTP probe failed with statuscode: 500". */
  message: string;
}

export type ProbeResult = "success" | "failure" | "unknown";

/** The result a worker reports before its first probe (kubelet: readiness Failure, liveness Success, startup Unknown). */
export function initialResult(kind: ProbeKind): ProbeResult {
  return kind === "readiness" ? "failure" : kind === "liveness" ? "success" : "unknown";
}

/**
 * The kubelet's worker state: the reported result changes only after `successThreshold`
 * successes or `failureThreshold` failures in a row. A liveness or startup probe that reached its
 * failure threshold goes on hold: the container is to be restarted, and the new container gets a
 * new worker.
 */
export class ThresholdState {
  result: ProbeResult;
  /** Consecutive identical outcomes. */
  private run = 0;
  private last: "success" | "failure" | undefined;
  onHold = false;
  /** The message of the latest failure (kept after later successes only until the result flips back). */
  lastFailure = "";

  constructor(
    readonly kind: ProbeKind,
    readonly settings: Pick<ProbeSettings, "successThreshold" | "failureThreshold">,
  ) {
    this.result = initialResult(kind);
  }

  /** Records one outcome; says whether the reported result changed. Errors change nothing. */
  record(outcome: ProbeOutcome): { changed: boolean; result: ProbeResult } {
    if (outcome.result === "error" || this.onHold) return { changed: false, result: this.result };
    const r = outcome.result;
    if (r === "failure") this.lastFailure = outcome.message;
    this.run = this.last === r ? this.run + 1 : 1;
    this.last = r;
    const threshold = r === "failure" ? this.settings.failureThreshold : this.settings.successThreshold;
    if (this.run < threshold) return { changed: false, result: this.result };
    const changed = this.result !== r;
    this.result = r;
    if (r === "failure" && (this.kind === "liveness" || this.kind === "startup")) {
      this.onHold = true;
      this.run = 0;
    }
    return { changed, result: r };
  }

  /** A startup probe that succeeded is done: it never runs again for this container. */
  get done(): boolean {
    return this.onHold || (this.kind === "startup" && this.result === "success");
  }
}

/** "Liveness probe failed: HTTP probe failed with statuscode: 500" (the Unhealthy event and the restart message). */
export function failureMessage(kind: ProbeKind, outcome: ProbeOutcome): string {
  if (outcome.result === "error") return `${kindLabel(kind)} probe errored: ${outcome.message}`;
  return `${kindLabel(kind)} probe failed: ${outcome.message}`;
}

/**
 * The port a probe targets: a number, or the name of one of the container's ports (a numeric
 * string is also taken as a number, as the kubelet does). Throws a message that names the problem.
 */
export function resolvePort(port: IntOrString | undefined, container: Pick<Container, "ports" | "name">): number {
  let n: number;
  if (!port || port.value.case === undefined) throw new Error(`probe of container "${container.name}" has no port`);
  if (port.value.case === "intVal") {
    n = port.value.value;
  } else {
    const name = port.value.value;
    const named = container.ports.find((p) => p.name === name);
    if (named) n = named.containerPort;
    else if (/^\d+$/.test(name)) n = Number(name);
    else throw new Error(`couldn't find port "${name}" in container "${container.name}" (ports: [${container.ports.map((p) => p.name || p.containerPort).join(" ")}])`);
  }
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`invalid port number: ${n}`);
  return n;
}

/** "http://10.0.0.5:8080/healthz": host bracketed when it is IPv6, the path made absolute. */
export function probeUrl(scheme: string, host: string, port: number, path: string): URL {
  const s = scheme.toLowerCase() === "https" ? "https" : "http";
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const p = path ? (path.startsWith("/") ? path : `/${path}`) : "/";
  return new URL(`${s}://${h}:${port}${p}`);
}

/** How the kubelet judges an HTTP answer: 200–399 succeeds (a redirect is followed no further). */
export function httpOutcome(statusCode: number, body: string): ProbeOutcome {
  if (statusCode >= 200 && statusCode < 400) return { result: "success", message: "" };
  const trimmed = body.trim();
  return {
    result: "failure",
    message: `HTTP probe failed with statuscode: ${statusCode}${trimmed ? ` (${truncate(trimmed, 256)})` : ""}`,
  };
}

/** An exec probe's verdict: exit 0 succeeds; otherwise the command's output says why (or its exit code). */
export function execOutcome(command: readonly string[], exitCode: number, output: string): ProbeOutcome {
  if (exitCode === 0) return { result: "success", message: "" };
  const trimmed = output.trim();
  return {
    result: "failure",
    message: trimmed
      ? truncate(trimmed, 1024)
      : `command ${JSON.stringify(command.join(" "))} exited with code ${exitCode}`,
  };
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}...`;
}

/**
 * When the next probe runs: the first at container start + initialDelaySeconds (or at once if that
 * has passed), then periodSeconds after the previous one started (at once if it overran).
 */
export function nextRunAt(
  now: number,
  startedAt: number,
  settings: Pick<ProbeSettings, "initialDelaySeconds" | "periodSeconds">,
  lastStart: number | undefined,
  secondMs = 1000,
): number {
  const earliest = startedAt + settings.initialDelaySeconds * secondMs;
  const due = lastStart === undefined ? earliest : Math.max(earliest, lastStart + settings.periodSeconds * secondMs);
  return Math.max(now, due);
}
