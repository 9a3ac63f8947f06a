// The probes' I/O: an HTTP GET, a TCP connect, a command run through CRI ExecSync. Each returns
// an outcome and never throws; the verdicts themselves come from ./state.ts.
import type { Container, Probe } from "@corral/api";
import type { CriClient } from "@corral/cri";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { execOutcome, httpOutcome, probeUrl, resolvePort, truncate, type ProbeOutcome } from "./state.js";

/** The kubelet reads at most this much of a probe's response body. */
const MAX_BODY = 10 * 1024;
const USER_AGENT = "corral-probe/0.1";

/** Node's error codes in the words of Go's net package, which is what Kubernetes users know. */
function netError(err: unknown): string {
  const code = (err as { code?: string }).code;
  switch (code) {
    case "ECONNREFUSED":
      return "connect: connection refused";
    case "ECONNRESET":
      return "read: connection reset by peer";
    case "EHOSTUNREACH":
      return "connect: no route to host";
    case "ENETUNREACH":
      return "connect: network is unreachable";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `lookup failed: ${errorMessage(err)}`;
    default:
      return errorMessage(err);
  }
}

export interface HttpTarget {
  scheme: string;
  host: string;
  port: number;
  path: string;
  headers: readonly { name: string; value: string }[];
  timeoutMs: number;
}

/** GET; 200–399 succeeds. Redirects are not followed (a 3xx is already a success). TLS is not verified, as the kubelet does. */
export function probeHttp(t: HttpTarget): Promise<ProbeOutcome> {
  let url: URL;
  try {
    url = probeUrl(t.scheme, t.host, t.port, t.path);
  } catch (err) {
    return Promise.resolve({ result: "error", message: `invalid probe URL: ${errorMessage(err)}` });
  }
  const headers: Record<string, string> = { "user-agent": USER_AGENT, accept: "*/*" };
  for (const h of t.headers) if (h.name) headers[h.name.toLowerCase()] = h.value;
  const get = url.protocol === "https:" ? https.get : http.get;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (o: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(o);
    };
    const req = get(url, { headers, agent: false, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c);
        size += c.length;
        if (size >= MAX_BODY) done();
      });
      const done = () => finish(httpOutcome(res.statusCode ?? 0, Buffer.concat(chunks).subarray(0, MAX_BODY).toString("utf8")));
      res.on("end", done);
      res.on("error", done);
    });
    req.on("error", (err) => finish({ result: "failure", message: `Get "${url.href}": ${netError(err)}` }));
    const timer = setTimeout(
      () => finish({ result: "failure", message: `Get "${url.href}": timed out after ${t.timeoutMs / 1000}s (timeoutSeconds) awaiting the response` }),
      t.timeoutMs,
    );
  });
}

/** A TCP connect: success as soon as it is accepted. */
export function probeTcp(t: { host: string; port: number; timeoutMs: number }): Promise<ProbeOutcome> {
  const addr = t.host.includes(":") ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (o: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(o);
    };
    const sock = net.connect({ host: t.host, port: t.port });
    sock.once("connect", () => finish({ result: "success", message: "" }));
    sock.once("error", (err) => finish({ result: "failure", message: `dial tcp ${addr}: ${netError(err)}` }));
    const timer = setTimeout(() => finish({ result: "failure", message: `dial tcp ${addr}: i/o timeout` }), t.timeoutMs);
  });
}

/** Runs the command in the container (CRI ExecSync with the probe's timeout); exit code 0 succeeds. */
export async function probeExec(
  cri: Pick<CriClient, "runtime">,
  containerId: string,
  command: readonly string[],
  timeoutSeconds: number,
): Promise<ProbeOutcome> {
  if (command.length === 0) return { result: "error", message: "exec probe has no command" };
  try {
    const res = await cri.runtime.execSync(
      { containerId, cmd: [...command], timeout: BigInt(timeoutSeconds) },
      // containerd kills the command at `timeout`; this deadline only guards against a stuck runtime.
      { timeoutMs: (timeoutSeconds + 10) * 1000 },
    );
    const out = Buffer.concat([Buffer.from(res.stdout), Buffer.from(res.stderr)]).toString("utf8");
    return execOutcome(command, res.exitCode, out);
  } catch (err) {
    const msg = errorMessage(err);
    if (errorCode(err) === Code.DEADLINE_EXCEEDED || /timeout .* exceeded/.test(msg)) {
      return { result: "failure", message: `command ${JSON.stringify(command.join(" "))} timed out after ${timeoutSeconds}s` };
    }
    return { result: "error", message: truncate(msg, 512) };
  }
}

export interface ProbeTarget {
  cri: Pick<CriClient, "runtime">;
  container: Pick<Container, "name" | "ports">;
  containerId: string;
  podIP: string;
}

/** Runs one probe by whichever handler it has. */
export async function runProbe(probe: Probe, timeoutSeconds: number, t: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = timeoutSeconds * 1000;
  try {
    if (probe.exec) return await probeExec(t.cri, t.containerId, probe.exec.command, timeoutSeconds);
    if (probe.httpGet) {
      const g = probe.httpGet;
      const host = g.host || t.podIP;
      if (!host) return { result: "error", message: "the pod has no IP yet" };
      return await probeHttp({
        scheme: g.scheme || "HTTP",
        host,
        port: resolvePort(g.port, t.container),
        path: g.path,
        headers: g.httpHeaders,
        timeoutMs,
      });
    }
    if (probe.tcpSocket) {
      const host = probe.tcpSocket.host || t.podIP;
      if (!host) return { result: "error", message: "the pod has no IP yet" };
      return await probeTcp({ host, port: resolvePort(probe.tcpSocket.port, t.container), timeoutMs });
    }
    return { result: "error", message: "the probe has no handler (exec, httpGet or tcpSocket)" };
  } catch (err) {
    return { result: "error", message: errorMessage(err) };
  }
}
