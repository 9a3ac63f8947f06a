import type { KindInfo } from "@corral/api";
import { Code, errorCode } from "@corral/grpc";
import type { CommandContext } from "../context.js";
import { readManifests } from "../manifest-files.js";
import { parseResourceArgs, qualifiedName, UsageError } from "../resource-args.js";

export interface DeleteOptions {
  filename?: string[];
  ignoreNotFound?: boolean;
  gracePeriod?: string;
  cascade?: string;
  selector?: string;
}

const CASCADE: Record<string, string> = { background: "Background", foreground: "Foreground", orphan: "Orphan", true: "Background", false: "Orphan" };

export async function del(ctx: CommandContext, args: string[], o: DeleteOptions, out: (s: string) => void): Promise<void> {
  const targets: { kind: KindInfo; namespace: string; name: string }[] = [];
  if (o.filename?.length) {
    for (const { kind, object } of await readManifests(o.filename)) {
      targets.push({ kind, namespace: object.metadata?.namespace || ctx.namespace, name: object.metadata?.name ?? "" });
    }
  } else {
    for (const ref of parseResourceArgs(args)) {
      let names = ref.names;
      if (!names.length) {
        if (!o.selector) throw new UsageError(`resource(s) were provided, but no name was specified (use a name, -l SELECTOR or --all)`);
        const list = await ctx.clients.for(ref.kind).list({ namespace: ctx.namespace, labelSelector: o.selector });
        names = list.items.map((x) => x.metadata!.name);
      }
      for (const name of names) targets.push({ kind: ref.kind, namespace: ctx.namespace, name });
    }
  }
  const propagationPolicy = o.cascade ? CASCADE[o.cascade] : "";
  if (propagationPolicy === undefined) throw new UsageError(`--cascade must be background, foreground or orphan`);
  let failed: unknown;
  for (const t of targets) {
    try {
      await ctx.clients.for(t.kind).delete({
        namespace: t.kind.namespaced ? t.namespace : "",
        name: t.name,
        gracePeriodSeconds: o.gracePeriod !== undefined ? BigInt(o.gracePeriod) : undefined,
        propagationPolicy,
      });
      out(`${qualifiedName(t.kind, t.name)} deleted\n`);
    } catch (err) {
      if (errorCode(err) === Code.NOT_FOUND && o.ignoreNotFound) continue;
      failed ??= err;
      if (targets.length === 1) throw err;
      process.stderr.write(`${(err as Error).message}\n`);
    }
  }
  if (failed) throw failed;
}
