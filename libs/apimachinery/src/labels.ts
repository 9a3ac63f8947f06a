// Kubernetes label selectors (k8s.io/apimachinery/pkg/labels): the string syntax used by
// `kubectl -l` and ListRequest.labelSelector, and the LabelSelector message of workloads.
import type { LabelSelector } from "@corral/api";
import { isLabelValue, isQualifiedName } from "./validation/names.js";

/** The operators of LabelSelectorRequirement. "a=b" parses as In [b] and "a!=b" as NotIn [b]. */
export type LabelOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** One or more values for In and NotIn; empty for Exists and DoesNotExist. */
  readonly values: readonly string[];
}

/** A parsed selector: every requirement must hold (AND). Empty matches everything. */
export type LabelSelectorRequirements = readonly LabelRequirement[];

const OPERATORS: readonly string[] = ["In", "NotIn", "Exists", "DoesNotExist"];

export function isLabelOperator(op: string): op is LabelOperator {
  return OPERATORS.includes(op);
}

export class LabelSelectorError extends Error {
  constructor(
    readonly selector: string,
    /** 0-based index into the selector string, or -1 when the error is not tied to a place in it. */
    readonly position: number,
    readonly reason: string,
  ) {
    super(
      position >= 0
        ? `invalid label selector ${JSON.stringify(selector)}: ${reason} at position ${position}`
        : `invalid label selector: ${reason}`,
    );
    this.name = "LabelSelectorError";
  }
}

type TokenKind = "ident" | "=" | "==" | "!=" | "!" | "," | "(" | ")" | "end";
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: number;
}

const SPECIAL = new Set([" ", "\t", "\n", "\r", ",", "=", "!", "(", ")"]);

function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
    } else if (c === "=" || c === "!") {
      const two = s.slice(i, i + 2);
      if (two === "==" || two === "!=") {
        tokens.push({ kind: two, text: two, pos: i });
        i += 2;
      } else {
        tokens.push({ kind: c, text: c, pos: i });
        i++;
      }
    } else if (c === "," || c === "(" || c === ")") {
      tokens.push({ kind: c, text: c, pos: i });
      i++;
    } else {
      const start = i;
      while (i < s.length && !SPECIAL.has(s[i])) i++;
      tokens.push({ kind: "ident", text: s.slice(start, i), pos: start });
    }
  }
  tokens.push({ kind: "end", text: "", pos: s.length });
  return tokens;
}

function describe(t: Token): string {
  return t.kind === "end" ? "end of string" : JSON.stringify(t.text);
}

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly tokens: readonly Token[],
  ) {}

  private peek(): Token {
    return this.tokens[this.i];
  }
  private next(): Token {
    return this.tokens[this.i++];
  }
  private fail(t: Token, reason: string): never {
    throw new LabelSelectorError(this.src, t.pos, reason);
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    if (this.peek().kind === "end") return reqs;
    for (;;) {
      reqs.push(this.requirement());
      const t = this.next();
      if (t.kind === "end") return reqs;
      if (t.kind !== ",") this.fail(t, `expected "," or end of string, found ${describe(t)}`);
    }
  }

  private key(): string {
    const t = this.next();
    if (t.kind !== "ident") this.fail(t, `expected a label key, found ${describe(t)}`);
    const errs = isQualifiedName(t.text);
    if (errs.length > 0) this.fail(t, `invalid label key ${JSON.stringify(t.text)}: ${errs.join("; ")}`);
    return t.text;
  }

  private value(t: Token): string {
    const errs = isLabelValue(t.text);
    if (errs.length > 0) this.fail(t, `invalid label value ${JSON.stringify(t.text)}: ${errs.join("; ")}`);
    return t.text;
  }

  private requirement(): LabelRequirement {
    if (this.peek().kind === "!") {
      this.next();
      return { key: this.key(), operator: "DoesNotExist", values: [] };
    }
    const key = this.key();
    const op = this.peek();
    switch (op.kind) {
      case "end":
      case ",":
        return { key, operator: "Exists", values: [] };
      case "=":
      case "==":
      case "!=": {
        this.next();
        const v = this.peek();
        let value = "";
        if (v.kind === "ident") value = this.value(this.next());
        else if (v.kind !== "end" && v.kind !== ",") this.fail(v, `expected a label value, found ${describe(v)}`);
        return { key, operator: op.kind === "!=" ? "NotIn" : "In", values: [value] };
      }
      case "ident":
        if (op.text === "in" || op.text === "notin") {
          this.next();
          return { key, operator: op.text === "in" ? "In" : "NotIn", values: this.valueSet() };
        }
        return this.fail(op, `expected one of "=", "==", "!=", "in", "notin", found ${describe(op)}`);
      default:
        return this.fail(op, `expected one of "=", "==", "!=", "in", "notin", found ${describe(op)}`);
    }
  }

  private valueSet(): string[] {
    const open = this.next();
    if (open.kind !== "(") this.fail(open, `expected "(", found ${describe(open)}`);
    if (this.peek().kind === ")") this.fail(this.peek(), "values for in and notin must not be empty");
    const values: string[] = [];
    for (;;) {
      const v = this.next();
      if (v.kind === "ident") values.push(this.value(v));
      else if (v.kind === "," || v.kind === ")") values.push(""); // "(a,)" holds an empty value, as in Kubernetes
      else this.fail(v, `expected a label value, found ${describe(v)}`);
      const sep = v.kind === "ident" ? this.next() : v;
      if (sep.kind === ")") return values;
      if (sep.kind !== ",") this.fail(sep, `expected "," or ")", found ${describe(sep)}`);
    }
  }
}

