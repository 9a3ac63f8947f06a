#!/usr/bin/env node
import { createLogger, stopOnSignals } from "@corral/logging";
import { parseArgs } from "node:util";
import { ApiServer } from "./server.js";

const log = createLogger("apiserver");
const { values } = parseArgs({
  options: {
    etcd: { type: "string", default: process.env.CORRAL_ETCD ?? "http://127.0.0.1:2379" },
    nats: { type: "string", default: process.env.CORRAL_NATS ?? "nats://127.0.0.1:4222" },
    listen: { type: "string", default: process.env.CORRAL_LISTEN ?? "127.0.0.1:6443" },
    "metrics-listen": { type: "string", default: process.env.CORRAL_METRICS_LISTEN ?? "127.0.0.1:9443" },
    "event-retention-seconds": { type: "string", default: "86400" },
    "event-retention-messages": { type: "string", default: "1000000" },
    identity: { type: "string" },
    "service-cluster-ip-range": { type: "string", default: process.env.CORRAL_SERVICE_CIDR ?? "10.96.0.0/16" },
    "service-node-port-range": { type: "string", default: "30000-32767" },
  },
});

try {
  const server = await ApiServer.start({
    etcdEndpoints: values.etcd!.split(","),
    natsServers: values.nats!.split(","),
    listen: values.listen!,
    metricsListen: values["metrics-listen"] || undefined,
    identity: values.identity,
    serviceClusterIPRange: values["service-cluster-ip-range"],
    serviceNodePortRange: values["service-node-port-range"],
    retention: {
      maxAgeSeconds: Number(values["event-retention-seconds"]),
      maxMessages: Number(values["event-retention-messages"]),
    },
    log,
  });
  stopOnSignals(log, "shutting down", () => server.stop());
} catch (err) {
  log.fatal({ err: (err as Error).message }, "apiserver failed to start");
  process.exit(1);
}
