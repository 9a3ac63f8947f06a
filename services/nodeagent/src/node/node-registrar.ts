import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Leases, LeaseSchema, Nodes, NodeSchema, type Node } from "@corral/api";
import { sleep, type Clientset } from "@corral/client";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import type { Logger } from "@corral/logging";
import { arch, hostname, release } from "node:os";
import { readFile } from "node:fs/promises";
import type { Runtime } from "../cri/runtime.js";
import { allocatable, capacity, conditionsChanged, nodeConditions, type RuntimeHealth } from "./node-status.js";
import { readMachine } from "./readings.js";

export interface RegistrarOptions {
  clients: Clientset;
  runtime: Runtime;
  nodeName: string;
  nodeIP: string;
  podCIDR: string;
  /** Where the agent's gRPC endpoint (logs, exec) listens. */
  agentPort: number;
  dataDir: string;
  labels?: Record<string, string>;
  version: string;
  leaseDurationSeconds?: number;
  /** How often the Lease is renewed and conditions are checked. */
  heartbeatMs?: number;
  log: Logger;
}

export const NODE_LEASE_NAMESPACE = "corral-system";

/**
 * Registers this machine as a Node and keeps it alive: a Lease renewed every heartbeat (cheap),
 * and the Node's status written when a condition changes or a minute has passed.
 */
export class NodeRegistrar {
  private readonly ac = new AbortController();
  private loop?: Promise<void>;
  private lastStatusWrite = 0;

  constructor(private readonly o: RegistrarOptions) {}

  /** Registers the node, retrying with back-off until the apiserver answers. */
  async start(): Promise<void> {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        await this.writeNode(true);
        await this.renewLease();
        break;
      } catch (err) {
        if (this.ac.signal.aborted) throw err;
        this.o.log.warn({ err: errorMessage(err), retryInMs: delay }, "cannot register the node yet; retrying");
        await sleep(delay, this.ac.signal);
      }
    }
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const period = this.o.heartbeatMs ?? 10_000;
    while (!this.ac.signal.aborted) {
      await sleep(period, this.ac.signal);
      if (this.ac.signal.aborted) return;
      try {
        await this.renewLease();
        await this.writeNode(false);
      } catch (err) {
        this.o.log.warn({ err: errorMessage(err) }, "node heartbeat failed; retrying next period");
      }
    }
  }

  private async health(): Promise<RuntimeHealth> {
    try {
      const st = await this.o.runtime.cri.runtime.status({}, { timeoutMs: 5_000 });
      const cond = (t: string) => st.status?.conditions.find((c) => c.type === t);
      const rt = cond("RuntimeReady");
      const net = cond("NetworkReady");
      const bad = [rt, net].filter((c) => c && !c.status).map((c) => `${c!.type}=false reason:${c!.reason} message:${c!.message}`);
      return { runtimeReady: !!rt?.status, networkReady: !!net?.status, message: bad.join("; ") || "container runtime status unknown" };
    } catch (err) {
      return { runtimeReady: false, networkReady: false, message: `container runtime is down: ${errorMessage(err)}` };
    }
  }

  private async writeNode(initial: boolean): Promise<void> {
    const nodes = this.o.clients.for(Nodes);
    const [readings, health, version] = await Promise.all([readMachine(this.o.dataDir), this.health(), this.o.runtime.version().catch(() => undefined)]);
    let node: Node | undefined;
    try {
      node = await nodes.get({ name: this.o.nodeName }, { timeoutMs: 10_000 });
    } catch (err) {
      if (errorCode(err) !== Code.NOT_FOUND) throw err;
    }
    const now = Date.now();
    const conditions = nodeConditions(readings, health, node?.status?.conditions ?? [], now);
    if (node && !initial && !conditionsChanged(node.status?.conditions ?? [], conditions) && now - this.lastStatusWrite < 60_000) return;
    const labels = {
      "kubernetes.io/hostname": this.o.nodeName,
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": arch() === "x64" ? "amd64" : arch(),
      ...this.o.labels,
    };
    if (!node) {
      node = await nodes.create(
        create(NodeSchema, {
          metadata: { name: this.o.nodeName, labels },
          spec: { podCidr: this.o.podCIDR, podCidrs: this.o.podCIDR ? [this.o.podCIDR] : [] },
        }),
      );
      this.o.log.info({ node: this.o.nodeName }, "node registered");
    } else if (initial && (!node.spec?.podCidr || Object.entries(labels).some(([k, v]) => node!.metadata?.labels[k] !== v))) {
      node.metadata!.labels = { ...node.metadata!.labels, ...labels };
      node.spec ??= create(NodeSchema).spec!;
      if (!node.spec!.podCidr && this.o.podCIDR) {
        node.spec!.podCidr = this.o.podCIDR;
        node.spec!.podCidrs = [this.o.podCIDR];
      }
      node = await nodes.update(node);
    }
    node.status = create(NodeSchema, {
      status: {
        capacity: capacity(readings),
        allocatable: allocatable(readings),
        conditions,
        addresses: [
          { type: "InternalIP", address: this.o.nodeIP },
          { type: "Hostname", address: hostname() },
        ],
        daemonEndpoints: { kubeletEndpoint: { port: this.o.agentPort } },
        nodeInfo: {
          machineId: (await readFile("/etc/machine-id", "utf8").catch(() => "")).trim(),
          bootId: (await readFile("/proc/sys/kernel/random/boot_id", "utf8").catch(() => "")).trim(),
          kernelVersion: release(),
          osImage: await osImage(),
          containerRuntimeVersion: version ? `${version.runtimeName}://${version.runtimeVersion}` : "",
          kubeletVersion: this.o.version,
          operatingSystem: "linux",
          architecture: labels["kubernetes.io/arch"],
        },
      },
    }).status;
    await nodes.updateStatus(node);
    this.lastStatusWrite = now;
  }

  private async renewLease(): Promise<void> {
    const leases = this.o.clients.for(Leases);
    const key = { namespace: NODE_LEASE_NAMESPACE, name: this.o.nodeName };
    const spec = { holderIdentity: this.o.nodeName, leaseDurationSeconds: this.o.leaseDurationSeconds ?? 40, renewTime: timestampNow() };
    try {
      const lease = await leases.get(key, { timeoutMs: 10_000 });
      lease.spec = create(LeaseSchema, { spec: { ...lease.spec, ...spec } }).spec;
      await leases.update(lease, { timeoutMs: 10_000 });
    } catch (err) {
      if (errorCode(err) !== Code.NOT_FOUND) throw err;
      await leases.create(create(LeaseSchema, { metadata: { ...key }, spec: { ...spec, acquireTime: spec.renewTime } }), { timeoutMs: 10_000 });
    }
  }
}

async function osImage(): Promise<string> {
  const text = await readFile("/etc/os-release", "utf8").catch(() => "");
  return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? "Linux";
}
