#!/usr/bin/env node
import { defaultConfigPath } from "@corral/client";
import { ManifestError } from "@corral/manifest";
import { Command, Option } from "commander";
import { DEFAULT_AGENT_PORT, DEFAULT_PORTS, DEFAULT_SERVICE_CIDR, defaultStateDir, down, up, type LocalClusterOptions } from "./cluster/local-cluster.js";
import { NODE_HOST_DEFAULTS } from "./cluster/node-host.js";
import { apply } from "./commands/apply.js";
import { del } from "./commands/delete.js";
import { describe } from "./commands/describe.js";
import { get } from "./commands/get.js";
import { wait, type WaitOptions } from "./commands/wait.js";
import { exec, reportAgentErrors } from "./commands/exec.js";
import { logs } from "./commands/logs.js";
import { registerRollout } from "./commands/rollout.js";
import { registerScale } from "./commands/scale.js";
import { describeError, openContext, type CommandContext, type GlobalOptions } from "./context.js";
import { UsageError } from "./resource-args.js";

const out = (s: string) => void process.stdout.write(s);
const progress = (s: string) => void process.stderr.write(s + "\n");
const errOut = (s: string) => void process.stderr.write(s);

const program = new Command("corral")
  .description("Corral: a small container orchestrator with Kubernetes' API and kubectl's habits")
  .option("--config <file>", "client config (default: $CORRAL_CONFIG or ~/.corral/config)")
  .option("-n, --namespace <ns>", "namespace for this request")
  .showHelpAfterError();

function globals(): GlobalOptions {
  return program.opts<GlobalOptions>();
}

/** Runs a command against the configured cluster and turns failures into one readable line and exit 1. */
function withContext<A extends unknown[]>(fn: (ctx: CommandContext, ...a: A) => Promise<void>) {
  return async (...a: A) => {
    let ctx: CommandContext | undefined;
    try {
      ctx = await openContext(globals());
      await fn(ctx, ...a);
    } finally {
      ctx?.close();
    }
  };
}

interface ClusterFlags {
  stateDir?: string;
  apiPort?: string;
  etcdPort?: string;
  natsPort?: string;
  metricsPort?: string;
  registryPort?: string;
  podCidr?: string;
  bridge?: string;
  cgroupParent?: string;
  agentPort?: string;
  serviceCidr?: string;
}

function clusterOptions(o: ClusterFlags): LocalClusterOptions {
  const port = (v: string | undefined, d: number) => (v ? Number(v) : d);
  return {
    stateDir: o.stateDir ?? defaultStateDir(),
    apiPort: port(o.apiPort, DEFAULT_PORTS.apiPort),
    etcdPort: port(o.etcdPort, DEFAULT_PORTS.etcdPort),
    natsPort: port(o.natsPort, DEFAULT_PORTS.natsPort),
    metricsPort: port(o.metricsPort, DEFAULT_PORTS.metricsPort),
    registryPort: port(o.registryPort, NODE_HOST_DEFAULTS.registryPort),
    podCidr: o.podCidr ?? NODE_HOST_DEFAULTS.podCidr,
    bridge: o.bridge ?? NODE_HOST_DEFAULTS.bridge,
    cgroupParent: o.cgroupParent ?? NODE_HOST_DEFAULTS.cgroupParent,
    agentPort: port(o.agentPort, DEFAULT_AGENT_PORT),
    serviceCidr: o.serviceCidr ?? DEFAULT_SERVICE_CIDR,
  };
}

program
  .command("get")
  .description("list resources, or show some by name")
  .argument("<resource...>", "TYPE [NAME...] or TYPE/NAME...")
  .addOption(new Option("-o, --output <format>", "wide, json, yaml or name"))
  .option("-l, --selector <selector>", "label selector, e.g. app=web,tier!=db")
  .option("--field-selector <selector>", "field selector, e.g. spec.nodeName=node-1")
  .option("-A, --all-namespaces", "list across all namespaces")
  .option("-w, --watch", "after listing, watch for changes")
  .option("--chunk-size <n>", "list in pages of this many objects", "500")
  .action(withContext((ctx, args: string[], o) => get(ctx, args, o, out)));

program
  .command("describe")
  .description("show details of resources and their events")
  .argument("<resource...>", "TYPE [NAME...] or TYPE/NAME...")
  .option("-l, --selector <selector>", "label selector")
  .action(withContext((ctx, args: string[], o) => describe(ctx, args, o, out)));

program
  .command("wait")
  .description("wait until resources meet a condition (--for=condition=Ready) or are deleted (--for=delete)")
  .argument("<resource...>", "TYPE NAME... or TYPE/NAME..., or TYPE with -l")
  .requiredOption("--for <what>", "condition=NAME[=VALUE] or delete")
  .option("--timeout <duration>", "give up after this long (30s, 2m...)", "30s")
  .option("-l, --selector <selector>", "label selector")
  .action(withContext((ctx, args: string[], o: WaitOptions) => wait(ctx, args, o, out)));

