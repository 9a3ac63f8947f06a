/** A path inside a document: object keys and list indexes. */
export type Path = readonly (string | number)[];

/**
 * A manifest could not be turned into an API object. The message names the document
 * ("deploy.yaml#2"), the field path when there is one, and the problem:
 *
 *   deploy.yaml#2: spec.containers[0].imagePullPolicyy: unknown field (did you mean "imagePullPolicy"?)
 */
export class ManifestError extends Error {
  override readonly name = "ManifestError";
  /** "deploy.yaml#2" */
  readonly source: string;
  /** "spec.containers[0].image", or "" when the problem is with the document as a whole. */
  readonly path: string;
  readonly problem: string;
  /** 1-based line in the text the document came from, when known. */
  readonly line: number | undefined;

  constructor(source: string, path: string, problem: string, line?: number) {
    super(`${source}: ${path ? `${path}: ` : ""}${problem}${line !== undefined ? ` (line ${line})` : ""}`);
    this.source = source;
    this.path = path;
    this.problem = problem;
    this.line = line;
  }
}

/** Thrown inside the schema walk; turned into a ManifestError by the caller that knows the document. */
export class PathError extends Error {
  constructor(
    readonly path: Path,
    readonly problem: string,
  ) {
    super(`${formatPath(path)}: ${problem}`);
  }
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** ["spec", "containers", 0, "image"] -> "spec.containers[0].image"; odd keys are quoted: labels["app.kubernetes.io/name"]. */
export function formatPath(path: Path): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** "string \"3\"", "boolean true", "array", "object", "null" — for "expected X, got Y" messages. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  switch (typeof v) {
    case "string": {
      const s = v.length > 40 ? `${v.slice(0, 37)}...` : v;
      return `string ${JSON.stringify(s)}`;
    }
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof v} ${String(v)}`;
    case "object":
      return v instanceof Date ? `timestamp ${v.toISOString()}` : "object";
    default:
      return typeof v;
  }
}
