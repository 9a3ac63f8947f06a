// kubectl apply's three-way merge, on proto3 JSON guided by the message descriptors.
//
// `next` is the manifest being applied, `last` the one applied before (kept in the object's
// kubectl.kubernetes.io/last-applied-configuration annotation), `live` the object as stored.
// A field the manifest sets is set; a field the last manifest set and this one leaves out is
// removed; any other field keeps its live value: what controllers and other commands wrote
// (a Deployment scaled by `corral scale`, a Service's allocated clusterIP, annotations) survives.
// Objects are merged field by field and maps key by key; lists are replaced whole (JSON merge
// patch's rule; kubectl's strategic merge also merges some lists by key, which matters only for
// list items written by someone else). A message with a oneof (IntOrString) is replaced whole.
import type { DescField, DescMessage, JsonObject, JsonValue } from "@bufbuild/protobuf";
import { isPlainObject } from "./normalize.js";

/** kubectl's annotation for the last applied manifest. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

function isObject(v: JsonValue | undefined): v is JsonObject {
  return isPlainObject(v);
}

/** A message merged field by field: not a well-known type, not a oneof. */
function mergeable(desc: DescMessage): boolean {
  return !desc.typeName.startsWith("google.protobuf.") && desc.oneofs.length === 0;
}

function mergeMessage(desc: DescMessage, live: JsonObject, last: JsonObject | undefined, next: JsonObject): JsonObject {
  const out: JsonObject = { ...live };
  const fields = new Map<string, DescField>(desc.fields.map((f) => [f.jsonName, f]));
  for (const [key, value] of Object.entries(next)) {
    const field = fields.get(key);
    const lv = live[key];
    const pv = last?.[key];
    const pastObject = isObject(pv) ? pv : undefined;
    if (field?.fieldKind === "message" && mergeable(field.message) && isObject(lv) && isObject(value)) {
      out[key] = mergeMessage(field.message, lv, pastObject, value);
    } else if (field?.fieldKind === "map" && isObject(lv) && isObject(value)) {
      out[key] = mergeMap(lv, pastObject, value);
    } else {
      out[key] = value;
    }
  }
  if (last) for (const key of Object.keys(last)) if (!(key in next)) delete out[key];
  return out;
}

function mergeMap(live: JsonObject, last: JsonObject | undefined, next: JsonObject): JsonObject {
  const out: JsonObject = { ...live, ...next };
  if (last) for (const key of Object.keys(last)) if (!(key in next)) delete out[key];
  return out;
}

/**
 * The object to store: `live` with the fields of `next` applied and those `last` had but `next`
 * dropped removed (all three in proto3 JSON of `desc`). Status is the live one: apply does not
 * write status.
 */
export function threeWayMerge(desc: DescMessage, live: JsonObject, last: JsonObject | undefined, next: JsonObject): JsonObject {
  const { status: _nextStatus, ...nextSpec } = next;
  const lastSpec = last ? (({ status: _s, ...rest }) => rest)(last) : undefined;
  return mergeMessage(desc, live, lastSpec, nextSpec);
}
