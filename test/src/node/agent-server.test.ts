// The node agent's logs/exec endpoint and its probers against a real containerd (the node host of
// test/src/support/node-host.ts): pods made straight through CRI with the agent's labels, log
// paths and annotations, so this test needs nothing of the agent's pod worker.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { NodeAgentService, PodSchema, type Pod } from "@corral/api";
import { connectCri, type CriClient, type PodSandboxConfigSchema } from "@corral/cri";
import { Code, connect, createClient, errorCode, errorMessage } from "@corral/grpc";
import { createLogger } from "@corral/logging";
import { criLabels as L, NodePaths } from "@corral/nodeagent";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
// Not (yet) exported from @corral/nodeagent's index: imported from its build.
import { probeExec, probeHttp, probeTcp } from "../../../services/nodeagent/dist/probes/prober.js";
import { startAgentServer, type AgentServer } from "../../../services/nodeagent/dist/server/index.js";
import { startNodeHost, type NodeHost } from "../support/node-host.js";

const log = createLogger("agent-server-test", { level: process.env.CORRAL_LOG_LEVEL ?? "warn" });
const T = { timeoutMs: 30_000 };

async function rejects(p: Promise<unknown>, code: Code, message: RegExp): Promise<void> {
  await assert.rejects(p, (err) => {
    assert.equal(errorCode(err), code, `code ${Code[errorCode(err)]}: ${errorMessage(err)}`);
    assert.match(errorMessage(err), message);
    return true;
  });
}

