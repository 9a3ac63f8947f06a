import { Events, type Event } from "@corral/api";
import type { CommandContext } from "../context.js";
import { describeObject } from "../print/describe.js";
import { parseResourceArgs } from "../resource-args.js";

export async function describe(ctx: CommandContext, args: string[], o: { selector?: string }, out: (s: string) => void): Promise<void> {
  for (const ref of parseResourceArgs(args)) {
    const client = ctx.clients.for(ref.kind);
    const namespace = ref.kind.namespaced ? ctx.namespace : "";
    const objs = ref.names.length
      ? await Promise.all(ref.names.map((name) => client.get({ namespace, name })))
      : (await client.list({ namespace, labelSelector: o.selector ?? "" })).items;
    for (const obj of objs) {
      const m = obj.metadata!;
      let events: Event[] = [];
      try {
        const evNamespace = m.namespace || "default";
        events = (
          await ctx.clients.for(Events).list({
            namespace: evNamespace,
            fieldSelector: `involvedObject.kind=${ref.kind.kind},involvedObject.name=${m.name}`,
          })
        ).items;
      } catch {
        // Events are a help, not a requirement: describe still shows the object.
      }
      out(describeObject(ref.kind, obj, events, new Date()) + "\n");
    }
  }
}
