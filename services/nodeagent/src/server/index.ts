// The node agent's own gRPC endpoint (corral.v1.NodeAgentService): container logs and exec.
// The CLI finds it through the Node object (status.addresses + daemonEndpoints.kubeletEndpoint.port).
import { create } from "@bufbuild/protobuf";
import { LogChunkSchema, NodeAgentService, type Pod } from "@corral/api";
import { ContainerState, type CriClient } from "@corral/cri";
import { addService, Code, errorCode, errorMessage, GrpcError, type ServiceImpl } from "@corral/grpc";
import type { Logger } from "@corral/logging";
import { Server, ServerCredentials, type status } from "@grpc/grpc-js";
import { join } from "node:path";
import * as L from "../cri/labels.js";
import type { NodePaths } from "../paths.js";
import { describeNotRunning, pickContainer, type ChosenContainer } from "./containers.js";
import { listLogFiles, streamLogFile } from "./logs.js";

export interface AgentServerOptions {
  /** host:port; port 0 picks a free one. */
  listen: string;
  cri: Pick<CriClient, "runtime">;
  paths: NodePaths;
  /** The pods bound to this node, as the agent knows them (its informer's cache). */
  lookupPod: (namespace: string, name: string) => Pod | undefined;
  log: Logger;
}

export interface AgentServer {
  /** host:port it listens on. */
  address: string;
  stop(): Promise<void>;
}

function mustPod(o: AgentServerOptions, namespace: string, name: string): Pod {
  if (!name) throw new GrpcError(Code.INVALID_ARGUMENT, "a pod name is required");
  const pod = o.lookupPod(namespace || "default", name);
  if (!pod?.metadata?.uid) {
    throw new GrpcError(Code.NOT_FOUND, `pods "${name}" not found in namespace "${namespace || "default"}" on this node`);
  }
  return pod;
}

/** The container's CRI id when it is running, newest first if (briefly) there are two. */
async function runningContainerId(cri: AgentServerOptions["cri"], uid: string, container: string, signal?: AbortSignal): Promise<string | undefined> {
  const res = await cri.runtime.listContainers(
    {
      filter: {
        labelSelector: { [L.POD_UID]: uid, [L.CONTAINER_NAME]: container },
        state: { state: ContainerState.CONTAINER_RUNNING },
      },
    },
    { timeoutMs: 10_000, signal },
  );
  const sorted = [...res.containers].sort((a, b) => Number(b.createdAt - a.createdAt));
  return sorted[0]?.id;
}

/** Maps a runtime failure of ExecSync to a status a user can act on (or an exit code, like a shell). */
function execFailure(err: unknown, c: ChosenContainer, pod: string, timeoutSeconds: number): { exitCode: number; stderr: string } {
  const msg = errorMessage(err);
  if (errorCode(err) === Code.DEADLINE_EXCEEDED || /timeout .* exceeded/.test(msg)) {
    throw new GrpcError(Code.DEADLINE_EXCEEDED, `command timed out after ${timeoutSeconds}s in container "${c.name}" of pod "${pod}"`);
  }
  if (errorCode(err) === Code.NOT_FOUND) {
    throw new GrpcError(Code.FAILED_PRECONDITION, `container "${c.name}" in pod "${pod}" is not running (it just stopped)`);
  }
  // The command could not be started: report it as a shell would (127 not found, 126 not executable).
  if (/OCI runtime exec failed/.test(msg)) {
    const notFound = /executable file not found|no such file or directory/i.test(msg);
    const detail = /exec: (.*?)(: unknown)?$/.exec(msg)?.[1] ?? msg;
    return { exitCode: notFound ? 127 : 126, stderr: `${detail}\n` };
  }
  throw new GrpcError(Code.INTERNAL, `exec in container "${c.name}" of pod "${pod}" failed: ${msg}`);
}