describe("node agent endpoint against containerd", () => {
  let host: NodeHost;
  let cri: CriClient;
  let root: string;
  let paths: NodePaths;
  let server: AgentServer;
  let client: ReturnType<typeof createClient<typeof NodeAgentService>>;
  let closeClient = () => {};
  const sandboxes: string[] = [];
  const pods = new Map<string, Pod>();

  const uid = `u${process.pid}${Math.random().toString(36).slice(2, 8)}`;
  const pod = create(PodSchema, {
    metadata: { name: "web", namespace: "default", uid },
    spec: { containers: [{ name: "app" }, { name: "once" }, { name: "short" }, { name: "web", ports: [{ name: "http", containerPort: 8080 }] }] },
    status: { phase: "Running" },
  });
  let sandbox: { id: string; config: MessageInitShape<typeof PodSandboxConfigSchema> & { labels: Record<string, string> }; ip: string };
  const ids: Record<string, string> = {};

  async function startContainer(name: string, restartCount: number, command: string[]): Promise<string> {
    const { containerId } = await cri.runtime.createContainer(
      {
        podSandboxId: sandbox.id,
        sandboxConfig: sandbox.config,
        config: {
          metadata: { name, attempt: restartCount },
          image: { image: host.busyboxImage },
          command,
          labels: { ...sandbox.config.labels, [L.CONTAINER_NAME]: name },
          annotations: { [L.RESTART_COUNT]: String(restartCount) },
          logPath: paths.containerLogPath(name, restartCount),
        },
      },
      T,
    );
    await cri.runtime.startContainer({ containerId }, T);
    return containerId;
  }

  async function waitExited(containerId: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const { status } = await cri.runtime.containerStatus({ containerId });
      if (status?.state === 2 /* CONTAINER_EXITED */) return;
      await sleep(50);
    }
    assert.fail(`container ${containerId} did not exit`);
  }

  const logs = async (req: Parameters<typeof client.containerLogs>[0]) => {
    let text = "";
    for await (const c of client.containerLogs({ namespace: "default", pod: "web", ...req })) text += Buffer.from(c.data).toString();
    return text;
  };

  before(async () => {
    host = await startNodeHost();
    cri = connectCri(host.criSocket);
    root = await mkdtemp(join(tmpdir(), "corral-agent-"));
    paths = new NodePaths(root, host.cgroupParent);
    const m = pod.metadata!;
    const config = {
      metadata: { name: m.name, namespace: m.namespace, uid: m.uid, attempt: 0 },
      hostname: m.name,
      logDirectory: paths.podLogDir(m.namespace, m.name, m.uid),
      labels: { [L.POD_NAME]: m.name, [L.POD_NAMESPACE]: m.namespace, [L.POD_UID]: m.uid, [L.MANAGED_BY]: L.MANAGED_BY_VALUE },
      linux: { cgroupParent: paths.podCgroup(m.uid) },
    };
    await cri.image.pullImage({ image: { image: host.busyboxImage } }, T);
    const { podSandboxId } = await cri.runtime.runPodSandbox({ config }, T);
    sandboxes.push(podSandboxId);
    const st = await cri.runtime.podSandboxStatus({ podSandboxId }, T);
    sandbox = { id: podSandboxId, config, ip: st.status?.network?.ip ?? "" };
    pod.status!.podIp = sandbox.ip;
    pods.set("default/web", pod);

    ids.app = await startContainer("app", 0, ["sh", "-c", 'echo hello; echo oops >&2; i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.2; done']);
    const first = await startContainer("once", 0, ["sh", "-c", "echo first run; exit 3"]);
    await waitExited(first);
    ids.once = await startContainer("once", 1, ["sh", "-c", "echo second run; sleep 3600"]);
    ids.web = await startContainer("web", 0, ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]);

    server = await startAgentServer({ listen: "127.0.0.1:0", cri, paths, log, lookupPod: (ns, name) => pods.get(`${ns}/${name}`) });
    const conn = connect(server.address);
    closeClient = () => conn.close();
    client = createClient(NodeAgentService, conn);
  });

  after(async () => {
    closeClient();
    await server?.stop();
    for (const id of sandboxes) {
      await cri.runtime.stopPodSandbox({ podSandboxId: id }, T).catch(() => undefined);
      await cri.runtime.removePodSandbox({ podSandboxId: id }, T).catch(() => undefined);
    }
    cri?.close();
    await host?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("streams a container's log, stdout and stderr, with --tail and --timestamps", async () => {
    await sleep(300);
    const all = await logs({ container: "app" });
    // stdout and stderr are separate pipes: only the order within each is certain.
    const lines = all.split("\n");
    assert.ok(lines.includes("oops"), all);
    assert.deepEqual(lines.filter((l) => l !== "oops").slice(0, 3), ["hello", "tick 0", "tick 1"]);
    const tail = await logs({ container: "app", tailLines: 2n });
    assert.equal(tail.split("\n").length, 3, JSON.stringify(tail));
    assert.match(tail, /^tick \d+\ntick \d+\n$/);
    const stamped = await logs({ container: "app", tailLines: 1n, timestamps: true });
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) tick \d+\n$/);
  });

  it("--previous reads the instance before the restart", async () => {
    assert.equal(await logs({ container: "once" }), "second run\n");
    assert.equal(await logs({ container: "once", previous: true }), "first run\n");
    await rejects(logs({ container: "app", previous: true }), Code.FAILED_PRECONDITION, /^previous terminated container "app" in pod "web" not found$/);
    await rejects(logs({}), Code.INVALID_ARGUMENT, /^a container name must be specified for pod web, choose one of: \[app once short web\]$/);
  });

  it("follows new lines until the client cancels", async () => {
    const ac = new AbortController();
    let text = "";
    const t0 = Date.now();
    const done = (async () => {
      for await (const c of client.containerLogs({ namespace: "default", pod: "web", container: "app", follow: true, tailLines: 1n }, { signal: ac.signal })) {
        text += Buffer.from(c.data).toString();
        if (text.split("\n").length > 5) ac.abort();
      }
    })();
    await rejects(done, Code.CANCELLED, /cancel/i);
    const ticks = text.trim().split("\n").map((l) => Number(/^tick (\d+)$/.exec(l)?.[1]));
    assert.ok(ticks.length >= 5, text);
    for (let i = 1; i < ticks.length; i++) assert.equal(ticks[i], ticks[i - 1]! + 1, `lines in order without gaps: ${text}`);
    assert.ok(Date.now() - t0 < 3000, "new lines arrive as they are written");
  });

  it("a follow ends by itself when the container exits", async () => {
    const id = await startContainer("short", 0, ["sh", "-c", "echo start; sleep 1; echo bye"]);
    const t0 = Date.now();
    const text = await logs({ container: "short", follow: true });
    assert.equal(text, "start\nbye\n");
    assert.ok(Date.now() - t0 < 5000, `ended ${Date.now() - t0} ms after it began`);
    await waitExited(id);
  });

  it("exec returns the command's stdout, stderr and exit code", async () => {
    const res = await client.exec({ namespace: "default", pod: "web", container: "app", command: ["sh", "-c", "echo out; echo err >&2; exit 7"] });
    assert.equal(Buffer.from(res.stdout).toString(), "out\n");
    assert.equal(Buffer.from(res.stderr).toString(), "err\n");
    assert.equal(res.exitCode, 7);
    const host = await client.exec({ namespace: "default", pod: "web", container: "app", command: ["hostname"] });
    assert.equal(Buffer.from(host.stdout).toString(), "web\n");
  });

  it("exec: not running, not found, timed out", async () => {
    await rejects(client.exec({ namespace: "default", pod: "web", container: "short", command: ["true"] }), Code.FAILED_PRECONDITION, /container "short" in pod "web" is not running/);
    await rejects(client.exec({ namespace: "default", pod: "gone", container: "app", command: ["true"] }), Code.NOT_FOUND, /pods "gone" not found/);
    const missing = await client.exec({ namespace: "default", pod: "web", container: "app", command: ["nosuch-command"] });
    assert.equal(missing.exitCode, 127, Buffer.from(missing.stderr).toString());
    assert.match(Buffer.from(missing.stderr).toString(), /nosuch-command.*not found/);
    const t0 = Date.now();
    await rejects(
      client.exec({ namespace: "default", pod: "web", container: "app", command: ["sleep", "30"], timeoutSeconds: 1n }),
      Code.DEADLINE_EXCEEDED,
      /timed out after 1s/,
    );
    assert.ok(Date.now() - t0 < 5000, `timed out in ${Date.now() - t0} ms`);
  });

  it("probes: exec through ExecSync, httpGet and tcpSocket on the pod's IP", async () => {
    assert.deepEqual(await probeExec(cri, ids.app!, ["true"], 1), { result: "success", message: "" });
    assert.deepEqual(await probeExec(cri, ids.app!, ["sh", "-c", "echo not healthy; exit 1"], 1), { result: "failure", message: "not healthy" });
    const t0 = Date.now();
    const slow = await probeExec(cri, ids.app!, ["sleep", "10"], 1);
    assert.deepEqual(slow, { result: "failure", message: 'command "sleep 10" timed out after 1s' });
    assert.ok(Date.now() - t0 < 5000);
    assert.ok(sandbox.ip, "the pod has an IP");
    let ok = await probeHttp({ scheme: "HTTP", host: sandbox.ip, port: 8080, path: "/", headers: [], timeoutMs: 1000 });
    for (let i = 0; ok.result !== "success" && i < 20; i++) {
      await sleep(100);
      ok = await probeHttp({ scheme: "HTTP", host: sandbox.ip, port: 8080, path: "/", headers: [], timeoutMs: 1000 });
    }
    assert.deepEqual(ok, { result: "success", message: "" });
    const notFound = await probeHttp({ scheme: "HTTP", host: sandbox.ip, port: 8080, path: "/missing", headers: [], timeoutMs: 1000 });
    assert.equal(notFound.result, "failure");
    assert.match(notFound.message, /^HTTP probe failed with statuscode: 404/);
    assert.deepEqual(await probeTcp({ host: sandbox.ip, port: 8080, timeoutMs: 1000 }), { result: "success", message: "" });
    assert.deepEqual(await probeTcp({ host: sandbox.ip, port: 8081, timeoutMs: 1000 }), {
      result: "failure",
      message: `dial tcp ${sandbox.ip}:8081: connect: connection refused`,
    });
  });
});
