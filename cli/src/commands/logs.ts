// `corral logs`: a container's log, read from the node agent that runs the pod. The agent is found
// as kubectl finds the kubelet: pod.spec.nodeName -> Node -> status.addresses +
// status.daemonEndpoints.kubeletEndpoint.port. exec.ts shares the helpers here.
import { lookupKind, NodeAgentService, Nodes, Pods, type ApiObject, type LabelSelector, type Node, type Pod } from "@corral/api";
import { Code, codeName, connect, createClient, errorCode, errorMessage, isServiceError, type ServiceClient } from "@corral/grpc";
import { once } from "node:events";
import type { CommandContext } from "../context.js";
import { UsageError } from "../resource-args.js";

/** Where a command writes: stdout as bytes (with back-pressure), stderr as text. */
export interface CommandIO {
  stdout: NodeJS.WritableStream;
  stderr: (s: string) => void;
}

/** A failure already worded for the user (kubectl's "Error from server (Reason): ..." or "error: ..."). */
export class AgentCommandError extends Error {}

/** kubectl's reasons for what the node agent answers. */
const REASONS: Partial<Record<Code, string>> = {
  [Code.NOT_FOUND]: "NotFound",
  [Code.INVALID_ARGUMENT]: "BadRequest",
  [Code.FAILED_PRECONDITION]: "BadRequest",
  [Code.DEADLINE_EXCEEDED]: "Timeout",
  [Code.INTERNAL]: "InternalError",
};

export interface AgentEndpoint {
  node: string;
  address: string;
}

/** The node agent's gRPC address from its Node object: InternalIP (else Hostname) and the kubelet endpoint port. */
export function agentAddress(node: Node): string | undefined {
  const addrs = node.status?.addresses ?? [];
  const host = addrs.find((a) => a.type === "InternalIP" && a.address)?.address ?? addrs.find((a) => a.type === "Hostname" && a.address)?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.port ?? 0;
  if (!host || !port) return undefined;
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The endpoint of the agent running the pod, or an error that says what is missing. */
export async function agentFor(ctx: CommandContext, pod: Pod): Promise<AgentEndpoint> {
  const name = pod.metadata?.name ?? "";
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) {
    throw new AgentCommandError(
      `error: pod "${name}" is not scheduled to a node yet (phase ${pod.status?.phase || "Pending"}); see: corral describe pod ${name}`,
    );
  }
  let node: Node;
  try {
    node = await ctx.clients.for(Nodes).get({ name: nodeName });
  } catch (err) {
    if (errorCode(err) === Code.NOT_FOUND) throw new AgentCommandError(`error: node "${nodeName}" of pod "${name}" not found`);
    throw err;
  }
  const address = agentAddress(node);
  if (!address) {
    throw new AgentCommandError(
      `error: node "${nodeName}" publishes no node agent endpoint (status.addresses and status.daemonEndpoints.kubeletEndpoint.port); is its node agent running?`,
    );
  }
  return { node: nodeName, address };
}

/** Opens a client of the agent; close it when done. */
export function agentClient(ep: AgentEndpoint): { client: ServiceClient<typeof NodeAgentService>; close(): void } {
  const conn = connect(ep.address);
  return { client: createClient(NodeAgentService, conn), close: () => conn.close() };
}

/** What the agent said, in kubectl's words. */
export function agentError(err: unknown, ep: AgentEndpoint): Error {
  if (!isServiceError(err)) return err instanceof Error ? err : new Error(String(err));
  const code = errorCode(err);
  if (code === Code.UNAVAILABLE) {
    return new AgentCommandError(`error: cannot reach the node agent of node "${ep.node}" at ${ep.address}: ${errorMessage(err)}`);
  }
  return new AgentCommandError(`Error from server (${REASONS[code] ?? codeName(code)}): ${errorMessage(err)}`);
}

