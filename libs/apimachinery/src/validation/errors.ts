// Field errors in the shape Kubernetes reports them (k8s.io/apimachinery/pkg/util/validation/field):
// a path such as "spec.containers[0].image" and a reason such as "Required value".

export interface FieldError {
  /** Kubernetes-style field path: "metadata.name", "spec.containers[0].resources.limits[memory]". */
  readonly path: string;
  /** What is wrong, starting with the kind of error: "Invalid value: \"Foo_\": ...", "Required value". */
  readonly reason: string;
}

/** "spec" + "containers" → "spec.containers". */
export function childPath(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

/** "spec.containers" + 0 → "spec.containers[0]". */
export function indexPath(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** "resources.limits" + "memory" → "resources.limits[memory]". */
export function keyPath(path: string, k: string): string {
  return `${path}[${k}]`;
}

/** Renders a value the way Kubernetes shows it in an error: strings quoted, numbers bare. */
export function formatValue(v: unknown): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
    case "bigint":
    case "boolean":
      return String(v);
    case "undefined":
      return "null";
    default:
      return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)) ?? String(v);
  }
}

export function required(path: string, detail?: string): FieldError {
  return { path, reason: detail ? `Required value: ${detail}` : "Required value" };
}

export function invalid(path: string, value: unknown, detail: string): FieldError {
  return { path, reason: `Invalid value: ${formatValue(value)}: ${detail}` };
}

export function notSupported(path: string, value: unknown, supported: readonly string[]): FieldError {
  return {
    path,
    reason: `Unsupported value: ${formatValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}`,
  };
}

export function duplicate(path: string, value: unknown): FieldError {
  return { path, reason: `Duplicate value: ${formatValue(value)}` };
}

export function notFound(path: string, value: unknown): FieldError {
  return { path, reason: `Not found: ${formatValue(value)}` };
}

export function forbidden(path: string, detail: string): FieldError {
  return { path, reason: `Forbidden: ${detail}` };
}

export function tooLong(path: string, maxBytes: number): FieldError {
  return { path, reason: `Too long: must have at most ${maxBytes} bytes` };
}

/** "path: reason" for one error. */
export function formatFieldError(e: FieldError): string {
  return `${e.path}: ${e.reason}`;
}

/**
 * Joins errors as Kubernetes does in an Invalid status message: one error alone, several
 * in brackets ("[spec.containers: Required value, metadata.name: Required value]").
 */
export function formatFieldErrors(errs: readonly FieldError[]): string {
  if (errs.length === 0) return "";
  if (errs.length === 1) return formatFieldError(errs[0]);
  return `[${errs.map(formatFieldError).join(", ")}]`;
}

/** Turns the reason strings of a names.ts check into Invalid errors at path. */
export function invalidEach(path: string, value: unknown, reasons: readonly string[]): FieldError[] {
  return reasons.map((r) => invalid(path, value, r));
}
