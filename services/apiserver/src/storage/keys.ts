import type { KindInfo } from "@corral/api";

/**
 * The etcd key layout, the only one:
 *   /corral/<resource>/<namespace>/<name>   namespaced kinds   (/corral/pods/default/web-1)
 *   /corral/<resource>/<name>               cluster-scoped     (/corral/nodes/node-a)
 * Values are the kind's protobuf message in binary, with metadata.resourceVersion left empty:
 * the resourceVersion is the key's etcd mod_revision, filled in on read.
 */
export const KEY_ROOT = "/corral/";

export function objectKey(kind: KindInfo, namespace: string, name: string): string {
  return kind.namespaced ? `${KEY_ROOT}${kind.resource}/${namespace}/${name}` : `${KEY_ROOT}${kind.resource}/${name}`;
}

/** The prefix that holds every object of a kind, or of a kind in one namespace. */
export function listPrefix(kind: KindInfo, namespace?: string): string {
  return kind.namespaced && namespace ? `${KEY_ROOT}${kind.resource}/${namespace}/` : `${KEY_ROOT}${kind.resource}/`;
}

/** Splits a key back into resource, namespace and name; undefined for keys outside the layout. */
export function parseKey(key: string): { resource: string; namespace: string; name: string } | undefined {
  if (!key.startsWith(KEY_ROOT)) return undefined;
  const parts = key.slice(KEY_ROOT.length).split("/");
  if (parts.length === 2) return { resource: parts[0]!, namespace: "", name: parts[1]! };
  if (parts.length === 3) return { resource: parts[0]!, namespace: parts[1]!, name: parts[2]! };
  return undefined;
}

/** The smallest key greater than every key with this prefix (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]! += 1;
      return end;
    }
  }
  return Buffer.from([0]);
}
