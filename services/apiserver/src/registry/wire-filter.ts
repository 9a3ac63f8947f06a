// Label and field selectors evaluated on an object's protobuf bytes, without decoding it.
//
// A watch with a selector used to decode every event's object, and for MODIFIED its previous
// version too, to test it: with the scheduler binding a thousand pods a second and two watches
// on spec.nodeName (the simulated nodes', a client's), decoding was the apiserver's largest
// cost. A selector reads a handful of fields, so those are found by walking the wire format
// (tags and lengths; everything else is skipped by its length).
//
// The answers are those of fieldValue and matchesLabels on the decoded object: a missing
// message on the path reads as "", a missing scalar as its default ("", "0", "false") unless the
// field has explicit presence (proto3 `optional`), a scalar sent twice as its last value, a
// message sent twice as their merge, and map entries in order with the last one for a key winning.
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import {
  fieldSelectorPath,
  matchesLabels,
  type FieldRequirement,
  type LabelRequirement,
} from "@corral/apimachinery";

/** True when the object in `bytes` matches the selectors. */
export type BytesFilter = (bytes: Uint8Array) => boolean;

const utf8 = new TextDecoder();

/** The scalar kinds a selectable field has; anything else is left to the decoding filter. */
type LeafKind = "string" | "bool" | "int32" | "int64" | "uint32" | "uint64";

interface FieldPath {
  /** Field numbers from the top-level message down to the leaf. */
  readonly numbers: readonly number[];
  readonly leaf: LeafKind;
  /** A missing leaf reads as "" (explicit presence) rather than its default. */
  readonly explicit: boolean;
}

function leafKind(f: DescField): LeafKind | undefined {
  if (f.fieldKind === "enum") return "int32";
  if (f.fieldKind !== "scalar") return undefined;
  switch (f.scalar) {
    case ScalarType.STRING:
      return "string";
    case ScalarType.BOOL:
      return "bool";
    case ScalarType.INT32:
      return "int32";
    case ScalarType.INT64:
      return "int64";
    case ScalarType.UINT32:
      return "uint32";
    case ScalarType.UINT64:
      return "uint64";
    default:
      return undefined;
  }
}

/** A field of a message by JSON or local name, case-insensitively (as fieldValue finds properties). */
function fieldNamed(msg: DescMessage, name: string): DescField | undefined {
  const lower = name.toLowerCase();
  return msg.fields.find((f) => f.localName.toLowerCase() === lower || f.jsonName.toLowerCase() === lower);
}

function resolvePath(schema: DescMessage, field: string): FieldPath | undefined {
  const segments = fieldSelectorPath(schema.typeName, field).split(".");
  const numbers: number[] = [];
  let msg = schema;
  for (let i = 0; i < segments.length; i++) {
    const f = fieldNamed(msg, segments[i]!);
    if (!f) return undefined;
    numbers.push(f.number);
    if (i < segments.length - 1) {
      if (f.fieldKind !== "message") return undefined;
      msg = f.message;
      continue;
    }
    const leaf = leafKind(f);
    if (!leaf) return undefined;
    return { numbers, leaf, explicit: f.presence === 1 /* EXPLICIT */ };
  }
  return undefined;
}

// ---- the wire format ----

/** Reads a varint at `at` into `out`: [value as a bigint only when above 2^53, else number, next]. */
function readVarint(b: Uint8Array, at: number): [number | bigint, number] {
  let v = 0;
  let shift = 0;
  for (; shift < 49 && at < b.length; shift += 7) {
    const byte = b[at++]!;
    v += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [v, at];
  }
  let big = BigInt(v);
  for (; shift < 70 && at < b.length; shift += 7) {
    const byte = b[at++]!;
    big |= BigInt(byte & 0x7f) << BigInt(shift);
    if (byte < 0x80) return [big, at];
  }
  throw new RangeError("malformed varint");
}

/**
 * Calls `visit` for every field in b[start, end) with its number, wire type and where its value
 * starts; visit returns where the field ends for length-delimited fields it looks into (or -1 to
 * let the walk skip it).
 */
