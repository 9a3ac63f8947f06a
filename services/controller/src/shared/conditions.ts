// Status conditions: set one (keeping its lastTransitionTime when the status does not change),
// remove one, compare them. Works on every kind's condition message. Pure.
import type { Timestamp } from "@bufbuild/protobuf/wkt";

export interface ConditionLike {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime?: Timestamp;
}

export function getCondition<C extends ConditionLike>(conds: readonly C[], type: string): C | undefined {
  return conds.find((c) => c.type === type);
}

/**
 * Returns the conditions with `c` in place of the one of its type. When the status is unchanged
 * the old lastTransitionTime is kept; when status, reason and message are all unchanged the old
 * condition is kept as it is (no write for nothing).
 */
export function setCondition<C extends ConditionLike>(conds: readonly C[], c: C): C[] {
  const old = conds.find((x) => x.type === c.type);
  if (old && old.status === c.status && old.reason === c.reason && old.message === c.message) return [...conds];
  if (old && old.status === c.status) c.lastTransitionTime = old.lastTransitionTime;
  return [...conds.filter((x) => x.type !== c.type), c];
}

export function removeCondition<C extends ConditionLike>(conds: readonly C[], type: string): C[] {
  return conds.filter((c) => c.type !== type);
}
