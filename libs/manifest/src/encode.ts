import { ScalarType, toJson } from "@bufbuild/protobuf";
import type { DescField, DescMessage, JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { ApiObject, KindInfo } from "@corral/api";
import { Document } from "yaml";
import { INT_OR_STRING, isPlainObject } from "./normalize.js";

/**
 * The Kubernetes JSON form of an object: apiVersion and kind first, then the fields in
 * declaration order (metadata, spec, status, ...). Default values are left out, int64 fields
 * are numbers (not proto3 JSON's strings), IntOrString is a bare number or string, bytes are base64.
 */
export function toManifest(kind: KindInfo, obj: ApiObject): Record<string, unknown> {
  const json = toJson(kind.schema, obj) as JsonObject;
  const body = denormalizeMessage(kind.schema, json) as JsonObject;
  return { apiVersion: kind.apiVersion, kind: kind.kind, ...body };
}

/** Something toYaml can print: a Kubernetes-shaped JSON object, or an API object with its kind. */
export type YamlDoc = Record<string, unknown> | { kind: KindInfo; object: ApiObject };

/**
 * Multi-document YAML the way kubectl prints it: block style, list items not indented under
 * their key, no line folding, "---" between documents. Strings that a YAML 1.1 reader (kubectl)
 * would take for something else ("true", "123", timestamps) are quoted.
 */
export function toYaml(docs: readonly YamlDoc[]): string {
  return docs
    .map((d) => {
      const json = isKindAndObject(d) ? toManifest(d.kind, d.object) : d;
      const doc = new Document(json, { version: "1.1" });
      return doc.toString({ indentSeq: false, lineWidth: 0, minContentWidth: 0 });
    })
    .join("---\n");
}

function isKindAndObject(d: YamlDoc): d is { kind: KindInfo; object: ApiObject } {
  return typeof d["kind"] === "object" && d["kind"] !== null && "object" in d;
}

function denormalizeMessage(desc: DescMessage, json: JsonValue): JsonValue | undefined {
  if (desc.typeName === INT_OR_STRING) {
    if (!isPlainObject(json)) return json;
    if ("intVal" in json) return json["intVal"];
    if ("strVal" in json) return json["strVal"];
    return undefined;
  }
  if (desc.typeName.startsWith("google.protobuf.") || !isPlainObject(json)) return json;
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.jsonName === key);
    const value = field ? denormalizeField(field, v) : v;
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function denormalizeField(field: DescField, v: JsonValue): JsonValue | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return denormalizeScalar(field.scalar, v);
    case "enum":
      return v;
    case "message":
      return denormalizeMessage(field.message, v);
    case "list":
      if (!Array.isArray(v)) return v;
      return v.map((item) => {
        if (field.listKind === "scalar") return denormalizeScalar(field.scalar, item);
        if (field.listKind === "message") return denormalizeMessage(field.message, item) ?? null;
        return item;
      });
    case "map": {
      if (!isPlainObject(v)) return v;
      const out: JsonObject = {};
      for (const [k, item] of Object.entries(v)) {
        if (field.mapKind === "scalar") out[k] = denormalizeScalar(field.scalar, item);
        else if (field.mapKind === "message") out[k] = denormalizeMessage(field.message, item) ?? null;
        else out[k] = item;
      }
      return out;
    }
  }
}

const INT64 = new Set([ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64]);

/** proto3 JSON writes 64-bit integers as strings; Kubernetes writes numbers. */
function denormalizeScalar(t: ScalarType, v: JsonValue): JsonValue {
  if (INT64.has(t) && typeof v === "string" && /^-?\d+$/.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
  }
  return v;
}
