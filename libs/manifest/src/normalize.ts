// Schema-driven conversion of Kubernetes-shaped JSON (as YAML gives it to us) into the
// proto3 JSON that fromJson() accepts, checking everything on the way so that errors carry
// an exact path. No per-kind code: the walk follows the message descriptors.
import { ScalarType, fromJson } from "@bufbuild/protobuf";
import type { DescEnum, DescField, DescMessage, JsonObject, JsonValue } from "@bufbuild/protobuf";
import { PathError, describeValue, type Path } from "./errors.js";

export const INT_OR_STRING = "corral.v1.IntOrString";

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

const fieldsByJsonName = new WeakMap<DescMessage, Map<string, DescField>>();
function fieldMap(desc: DescMessage): Map<string, DescField> {
  let m = fieldsByJsonName.get(desc);
  if (!m) {
    m = new Map(desc.fields.map((f) => [f.jsonName, f]));
    fieldsByJsonName.set(desc, m);
  }
  return m;
}

/** Where a scalar sits; strings behave differently in maps (labels, data) than in plain fields. */
type Context = "field" | "list" | "map";

export interface NormalizeOptions {
  /**
   * The text a number or boolean was written as, when known (from the YAML source), so that a
   * label `version: 1.10` becomes "1.10" and not "1.1".
   */
  scalarText?: (path: Path) => string | undefined;
}

/** Normalizes the JSON form of one message. `value` must be an object (apiVersion/kind already removed). */
export function normalizeMessage(desc: DescMessage, value: unknown, path: Path, opts: NormalizeOptions = {}): JsonValue {
  return new Walker(opts).message(desc, value, path);
}

class Walker {
  constructor(private readonly opts: NormalizeOptions) {}

  message(desc: DescMessage, value: unknown, path: Path): JsonValue {
    if (desc.typeName === INT_OR_STRING) return normalizeIntOrString(value, path);
    if (desc.typeName.startsWith("google.protobuf.")) return normalizeWellKnown(desc, value, path);
    if (!isPlainObject(value)) throw typeError(path, "object", value);
    const fields = fieldMap(desc);
    const out: JsonObject = {};
    for (const [key, v] of Object.entries(value)) {
      const p = [...path, key];
      const field = fields.get(key);
      if (!field) throw new PathError(p, `unknown field${suggest(key, [...fields.keys()])}`);
      // null means "unset", as for Kubernetes.
      if (v === null || v === undefined) continue;
      out[key] = this.field(desc, field, v, p);
    }
    return out;
  }

  field(parent: DescMessage, field: DescField, v: unknown, path: Path): JsonValue {
    switch (field.fieldKind) {
      case "scalar":
        return this.scalar(field.scalar, v, path, "field");
      case "enum":
        return normalizeEnum(field.enum, v, path);
      case "message":
        return this.message(field.message, v, path);
      case "list": {
        if (!Array.isArray(v)) throw typeError(path, "array", v);
        return v.map((item: unknown, i): JsonValue => {
          const p = [...path, i];
          if (item === null || item === undefined) throw new PathError(p, "null is not allowed in a list");
          switch (field.listKind) {
            case "scalar":
              return this.scalar(field.scalar, item, p, "list");
            case "enum":
              return normalizeEnum(field.enum, item, p);
            case "message":
              return this.message(field.message, item, p);
          }
        });
      }
      case "map": {
        if (!isPlainObject(v)) throw typeError(path, "object", v);
        const out: JsonObject = {};
        for (const [key, item] of Object.entries(v)) {
          const p = [...path, key];
          checkMapKey(field.mapKey, key, p);
          switch (field.mapKind) {
            case "scalar": {
              // `key:` with no value is null in YAML; Go's decoder makes that the zero value.
              const value = item === null || item === undefined ? zeroScalar(field.scalar) : item;
              if (field.scalar === ScalarType.BYTES) {
                out[key] = normalizeBytes(value, p, key, parent.typeName === "corral.v1.Secret");
              } else {
                out[key] = this.scalar(field.scalar, value, p, "map");
              }
              break;
            }
            case "enum":
              if (item === null || item === undefined) throw typeError(p, "enum value", item);
              out[key] = normalizeEnum(field.enum, item, p);
              break;
            case "message":
              out[key] = this.message(field.message, item === null || item === undefined ? {} : item, p);
              break;
          }
        }
        return out;
      }
    }
  }

  scalar(t: ScalarType, v: unknown, path: Path, ctx: Context): JsonValue {
    switch (t) {
      case ScalarType.STRING:
        if (typeof v === "string") return v;
        // Quantities (`cpu: 1`, `memory: 128974848`), numeric env values and args: YAML
        // reads them as numbers; the string form (as written) is what the user meant.
        if (typeof v === "number" && Number.isFinite(v)) return this.opts.scalarText?.(path) ?? String(v);
        if (typeof v === "boolean") {
          // A boolean label/annotation/data value is almost always an unquoted "true"; Kubernetes
          // rejects it, and so do we, with the fix in the message.
          if (ctx === "map") {
            throw new PathError(path, `expected string, got boolean ${v}; quote it ("${v}") to use the text ${v}`);
          }
          return this.opts.scalarText?.(path) ?? String(v);
        }
        throw typeError(path, "string", v);
      default:
        return normalizeScalar(t, v, path);
    }
  }
}

