// The probers against real local servers (HTTP and TCP on loopback) and a stand-in for CRI ExecSync.
import { create } from "@bufbuild/protobuf";
import { ContainerSchema, ProbeSchema } from "@corral/api";
import type { CriClient } from "@corral/cri";
import { GrpcError, Code } from "@corral/grpc";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { probeExec, probeHttp, probeTcp, runProbe } from "./prober.js";

function listen<S extends http.Server | net.Server>(server: S): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}

/** A port nothing listens on: bound then closed. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

describe("probeHttp against a local server", () => {
  let server: http.Server;
  let port: number;
  let seen: http.IncomingHttpHeaders | undefined;
  before(async () => {
    server = http.createServer((req, res) => {
      seen = req.headers;
      if (req.url === "/healthz") return void res.end("ok");
      if (req.url === "/redirect") return void res.writeHead(302, { location: "http://example.invalid/" }).end();
      if (req.url === "/big") return void res.writeHead(500).end("x".repeat(100_000));
      if (req.url === "/slow") return void setTimeout(() => res.end("late"), 2_000);
      if (req.url?.startsWith("/status/")) return void res.writeHead(Number(req.url.slice(8))).end("sick\n");
      res.writeHead(404).end();
    });
    port = await listen(server);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const target = (path: string, extra: Partial<Parameters<typeof probeHttp>[0]> = {}) => ({
    scheme: "HTTP",
    host: "127.0.0.1",
    port,
    path,
    headers: [],
    timeoutMs: 1000,
    ...extra,
  });

  it("succeeds on 200 and sends the probe's headers", async () => {
    const o = await probeHttp(target("/healthz", { headers: [{ name: "X-Probe", value: "yes" }, { name: "Host", value: "web.local" }] }));
    assert.deepEqual(o, { result: "success", message: "" });
    assert.equal(seen?.["x-probe"], "yes");
    assert.equal(seen?.host, "web.local");
    assert.match(String(seen?.["user-agent"]), /corral-probe/);
  });

  it("takes a redirect as success without following it", async () => {
    assert.equal((await probeHttp(target("/redirect"))).result, "success");
  });

  it("fails on 500 with the kubelet's message", async () => {
    const o = await probeHttp(target("/status/500"));
    assert.equal(o.result, "failure");
    assert.equal(o.message, "HTTP probe failed with statuscode: 500 (sick)");
    const big = await probeHttp(target("/big"));
    assert.match(big.message, /^HTTP probe failed with statuscode: 500 \(x{256}\.\.\.\)$/);
  });

  it("fails when the connection is refused", async () => {
    const p = await closedPort();
    const o = await probeHttp({ ...target("/healthz"), port: p });
    assert.equal(o.result, "failure");
    assert.equal(o.message, `Get "http://127.0.0.1:${p}/healthz": connect: connection refused`);
  });

  it("fails after timeoutSeconds", async () => {
    const t0 = Date.now();
    const o = await probeHttp(target("/slow", { timeoutMs: 200 }));
    assert.equal(o.result, "failure");
    assert.match(o.message, /timed out after 0.2s/);
    assert.ok(Date.now() - t0 < 1500);
  });

  it("resolves a named port through runProbe", async () => {
    const container = create(ContainerSchema, { name: "web", ports: [{ name: "http", containerPort: port }] });
    const probe = create(ProbeSchema, { httpGet: { path: "/healthz", port: { value: { case: "strVal", value: "http" } } } });
    const o = await runProbe(probe, 1, { cri: {} as CriClient, container, containerId: "c1", podIP: "127.0.0.1" });
    assert.deepEqual(o, { result: "success", message: "" });
    const wrong = create(ProbeSchema, { httpGet: { path: "/", port: { value: { case: "strVal", value: "nope" } } } });
    const e = await runProbe(wrong, 1, { cri: {} as CriClient, container, containerId: "c1", podIP: "127.0.0.1" });
    assert.equal(e.result, "error");
    assert.match(e.message, /couldn't find port "nope"/);
  });
});

describe("probeTcp against a local server", () => {
  let server: net.Server;
  let port: number;
  before(async () => {
    server = net.createServer((s) => s.end());
    port = await listen(server);
  });
  after(() => server.close());

  it("succeeds when the connection is accepted", async () => {
    assert.deepEqual(await probeTcp({ host: "127.0.0.1", port, timeoutMs: 1000 }), { result: "success", message: "" });
  });

  it("fails when it is refused", async () => {
    const p = await closedPort();
    assert.deepEqual(await probeTcp({ host: "127.0.0.1", port: p, timeoutMs: 1000 }), {
      result: "failure",
      message: `dial tcp 127.0.0.1:${p}: connect: connection refused`,
    });
  });
});

describe("probeExec through CRI ExecSync", () => {
  const cri = (impl: (req: { containerId: string; cmd: string[]; timeout: bigint }) => Promise<unknown>) =>
    ({ runtime: { execSync: impl } }) as unknown as CriClient;

  it("passes the container, command and timeout, and judges the exit code", async () => {
    let got: { containerId: string; cmd: string[]; timeout: bigint } | undefined;
    const ok = await probeExec(
      cri(async (req) => {
        got = req;
        return { stdout: new Uint8Array(), stderr: new Uint8Array(), exitCode: 0 };
      }),
      "c1",
      ["cat", "/tmp/healthy"],
      3,
    );
    assert.deepEqual(ok, { result: "success", message: "" });
    assert.deepEqual(got, { containerId: "c1", cmd: ["cat", "/tmp/healthy"], timeout: 3n });

    const failed = await probeExec(
      cri(async () => ({ stdout: Buffer.from(""), stderr: Buffer.from("cat: can't open '/tmp/healthy': No such file\n"), exitCode: 1 })),
      "c1",
      ["cat", "/tmp/healthy"],
      1,
    );
    assert.deepEqual(failed, { result: "failure", message: "cat: can't open '/tmp/healthy': No such file" });
  });

  it("a timeout is a failure, any other runtime error an error", async () => {
    const timedOut = await probeExec(
      cri(async () => {
        throw new GrpcError(Code.DEADLINE_EXCEEDED, "failed to exec in container: timeout 1s exceeded: context deadline exceeded");
      }),
      "c1",
      ["sleep", "9"],
      1,
    );
    assert.deepEqual(timedOut, { result: "failure", message: 'command "sleep 9" timed out after 1s' });
    const gone = await probeExec(
      cri(async () => {
        throw new GrpcError(Code.NOT_FOUND, "container not found");
      }),
      "c1",
      ["true"],
      1,
    );
    assert.deepEqual(gone, { result: "error", message: "container not found" });
  });
});
