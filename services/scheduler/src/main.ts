#!/usr/bin/env node
// corral-scheduler: assigns pods to nodes. Flags:
//   --apiserver host:port        (default 127.0.0.1:6443, or CORRAL_APISERVER)
//   --identity NAME              this replica's name in the leader Lease (default hostname_pid_random)
//   --leader-elect true|false    (default true) schedule only while holding corral-system/corral-scheduler
//   --lease-duration-seconds N   (default 15) how long a silent leader keeps the Lease
//   --lease-retry-ms N           (default 2000) how often the leader renews and followers retry
//   --config FILE                scheduler configuration (YAML): profiles, plugins, weights
import { createLogger, stopOnSignals } from "@corral/logging";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, parseConfig, type SchedulerConfiguration } from "./config.js";
import { Scheduler } from "./scheduler.js";

const log = createLogger("scheduler");
let values;
try {
  ({ values } = parseArgs({
    options: {
      apiserver: { type: "string", default: process.env.CORRAL_APISERVER ?? "127.0.0.1:6443" },
      identity: { type: "string" },
      "leader-elect": { type: "string", default: "true" },
      "lease-duration-seconds": { type: "string", default: "15" },
      "lease-retry-ms": { type: "string", default: "2000" },
      config: { type: "string" },
    },
  }));
} catch (err) {
  process.stderr.write(`corral-scheduler: ${(err as Error).message}\n`);
  process.exit(2);
}

function positive(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`corral-scheduler: --${name}: must be a positive number, got "${v}"\n`);
    process.exit(2);
  }
  return n;
}

const leaderElect = values["leader-elect"];
if (leaderElect !== "true" && leaderElect !== "false") {
  process.stderr.write(`corral-scheduler: --leader-elect: must be true or false, got "${leaderElect}"\n`);
  process.exit(2);
}

let config: SchedulerConfiguration | undefined;
if (values.config) {
  try {
    config = parseConfig(readFileSync(values.config, "utf8"));
  } catch (err) {
    const what = err instanceof ConfigError ? err.message : (err as Error).message;
    process.stderr.write(`corral-scheduler: --config ${values.config}: ${what}\n`);
    process.exit(2);
  }
}

try {
  const scheduler = await Scheduler.start({
    apiserver: values.apiserver,
    identity: values.identity,
    leaderElect: leaderElect === "true",
    leaseDurationSeconds: positive("lease-duration-seconds", values["lease-duration-seconds"]),
    retryPeriodMs: positive("lease-retry-ms", values["lease-retry-ms"]),
    config,
    log,
  });
  stopOnSignals(log, "shutting down", () => scheduler.stop());
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`corral-scheduler: --config ${values.config}: ${err.message}\n`);
    process.exit(2);
  }
  log.fatal({ err: (err as Error).message }, "scheduler failed to start");
  process.exit(1);
}
