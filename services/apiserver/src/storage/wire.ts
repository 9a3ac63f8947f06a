// Protobuf bytes assembled without a decode/encode round trip, for the hot paths. Every kind's
// message has its ObjectMeta as field 1, and every <Kind>WatchEvent is { string type = 1;
// <Kind> object = 2; }, so both are simple concatenations.

const ascii = new TextEncoder();

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n >>>= 7;
    len++;
  }
  return len;
}

function putVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[at++] = n;
  return at;
}

/** A varint at `at`: its value (exact up to 2^53; used for tags and lengths) and where the next field starts. */
function readVarint(b: Uint8Array, at: number): [value: number, next: number] | undefined {
  let v = 0;
  for (let shift = 0; shift < 70 && at < b.length; shift += 7) {
    const byte = b[at++]!;
    v += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [v, at];
  }
  return undefined;
}

/**
 * `object` (a kind's message as stored: metadata.resourceVersion empty) with its
 * metadata.resourceVersion set to `revision`, without a decode and an encode.
 */
export function withResourceVersion(object: Uint8Array, revision: bigint | string): Uint8Array {
  const rv = ascii.encode(revision.toString());
  const f = new Uint8Array(1 + varintLength(rv.length) + rv.length);
  f[0] = 0x2a; // ObjectMeta.resource_version = 5, length-delimited
  f.set(rv, putVarint(f, 1, rv.length));
  return appendToMetadata(object, f)!;
}

/**
 * The inverse of withResourceVersion: `object` as stored, when its metadata ends with the
 * resource_version field holding `revision` (as withResourceVersion leaves it); else undefined.
 */
export function withoutResourceVersion(object: Uint8Array, revision: bigint | string): Uint8Array | undefined {
  if (object.length === 0 || object[0] !== 0x0a) return undefined;
  const len = readVarint(object, 1);
  if (!len || len[1] + len[0] > object.length) return undefined;
  const metaStart = len[1];
  const metaEnd = len[1] + len[0];
  const rv = ascii.encode(revision.toString());
  const fieldLen = 1 + varintLength(rv.length) + rv.length;
  const at = metaEnd - fieldLen;
  if (at < metaStart || object[at] !== 0x2a || object[at + 1] !== rv.length) return undefined;
  for (let i = 0; i < rv.length; i++) if (object[at + 2 + i] !== rv[i]) return undefined;
  const meta = object.subarray(metaStart, at);
  const out = new Uint8Array(1 + varintLength(meta.length) + meta.length + (object.length - metaEnd));
  out[0] = 0x0a;
  let o = putVarint(out, 1, meta.length);
  out.set(meta, o);
  o += meta.length;
  out.set(object.subarray(metaEnd), o);
  return out;
}

/**
 * `object` (a kind's message) with `fields` (encoded ObjectMeta fields) added to its metadata.
 * Stored objects are protobuf-es' encoding, fields in number order, so the ObjectMeta (field 1)
 * comes first: the fields are added at its end and its length adjusted. (protobufjs does not
 * merge a repeated embedded message field, so appending a second `metadata` would not do for
 * every client.) An object without metadata gets one. Returns undefined when the first field is
 * not a readable metadata field: the caller encodes instead.
 */
export function appendToMetadata(object: Uint8Array, fields: Uint8Array): Uint8Array | undefined {
  let metaStart = 0;
  let metaEnd = 0;
  if (object.length > 0 && object[0] === 0x0a) {
    const len = readVarint(object, 1);
    if (!len || len[1] + len[0] > object.length) return undefined;
    metaStart = len[1];
    metaEnd = len[1] + len[0];
  } else if (object.length > 0 && object[0] === 0x0b) {
    return undefined; // field 1 as a group: not ours
  }
  const metaLen = metaEnd - metaStart + fields.length;
  const out = new Uint8Array(1 + varintLength(metaLen) + metaLen + (object.length - metaEnd));
  let at = 0;
  out[at++] = 0x0a;
  at = putVarint(out, at, metaLen);
  out.set(object.subarray(metaStart, metaEnd), at);
  at += metaEnd - metaStart;
  out.set(fields, at);
  at += fields.length;
  out.set(object.subarray(metaEnd), at);
  return out;
}

/** `bytes` followed by one length-delimited field. */
export function appendField(bytes: Uint8Array, fieldNumber: number, value: Uint8Array): Uint8Array {
  return withRepeated(bytes, fieldNumber, [value]);
}