/** LabelSelector to the string form list requests take ("app=web,tier in (a,b)"). */
function selectorString(sel: LabelSelector): string {
  const parts = Object.entries(sel.matchLabels).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions) {
    const vals = `(${e.values.join(",")})`;
    if (e.operator === "In") parts.push(`${e.key} in ${vals}`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin ${vals}`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.join(",");
}

/** kubectl's preference when it picks one pod of many for logs: on a node, running, ready, newest. */
function rank(p: Pod): number[] {
  const ready = p.status?.conditions.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  const created = Number(p.metadata?.creationTimestamp?.seconds ?? 0n);
  return [p.spec?.nodeName ? 1 : 0, p.status?.phase === "Running" ? 1 : 0, ready ? 1 : 0, created];
}

/**
 * POD, pod/POD, or TYPE/NAME of a workload (deploy, rs, job, sts, ds): then its first pod, as
 * kubectl logs does, saying which one when there is a choice.
 */
export async function resolvePod(ctx: CommandContext, target: string, io: Pick<CommandIO, "stderr">): Promise<Pod> {
  const slash = target.indexOf("/");
  const typeName = slash < 0 ? "pod" : target.slice(0, slash);
  const name = slash < 0 ? target : target.slice(slash + 1);
  if (!name || name.includes("/")) throw new UsageError(`"${target}": use POD or TYPE/NAME, e.g. deploy/web`);
  const kind = lookupKind(typeName);
  if (!kind) throw new UsageError(`the server doesn't have a resource type "${typeName}"`);
  if (kind === Pods) return ctx.clients.for(Pods).get({ namespace: ctx.namespace, name });
  const owner = (await ctx.clients.for(kind).get({ namespace: kind.namespaced ? ctx.namespace : "", name })) as ApiObject & {
    spec?: { selector?: LabelSelector };
  };
  const sel = owner.spec?.selector;
  if (!sel) throw new UsageError(`cannot find the pods of ${kind.singular} "${name}": it has no pod selector`);
  const labelSelector = selectorString(sel);
  if (!labelSelector) throw new UsageError(`${kind.singular} "${name}" has an empty selector`);
  const { items } = await ctx.clients.for(Pods).list({ namespace: ctx.namespace, labelSelector });
  if (items.length === 0) throw new AgentCommandError(`error: no pods found for ${kind.singular} "${name}" (selector ${labelSelector})`);
  const sorted = [...items].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return rb[i]! - ra[i]!;
    return 0;
  });
  const pod = sorted[0]!;
  if (items.length > 1) io.stderr(`Found ${items.length} pods, using pod/${pod.metadata?.name}\n`);
  return pod;
}

export interface LogsOptions {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  tail?: string;
  timestamps?: boolean;
}

async function write(stream: NodeJS.WritableStream, data: Uint8Array): Promise<void> {
  if (!stream.write(data)) await once(stream, "drain");
}

export async function logs(ctx: CommandContext, target: string, o: LogsOptions, io: CommandIO): Promise<void> {
  let tailLines: bigint | undefined;
  if (o.tail !== undefined) {
    if (!/^-?\d+$/.test(o.tail)) throw new UsageError(`--tail must be a number of lines, not "${o.tail}"`);
    tailLines = BigInt(o.tail);
    if (tailLines < 0n) tailLines = undefined;
  }
  const pod = await resolvePod(ctx, target, io);
  const ep = await agentFor(ctx, pod);
  const { client, close } = agentClient(ep);
  const ac = new AbortController();
  // `corral logs -f web | head`: a closed pipe ends the stream quietly.
  const onPipeError = (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") ac.abort();
  };
  io.stdout.on("error", onPipeError);
  try {
    const stream = client.containerLogs(
      {
        namespace: pod.metadata?.namespace || ctx.namespace,
        pod: pod.metadata?.name ?? "",
        container: o.container ?? "",
        follow: !!o.follow,
        previous: !!o.previous,
        tailLines,
        timestamps: !!o.timestamps,
      },
      { signal: ac.signal },
    );
    for await (const chunk of stream) await write(io.stdout, chunk.data);
  } catch (err) {
    if (ac.signal.aborted) return;
    throw agentError(err, ep);
  } finally {
    io.stdout.off("error", onPipeError);
    close();
  }
}
