// One real node for end-to-end tests: a control plane (etcd and NATS in containers, an in-process
// apiserver), a node host (registry and containerd of its own) and a node agent in-process, or as
// a child process when a test needs to SIGKILL it.
import { NodeAgent, type NodeAgentOptions } from "@corral/nodeagent";
import { createLogger } from "@corral/logging";
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { startControlPlane, type ControlPlane } from "./control-plane.js";
import { startNodeHost, type NodeHost } from "./node-host.js";

export interface TestNode {
  cp: ControlPlane;
  host: NodeHost;
  nodeName: string;
  /** Options the agent runs with (in-process or as a child). */
  agentOptions: Omit<NodeAgentOptions, "log">;
  /** The in-process agent, when it runs. */
  agent?: NodeAgent;
  startAgent(): Promise<NodeAgent>;
  stopAgent(): Promise<void>;
  /** Runs the agent as a child process (so it can be killed with SIGKILL). */
  spawnAgent(): ChildProcess;
  stop(): Promise<void>;
}

let seq = 0;

/** A test node agent's options for a node host: its CRI socket, pod CIDR, cgroup and state under the host's. */
export function agentOptionsFor(host: NodeHost, apiserver: string, nodeName: string): Omit<NodeAgentOptions, "log"> {
  return {
    apiserver,
    nodeName,
    nodeIP: "127.0.0.1",
    podCIDR: host.podCidr,
    criSocket: host.criSocket,
    rootDir: join(host.stateDir, "nodeagent"),
    cgroupRoot: host.cgroupParent,
    listen: "127.0.0.1:0",
    backoffBaseMs: 1_000,
    heartbeatMs: 2_000,
  };
}

export async function startNode(opts: { backoffBaseMs?: number } = {}): Promise<TestNode> {
  const [cpResult, hostResult] = await Promise.allSettled([startControlPlane(), startNodeHost()]);
  if (cpResult.status === "rejected" || hostResult.status === "rejected") {
    // Whichever half started is taken down again, so a failed start leaks nothing.
    if (cpResult.status === "fulfilled") await cpResult.value.stop();
    if (hostResult.status === "fulfilled") await hostResult.value.stop();
    throw cpResult.status === "rejected" ? cpResult.reason : (hostResult as PromiseRejectedResult).reason;
  }
  const cp = cpResult.value;
  const host = hostResult.value;
  const nodeName = `node-${process.pid}-${seq++}`;
  const agentOptions: Omit<NodeAgentOptions, "log"> = {
    ...agentOptionsFor(host, cp.servers[0]!.address, nodeName),
    backoffBaseMs: opts.backoffBaseMs ?? 1_000,
    backoffMaxMs: 30_000,
  };
  const log = createLogger("nodeagent-test", { level: process.env.CORRAL_LOG_LEVEL ?? "warn" });
  const children: ChildProcess[] = [];
  const node: TestNode = {
    cp,
    host,
    nodeName,
    agentOptions,
    async startAgent() {
      node.agent = await NodeAgent.start({ ...agentOptions, log });
      return node.agent;
    },
    async stopAgent() {
      await node.agent?.stop();
      node.agent = undefined;
    },
    spawnAgent() {
      const main = join(createRequire(import.meta.url).resolve("@corral/nodeagent"), "..", "main.js");
      const o = agentOptions;
      const child = spawn(
        process.execPath,
        [
          main,
          "--apiserver", o.apiserver,
          "--node-name", o.nodeName,
          "--node-ip", o.nodeIP,
          "--pod-cidr", o.podCIDR,
          "--cri-socket", o.criSocket,
          "--root-dir", o.rootDir,
          "--cgroup-root", o.cgroupRoot ?? "corral",
          "--listen", o.listen,
          "--crashloop-backoff", String(o.backoffBaseMs ?? 1000),
        ],
        { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, CORRAL_LOG_LEVEL: process.env.CORRAL_LOG_LEVEL ?? "warn" } },
      );
      children.push(child);
      return child;
    },
    async stop() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      await node.stopAgent().catch(() => {});
      await Promise.allSettled([host.stop(), cp.stop()]);
    },
  };
  try {
    await node.startAgent();
  } catch (err) {
    await node.stop();
    throw err;
  }
  return node;
}
