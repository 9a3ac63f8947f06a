// Kubernetes resource quantities ("250m", "128Mi", "1.5", "1e3"), following
// k8s.io/apimachinery/pkg/api/resource. Hand-written: no small, well-kept npm library
// parses Kubernetes quantities, and the grammar is short.
//
// A quantity is held exactly as a bigint count of nano-units (1e-9), which is the finest
// precision Kubernetes keeps: like Kubernetes, a non-zero value finer than that is rounded
// up (away from zero) to the next nano-unit when parsed. Sums and comparisons are exact.

/** How a quantity was written, and so how it is formatted back (as in Kubernetes). */
export type QuantityFormat = "BinarySI" | "DecimalSI" | "DecimalExponent";

export interface Quantity {
  /** The value in units of 1e-9 ("1" is 1_000_000_000n, "250m" is 250_000_000n). */
  readonly nanos: bigint;
  readonly format: QuantityFormat;
}

export class QuantityError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid quantity ${JSON.stringify(input)}: ${reason}`);
    this.name = "QuantityError";
  }
}

const NANOS_PER_UNIT = 1_000_000_000n;

const BINARY_SUFFIXES: ReadonlyArray<readonly [string, bigint]> = [
  ["Ki", 1n << 10n],
  ["Mi", 1n << 20n],
  ["Gi", 1n << 30n],
  ["Ti", 1n << 40n],
  ["Pi", 1n << 50n],
  ["Ei", 1n << 60n],
];

/** Decimal SI suffixes and their power of ten. */
const DECIMAL_SUFFIXES: ReadonlyArray<readonly [string, number]> = [
  ["n", -9],
  ["u", -6],
  ["m", -3],
  ["", 0],
  ["k", 3],
  ["M", 6],
  ["G", 9],
  ["T", 12],
  ["P", 15],
  ["E", 18],
];

/** Exponents further out than this are refused rather than turned into huge bigints. */
const MAX_EXPONENT = 1000;

const NUMBER_RE = /^([+-]?)([0-9.]*)(.*)$/;

/** Parses a Kubernetes quantity. Negative values are accepted; see isNegative. */
export function parseQuantity(s: string): Quantity {
  if (s.length === 0) throw new QuantityError(s, "empty string");
  const m = NUMBER_RE.exec(s);
  if (!m) throw new QuantityError(s, "not a number");
  const [, sign, num, suffix] = m;
  if (num.length === 0 || num === ".") {
    throw new QuantityError(s, suffix === "" ? "missing number" : `missing number before ${JSON.stringify(suffix)}`);
  }
  const dot = num.indexOf(".");
  if (dot !== num.lastIndexOf(".")) throw new QuantityError(s, "more than one decimal point");
  const intPart = dot < 0 ? num : num.slice(0, dot);
  const fracPart = dot < 0 ? "" : num.slice(dot + 1);
  // value = digits * 10^-fracPart.length * multiplier
  const digits = BigInt((intPart + fracPart) || "0");
  let decimalExp = -fracPart.length;
  let multiplier = 1n;
  let format: QuantityFormat;

  const binary = BINARY_SUFFIXES.find(([sfx]) => sfx === suffix);
  const decimal = DECIMAL_SUFFIXES.find(([sfx]) => sfx === suffix);
  const exponent = /^[eE]([+-]?[0-9]+)$/.exec(suffix);
  if (binary) {
    multiplier = binary[1];
    format = "BinarySI";
  } else if (decimal) {
    decimalExp += decimal[1];
    format = "DecimalSI";
  } else if (exponent) {
    const e = Number(exponent[1]);
    if (Math.abs(e) > MAX_EXPONENT) throw new QuantityError(s, `exponent ${exponent[1]} is out of range`);
    decimalExp += e;
    format = "DecimalExponent";
  } else if (/^[eE][+-]?$/.test(suffix) || /^[eE][+-]?[0-9]*\./.test(suffix)) {
    throw new QuantityError(s, "exponent must be an integer");
  } else {
    throw new QuantityError(
      s,
      `unknown suffix ${JSON.stringify(suffix)} (expected one of Ki, Mi, Gi, Ti, Pi, Ei, n, u, m, k, M, G, T, P, E or an exponent like e3)`,
    );
  }

  // nanos = digits * multiplier * 10^(decimalExp + 9), rounded up (away from zero).
  const scaled = digits * multiplier;
  const shift = decimalExp + 9;
  let nanos: bigint;
  if (shift >= 0) {
    nanos = scaled * 10n ** BigInt(shift);
  } else {
    const div = 10n ** BigInt(-shift);
    nanos = scaled / div + (scaled % div === 0n ? 0n : 1n);
  }
  return { nanos: sign === "-" ? -nanos : nanos, format };
}

/** Like parseQuantity, but returns undefined instead of throwing. */
export function tryParseQuantity(s: string): Quantity | undefined {
  try {
    return parseQuantity(s);
  } catch (e) {
    if (e instanceof QuantityError) return undefined;
    throw e;
  }
}

/** A quantity of `units` whole units (bytes, cores, pods). */
export function quantityFromValue(units: bigint | number, format: QuantityFormat = "DecimalSI"): Quantity {
  return { nanos: BigInt(units) * NANOS_PER_UNIT, format };
}

/** A quantity of `millis` thousandths ("250m" is quantityFromMilli(250)). */
export function quantityFromMilli(millis: bigint | number, format: QuantityFormat = "DecimalSI"): Quantity {
  return { nanos: BigInt(millis) * 1_000_000n, format };
}

export function isNegative(q: Quantity): boolean {
  return q.nanos < 0n;
}

export function isZero(q: Quantity): boolean {
  return q.nanos === 0n;
}

/** Divides, rounding away from zero, as Kubernetes' ScaledValue does. */
function divAwayFromZero(n: bigint, d: bigint): bigint {
  const q = n / d;
  if (n % d === 0n) return q;
  return n < 0n ? q - 1n : q + 1n;
}

/** The value in thousandths, rounded up (away from zero) like Kubernetes' MilliValue. Exact as a bigint. */
export function milliValueBig(q: Quantity): bigint {
  return divAwayFromZero(q.nanos, 1_000_000n);
}

/** The value in whole units, rounded up (away from zero) like Kubernetes' Value(). Exact as a bigint. */
export function valueBig(q: Quantity): bigint {
  return divAwayFromZero(q.nanos, NANOS_PER_UNIT);
}

/** milliValueBig as a number (exact up to Number.MAX_SAFE_INTEGER: about 9 PB of millis). */
export function milliValue(q: Quantity): number {
  return Number(milliValueBig(q));
}

/** valueBig as a number (exact up to Number.MAX_SAFE_INTEGER: 8 PiB of bytes). */
export function value(q: Quantity): number {
  return Number(valueBig(q));
}

/** -1, 0 or 1 as a is less than, equal to or greater than b. */
export function compareQuantity(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/** a + b, exactly. Keeps a's format unless a is zero (as Kubernetes' Add does). */
export function addQuantity(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos + b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

/** a - b, exactly. Keeps a's format unless a is zero. */
export function subtractQuantity(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos - b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

/**
 * The canonical string of a quantity, as Kubernetes prints it: no fractional digits and the
 * largest suffix that keeps the value exact. BinarySI uses Ki..Ei for whole values of at
 * least 1024 ("0.5Gi" → "512Mi"), and falls back to DecimalSI otherwise; DecimalSI uses
 * n, u, m, "", k, M, G, T, P, E ("0.25" → "250m", "1.5" → "1500m"); DecimalExponent uses
 * e-notation in multiples of 3 ("1e3"). Pass `format` to override the quantity's own, e.g.
 * to show a byte count as "128Mi".
 */
export function formatQuantity(q: Quantity, format: QuantityFormat = q.format): string {
  const n = q.nanos;
  if (n === 0n) return "0";
  const sign = n < 0n ? "-" : "";
  const abs = n < 0n ? -n : n;

  if (format === "BinarySI" && abs % NANOS_PER_UNIT === 0n && abs >= 1024n * NANOS_PER_UNIT) {
    const units = abs / NANOS_PER_UNIT;
    for (let i = BINARY_SUFFIXES.length - 1; i >= 0; i--) {
      const [sfx, mult] = BINARY_SUFFIXES[i];
      if (units % mult === 0n) return `${sign}${units / mult}${sfx}`;
    }
    return `${sign}${units}`;
  }

  // Largest power of ten (a multiple of 3, from -9 up) that divides the value exactly.
  let exp = -9;
  let mantissa = abs;
  while (exp < 18 && mantissa % 1000n === 0n) {
    mantissa /= 1000n;
    exp += 3;
  }
  if (format === "DecimalExponent") {
    return `${sign}${mantissa}${exp === 0 ? "" : `e${exp}`}`;
  }
  const suffix = DECIMAL_SUFFIXES.find(([, e]) => e === exp)![0];
  return `${sign}${mantissa}${suffix}`;
}
