#!/usr/bin/env node
import { create } from "@bufbuild/protobuf";
import { DNSConfigSchema } from "@corral/cri";
import { createLogger, stopOnSignals } from "@corral/logging";
import { Command } from "commander";
import { hostname } from "node:os";
import { NodeAgent } from "./agent.js";

const program = new Command("corral-nodeagent")
  .description("Corral's node agent: registers this machine as a Node and runs its pods through containerd's CRI")
  .option("--apiserver <host:port>", "the apiserver", "127.0.0.1:6443")
  .option("--node-name <name>", "the Node's name", hostname().toLowerCase())
  .option("--node-ip <ip>", "the node's address (pods' hostIP; where logs and exec are served)", "127.0.0.1")
  .option("--pod-cidr <cidr>", "the node's pod network (must match the CNI config)", "10.244.0.0/24")
  .option("--cri-socket <path>", "containerd's CRI socket", "/run/containerd/containerd.sock")
  .option("--root-dir <dir>", "pod volumes and logs", "/var/lib/corral/nodeagent")
  .option("--cgroup-root <name>", "the cgroup parent of every pod", "corral")
  .option("--listen <host:port>", "the logs/exec endpoint", "127.0.0.1:10250")
  .option("--cluster-dns <ip>", "nameserver for pods (cluster DNS)")
  .option("--cluster-domain <domain>", "the cluster's DNS domain", "cluster.local")
  .option("--crashloop-backoff <ms>", "first crash-loop back-off delay", "10000")
  .parse();

const o = program.opts<{
  apiserver: string;
  nodeName: string;
  nodeIp: string;
  podCidr: string;
  criSocket: string;
  rootDir: string;
  cgroupRoot: string;
  listen: string;
  clusterDns?: string;
  clusterDomain: string;
  crashloopBackoff: string;
}>();
const log = createLogger("nodeagent");

const agent = await NodeAgent.start({
  apiserver: o.apiserver,
  nodeName: o.nodeName,
  nodeIP: o.nodeIp,
  podCIDR: o.podCidr,
  criSocket: o.criSocket,
  rootDir: o.rootDir,
  cgroupRoot: o.cgroupRoot,
  listen: o.listen,
  backoffBaseMs: Number(o.crashloopBackoff),
  dns: o.clusterDns
    ? create(DNSConfigSchema, { servers: [o.clusterDns], searches: [`svc.${o.clusterDomain}`, o.clusterDomain], options: ["ndots:5"] })
    : undefined,
  log,
}).catch((err) => {
  log.fatal({ err: String(err) }, "node agent failed to start");
  process.exit(1);
});

stopOnSignals(log, "stopping (pods keep running)", () => agent.stop());
