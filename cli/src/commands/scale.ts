// `corral scale deploy/NAME --replicas N` (also rs and sts), as kubectl's: sets spec.replicas,
// optionally only if the current count is --current-replicas.
import { clone } from "@bufbuild/protobuf";
import { Deployments, ReplicaSets, StatefulSets, type ApiObject, type KindInfo } from "@corral/api";
import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { parseResourceArgs, qualifiedName, UsageError } from "../resource-args.js";

const SCALABLE: readonly KindInfo[] = [Deployments, ReplicaSets, StatefulSets] as unknown as KindInfo[];

type Scalable = ApiObject & { spec?: { replicas?: number }; status?: unknown };

export interface ScaleOptions {
  replicas?: string;
  currentReplicas?: string;
  selector?: string;
}

function count(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`${flag} must be a non-negative integer, not "${v}"`);
  return Number(v);
}

export async function scale(ctx: CommandContext, args: string[], o: ScaleOptions, out: (s: string) => void): Promise<void> {
  const replicas = count(o.replicas, "--replicas");
  if (replicas === undefined) throw new UsageError("--replicas is required: the number of replicas to scale to");
  const current = count(o.currentReplicas, "--current-replicas");
  const targets: { kind: KindInfo; name: string }[] = [];
  for (const ref of parseResourceArgs(args)) {
    if (!SCALABLE.includes(ref.kind)) {
      throw new UsageError(`cannot scale ${ref.kind.resource} (only ${SCALABLE.map((k) => k.resource).join(", ")})`);
    }
    let names = ref.names;
    if (names.length === 0) {
      if (!o.selector) throw new UsageError("resource(s) were provided, but no name was specified (use a name or -l SELECTOR)");
      names = (await ctx.clients.for(ref.kind).list({ namespace: ctx.namespace, labelSelector: o.selector })).items.map((x) => x.metadata!.name);
    }
    for (const name of names) targets.push({ kind: ref.kind, name });
  }
  for (const t of targets) {
    const client = ctx.clients.for(t.kind as KindInfo<Scalable>);
    const obj = await client.get({ namespace: ctx.namespace, name: t.name });
    const now = obj.spec?.replicas ?? 1;
    if (current !== undefined && now !== current) {
      throw new UsageError(`Expected replicas to be ${current}, was ${now}`);
    }
    const next = clone(t.kind.schema, obj) as Scalable;
    next.spec!.replicas = replicas;
    next.status = undefined;
    // With the resourceVersion read: a concurrent change is reported, not overwritten.
    await client.update(next);
    out(`${qualifiedName(t.kind, t.name)} scaled\n`);
  }
}

type WithContext = <A extends unknown[]>(fn: (ctx: CommandContext, ...a: A) => Promise<void>) => (...a: A) => Promise<void>;

export function registerScale(program: Command, withContext: WithContext, out: (s: string) => void): void {
  program
    .command("scale")
    .description("set the number of replicas of a deployment, replicaset or statefulset")
    .argument("<resource...>", "TYPE/NAME or TYPE NAME..., e.g. deploy/web")
    .requiredOption("--replicas <n>", "the new number of replicas")
    .option("--current-replicas <n>", "only scale if the current number of replicas is this")
    .option("-l, --selector <selector>", "scale what matches this label selector")
    .action(withContext((ctx, args: string[], o: ScaleOptions) => scale(ctx, args, o, out)));
}