/** A <Kind>WatchEvent { type, object } around an already encoded object. */
export function watchEventBytes(type: string, object: Uint8Array): Uint8Array {
  const t = ascii.encode(type);
  const out = new Uint8Array(1 + varintLength(t.length) + t.length + 1 + varintLength(object.length) + object.length);
  let at = 0;
  out[at++] = 0x0a;
  at = putVarint(out, at, t.length);
  out.set(t, at);
  at += t.length;
  out[at++] = 0x12;
  at = putVarint(out, at, object.length);
  out.set(object, at);
  return out;
}

/** A message made of `head` (already encoded fields) and a repeated message field of `items`. */
export function withRepeated(head: Uint8Array, fieldNumber: number, items: readonly Uint8Array[]): Uint8Array {
  const tag = (fieldNumber << 3) | 2;
  let len = head.length;
  for (const it of items) len += varintLength(tag) + varintLength(it.length) + it.length;
  const out = new Uint8Array(len);
  out.set(head, 0);
  let at = head.length;
  for (const it of items) {
    at = putVarint(out, at, tag);
    at = putVarint(out, at, it.length);
    out.set(it, at);
    at += it.length;
  }
  return out;
}

/** One length-delimited field. */
export function field(fieldNumber: number, bytes: Uint8Array): Uint8Array {
  return withRepeated(new Uint8Array(0), fieldNumber, [bytes]);
}

/**
 * True when `bytes` is a message whose ObjectMeta (field 1) comes first and only once, and whose
 * other top-level fields are readable: a client's encoding that can be amended in place.
 */
export function metadataFirstAndOnce(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes[0] !== 0x0a) return false;
  let at = 0;
  let first = true;
  while (at < bytes.length) {
    const tag = readVarint(bytes, at);
    if (!tag) return false;
    const fieldNo = Math.floor(tag[0] / 8);
    const wireType = tag[0] & 7;
    if (fieldNo === 1 && !first) return false;
    first = false;
    at = tag[1];
    if (wireType === 0) {
      const v = readVarint(bytes, at);
      if (!v) return false;
      at = v[1];
    } else if (wireType === 1) at += 8;
    else if (wireType === 5) at += 4;
    else if (wireType === 2) {
      const len = readVarint(bytes, at);
      if (!len) return false;
      at = len[1] + len[0];
    } else return false; // groups: not ours
  }
  return at === bytes.length;
}

const utf8 = new TextDecoder();

/**
 * "<namespace>/<name>" from an object's ObjectMeta (field 1: name = 1, namespace = 3), read off
 * the wire; undefined when the bytes do not parse.
 */
export function namespacedName(object: Uint8Array): string | undefined {
  let name = "";
  let namespace = "";
  let at = 0;
  while (at < object.length) {
    const tag = readVarint(object, at);
    if (!tag) return undefined;
    const wireType = tag[0] & 7;
    at = tag[1];
    if (wireType !== 2) {
      // Field 1 comes first in everything the apiserver stores; other fields before it are not expected.
      return undefined;
    }
    const len = readVarint(object, at);
    if (!len || len[1] + len[0] > object.length) return undefined;
    const start = len[1];
    const end = start + len[0];
    if (Math.floor(tag[0] / 8) === 1) {
      let m = start;
      while (m < end) {
        const t = readVarint(object, m);
        if (!t) return undefined;
        m = t[1];
        const no = Math.floor(t[0] / 8);
        const wt = t[0] & 7;
        if (wt === 0) {
          const v = readVarint(object, m);
          if (!v) return undefined;
          m = v[1];
        } else if (wt === 2) {
          const l = readVarint(object, m);
          if (!l || l[1] + l[0] > end) return undefined;
          if (no === 1) name = utf8.decode(object.subarray(l[1], l[1] + l[0]));
          else if (no === 3) namespace = utf8.decode(object.subarray(l[1], l[1] + l[0]));
          m = l[1] + l[0];
        } else if (wt === 1) m += 8;
        else if (wt === 5) m += 4;
        else return undefined;
      }
    }
    at = end;
    // The metadata is all that is needed: stop after it (it may come more than once only if merged).
    if (Math.floor(tag[0] / 8) === 1) break;
  }
  return name ? `${namespace}/${name}` : undefined;
}
