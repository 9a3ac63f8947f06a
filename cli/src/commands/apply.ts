import { Code, errorCode } from "@corral/grpc";
import type { CommandContext } from "../context.js";
import { readManifests } from "../manifest-files.js";
import { qualifiedName } from "../resource-args.js";

/**
 * Creates what does not exist and updates what does, object by object. Every document is read and
 * checked before anything is sent, so a bad file changes nothing.
 */
export async function apply(ctx: CommandContext, files: string[], out: (s: string) => void): Promise<void> {
  const docs = await readManifests(files);
  for (const { kind, object } of docs) {
    const client = ctx.clients.for(kind);
    const meta = object.metadata!;
    if (kind.namespaced && !meta.namespace) meta.namespace = ctx.namespace;
    const name = meta.name;
    let existing;
    try {
      existing = name ? await client.get({ namespace: meta.namespace, name }) : undefined;
    } catch (err) {
      if (errorCode(err) !== Code.NOT_FOUND) throw err;
    }
    if (!existing) {
      const created = await client.create(object);
      out(`${qualifiedName(kind, created.metadata!.name)} created\n`);
      continue;
    }
    meta.resourceVersion = existing.metadata!.resourceVersion;
    const updated = await client.update(object);
    const changed = updated.metadata!.resourceVersion !== existing.metadata!.resourceVersion;
    out(`${qualifiedName(kind, name)} ${changed ? "configured" : "unchanged"}\n`);
  }
}
