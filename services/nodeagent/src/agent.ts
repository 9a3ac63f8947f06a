import { Clientset, EventRecorder } from "@corral/client";
import { connectCri, type CriClient, type DNSConfig } from "@corral/cri";
import { errorMessage } from "@corral/grpc";
import type { Logger } from "@corral/logging";
import { mkdir } from "node:fs/promises";
import { Runtime } from "./cri/runtime.js";
import { NodeRegistrar } from "./node/node-registrar.js";
import { NodePaths } from "./paths.js";
import { PodManager } from "./pods/pod-manager.js";
import { RestartBackoff } from "./pods/restart-backoff.js";
import { createProbeManager } from "./probes/index.js";
import type { ProbeManager } from "./probes/types.js";
import { startAgentServer } from "./server/index.js";

export const VERSION = "corral-v0.1.0";

export interface NodeAgentOptions {
  apiserver: string;
  nodeName: string;
  /** The node's address: hostIP of its pods, and where its own endpoint is reached. */
  nodeIP: string;
  podCIDR: string;
  criSocket: string;
  /** Pod volumes and logs live here. */
  rootDir: string;
  /** The cgroup parent of every pod ("corral"). */
  cgroupRoot?: string;
  /** host:port of the logs/exec endpoint; port 0 picks one. */
  listen: string;
  labels?: Record<string, string>;
  dns?: DNSConfig;
  /** Crash-loop back-off: first delay and cap (the kubelet's 10 s and 5 min by default). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  heartbeatMs?: number;
  relistMs?: number;
  log: Logger;
}

/** The node agent: registers the node, runs its pods through CRI, serves logs and exec. */
export class NodeAgent {
  private constructor(
    readonly clients: Clientset,
    readonly cri: CriClient,
    readonly pods: PodManager,
    private readonly registrar: NodeRegistrar,
    private readonly probes: ProbeManager,
    private readonly server: { address: string; stop(): Promise<void> },
  ) {}

  get address(): string {
    return this.server.address;
  }

  static async start(o: NodeAgentOptions): Promise<NodeAgent> {
    const log = o.log;
    const paths = new NodePaths(o.rootDir, o.cgroupRoot);
    await mkdir(paths.podsRoot(), { recursive: true });
    await mkdir(paths.logsRoot(), { recursive: true });
    const clients = Clientset.connect(o.apiserver);
    const cri = connectCri(o.criSocket);
    const runtime = new Runtime(cri);
    try {
      const v = await runtime.version();
      log.info({ runtime: `${v.runtimeName} ${v.runtimeVersion}`, socket: o.criSocket }, "connected to the container runtime");
    } catch (err) {
      cri.close();
      clients.close();
      throw new Error(`cannot reach the container runtime at ${o.criSocket}: ${errorMessage(err)}`);
    }
    const recorder = new EventRecorder(clients, { component: "nodeagent", host: o.nodeName }, log);
    let pods: PodManager | undefined;
    const probes = createProbeManager({ cri, recorder, log: log.child({ part: "prober" }), onChange: (key) => pods?.resync(key) });
    pods = new PodManager({
      clients,
      runtime,
      paths,
      nodeName: o.nodeName,
      hostIP: o.nodeIP,
      probes,
      recorder,
      log,
      dns: o.dns,
      relistMs: o.relistMs,
      backoff: new RestartBackoff(o.backoffBaseMs, o.backoffMaxMs),
    });
    const server = await startAgentServer({
      listen: o.listen,
      cri,
      paths,
      lookupPod: (namespace, name) => pods!.informer.get(`${namespace}/${name}`),
      log,
    });
    const port = Number(server.address.split(":").pop());
    const registrar = new NodeRegistrar({
      clients,
      runtime,
      nodeName: o.nodeName,
      nodeIP: o.nodeIP,
      podCIDR: o.podCIDR,
      agentPort: port,
      dataDir: o.rootDir,
      labels: o.labels,
      version: VERSION,
      heartbeatMs: o.heartbeatMs,
      log,
    });
    await registrar.start();
    await pods.start();
    log.info({ node: o.nodeName, endpoint: server.address }, "node agent running");
    return new NodeAgent(clients, cri, pods, registrar, probes, server);
  }

  /** Stops the agent; its pods keep running (a restarted agent adopts them). */
  async stop(): Promise<void> {
    await this.pods.stop();
    await this.registrar.stop();
    this.probes.stop();
    await this.server.stop();
    this.cri.close();
    this.clients.close();
  }
}
