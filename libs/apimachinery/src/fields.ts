// Kubernetes field selectors (k8s.io/apimachinery/pkg/fields): "spec.nodeName=n1,status.phase!=Running".
// Only equality is supported, as in Kubernetes, and each kind allows a fixed set of fields.
import type { Message } from "@bufbuild/protobuf";

export type FieldOperator = "=" | "!=";

export interface FieldRequirement {
  /** The JSON path of the field: "spec.nodeName". */
  readonly field: string;
  /** "==" parses as "=". */
  readonly operator: FieldOperator;
  readonly value: string;
}

export type FieldSelectorRequirements = readonly FieldRequirement[];

export class FieldSelectorError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "FieldSelectorError";
  }
}

const METADATA_FIELDS = ["metadata.name", "metadata.namespace"] as const;

const KIND_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Pod: [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
  ],
  Node: ["spec.unschedulable"],
  Event: [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  Secret: ["type"],
  Namespace: ["status.phase"],
  ReplicaSet: ["status.replicas"],
  Job: ["status.successful"],
};

/**
 * Field selector names that are not plain paths into the message, keyed by message type:
 * as in Kubernetes, an Event's "source" is source.component and a Job's "status.successful"
 * is status.succeeded.
 */
const FIELD_ALIASES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "corral.v1.Event": { source: "source.component" },
  "corral.v1.Job": { "status.successful": "status.succeeded" },
};

/** The path into a message of type `typeName` ("corral.v1.Event") that a selectable field name stands for. */
export function fieldSelectorPath(typeName: string, field: string): string {
  return FIELD_ALIASES[typeName]?.[field] ?? field;
}

/** The fields a kind ("Pod") may be selected by; every kind allows metadata.name and metadata.namespace. */
export function allowedFieldSelectors(kind: string): readonly string[] {
  return [...METADATA_FIELDS, ...(KIND_FIELDS[kind] ?? [])];
}

/** Splits on commas that are not escaped with a backslash. */
function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === ",") {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

const OPERATORS = ["!=", "==", "="] as const;

/** Undoes escapeFieldValue: "\\," → ",", "\\=" → "=", "\\\\" → "\\"; a bare "," or "=" is an error. */
function unescapeValue(term: string, v: string): string {
  let out = "";
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === "\\") {
      const n = v[i + 1];
      if (n !== "\\" && n !== "," && n !== "=") {
        throw new FieldSelectorError(
          `invalid field selector term ${JSON.stringify(term)}: invalid escape sequence ${JSON.stringify(n === undefined ? "\\" : `\\${n}`)}`,
        );
      }
      out += n;
      i++;
    } else if (c === "=" || c === ",") {
      throw new FieldSelectorError(
        `invalid field selector term ${JSON.stringify(term)}: unescaped ${JSON.stringify(c)} in value (write \\${c})`,
      );
    } else {
      out += c;
    }
  }
  return out;
}

/** Escapes a value for use in a field selector string. */
export function escapeFieldValue(v: string): string {
  return v.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/**
 * Parses a field selector: comma-separated `field=value`, `field==value` or `field!=value`
 * terms (AND); an empty value ("spec.nodeName=") selects the empty field. Whitespace around
 * field names and values is ignored. With `kind`, each field must be one of
 * allowedFieldSelectors(kind), or FieldSelectorError "field label not supported: X" is thrown.
 */
export function parseFieldSelector(s: string, kind?: string): FieldRequirement[] {
  const reqs: FieldRequirement[] = [];
  const allowed = kind === undefined ? undefined : allowedFieldSelectors(kind);
  for (const raw of splitTerms(s)) {
    const term = raw.trim();
    if (term === "") continue;
    let found: { field: string; operator: FieldOperator; value: string } | undefined;
    for (let i = 0; i < term.length && !found; i++) {
      const op = OPERATORS.find((o) => term.startsWith(o, i));
      if (op) {
        found = {
          field: term.slice(0, i).trim(),
          operator: op === "!=" ? "!=" : "=",
          value: unescapeValue(term, term.slice(i + op.length).trim()),
        };
      }
    }
    if (!found) throw new FieldSelectorError(`invalid field selector term ${JSON.stringify(term)}: expected field=value or field!=value`);
    if (found.field === "") throw new FieldSelectorError(`invalid field selector term ${JSON.stringify(term)}: missing field name`);
    if (allowed && !allowed.includes(found.field)) throw new FieldSelectorError(`field label not supported: ${found.field}`);
    reqs.push(found);
  }
  return reqs;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Property of a message by JSON name ("podIP") or local name ("podIp"): they differ only in case. */
function property(obj: Record<string, unknown>, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  const k = Object.keys(obj).find((key) => key !== "$typeName" && key.toLowerCase() === lower);
  return k === undefined ? undefined : obj[k];
}

/**
 * The value of a field path ("spec.nodeName", "status.podIP") in a message, as the string a
 * field selector compares with: strings as they are, numbers and booleans in decimal and
 * "true"/"false", anything missing (or not a scalar) as "".
 */
export function fieldValue(obj: Message, field: string): string {
  const path = fieldSelectorPath(obj.$typeName, field);
  let cur: unknown = obj;
  for (const seg of path.split(".")) {
    if (!isRecord(cur)) return "";
    cur = property(cur, seg);
  }
  switch (typeof cur) {
    case "string":
      return cur;
    case "number":
    case "bigint":
    case "boolean":
      return String(cur);
    default:
      return "";
  }
}

/** Whether the object satisfies every requirement (an empty selector matches everything). */
export function matchesFields(sel: FieldSelectorRequirements, obj: Message): boolean {
  return sel.every((r) => (fieldValue(obj, r.field) === r.value) === (r.operator === "="));
}

/** The string form: "spec.nodeName=n1,status.phase!=Running". */
export function formatFieldSelector(sel: FieldSelectorRequirements): string {
  return sel.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(",");
}