/**
 * Parses the Kubernetes selector syntax: `a=b`, `a==b`, `a!=b`, `a in (x, y)`, `a notin (x)`,
 * `a` (exists), `!a` (does not exist), joined by commas (AND). The empty string selects
 * everything. Throws LabelSelectorError naming the position and the reason.
 */
export function parseLabelSelector(s: string): LabelRequirement[] {
  return new Parser(s, tokenize(s)).parse();
}

/** Whether one requirement holds for a set of labels. */
export function matchesRequirement(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case "In":
      return has && r.values.includes(labels[r.key]);
    case "NotIn":
      return !has || !r.values.includes(labels[r.key]);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
  }
}

/** Whether every requirement holds for the labels (an empty selector matches everything). */
export function matchesLabels(
  selector: LabelSelectorRequirements,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const l = labels ?? {};
  return selector.every((r) => matchesRequirement(r, l));
}

/**
 * Converts a LabelSelector message (matchLabels and matchExpressions) into requirements.
 * An empty selector gives [] and so matches everything. (In Kubernetes an absent selector
 * matches nothing: callers decide what an unset field means.) Throws LabelSelectorError on
 * an unknown operator, a missing value list for In/NotIn or values given to Exists/DoesNotExist.
 */
export function selectorFromMessage(ls: LabelSelector): LabelRequirement[] {
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(ls.matchLabels)) {
    reqs.push({ key, operator: "In", values: [value] });
  }
  ls.matchExpressions.forEach((e, i) => {
    const where = `matchExpressions[${i}]`;
    const operator = e.operator;
    if (!isLabelOperator(operator)) {
      throw new LabelSelectorError("", -1, `${where}: ${JSON.stringify(operator)} is not a valid label selector operator`);
    }
    const setOp = operator === "In" || operator === "NotIn";
    if (setOp && e.values.length === 0) {
      throw new LabelSelectorError("", -1, `${where}: values must be non-empty for operator ${operator}`);
    }
    if (!setOp && e.values.length > 0) {
      throw new LabelSelectorError("", -1, `${where}: values must be empty for operator ${operator}`);
    }
    reqs.push({ key: e.key, operator, values: [...e.values] });
  });
  return reqs;
}

/** selectorFromMessage then matchesLabels. */
export function labelSelectorMatches(ls: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  return matchesLabels(selectorFromMessage(ls), labels);
}

function formatRequirement(r: LabelRequirement, setForm: boolean): string {
  const values = [...r.values].sort();
  switch (r.operator) {
    case "Exists":
      return r.key;
    case "DoesNotExist":
      return `!${r.key}`;
    case "In":
      return !setForm && values.length === 1 ? `${r.key}=${values[0]}` : `${r.key} in (${values.join(",")})`;
    case "NotIn":
      return !setForm && values.length === 1 ? `${r.key}!=${values[0]}` : `${r.key} notin (${values.join(",")})`;
  }
}

function byKey<T extends { readonly key: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function isRequirements(sel: LabelSelector | LabelSelectorRequirements): sel is LabelSelectorRequirements {
  return Array.isArray(sel);
}

/**
 * The string form of a selector, as kubectl prints it: requirements sorted by key, values
 * sorted, "app=web,tier in (a,b),!legacy". For a LabelSelector message, matchLabels print as
 * "k=v" and matchExpressions always in set form ("k in (a)"); for parsed requirements a
 * single-value In/NotIn prints as "k=v" / "k!=v". An empty selector gives "" (kubectl shows
 * that as "<none>"), which parses back to "everything". An expression with an unknown
 * operator prints as "<error>", as kubectl does.
 */
export function formatLabelSelector(sel: LabelSelector | LabelSelectorRequirements): string {
  if (isRequirements(sel)) {
    return byKey(sel)
      .map((r) => formatRequirement(r, false))
      .join(",");
  }
  const parts: Array<{ key: string; text: string }> = [];
  for (const [key, value] of Object.entries(sel.matchLabels)) parts.push({ key, text: `${key}=${value}` });
  for (const e of sel.matchExpressions) {
    const operator = e.operator;
    if (!isLabelOperator(operator)) return "<error>";
    parts.push({ key: e.key, text: formatRequirement({ key: e.key, operator, values: e.values }, true) });
  }
  return byKey(parts)
    .map((p) => p.text)
    .join(",");
}