function walk(b: Uint8Array, start: number, end: number, visit: (no: number, wireType: number, at: number, len: number) => void): void {
  let at = start;
  while (at < end) {
    const [tag, afterTag] = readVarint(b, at);
    const t = Number(tag);
    const no = Math.floor(t / 8);
    const wt = t & 7;
    at = afterTag;
    switch (wt) {
      case 0: {
        visit(no, wt, at, 0);
        at = readVarint(b, at)[1];
        break;
      }
      case 1:
        at += 8;
        break;
      case 2: {
        const [len, after] = readVarint(b, at);
        visit(no, wt, after, Number(len));
        at = after + Number(len);
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        throw new RangeError(`wire type ${wt} not supported`);
    }
  }
  if (at !== end) throw new RangeError("field overruns its message");
}

/** Where the leaf's last value is (wire type and offset), or whether the path's messages exist at all. */
interface Found {
  parents: boolean;
  wireType: number;
  at: number;
  len: number;
}

function find(b: Uint8Array, start: number, end: number, numbers: readonly number[], depth: number, found: Found): void {
  const want = numbers[depth]!;
  const last = depth === numbers.length - 1;
  walk(b, start, end, (no, wt, at, len) => {
    if (no !== want) return;
    if (last) {
      found.wireType = wt;
      found.at = at;
      found.len = len;
    } else if (wt === 2) {
      if (depth === numbers.length - 2) found.parents = true;
      find(b, at, at + len, numbers, depth + 1, found);
    }
  });
}

function valueOf(b: Uint8Array, path: FieldPath): string {
  const found: Found = { parents: path.numbers.length === 1, wireType: -1, at: 0, len: 0 };
  find(b, 0, b.length, path.numbers, 0, found);
  if (!found.parents) return "";
  if (found.wireType === -1) {
    if (path.explicit) return "";
    return path.leaf === "string" ? "" : path.leaf === "bool" ? "false" : "0";
  }
  if (path.leaf === "string") return found.wireType === 2 ? utf8.decode(b.subarray(found.at, found.at + found.len)) : "";
  if (found.wireType !== 0) return "";
  const v = readVarint(b, found.at)[0];
  const big = typeof v === "bigint" ? v : BigInt(v);
  switch (path.leaf) {
    case "bool":
      return big !== 0n ? "true" : "false";
    case "int32":
      return BigInt.asIntN(32, big).toString();
    case "int64":
      return BigInt.asIntN(64, big).toString();
    case "uint32":
      return BigInt.asUintN(32, big).toString();
    default:
      return BigInt.asUintN(64, big).toString();
  }
}

/** The labels map of the object's metadata (field `metaNo`, map field `labelsNo`). */
function labelsOf(b: Uint8Array, metaNo: number, labelsNo: number): Record<string, string> {
  const labels: Record<string, string> = {};
  walk(b, 0, b.length, (no, wt, at, len) => {
    if (no !== metaNo || wt !== 2) return;
    walk(b, at, at + len, (lno, lwt, lat, llen) => {
      if (lno !== labelsNo || lwt !== 2) return;
      let key = "";
      let value = "";
      walk(b, lat, lat + llen, (eno, ewt, eat, elen) => {
        if (ewt !== 2) return;
        if (eno === 1) key = utf8.decode(b.subarray(eat, eat + elen));
        else if (eno === 2) value = utf8.decode(b.subarray(eat, eat + elen));
      });
      labels[key] = value;
    });
  });
  return labels;
}

/**
 * The selectors as a filter on bytes of `schema`, or undefined when a field is not one it can
 * read (the caller decodes instead). Bytes that do not parse fail the filter's caller loudly.
 */
export function compileBytesFilter(
  schema: DescMessage,
  labels: readonly LabelRequirement[],
  fields: readonly FieldRequirement[],
): BytesFilter | undefined {
  const paths: { path: FieldPath; req: FieldRequirement }[] = [];
  for (const req of fields) {
    const path = resolvePath(schema, req.field);
    if (!path) return undefined;
    paths.push({ path, req });
  }
  let labelsAt: [number, number] | undefined;
  if (labels.length > 0) {
    const meta = fieldNamed(schema, "metadata");
    const map = meta?.fieldKind === "message" ? fieldNamed(meta.message, "labels") : undefined;
    if (!meta || !map || map.fieldKind !== "map") return undefined;
    labelsAt = [meta.number, map.number];
  }
  return (bytes) => {
    for (const { path, req } of paths) {
      if ((valueOf(bytes, path) === req.value) !== (req.operator === "=")) return false;
    }
    return !labelsAt || matchesLabels(labels, labelsOf(bytes, labelsAt[0], labelsAt[1]));
  };
}
