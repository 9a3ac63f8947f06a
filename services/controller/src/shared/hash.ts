// The pod template hash (Kubernetes' controller.ComputeHash): FNV-1a 32 over the template and the
// collision count, written with the alphabet of rand.SafeEncodeString so it cannot spell words.
// Kubernetes hashes a dump of the Go struct; Corral hashes the template's canonical JSON (keys
// sorted), so equal templates hash equally however their maps were ordered. Pure.
import { toJson } from "@bufbuild/protobuf";
import { PodTemplateSpecSchema, type PodTemplateSpec } from "@corral/api";

const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export function fnv32a(data: string | Uint8Array, seed = 0x811c9dc5): number {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let h = seed >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString: each byte of the string mapped onto the safe alphabet. */
export function safeEncode(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** JSON with object keys sorted, so that map order never changes the result. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const keys = Object.keys(v as Record<string, unknown>).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  const json = template ? canonicalJson(toJson(PodTemplateSpecSchema, template)) : "{}";
  let h = fnv32a(json);
  if (collisionCount !== undefined && collisionCount !== 0) {
    // Kubernetes writes the collision count's 4 bytes (little endian) into the same hasher.
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncode(String(h));
}
