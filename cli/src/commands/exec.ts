// `corral exec POD [-c C] -- CMD ARGS...`: runs a command in a running container through the node
// agent (CRI ExecSync: the command runs to completion, without stdin or a TTY), prints its output
// and exits with its exit code.
import type { CommandContext } from "../context.js";
import { UsageError } from "../resource-args.js";
import { agentClient, agentError, agentFor, AgentCommandError, resolvePod, type CommandIO } from "./logs.js";

export interface ExecOptions {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
  timeout?: string;
}

/** Runs the command; resolves to its exit code. */
export async function exec(ctx: CommandContext, target: string, command: string[], o: ExecOptions, io: CommandIO): Promise<number> {
  if (o.stdin || o.tty) {
    throw new UsageError("interactive exec (-i, -t) is not supported yet: corral exec runs a command to completion without stdin, e.g. corral exec web -- ls /");
  }
  if (command.length === 0) throw new UsageError("you must specify a command after --, e.g. corral exec web -- ls /");
  let timeoutSeconds = 0n;
  if (o.timeout !== undefined) {
    if (!/^\d+$/.test(o.timeout)) throw new UsageError(`--timeout must be a number of seconds, not "${o.timeout}"`);
    timeoutSeconds = BigInt(o.timeout);
  }
  const pod = await resolvePod(ctx, target, io);
  let container = o.container ?? "";
  const containers = pod.spec?.containers ?? [];
  if (!container && containers.length > 1) {
    // kubectl's default: the first container, and a note saying so.
    container = containers[0]!.name;
    io.stderr(`Defaulted container "${container}" out of: ${containers.map((c) => c.name).join(", ")}\n`);
  }
  const ep = await agentFor(ctx, pod);
  const { client, close } = agentClient(ep);
  try {
    const res = await client.exec({
      namespace: pod.metadata?.namespace || ctx.namespace,
      pod: pod.metadata?.name ?? "",
      container,
      command,
      timeoutSeconds,
    });
    if (res.stdout.length) await writeAll(io.stdout, res.stdout);
    if (res.stderr.length) io.stderr(Buffer.from(res.stderr).toString("utf8"));
    if (res.exitCode !== 0) io.stderr(`command terminated with exit code ${res.exitCode}\n`);
    return res.exitCode;
  } catch (err) {
    throw agentError(err, ep);
  } finally {
    close();
  }
}

function writeAll(stream: NodeJS.WritableStream, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => stream.write(data, (err) => (err ? reject(err) : resolve())));
}

/** Prints an AgentCommandError as it is worded (no "error:" prefix added) and exits 1; anything else goes to main's handler. */
export async function reportAgentErrors(fn: () => Promise<number | void>): Promise<void> {
  try {
    const code = await fn();
    if (typeof code === "number" && code !== 0) process.exitCode = code;
  } catch (err) {
    if (!(err instanceof AgentCommandError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  }
}
