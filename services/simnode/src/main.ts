#!/usr/bin/env node
// corral-simnode: N simulated nodes in one process (kwok-like), for scale tests and benchmarks.
//   --apiserver host:port         (default 127.0.0.1:6443, or CORRAL_APISERVER)
//   --count N                     how many nodes (default 10)
//   --prefix sim-                 node names are prefix + index
//   --start-index N               first index (default 0)
//   --running-delay-ms N          bound pods are reported Running after this (default 1000; -1: never)
//   --cpu 32 --memory 256Gi --pods 110 --ephemeral-storage 100Gi   capacity of each node
//   --labels k=v,k2=v2            extra node labels
//   --taints k=v:NoSchedule,...   extra node taints (besides corral.dev/simulated=true:NoSchedule)
//   --pod-cidr 10.128.0.0/9       carved into one /24 per node
//   --lease-renew-seconds 10      Lease heartbeat period per node
//   --max-in-flight 64            concurrent writes to the apiserver
//   --delete-on-exit              remove the Nodes and their Leases on SIGTERM/SIGINT
import { createLogger, stopOnSignals } from "@corral/logging";
import { parseArgs } from "node:util";
import { SimulatedNodes } from "./simnodes.js";

const log = createLogger("simnode");

function fail(msg: string): never {
  process.stderr.write(`corral-simnode: ${msg}\n`);
  process.exit(2);
}

function parse() {
  return parseArgs({
    options: {
      apiserver: { type: "string", default: process.env.CORRAL_APISERVER ?? "127.0.0.1:6443" },
      count: { type: "string", default: "10" },
      prefix: { type: "string", default: "sim-" },
      "start-index": { type: "string", default: "0" },
      "running-delay-ms": { type: "string", default: "1000" },
      cpu: { type: "string", default: "32" },
      memory: { type: "string", default: "256Gi" },
      pods: { type: "string", default: "110" },
      "ephemeral-storage": { type: "string", default: "100Gi" },
      labels: { type: "string", default: "" },
      taints: { type: "string", default: "" },
      "pod-cidr": { type: "string", default: "10.128.0.0/9" },
      "lease-renew-seconds": { type: "string", default: "10" },
      "max-in-flight": { type: "string", default: "64" },
      "delete-on-exit": { type: "boolean", default: false },
    },
  }).values;
}
let values: ReturnType<typeof parse>;
try {
  values = parse();
} catch (err) {
  fail((err as Error).message);
}

function int(name: string, min: number): number {
  const v = values[name as keyof typeof values] as string;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name}: must be an integer >= ${min}, got "${v}"`);
  return n;
}

function pairs(s: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(",").filter(Boolean)) {
    const i = part.indexOf("=");
    if (i <= 0) fail(`--${what}: expected key=value, got "${part}"`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

function taints(s: string): { key: string; value: string; effect: string }[] {
  return s
    .split(",")
    .filter(Boolean)
    .map((t) => {
      const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
      if (!m) fail(`--taints: expected key=value:Effect, got "${t}"`);
      return { key: m[1]!, value: m[2] ?? "", effect: m[3]! };
    });
}

const deleteOnExit = values["delete-on-exit"] as boolean;
try {
  const sim = await SimulatedNodes.start({
    apiserver: values.apiserver as string,
    count: int("count", 0),
    prefix: values.prefix as string,
    startIndex: int("start-index", 0),
    runningDelayMs: int("running-delay-ms", -1),
    cpu: values.cpu as string,
    memory: values.memory as string,
    pods: values.pods as string,
    ephemeralStorage: values["ephemeral-storage"] as string,
    labels: pairs(values.labels as string, "labels"),
    taints: taints(values.taints as string),
    podCidr: values["pod-cidr"] as string,
    leaseRenewSeconds: int("lease-renew-seconds", 1),
    maxInFlight: int("max-in-flight", 1),
    log,
  });
  log.info({ nodes: sim.nodeNames.length }, "serving simulated nodes");
  stopOnSignals(log, deleteOnExit ? "shutting down (deleting the nodes)" : "shutting down", () => sim.stop({ deleteNodes: deleteOnExit }));
} catch (err) {
  log.fatal({ err: (err as Error).message }, "simulated nodes failed to start");
  process.exit(1);
}
