// The agent's gRPC endpoint over loopback, with log files in a temporary root and a stand-in for
// CRI (test/src/node/agent-server.test.ts runs it against a real containerd).
import { create } from "@bufbuild/protobuf";
import { NodeAgentService, PodSchema, type Pod } from "@corral/api";
import { ContainerState, type CriClient } from "@corral/cri";
import { Code, connect, createClient, errorCode, errorMessage, GrpcError } from "@corral/grpc";
import { createLogger } from "@corral/logging";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as L from "../cri/labels.js";
import { NodePaths } from "../paths.js";
import { startAgentServer, type AgentServer } from "./index.js";

const log = createLogger("agent-server-test", { level: "silent" });
const line = (text: string) => `2024-01-01T00:00:00.000000000Z stdout F ${text}\n`;

async function rejects(p: Promise<unknown>, code: Code, message: RegExp): Promise<void> {
  await assert.rejects(p, (err) => {
    assert.equal(errorCode(err), code, `code ${errorCode(err)}: ${errorMessage(err)}`);
    assert.match(errorMessage(err), message);
    return true;
  });
}

describe("NodeAgentService", () => {
  let root: string;
  let server: AgentServer;
  let client: ReturnType<typeof createClient<typeof NodeAgentService>>;
  let close: () => void;
  const pods = new Map<string, Pod>();
  const execs: { containerId: string; cmd: string[]; timeout: bigint }[] = [];
  let execImpl: () => Promise<{ stdout: Uint8Array; stderr: Uint8Array; exitCode: number }>;

  const cri = {
    runtime: {
      listContainers: async (req: { filter?: { labelSelector: Record<string, string>; state?: { state: ContainerState } } }) => {
        const sel = req.filter?.labelSelector ?? {};
        const all = [
          { id: "web-app-1", createdAt: 1n, state: ContainerState.CONTAINER_EXITED, labels: { [L.POD_UID]: "u-web", [L.CONTAINER_NAME]: "app" }, annotations: { [L.RESTART_COUNT]: "0" } },
          { id: "web-app-2", createdAt: 2n, state: ContainerState.CONTAINER_RUNNING, labels: { [L.POD_UID]: "u-web", [L.CONTAINER_NAME]: "app" }, annotations: { [L.RESTART_COUNT]: "1" } },
        ];
        const containers = all.filter(
          (c) =>
            Object.entries(sel).every(([k, v]) => (c.labels as Record<string, string>)[k] === v) &&
            (req.filter?.state === undefined || req.filter.state.state === c.state),
        );
        return { containers };
      },
      execSync: async (req: { containerId: string; cmd: string[]; timeout: bigint }) => {
        execs.push(req);
        return execImpl();
      },
    },
  } as unknown as CriClient;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "corral-agent-server-"));
    const paths = new NodePaths(root);
    const add = (p: Pod) => pods.set(`${p.metadata!.namespace}/${p.metadata!.name}`, p);
    add(create(PodSchema, { metadata: { name: "web", namespace: "default", uid: "u-web" }, spec: { containers: [{ name: "app" }, { name: "side" }], initContainers: [{ name: "init" }] }, status: { phase: "Running", podIp: "10.0.0.5" } }));
    add(
      create(PodSchema, {
        metadata: { name: "new", namespace: "default", uid: "u-new" },
        spec: { containers: [{ name: "app" }] },
        status: { phase: "Pending", containerStatuses: [{ name: "app", state: { waiting: { reason: "ImagePullBackOff", message: "no such image" } } }] },
      }),
    );
    const dir = join(paths.podLogDir("default", "web", "u-web"), "app");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "0.log"), line("before the restart"));
    await writeFile(join(dir, "1.log"), line("one") + line("two") + line("three"));
    server = await startAgentServer({ listen: "127.0.0.1:0", cri, paths, log, lookupPod: (ns, name) => pods.get(`${ns}/${name}`) });
    const conn = connect(server.address);
    close = () => conn.close();
    client = createClient(NodeAgentService, conn);
  });
  after(async () => {
    close();
    await server.stop();
    await rm(root, { recursive: true, force: true });
  });

  const logs = async (req: Parameters<typeof client.containerLogs>[0]) => {
    let text = "";
    for await (const c of client.containerLogs(req)) text += Buffer.from(c.data).toString();
    return text;
  };

  it("streams the current log, the previous one, and the last N lines", async () => {
    assert.equal(await logs({ namespace: "default", pod: "web", container: "app" }), "one\ntwo\nthree\n");
    assert.equal(await logs({ namespace: "default", pod: "web", container: "app", tailLines: 1n }), "three\n");
    assert.equal(await logs({ namespace: "default", pod: "web", container: "app", previous: true }), "before the restart\n");
    assert.equal(
      await logs({ namespace: "default", pod: "web", container: "app", timestamps: true, tailLines: 1n }),
      "2024-01-01T00:00:00.000000000Z three\n",
    );
  });

  it("says which pod, container or log is missing", async () => {
    await rejects(logs({ namespace: "default", pod: "nope" }), Code.NOT_FOUND, /pods "nope" not found in namespace "default"/);
    await rejects(
      logs({ namespace: "default", pod: "web" }),
      Code.INVALID_ARGUMENT,
      /^a container name must be specified for pod web, choose one of: \[app side\] or one of the init containers: \[init\]$/,
    );
    await rejects(logs({ namespace: "default", pod: "web", container: "db" }), Code.NOT_FOUND, /container "db" not found in pod "web" \(containers: \[init app side\]\)/);
    await rejects(
      logs({ namespace: "default", pod: "web", container: "side", previous: true }),
      Code.FAILED_PRECONDITION,
      /^previous terminated container "side" in pod "web" not found$/,
    );
    await rejects(
      logs({ namespace: "default", pod: "new" }),
      Code.FAILED_PRECONDITION,
      /^container "app" in pod "new" is waiting to start: ImagePullBackOff \(no such image\)$/,
    );
  });

  it("a follower ends when the client cancels", async () => {
    const ac = new AbortController();
    const got: string[] = [];
    const done = (async () => {
      for await (const c of client.containerLogs({ namespace: "default", pod: "web", container: "app", follow: true }, { signal: ac.signal })) {
        got.push(Buffer.from(c.data).toString());
      }
    })();
    while (got.length === 0) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await rejects(done, Code.CANCELLED, /cancel/i);
    assert.equal(got.join(""), "one\ntwo\nthree\n");
  });

  it("stop() ends followers cleanly", async () => {
    const other = await startAgentServer({ listen: "127.0.0.1:0", cri, paths: new NodePaths(root), log, lookupPod: (ns, name) => pods.get(`${ns}/${name}`) });
    const conn = connect(other.address);
    try {
      const c2 = createClient(NodeAgentService, conn);
      const got: string[] = [];
      const done = (async () => {
        for await (const c of c2.containerLogs({ namespace: "default", pod: "web", container: "app", follow: true })) got.push(Buffer.from(c.data).toString());
      })();
      while (got.length === 0) await new Promise((r) => setTimeout(r, 10));
      const t0 = Date.now();
      await other.stop();
      await done;
      assert.ok(Date.now() - t0 < 1000, "no wait for the forced shutdown");
    } finally {
      conn.close();
    }
  });

  it("exec runs the command in the running container and returns its output and exit code", async () => {
    execImpl = async () => ({ stdout: Buffer.from("hi\n"), stderr: Buffer.from("warn\n"), exitCode: 3 });
    const res = await client.exec({ namespace: "default", pod: "web", container: "app", command: ["sh", "-c", "echo hi"], timeoutSeconds: 5n });
    assert.equal(Buffer.from(res.stdout).toString(), "hi\n");
    assert.equal(Buffer.from(res.stderr).toString(), "warn\n");
    assert.equal(res.exitCode, 3);
    assert.deepEqual(execs.at(-1), { containerId: "web-app-2", cmd: ["sh", "-c", "echo hi"], timeout: 5n });
  });

  it("exec: a command that cannot start exits 127 as in a shell; a timeout is DEADLINE_EXCEEDED", async () => {
    execImpl = async () => {
      throw new GrpcError(
        Code.UNKNOWN,
        'failed to exec in container: failed to start exec "x": OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown',
      );
    };
    const res = await client.exec({ namespace: "default", pod: "web", container: "app", command: ["nosuch"] });
    assert.equal(res.exitCode, 127);
    assert.equal(Buffer.from(res.stderr).toString(), '"nosuch": executable file not found in $PATH\n');
    execImpl = async () => {
      throw new GrpcError(Code.DEADLINE_EXCEEDED, "failed to exec in container: timeout 1s exceeded: context deadline exceeded");
    };
    await rejects(client.exec({ namespace: "default", pod: "web", container: "app", command: ["sleep", "9"], timeoutSeconds: 1n }), Code.DEADLINE_EXCEEDED, /timed out after 1s/);
  });

  it("exec refuses containers that are not running, naming why", async () => {
    await rejects(client.exec({ namespace: "default", pod: "web", container: "side", command: ["true"] }), Code.FAILED_PRECONDITION, /container "side" in pod "web" is not running/);
    await rejects(
      client.exec({ namespace: "default", pod: "new", command: ["true"] }),
      Code.FAILED_PRECONDITION,
      /container "app" in pod "new" is waiting to start: ImagePullBackOff/,
    );
    await rejects(client.exec({ namespace: "default", pod: "web", container: "app", command: [] }), Code.INVALID_ARGUMENT, /a command is required/);
  });
});
