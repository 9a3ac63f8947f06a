import { fromJson, toJson, type JsonObject } from "@bufbuild/protobuf";
import { type ApiObject, type KindInfo } from "@corral/api";
import { Code, errorCode } from "@corral/grpc";
import { decodeManifest, LAST_APPLIED_ANNOTATION, threeWayMerge, type ManifestObject } from "@corral/manifest";
import type { CommandContext } from "../context.js";
import { readManifests } from "../manifest-files.js";
import { qualifiedName } from "../resource-args.js";

/**
 * Creates what does not exist and updates what does, object by object, as kubectl apply does:
 * a three-way merge of the manifest, the one applied last time (recorded in the object's
 * kubectl.kubernetes.io/last-applied-configuration annotation) and the live object. Every
 * document is read and checked before anything is sent, so a bad file changes nothing.
 */
export async function apply(ctx: CommandContext, files: string[], out: (s: string) => void): Promise<void> {
  const docs = await readManifests(files);
  for (const doc of docs) {
    const { kind, object } = doc;
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
    const applied = lastAppliedConfiguration(doc);
    if (!existing) {
      meta.annotations[LAST_APPLIED_ANNOTATION] = applied;
      const created = await client.create(object);
      out(`${qualifiedName(kind, created.metadata!.name)} created\n`);
      continue;
    }
    const updated = await client.update(mergeForApply(kind, existing, doc, applied));
    const changed = updated.metadata!.resourceVersion !== existing.metadata!.resourceVersion;
    out(`${qualifiedName(kind, name)} ${changed ? "configured" : "unchanged"}\n`);
  }
}

/** The manifest as recorded for the next apply: the document as written, as compact JSON. */
export function lastAppliedConfiguration(doc: ManifestObject): string {
  return JSON.stringify(doc.document);
}

/** The manifest applied last time, from the live object's annotation (none if absent or unreadable). */
function lastApplied(kind: KindInfo, live: ApiObject): JsonObject | undefined {
  const text = live.metadata?.annotations[LAST_APPLIED_ANNOTATION];
  if (!text) return undefined;
  try {
    const [prev] = decodeManifest(JSON.parse(text) as unknown);
    return prev && prev.kind === kind ? prev.json : undefined;
  } catch {
    // Written by hand or by another tool: merge as if there were none (nothing gets removed).
    return undefined;
  }
}

/**
 * The update apply sends: the live object with the manifest merged in (threeWayMerge), the
 * annotation recording this manifest, and the live resourceVersion as the precondition.
 */
export function mergeForApply(kind: KindInfo, live: ApiObject, doc: ManifestObject, applied: string): ApiObject {
  const next = structuredClone(doc.json);
  const nextMeta = (next["metadata"] ??= {}) as JsonObject;
  if (kind.namespaced && !nextMeta["namespace"]) nextMeta["namespace"] = live.metadata!.namespace;
  const merged = threeWayMerge(kind.schema, toJson(kind.schema, live) as JsonObject, lastApplied(kind, live), next);
  const obj = fromJson(kind.schema, merged) as ApiObject;
  obj.metadata!.annotations[LAST_APPLIED_ANNOTATION] = applied;
  obj.metadata!.resourceVersion = live.metadata!.resourceVersion;
  return obj;
}