program
  .command("apply")
  .description("create or update resources from Kubernetes-style YAML or JSON")
  .requiredOption("-f, --filename <path...>", "file, directory, or - for stdin")
  .action(withContext((ctx, o: { filename: string[] }) => apply(ctx, o.filename, out)));

program
  .command("delete")
  .description("delete resources by name, by label, or from files")
  .argument("[resource...]", "TYPE NAME... or TYPE/NAME...")
  .option("-f, --filename <path...>", "delete what these files describe")
  .option("-l, --selector <selector>", "delete what matches this label selector")
  .option("--ignore-not-found", "treat a missing object as deleted")
  .option("--grace-period <seconds>", "seconds a pod has to stop (0: at once)")
  .option("--cascade <policy>", "background, foreground or orphan")
  .action(withContext((ctx, args: string[], o) => del(ctx, args, o, out)));

program
  .command("logs")
  .description("print a container's log (from the node agent running the pod)")
  .argument("<pod>", "POD, or TYPE/NAME (deploy/web, rs/web, job/web): then its first pod")
  .option("-c, --container <name>", "the container (needed when the pod has several)")
  .option("-f, --follow", "keep streaming new lines")
  .option("-p, --previous", "the log of the previous instance of the container (before its last restart)")
  .option("--tail <lines>", "only the last N lines (-1: all)")
  .option("--timestamps", "prefix each line with its timestamp")
  .action(withContext((ctx, target: string, o) => reportAgentErrors(() => logs(ctx, target, o, { stdout: process.stdout, stderr: errOut }))));

program
  .command("exec")
  .description("run a command in a running container and exit with its exit code")
  .usage("POD [-c CONTAINER] -- COMMAND [ARGS...]")
  .argument("<pod>", "POD, or TYPE/NAME (deploy/web): then its first pod")
  .argument("[command...]", "the command and its arguments, after --")
  .option("-c, --container <name>", "the container (default: the first one)")
  .option("--timeout <seconds>", "kill the command after this many seconds (default: none)")
  .option("-i, --stdin", "(not supported: exec runs without stdin)")
  .option("-t, --tty", "(not supported: exec runs without a TTY)")
  .action(
    withContext((ctx, target: string, command: string[], o) =>
      reportAgentErrors(() => exec(ctx, target, command, o, { stdout: process.stdout, stderr: errOut })),
    ),
  );

program
  .command("up")
  .description("start a local cluster on this machine (etcd, NATS, image registry, containerd, apiserver, controllers, scheduler, DNS, proxy, node agent) and write the client config")
  .option("--state-dir <dir>", "where the cluster keeps its data and logs (default: $CORRAL_STATE_DIR or ~/.corral/cluster)")
  .option("--api-port <port>", "apiserver gRPC port", String(DEFAULT_PORTS.apiPort))
  .option("--metrics-port <port>", "apiserver metrics port", String(DEFAULT_PORTS.metricsPort))
  .option("--etcd-port <port>", "etcd client port (the peer port is the next one)", String(DEFAULT_PORTS.etcdPort))
  .option("--nats-port <port>", "NATS client port (monitoring: this + 4000)", String(DEFAULT_PORTS.natsPort))
  .option("--registry-port <port>", "image registry port on 127.0.0.1 (images: localhost:PORT/corral/...)", String(NODE_HOST_DEFAULTS.registryPort))
  .option("--pod-cidr <cidr>", "the node's pod addresses", NODE_HOST_DEFAULTS.podCidr)
  .option("--bridge <name>", "the CNI bridge for pods (another cluster on this machine needs another)", NODE_HOST_DEFAULTS.bridge)
  .option("--cgroup-parent <name>", "the cgroup every pod goes under", NODE_HOST_DEFAULTS.cgroupParent)
  .option("--agent-port <port>", "the node agent's logs/exec port on 127.0.0.1", String(DEFAULT_AGENT_PORT))
  .option("--service-cidr <cidr>", "Services' ClusterIPs; the cluster DNS answers on its tenth address", DEFAULT_SERVICE_CIDR)
  .action(async (o: ClusterFlags) => {
    progress("Starting the local cluster:");
    await up(clusterOptions(o), globals().config ?? defaultConfigPath(), progress);
  });

program
  .command("down")
  .description("stop everything `corral up` started")
  .option("--state-dir <dir>", "the cluster's state directory")
  .option("--purge", "also remove the cluster's state (data, logs)")
  .action(async (o: ClusterFlags & { purge?: boolean }) => {
    progress("Stopping the local cluster:");
    await down(clusterOptions(o), !!o.purge, progress);
  });

registerRollout(program, withContext, out);
registerScale(program, withContext, out);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof UsageError || err instanceof ManifestError) process.stderr.write(`error: ${err.message}\n`);
  else process.stderr.write(describeError(err) + "\n");
  process.exitCode = 1;
}
