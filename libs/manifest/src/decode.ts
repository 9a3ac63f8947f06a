import { fromJson, type JsonObject } from "@bufbuild/protobuf";
import { ALL_KINDS, ListMetaSchema, kindForManifest, type ApiObject, type KindInfo } from "@corral/api";
import { LineCounter, isScalar, parseAllDocuments, type Document } from "yaml";
import { ManifestError, PathError, describeValue, formatPath, type Path } from "./errors.js";
import { isPlainObject, normalizeMessage, type NormalizeOptions } from "./normalize.js";

/** One API object read from a manifest. */
export interface ManifestObject {
  kind: KindInfo;
  object: ApiObject;
  /** The object's fields as the manifest gives them, in proto3 JSON (what apply merges). */
  json: JsonObject;
  /** The document as written, with apiVersion and kind (what apply records as last applied). */
  document: Record<string, unknown>;
  /** "deploy.yaml#2" (the second document), or "all.yaml#1 items[3]" for an item of a List. */
  source: string;
}

/**
 * Parses a multi-document YAML (or JSON) manifest into API objects. Empty documents are
 * skipped; `kind: List` (and typed lists such as `PodList`) are expanded into their items.
 * Documents are numbered from 1 in the order they appear, empty ones included, so that
 * "file.yaml#3" is the third document of the file. Throws ManifestError.
 */
export function parseManifests(text: string, source = "<input>"): ManifestObject[] {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema: `yes`/`on` stay strings, unquoted dates stay strings, duplicate keys are errors.
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true });
  const out: ManifestObject[] = [];
  let n = 0;
  for (const doc of docs) {
    n++;
    const src = `${source}#${n}`;
    const err = doc.errors[0];
    if (err) throw new ManifestError(src, "", `invalid YAML: ${err.message.trim()}`);
    if (doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new ManifestError(src, "", `invalid YAML: ${(e as Error).message}`);
    }
    if (value === null || value === undefined) continue;
    try {
      const scalarText = (path: Path): string | undefined => {
        const node = doc.getIn(path, true);
        return isScalar(node) && typeof node.source === "string" && node.source !== "" ? node.source : undefined;
      };
      out.push(...decodeValue(value, src, [], { scalarText }));
    } catch (e) {
      if (e instanceof PathError) throw toManifestError(src, e, lineOf(doc, lineCounter, e.path));
      throw e;
    }
  }
  return out;
}

/**
 * Turns one already-parsed Kubernetes-shaped JSON document (an object with apiVersion and kind,
 * or a List) into API objects, with the same checks and conversions as parseManifests.
 */
export function decodeManifest(value: unknown, source = "<input>"): ManifestObject[] {
  try {
    return decodeValue(value, source, [], {});
  } catch (e) {
    if (e instanceof PathError) throw toManifestError(source, e, undefined);
    throw e;
  }
}

function toManifestError(source: string, e: PathError, line: number | undefined): ManifestError {
  return new ManifestError(source, formatPath(e.path), e.problem, line);
}

/** The line of the deepest node on `path` that exists in the YAML document. */
function lineOf(doc: Document, lc: LineCounter, path: Path): number | undefined {
  for (let len = path.length; len >= 0; len--) {
    const node = len === 0 ? doc.contents : doc.getIn(path.slice(0, len), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  return undefined;
}

function decodeValue(value: unknown, source: string, path: Path, opts: NormalizeOptions): ManifestObject[] {
  if (!isPlainObject(value)) {
    throw new PathError(path, `expected an object with apiVersion and kind, got ${describeValue(value)}`);
  }
  const apiVersion = requiredString(value, "apiVersion", path);
  const kindName = requiredString(value, "kind", path);
  if (kindName === "List" || (kindName.endsWith("List") && !kindForManifest(apiVersion, kindName))) {
    const itemKind = kindName === "List" ? undefined : kindForManifest(apiVersion, kindName.slice(0, -4));
    if (kindName !== "List" && !itemKind) throw new PathError(path, noKind(apiVersion, kindName));
    if (kindName === "List" && apiVersion !== "v1") throw new PathError(path, noKind(apiVersion, kindName));
    return decodeList(value, itemKind, source, path, opts);
  }
  const kind = kindForManifest(apiVersion, kindName);
  if (!kind) throw new PathError(path, noKind(apiVersion, kindName));
  return [{ kind, ...decodeObject(kind, value, path, opts), document: value, source }];
}

function decodeObject(kind: KindInfo, value: Record<string, unknown>, path: Path, opts: NormalizeOptions): { object: ApiObject; json: JsonObject } {
  const { apiVersion: _a, kind: _k, ...rest } = value;
  const json = normalizeMessage(kind.schema, rest, path, opts) as JsonObject;
  try {
    return { object: fromJson(kind.schema, json), json };
  } catch (e) {
    // The walk checks everything fromJson does, so this is a safety net.
    throw new PathError(path, (e as Error).message);
  }
}

function decodeList(
  value: Record<string, unknown>,
  itemKind: KindInfo | undefined,
  source: string,
  path: Path,
  opts: NormalizeOptions,
): ManifestObject[] {
  for (const key of Object.keys(value)) {
    if (!["apiVersion", "kind", "metadata", "items"].includes(key)) {
      throw new PathError([...path, key], "unknown field");
    }
  }
  if (value["metadata"] !== undefined && value["metadata"] !== null) {
    normalizeMessage(ListMetaSchema, value["metadata"], [...path, "metadata"], opts);
  }
  const items = value["items"] ?? [];
  if (!Array.isArray(items)) throw new PathError([...path, "items"], `expected array, got ${describeValue(items)}`);
  const out: ManifestObject[] = [];
  items.forEach((item: unknown, i) => {
    const p = [...path, "items", i];
    const itemSource = `${source} ${formatPath(p)}`;
    if (itemKind && isPlainObject(item)) {
      // In a typed list (PodList) items may leave out apiVersion and kind.
      const withKind = { apiVersion: itemKind.apiVersion, kind: itemKind.kind, ...item };
      if (withKind.apiVersion !== itemKind.apiVersion || withKind.kind !== itemKind.kind) {
        throw new PathError(p, `a ${itemKind.kind}List can only hold ${itemKind.kind} objects`);
      }
      out.push({ kind: itemKind, ...decodeObject(itemKind, withKind, p, opts), document: withKind, source: itemSource });
    } else {
      out.push(...decodeValue(item, itemSource, p, opts));
    }
  });
  return out;
}

function requiredString(value: Record<string, unknown>, key: string, path: Path): string {
  const v = value[key];
  if (v === undefined || v === null || v === "") throw new PathError(path, `missing required field "${key}"`);
  if (typeof v !== "string") throw new PathError([...path, key], `expected string, got ${describeValue(v)}`);
  return v;
}

function noKind(apiVersion: string, kind: string): string {
  let hint = "";
  const sameName = ALL_KINDS.find((k) => k.kind === kind);
  const otherCase = ALL_KINDS.find((k) => k.kind.toLowerCase() === kind.toLowerCase());
  if (sameName) hint = ` (did you mean apiVersion ${JSON.stringify(sameName.apiVersion)}?)`;
  else if (otherCase) hint = ` (did you mean kind ${JSON.stringify(otherCase.kind)}?)`;
  return `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)}${hint}`;
}
