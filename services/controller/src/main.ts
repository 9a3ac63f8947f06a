#!/usr/bin/env node
// corral-controller-manager: runs the controllers (ReplicaSet, Deployment, Endpoints, node
// lifecycle and taint eviction, garbage collector, namespace, Job, DaemonSet, pod GC). Flags:
//   --apiserver host:port                  (default 127.0.0.1:6443, or CORRAL_APISERVER)
//   --identity NAME                        this replica's name in the leader Lease (default hostname_pid_random)
//   --leader-elect true|false              (default true) run only while holding corral-system/corral-controller-manager
//   --lease-duration-seconds N             (default 15) how long a silent leader keeps the Lease
//   --lease-retry-ms N                     (default 2000) how often the leader renews and followers retry
//   --controllers LIST                     "*" (default), names, "-name" to leave one out: replicaset,deployment,...
//   --node-monitor-grace-period SECONDS    (default 20) a node silent this long is Unknown and tainted unreachable
//   --node-startup-grace-period SECONDS    (default 60) the same for a node that never reported Ready
//   --default-toleration-seconds SECONDS   (default 10) how long pods stay on a not-ready/unreachable node
//   --job-backoff-seconds SECONDS          (default 10) first delay before a failed Job pod is replaced (doubles, max 360)
//   --concurrent-syncs NAME=N,...          workers per controller, e.g. deployment=10,replicaset=10
import { createLogger, stopOnSignals } from "@corral/logging";
import { parseArgs } from "node:util";
import { ControllerManager, selectControllers } from "./manager.js";

const log = createLogger("controller-manager");
const fail = (msg: string): never => {
  process.stderr.write(`corral-controller-manager: ${msg}\n`);
  process.exit(2);
};

let values: Record<string, string | undefined> = {};
try {
  ({ values } = parseArgs({
    options: {
      apiserver: { type: "string", default: process.env.CORRAL_APISERVER ?? "127.0.0.1:6443" },
      identity: { type: "string" },
      "leader-elect": { type: "string", default: "true" },
      "lease-duration-seconds": { type: "string", default: "15" },
      "lease-retry-ms": { type: "string", default: "2000" },
      controllers: { type: "string", default: "*" },
      "node-monitor-grace-period": { type: "string", default: "20" },
      "node-startup-grace-period": { type: "string", default: "60" },
      "default-toleration-seconds": { type: "string", default: "10" },
      "job-backoff-seconds": { type: "string", default: "10" },
      "concurrent-syncs": { type: "string", default: "" },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}

function num(name: string, min = 0): number {
  const v = values[name];
  const n = Number(v);
  if (v === undefined || v === "" || !Number.isFinite(n) || n < min) fail(`--${name}: must be a number >= ${min}, got "${v}"`);
  return n;
}

const leaderElect = values["leader-elect"];
if (leaderElect !== "true" && leaderElect !== "false") fail(`--leader-elect: must be true or false, got "${leaderElect}"`);
const controllers = (values.controllers ?? "*").split(",");
try {
  selectControllers(controllers);
} catch (err) {
  fail(`--controllers: ${(err as Error).message}`);
}
const workers: Record<string, number> = {};
for (const item of (values["concurrent-syncs"] ?? "").split(",").filter(Boolean)) {
  const [k, v] = item.split("=");
  const n = Number(v);
  if (!k || !Number.isInteger(n) || n < 1) fail(`--concurrent-syncs: "${item}" is not NAME=N`);
  workers[k!] = n;
}

const cm = await ControllerManager.start({
  apiserver: values.apiserver,
  identity: values.identity,
  leaderElect: leaderElect === "true",
  leaseDurationSeconds: num("lease-duration-seconds", 1),
  retryPeriodMs: num("lease-retry-ms", 1),
  controllers,
  nodeMonitorGracePeriodMs: num("node-monitor-grace-period", 1) * 1000,
  nodeStartupGracePeriodMs: num("node-startup-grace-period", 1) * 1000,
  defaultTolerationSeconds: num("default-toleration-seconds"),
  jobBackoffBaseMs: num("job-backoff-seconds") * 1000,
  workers,
  log,
});
stopOnSignals(log, "shutting down", () => cm.stop());