export async function startAgentServer(o: AgentServerOptions): Promise<AgentServer> {
  const log = o.log.child({ part: "agent-server" });
  const stopping = new AbortController();
  const server = new Server({ "grpc.keepalive_permit_without_calls": 1, "grpc.http2.min_ping_interval_without_data_ms": 5000 });

  const impl: ServiceImpl<typeof NodeAgentService> = {
    async containerLogs(req, send, ctx): Promise<void> {
      const pod = mustPod(o, req.namespace, req.pod);
      const m = pod.metadata!;
      const c = pickContainer(pod, req.container);
      const dir = join(o.paths.podLogDir(m.namespace || "default", m.name, m.uid), c.name);
      const files = await listLogFiles(dir);
      const current = files.at(-1);
      const file = req.previous ? files.at(-2) : current;
      if (!file) {
        if (req.previous) {
          throw new GrpcError(Code.FAILED_PRECONDITION, `previous terminated container "${c.name}" in pod "${m.name}" not found`);
        }
        throw new GrpcError(Code.FAILED_PRECONDITION, `container "${c.name}" in pod "${m.name}" ${describeNotRunning(pod, c)}`);
      }
      const signal = AbortSignal.any([ctx.signal, stopping.signal]);
      const tail = req.tailLines === undefined ? undefined : Number(req.tailLines);
      await streamLogFile({
        file,
        dir,
        follow: req.follow && !req.previous,
        tailLines: tail !== undefined && tail >= 0 ? tail : undefined,
        timestamps: req.timestamps,
        signal,
        send: (data) => send(create(LogChunkSchema, { data })),
        isRunning: async () => {
          const res = await o.cri.runtime.listContainers(
            { filter: { labelSelector: { [L.POD_UID]: m.uid, [L.CONTAINER_NAME]: c.name } } },
            { timeoutMs: 10_000 },
          );
          return res.containers.some(
            (x) => x.state === ContainerState.CONTAINER_RUNNING && Number(x.annotations[L.RESTART_COUNT] ?? -1) === file.restartCount,
          );
        },
      });
    },

    async exec(req, ctx) {
      const pod = mustPod(o, req.namespace, req.pod);
      const m = pod.metadata!;
      const c = pickContainer(pod, req.container);
      if (req.command.length === 0) throw new GrpcError(Code.INVALID_ARGUMENT, "a command is required, e.g. corral exec POD -- sh -c 'ls /'");
      const id = await runningContainerId(o.cri, m.uid, c.name, ctx.signal);
      if (!id) throw new GrpcError(Code.FAILED_PRECONDITION, `container "${c.name}" in pod "${m.name}" ${describeNotRunning(pod, c)}`);
      const timeout = Number(req.timeoutSeconds > 0n ? req.timeoutSeconds : 0n);
      log.debug({ pod: `${m.namespace}/${m.name}`, container: c.name, command: req.command }, "exec");
      try {
        const res = await o.cri.runtime.execSync(
          { containerId: id, cmd: req.command, timeout: BigInt(timeout) },
          { timeoutMs: timeout ? (timeout + 10) * 1000 : undefined, signal: ctx.signal },
        );
        return { stdout: res.stdout, stderr: res.stderr, exitCode: res.exitCode };
      } catch (err) {
        const f = execFailure(err, c, m.name, timeout);
        return { stdout: new Uint8Array(), stderr: Buffer.from(f.stderr), exitCode: f.exitCode };
      }
    },
  };

  const observe = (path: string, code: status, seconds: number, err?: unknown) => {
    const method = path.slice(path.lastIndexOf("/") + 1);
    if (code === Code.INTERNAL || code === Code.UNKNOWN) log.error({ method, err: errorMessage(err) }, "request failed");
    else log.debug({ method, code: Code[code], seconds }, "request");
  };
  addService(server, NodeAgentService, impl, observe);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(o.listen, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = o.listen.slice(0, o.listen.lastIndexOf(":"));
  const address = `${host}:${port}`;
  log.info({ address }, "node agent endpoint serving (logs, exec)");

  return {
    address,
    async stop() {
      // Followers end cleanly; then in-flight calls get two seconds.
      stopping.abort();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}
