// One real node with Services: control plane (Service CIDR 10.100.<slot>.0/24), node host
// (pods in 10.245.<slot>.0/24 on bridge corraltest<slot>), node agent, controller manager
// (endpoints, replicaset, deployment), the proxy (table corraltest<slot>) and the cluster DNS
// (10.100.<slot>.10 on lo, forwarding to a fake resolver on 127.0.0.1). The slot is the node
// host's, held exclusively by this process, so leftovers of a crashed test of the same slot are
// removed first. Test traffic only goes to pods, Service addresses of the slot's range (which the
// proxy's table refuses when nothing answers for them), the slot's bridge address, and loopback.
import { create } from "@bufbuild/protobuf";
import type { Clientset } from "@corral/client";
import { ControllerManager } from "@corral/controller";
import { DNSConfigSchema } from "@corral/cri";
import { ClusterDns, removeDnsAddress } from "@corral/dns";
import { createLogger } from "@corral/logging";
import { NodeAgent } from "@corral/nodeagent";
import { Nft, Proxy, type ProxyOptions } from "@corral/proxy";
import dnsPacket from "dns-packet";
import { createSocket, type Socket } from "node:dgram";
import { get } from "node:http";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";
import { startNodeHost, type NodeHost } from "../support/node-host.js";
import { agentOptionsFor } from "../support/node.js";

export interface ServiceNode {
  cp: ControlPlane;
  host: NodeHost;
  clients: Clientset;
  agent: NodeAgent;
  cm: ControllerManager;
  proxy: Proxy;
  dns: ClusterDns;
  nodeName: string;
  slot: number;
  serviceCidr: string;
  dnsIP: string;
  /** The bridge's address on the host: a local, non-loopback address NodePorts answer on. */
  nodeAddress: string;
  table: string;
  proxyOptions: ProxyOptions;
  /** Stops the proxy (the table stays) and starts a new one. */
  restartProxy(): Promise<Proxy>;
  stop(): Promise<void>;
}

/** Names the fake upstream resolver knows (the address is only ever resolved, never contacted). */
export const UPSTREAM_NAMES: Record<string, string> = { "outside.example": "198.51.100.7" };

async function fakeUpstream(): Promise<{ port: number; socket: Socket; queries: string[] }> {
  const socket = createSocket("udp4");
  const queries: string[] = [];
  socket.on("message", (msg, from) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    if (!question) return;
    queries.push(question.name);
    const ip = question.type === "A" ? UPSTREAM_NAMES[question.name.toLowerCase()] : undefined;
    const known = UPSTREAM_NAMES[question.name.toLowerCase()] !== undefined;
    const res = dnsPacket.encode({
      type: "response",
      id: q.id,
      flags: dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
      questions: q.questions,
      answers: ip ? [{ name: question.name, type: "A", class: "IN", ttl: 60, data: ip }] : [],
    });
    socket.send(res, from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  return { port: socket.address().port, socket, queries };
}

export async function startServiceNode(): Promise<ServiceNode> {
  const host = await startNodeHost();
  const slot = Number(/^10\.245\.(\d+)\.0\/24$/.exec(host.podCidr)![1]);
  const serviceCidr = `10.100.${slot}.0/24`;
  const dnsIP = `10.100.${slot}.10`;
  const table = `corraltest${slot}`;
  const nft = new Nft();
  const label = `lo:crldns${slot}`;
  // A crashed test of this slot may have left these behind.
  await nft.deleteTable(table).catch(() => {});
  await removeDnsAddress(dnsIP, label).catch(() => {});
  const cleanups: (() => Promise<unknown>)[] = [() => host.stop()];
  const undo = async () => {
    for (const c of cleanups) await c().catch(() => {});
  };
  try {
    const cp = await startControlPlane({ serviceClusterIPRange: serviceCidr });
    cleanups.unshift(() => cp.stop());
    const log = createLogger("service-test", { level: process.env.CORRAL_LOG_LEVEL ?? "warn" });
    const nodeName = `node-${process.pid}-${slot}`;
    const apiserver = cp.servers[0]!.address;
    const agent = await NodeAgent.start({
      ...agentOptionsFor(host, apiserver, nodeName),
      dns: create(DNSConfigSchema, { servers: [dnsIP], searches: ["svc.cluster.local", "cluster.local"], options: ["ndots:5"] }),
      log,
    });
    cleanups.unshift(() => agent.stop());
    const cm = await ControllerManager.start({ apiserver, leaderElect: false, controllers: ["endpoints", "replicaset", "deployment"], log });
    cleanups.unshift(() => cm.stop());
    // NodePorts only on this slot's bridge address: a developer's cluster on the same machine keeps its own.
    const proxyOptions: ProxyOptions = { apiserver, nodeName, table, serviceCidr, clusterCidr: host.podCidr, nodePortAddresses: [`10.245.${slot}.1/32`], log };
    const node: ServiceNode = {
      cp,
      host,
      clients: cp.clients,
      agent,
      cm,
      proxy: await Proxy.start(proxyOptions),
      dns: undefined as unknown as ClusterDns,
      nodeName,
      slot,
      serviceCidr,
      dnsIP,
      nodeAddress: `10.245.${slot}.1`,
      table,
      proxyOptions,
      async restartProxy() {
        await node.proxy.stop();
        node.proxy = await Proxy.start(proxyOptions);
        return node.proxy;
      },
      async stop() {
        await undo();
      },
    };
    cleanups.unshift(() => node.proxy.stop({ removeTable: true }));
    const upstream = await fakeUpstream();
    cleanups.unshift(async () => upstream.socket.close());
    node.dns = await ClusterDns.start({ apiserver, upstreams: [`127.0.0.1:${upstream.port}`], addressLabel: label, log });
    cleanups.unshift(() => node.dns.stop({ removeAddress: true }));
    if (node.dns.address !== dnsIP) throw new Error(`the DNS Service got ${node.dns.address}, not ${dnsIP}`);
    return node;
  } catch (err) {
    await undo();
    throw err;
  }
}

/** One HTTP GET on a new connection (no keep-alive, so each request is a new choice of endpoint). */
export function httpGet(url: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d)).on("end", () => resolve(body.trim()));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
