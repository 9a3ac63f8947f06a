// IntOrString as a count (Kubernetes' intstr.GetScaledValueFromIntOrPercent). Pure.
import type { IntOrString } from "@corral/api";

/** An absolute number, or a percentage of `total` rounded up or down. Unset gives `fallback` (a number or "25%"). */
export function scaledValue(v: IntOrString | undefined, total: number, roundUp: boolean, fallback: number | string): number {
  let raw: number | string = fallback;
  if (v?.value.case === "intVal") raw = v.value.value;
  else if (v?.value.case === "strVal") raw = v.value.value;
  if (typeof raw === "number") return raw;
  const m = /^(\d+)%$/.exec(raw);
  if (!m) {
    const n = Number(raw);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: "${raw}"`);
  }
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
