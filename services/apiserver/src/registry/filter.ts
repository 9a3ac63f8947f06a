import type { ApiObject, KindInfo } from "@corral/api";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "@corral/apimachinery";
import { Code, GrpcError } from "@corral/grpc";
import { compileBytesFilter, type BytesFilter } from "./wire-filter.js";

export type ObjectFilter = (obj: ApiObject) => boolean;

/** The filter of a list or watch without selectors: callers can skip decoding objects for it. */
export const matchAll: ObjectFilter = () => true;

/** A list's or watch's selectors, compiled once: on decoded objects, and (when it can) on stored bytes. */
export interface Selectors {
  readonly filter: ObjectFilter;
  /** The same test on an object's bytes, without decoding it; undefined for a field it cannot read. */
  readonly bytes?: BytesFilter;
}

/** Compiles the label and field selectors of a list or watch once, or fails with INVALID_ARGUMENT. */
export function compileSelectors(kind: KindInfo, labelSelector: string, fieldSelector: string): Selectors {
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
  if (labels.length === 0 && fields.length === 0) return { filter: matchAll, bytes: () => true };
  return {
    filter: (obj) => matchesLabels(labels, obj.metadata?.labels) && matchesFields(fields, obj),
    bytes: compileBytesFilter(kind.schema, labels, fields),
  };
}

/** compileSelectors' filter on decoded objects. */
export function compileFilter(kind: KindInfo, labelSelector: string, fieldSelector: string): ObjectFilter {
  return compileSelectors(kind, labelSelector, fieldSelector).filter;
}
