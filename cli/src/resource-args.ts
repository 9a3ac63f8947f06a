import { ALL_KINDS, lookupKind, type KindInfo } from "@corral/api";

export interface ResourceRef {
  kind: KindInfo;
  names: string[];
}

export class UsageError extends Error {}

function kindOrThrow(name: string): KindInfo {
  const k = lookupKind(name);
  if (!k) {
    const known = ALL_KINDS.map((x) => x.resource).join(", ");
    throw new UsageError(`the server doesn't have a resource type "${name}" (known: ${known})`);
  }
  return k;
}

/**
 * kubectl's ways of naming resources: `pods`, `pod web`, `pod web api`, `pod/web`, `deploy/web svc/web`.
 */
export function parseResourceArgs(args: readonly string[]): ResourceRef[] {
  if (args.length === 0) throw new UsageError("you must specify the type of resource (e.g. pods, deploy, svc)");
  if (args.some((a) => a.includes("/"))) {
    const refs: ResourceRef[] = [];
    for (const a of args) {
      const [k, name, ...rest] = a.split("/");
      if (!k || !name || rest.length) throw new UsageError(`"${a}": use TYPE/NAME, e.g. deploy/web`);
      const kind = kindOrThrow(k);
      const existing = refs.find((r) => r.kind === kind);
      if (existing) existing.names.push(name);
      else refs.push({ kind, names: [name] });
    }
    return refs;
  }
  const [first, ...names] = args;
  return first!.split(",").map((k) => ({ kind: kindOrThrow(k), names }));
}

/** "deployment.apps/web" as kubectl names an object in its messages. */
export function qualifiedName(kind: KindInfo, name: string): string {
  const group = kind.apiVersion.includes("/") ? kind.apiVersion.split("/")[0] : "";
  return `${kind.singular}${group ? `.${group}` : ""}/${name}`;
}