function zeroScalar(t: ScalarType): unknown {
  switch (t) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return "";
    case ScalarType.BOOL:
      return false;
    default:
      return 0;
  }
}

function checkMapKey(t: ScalarType, key: string, path: Path): void {
  switch (t) {
    case ScalarType.STRING:
      return;
    case ScalarType.BOOL:
      if (key !== "true" && key !== "false") throw new PathError(path, `map key must be true or false`);
      return;
    default:
      if (!/^-?\d+$/.test(key)) throw new PathError(path, `map key must be an integer`);
  }
}

const INT_RANGES: Partial<Record<ScalarType, [number, number, string]>> = {
  [ScalarType.INT32]: [-(2 ** 31), 2 ** 31 - 1, "int32"],
  [ScalarType.SINT32]: [-(2 ** 31), 2 ** 31 - 1, "int32"],
  [ScalarType.SFIXED32]: [-(2 ** 31), 2 ** 31 - 1, "int32"],
  [ScalarType.UINT32]: [0, 2 ** 32 - 1, "uint32"],
  [ScalarType.FIXED32]: [0, 2 ** 32 - 1, "uint32"],
  // (2 ** 63 - 1 is not representable as a double; the comparison is close enough.)
  [ScalarType.INT64]: [-(2 ** 63), 2 ** 63 - 1, "int64"],
  [ScalarType.SINT64]: [-(2 ** 63), 2 ** 63 - 1, "int64"],
  [ScalarType.SFIXED64]: [-(2 ** 63), 2 ** 63 - 1, "int64"],
  [ScalarType.UINT64]: [0, 2 ** 64 - 1, "uint64"],
  [ScalarType.FIXED64]: [0, 2 ** 64 - 1, "uint64"],
};

/** Non-string scalars. */
function normalizeScalar(t: ScalarType, v: unknown, path: Path): JsonValue {
  switch (t) {
    case ScalarType.BOOL:
      if (typeof v === "boolean") return v;
      throw typeError(path, "boolean", v);
    case ScalarType.BYTES:
      return normalizeBytes(v, path, undefined, false);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      if (typeof v === "number") return v;
      throw typeError(path, "number", v);
    default: {
      const range = INT_RANGES[t];
      if (!range) throw new PathError(path, `unsupported scalar type ${t}`);
      if (typeof v !== "number" || !Number.isInteger(v)) throw typeError(path, "integer", v);
      if (v < range[0] || v > range[1]) {
        throw new PathError(path, `${v} is out of range for ${range[2]}`);
      }
      return v;
    }
  }
}

// Kubernetes decodes []byte with Go's base64.StdEncoding: standard alphabet, padded, newlines ignored.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function normalizeBytes(v: unknown, path: Path, key: string | undefined, secretData: boolean): JsonValue {
  const hint = secretData ? " (data values are base64-encoded; put plain text under stringData)" : "";
  if (typeof v !== "string") {
    throw new PathError(path, `expected a base64-encoded string, got ${describeValue(v)}${hint}`);
  }
  const s = v.replace(/[\r\n]/g, "");
  if (!BASE64.test(s)) {
    throw new PathError(path, `invalid base64 value${key !== undefined ? ` for key ${JSON.stringify(key)}` : ""}${hint}`);
  }
  return s;
}

function normalizeEnum(e: DescEnum, v: unknown, path: Path): JsonValue {
  if (typeof v === "string") {
    if (e.values.some((x) => x.name === v)) return v;
    throw new PathError(path, `unknown value ${JSON.stringify(v)}; expected one of ${e.values.map((x) => x.name).join(", ")}`);
  }
  if (typeof v === "number" && Number.isInteger(v)) return v;
  throw typeError(path, "enum value", v);
}

/** Kubernetes writes IntOrString as a bare number or string. */
function normalizeIntOrString(v: unknown, path: Path): JsonValue {
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new PathError(path, `expected integer or string, got number ${v}`);
    if (v < -(2 ** 31) || v > 2 ** 31 - 1) throw new PathError(path, `${v} is out of range for int32`);
    return { intVal: v };
  }
  if (typeof v === "string") return { strVal: v };
  throw typeError(path, "integer or string", v);
}

function normalizeWellKnown(desc: DescMessage, v: unknown, path: Path): JsonValue {
  if (desc.typeName === "google.protobuf.Timestamp") {
    const expected = `an RFC 3339 timestamp such as "2024-01-02T15:04:05Z"`;
    if (typeof v !== "string") throw new PathError(path, `expected ${expected}, got ${describeValue(v)}`);
    try {
      fromJson(desc, v);
    } catch {
      throw new PathError(path, `invalid timestamp ${JSON.stringify(v)}; expected ${expected}`);
    }
    return v;
  }
  try {
    fromJson(desc, v as JsonValue);
  } catch (e) {
    throw new PathError(path, `invalid ${desc.typeName}: ${(e as Error).message}`);
  }
  return v as JsonValue;
}

function typeError(path: Path, expected: string, v: unknown): PathError {
  return new PathError(path, `expected ${expected}, got ${describeValue(v)}`);
}

/** ' (did you mean "imagePullPolicy"?)' for a near miss, else "". */
function suggest(key: string, candidates: string[]): string {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === lower ? 0 : editDistance(key, c);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  const limit = Math.min(2, Math.floor(key.length / 3));
  return best !== undefined && bestDist <= Math.max(limit, 1) ? ` (did you mean ${JSON.stringify(best)}?)` : "";
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
