import type { ApiObject, KindInfo } from "@corral/api";
import { toManifest, toYaml } from "@corral/manifest";
import type { CommandContext } from "../context.js";
import { printTable } from "../print/table.js";
import { parseResourceArgs, UsageError } from "../resource-args.js";

export interface GetOptions {
  output?: string;
  selector?: string;
  fieldSelector?: string;
  allNamespaces?: boolean;
  watch?: boolean;
  chunkSize?: string;
}

const OUTPUTS = ["wide", "json", "yaml", "name"];

/** Prints objects: as a List (or bare object when `asList` is false) for json/yaml, a table otherwise. */
function render(kind: KindInfo, objs: ApiObject[], o: GetOptions, asList: boolean, header: boolean): string {
  switch (o.output) {
    case "json": {
      const items = objs.map((x) => toManifest(kind, x));
      return JSON.stringify(asList ? { apiVersion: "v1", kind: "List", items } : items[0], null, 4) + "\n";
    }
    case "yaml": {
      const items = objs.map((x) => toManifest(kind, x));
      return toYaml(asList ? [{ apiVersion: "v1", kind: "List", items }] : items);
    }
    case "name":
      return objs.map((x) => `${kind.singular}/${x.metadata?.name}\n`).join("");
    default: {
      const text = printTable(kind, objs, { wide: o.output === "wide", allNamespaces: !!o.allNamespaces, now: new Date() });
      return header ? text : text.split("\n").slice(1).join("\n");
    }
  }
}

export async function get(ctx: CommandContext, args: string[], o: GetOptions, out: (s: string) => void): Promise<void> {
  if (o.output && !OUTPUTS.includes(o.output)) throw new UsageError(`unknown output format "${o.output}" (use ${OUTPUTS.join(", ")})`);
  const refs = parseResourceArgs(args);
  if (o.watch && refs.length !== 1) throw new UsageError("watch is only supported on one resource type at a time");
  for (const [i, ref] of refs.entries()) {
    if (i > 0 && (!o.output || o.output === "wide")) out("\n");
    const client = ctx.clients.for(ref.kind);
    const namespace = ref.kind.namespaced && !o.allNamespaces ? ctx.namespace : "";
    let objs: ApiObject[];
    let listRv = "";
    if (ref.names.length) {
      objs = [];
      for (const name of ref.names) objs.push(await client.get({ namespace, name }));
    } else {
      objs = [];
      const limit = BigInt(o.chunkSize ?? "500");
      let cont = "";
      do {
        const page = await client.list({ namespace, labelSelector: o.selector ?? "", fieldSelector: o.fieldSelector ?? "", limit, continue: cont });
        objs.push(...page.items);
        cont = page.metadata?.continue ?? "";
        listRv = page.metadata?.resourceVersion ?? "";
      } while (cont);
    }
    const asList = !(ref.names.length === 1 && refs.length === 1);
    const table = !o.output || o.output === "wide";
    if (objs.length === 0 && table) {
      if (!o.watch) out(namespace ? `No resources found in ${namespace} namespace.\n` : "No resources found\n");
    } else {
      out(render(ref.kind, objs, o, asList, true));
    }
    if (o.watch) {
      const rv = listRv || objs.map((x) => x.metadata?.resourceVersion ?? "0").reduce((a, b) => (BigInt(a) > BigInt(b) ? a : b), "0");
      const fieldSelector = ref.names.length === 1 ? `metadata.name=${ref.names[0]}` : o.fieldSelector ?? "";
      for await (const ev of client.watch({ namespace, labelSelector: o.selector ?? "", fieldSelector, resourceVersion: rv })) {
        if (!ev.object || ev.type === "BOOKMARK") continue;
        out(render(ref.kind, [ev.object], o, false, false));
      }
    }
  }
}
