// Validation of label maps and LabelSelector messages.
import type { LabelSelector } from "@corral/api";
import { type FieldError, childPath, forbidden, indexPath, invalidEach, keyPath, notSupported, required } from "./errors.js";
import { isLabelValue, isQualifiedName } from "./names.js";

/** Label keys (qualified names, reported at `path`) and values (at `path[key]`). */
export function validateLabels(labels: Readonly<Record<string, string>>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels)) {
    errs.push(...invalidEach(path, k, isQualifiedName(k)));
    errs.push(...invalidEach(keyPath(path, k), v, isLabelValue(v)));
  }
  return errs;
}

/** matchLabels and matchExpressions: keys, values and operators (In, NotIn, Exists, DoesNotExist). */
export function validateLabelSelector(ls: LabelSelector, path: string): FieldError[] {
  const errs = validateLabels(ls.matchLabels, childPath(path, "matchLabels"));
  ls.matchExpressions.forEach((e, i) => {
    const p = indexPath(childPath(path, "matchExpressions"), i);
    errs.push(...(e.key === "" ? [required(childPath(p, "key"))] : invalidEach(childPath(p, "key"), e.key, isQualifiedName(e.key))));
    switch (e.operator) {
      case "In":
      case "NotIn":
        if (e.values.length === 0) {
          errs.push(required(childPath(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'"));
        }
        break;
      case "Exists":
      case "DoesNotExist":
        if (e.values.length > 0) {
          errs.push(forbidden(childPath(p, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        }
        break;
      default:
        errs.push(notSupported(childPath(p, "operator"), e.operator, ["In", "NotIn", "Exists", "DoesNotExist"]));
    }
    e.values.forEach((v, j) => errs.push(...invalidEach(indexPath(childPath(p, "values"), j), v, isLabelValue(v))));
  });
  return errs;
}
