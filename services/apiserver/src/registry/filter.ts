import type { ApiObject, KindInfo } from "@corral/api";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "@corral/apimachinery";
import { Code, GrpcError } from "@corral/grpc";

export type ObjectFilter = (obj: ApiObject) => boolean;

/** The filter of a list or watch without selectors: callers can skip decoding objects for it. */
export const matchAll: ObjectFilter = () => true;

/** Compiles the label and field selectors of a list or watch once, or fails with INVALID_ARGUMENT. */
export function compileFilter(kind: KindInfo, labelSelector: string, fieldSelector: string): ObjectFilter {
  let labels: ReturnType<typeof parseLabelSelector>;
  let fields: ReturnType<typeof parseFieldSelector>;
  try {
    labels = parseLabelSelector(labelSelector);
  } catch (err) {
    throw new GrpcError(Code.INVALID_ARGUMENT, `labelSelector: Invalid value: "${labelSelector}": ${(err as Error).message}`);
  }
  try {
    fields = parseFieldSelector(fieldSelector, kind.kind);
  } catch (err) {
    throw new GrpcError(Code.INVALID_ARGUMENT, `fieldSelector: Invalid value: "${fieldSelector}": ${(err as Error).message}`);
  }
  if (labels.length === 0 && fields.length === 0) return matchAll;
  return (obj) => matchesLabels(labels, obj.metadata?.labels) && matchesFields(fields, obj);
}
