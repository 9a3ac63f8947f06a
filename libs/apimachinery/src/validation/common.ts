// Small checks shared by the per-kind validators.
import type { IntOrString } from "@corral/api";
import { type FieldError, invalid, invalidEach, notSupported, required } from "./errors.js";
import { inclusiveRangeError, isIANASvcName, isValidPortNum } from "./names.js";

export const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

/** An error unless value is "" (left to defaulting) or one of allowed. */
export function oneOf(path: string, value: string, allowed: readonly string[]): FieldError[] {
  return value === "" || allowed.includes(value) ? [] : [notSupported(path, value, allowed)];
}

/** An error unless value is one of allowed; "" is reported as Required. */
export function requiredOneOf(path: string, value: string, allowed: readonly string[]): FieldError[] {
  if (value === "") return [required(path)];
  return allowed.includes(value) ? [] : [notSupported(path, value, allowed)];
}

export function nonNegative(path: string, value: number | bigint | undefined): FieldError[] {
  return value !== undefined && value < 0 ? [invalid(path, value, "must be greater than or equal to 0")] : [];
}

export function positive(path: string, value: number | bigint | undefined): FieldError[] {
  return value !== undefined && value <= 0 ? [invalid(path, value, "must be greater than 0")] : [];
}

export function inRange(path: string, value: number | bigint | undefined, lo: number, hi: number): FieldError[] {
  return value !== undefined && (value < lo || value > hi) ? [invalid(path, value, inclusiveRangeError(lo, hi))] : [];
}

/** A required string checked by a names.ts function. */
export function requiredName(path: string, value: string, check: (v: string) => string[]): FieldError[] {
  return value === "" ? [required(path)] : invalidEach(path, value, check(value));
}

/** An optional string checked by a names.ts function when set. */
export function optionalName(path: string, value: string | undefined, check: (v: string) => string[]): FieldError[] {
  return value ? invalidEach(path, value, check(value)) : [];
}

export function portNumber(path: string, port: number): FieldError[] {
  return invalidEach(path, port, isValidPortNum(port));
}

/** An IntOrString port: 1-65535 or an IANA service name. Unset is Required. */
export function portNumOrName(path: string, port: IntOrString | undefined): FieldError[] {
  switch (port?.value.case) {
    case "intVal":
      return portNumber(path, port.value.value);
    case "strVal":
      return invalidEach(path, port.value.value, isIANASvcName(port.value.value));
    default:
      return [required(path)];
  }
}

/** The message fields of `obj` among `names` that are set. */
export function setFields<T extends object>(obj: T, names: ReadonlyArray<keyof T & string>): Array<keyof T & string> {
  return names.filter((n) => obj[n] !== undefined);
}
