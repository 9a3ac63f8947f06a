import type { ObjectMeta } from "@corral/api";
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
    keepServerManagedMetadata(meta, existing.metadata!);
    const updated = await client.update(object);
    const changed = updated.metadata!.resourceVersion !== existing.metadata!.resourceVersion;
    out(`${qualifiedName(kind, name)} ${changed ? "configured" : "unchanged"}\n`);
  }
}

/**
 * What others wrote into an object's metadata survives an apply that does not mention it: the
 * controllers' annotations (a Deployment's revision), owner references and finalizers. (kubectl
 * gets this from its three-way merge; apply here replaces the spec and keeps these.)
 */
export function keepServerManagedMetadata(meta: ObjectMeta, live: ObjectMeta): void {
  meta.resourceVersion = live.resourceVersion;
  for (const [k, v] of Object.entries(live.annotations)) if (!(k in meta.annotations)) meta.annotations[k] = v;
  if (meta.ownerReferences.length === 0) meta.ownerReferences = live.ownerReferences;
  if (meta.finalizers.length === 0) meta.finalizers = live.finalizers;
}
