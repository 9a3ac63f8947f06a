// Node selector terms (node affinity) compiled into predicates over a node's labels and name.
import type { NodeSelectorRequirement, NodeSelectorTerm } from "@corral/api";

export type NodePredicate = (labels: Readonly<Record<string, string>>, name: string) => boolean;

const NOTHING: NodePredicate = () => false;

function parseInteger(s: string): number | undefined {
  return /^-?\d+$/.test(s) ? Number(s) : undefined;
}

/** One requirement on a label (matchExpressions) or a field (matchFields: metadata.name only). */
export function compileRequirement(r: NodeSelectorRequirement, field: boolean): NodePredicate {
  const get = field
    ? r.key === "metadata.name"
      ? (_l: Readonly<Record<string, string>>, name: string) => name
      : undefined
    : (l: Readonly<Record<string, string>>) => (Object.prototype.hasOwnProperty.call(l, r.key) ? l[r.key] : undefined);
  if (!get) return NOTHING;
  const values = new Set(r.values);
  switch (r.operator) {
    case "In":
      return (l, n) => {
        const v = get(l, n);
        return v !== undefined && values.has(v);
      };
    case "NotIn":
      return (l, n) => {
        const v = get(l, n);
        return v === undefined || !values.has(v);
      };
    case "Exists":
      return field ? NOTHING : (l, n) => get(l, n) !== undefined;
    case "DoesNotExist":
      return field ? NOTHING : (l, n) => get(l, n) === undefined;
    case "Gt":
    case "Lt": {
      const bound = r.values.length === 1 ? parseInteger(r.values[0]!) : undefined;
      if (field || bound === undefined) return NOTHING;
      const gt = r.operator === "Gt";
      return (l, n) => {
        const v = get(l, n);
        const x = v === undefined ? undefined : parseInteger(v);
        return x !== undefined && (gt ? x > bound : x < bound);
      };
    }
    default:
      return NOTHING;
  }
}

/** A term: all its requirements hold. A term with no requirements matches no node (Kubernetes). */
export function compileTerm(t: NodeSelectorTerm): NodePredicate {
  const preds = [
    ...t.matchExpressions.map((r) => compileRequirement(r, false)),
    ...t.matchFields.map((r) => compileRequirement(r, true)),
  ];
  if (preds.length === 0) return NOTHING;
  return (l, n) => preds.every((p) => p(l, n));
}

/** Terms are ORed: the node matches if any term does. No terms match no node. */
export function compileTerms(terms: readonly NodeSelectorTerm[]): NodePredicate {
  const preds = terms.map(compileTerm);
  return (l, n) => preds.some((p) => p(l, n));
}

/** A nodeSelector map: every label present with that value. */
export function matchesNodeSelector(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}
