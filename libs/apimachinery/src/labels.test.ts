import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { LabelSelectorSchema } from "@corral/api";
import {
  LabelSelectorError,
  formatLabelSelector,
  labelSelectorMatches,
  matchesLabels,
  parseLabelSelector,
  selectorFromMessage,
} from "./labels.js";

const web = { app: "web", tier: "frontend", env: "prod" };

function matches(sel: string, labels: Record<string, string> = web): boolean {
  return matchesLabels(parseLabelSelector(sel), labels);
}

describe("parseLabelSelector", () => {
  it("parses every operator", () => {
    assert.deepEqual(parseLabelSelector("a=b"), [{ key: "a", operator: "In", values: ["b"] }]);
    assert.deepEqual(parseLabelSelector("a==b"), [{ key: "a", operator: "In", values: ["b"] }]);
    assert.deepEqual(parseLabelSelector("a!=b"), [{ key: "a", operator: "NotIn", values: ["b"] }]);
    assert.deepEqual(parseLabelSelector("a in (x, y)"), [{ key: "a", operator: "In", values: ["x", "y"] }]);
    assert.deepEqual(parseLabelSelector("a notin (x)"), [{ key: "a", operator: "NotIn", values: ["x"] }]);
    assert.deepEqual(parseLabelSelector("a"), [{ key: "a", operator: "Exists", values: [] }]);
    assert.deepEqual(parseLabelSelector("!a"), [{ key: "a", operator: "DoesNotExist", values: [] }]);
  });

  it("joins requirements with commas and tolerates whitespace", () => {
    const reqs = parseLabelSelector("  app = web ,tier in(a,b) ,  ! legacy,env  ");
    assert.deepEqual(
      reqs.map((r) => [r.key, r.operator, r.values]),
      [
        ["app", "In", ["web"]],
        ["tier", "In", ["a", "b"]],
        ["legacy", "DoesNotExist", []],
        ["env", "Exists", []],
      ],
    );
  });

  it("accepts the empty string and empty values", () => {
    assert.deepEqual(parseLabelSelector(""), []);
    assert.deepEqual(parseLabelSelector("   "), []);
    assert.deepEqual(parseLabelSelector("a="), [{ key: "a", operator: "In", values: [""] }]);
    assert.deepEqual(parseLabelSelector("a=,b"), [
      { key: "a", operator: "In", values: [""] },
      { key: "b", operator: "Exists", values: [] },
    ]);
  });

  it("accepts prefixed keys", () => {
    assert.deepEqual(parseLabelSelector("app.kubernetes.io/name=web")[0]?.key, "app.kubernetes.io/name");
  });

  for (const [sel, pos, reason] of [
    ["a b", 2, /expected one of "=", "==", "!=", "in", "notin", found "b"/],
    ["a in x", 5, /expected "\("/],
    ["a in (x", 7, /expected "," or "\)", found end of string/],
    ["a in ()", 6, /must not be empty/],
    ["=b", 0, /expected a label key/],
    ["a=b,", 4, /expected a label key, found end of string/],
    ["a=(b)", 2, /expected a label value/],
    ["a=b c", 4, /expected "," or end of string/],
    ["bad key!=x", 4, /expected one of/],
    ["-a=b", 0, /invalid label key "-a"/],
    ["a=-b", 2, /invalid label value "-b"/],
    ["a/b/c=d", 0, /invalid label key/],
    [`a=${"x".repeat(64)}`, 2, /no more than 63 characters/],
  ] as const) {
    it(`rejects ${JSON.stringify(sel)} at position ${pos}`, () => {
      assert.throws(
        () => parseLabelSelector(sel),
        (e: unknown) =>
          e instanceof LabelSelectorError && e.position === pos && reason.test(e.reason) && e.message.includes(`position ${pos}`),
      );
    });
  }
});

describe("matchesLabels", () => {
  it("matches equality and inequality", () => {
    assert.equal(matches("app=web"), true);
    assert.equal(matches("app==web"), true);
    assert.equal(matches("app=db"), false);
    assert.equal(matches("app!=db"), true);
    assert.equal(matches("app!=web"), false);
    assert.equal(matches("missing!=x"), true, "!= matches an absent label, as in Kubernetes");
    assert.equal(matches("missing="), false, "= needs the label to exist");
  });

  it("matches set and existence operators", () => {
    assert.equal(matches("tier in (frontend, backend)"), true);
    assert.equal(matches("tier in (backend)"), false);
    assert.equal(matches("tier notin (backend)"), true);
    assert.equal(matches("missing notin (x)"), true);
    assert.equal(matches("env"), true);
    assert.equal(matches("!env"), false);
    assert.equal(matches("!legacy"), true);
  });

  it("ANDs requirements, and the empty selector matches everything", () => {
    assert.equal(matches("app=web,env=prod"), true);
    assert.equal(matches("app=web,env=dev"), false);
    assert.equal(matches(""), true);
    assert.equal(matchesLabels([], undefined), true);
    assert.equal(matchesLabels(parseLabelSelector("!a"), undefined), true);
  });
});

describe("selectorFromMessage", () => {
  it("combines matchLabels and matchExpressions", () => {
    const ls = create(LabelSelectorSchema, {
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["frontend", "backend"] },
        { key: "env", operator: "NotIn", values: ["dev"] },
        { key: "env", operator: "Exists" },
        { key: "legacy", operator: "DoesNotExist" },
      ],
    });
    assert.equal(labelSelectorMatches(ls, web), true);
    assert.equal(labelSelectorMatches(ls, { ...web, legacy: "1" }), false);
    assert.equal(labelSelectorMatches(ls, { ...web, env: "dev" }), false);
    assert.equal(labelSelectorMatches(ls, { ...web, app: "db" }), false);
    assert.equal(selectorFromMessage(ls).length, 5);
  });

  it("treats an empty selector as matching everything", () => {
    assert.equal(labelSelectorMatches(create(LabelSelectorSchema), {}), true);
    assert.equal(labelSelectorMatches(create(LabelSelectorSchema), web), true);
  });

  it("rejects malformed expressions", () => {
    const bad = (operator: string, values: string[]) =>
      () => selectorFromMessage(create(LabelSelectorSchema, { matchExpressions: [{ key: "a", operator, values }] }));
    assert.throws(bad("In", []), /matchExpressions\[0\]: values must be non-empty for operator In/);
    assert.throws(bad("Exists", ["x"]), /values must be empty for operator Exists/);
    assert.throws(bad("Gt", ["1"]), /"Gt" is not a valid label selector operator/);
  });
});

describe("formatLabelSelector", () => {
  it("prints a message as kubectl does: sorted by key, set form for expressions", () => {
    const ls = create(LabelSelectorSchema, {
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["b", "a"] },
        { key: "legacy", operator: "DoesNotExist" },
        { key: "env", operator: "NotIn", values: ["dev"] },
        { key: "canary", operator: "Exists" },
      ],
    });
    assert.equal(formatLabelSelector(ls), "app=web,canary,env notin (dev),!legacy,tier in (a,b)");
    assert.equal(formatLabelSelector(create(LabelSelectorSchema, { matchLabels: { tier: "x", app: "web" } })), "app=web,tier=x");
  });

  it("prints an empty selector as the empty string", () => {
    assert.equal(formatLabelSelector(create(LabelSelectorSchema)), "");
    assert.equal(formatLabelSelector([]), "");
  });

  it("prints <error> for an unknown operator", () => {
    const ls = create(LabelSelectorSchema, { matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] });
    assert.equal(formatLabelSelector(ls), "<error>");
  });

  it("round-trips parsed selectors", () => {
    for (const s of ["app=web", "a!=b", "a in (x,y)", "a notin (x,y)", "a", "!a", "a=,b=c"]) {
      const once = formatLabelSelector(parseLabelSelector(s));
      assert.equal(formatLabelSelector(parseLabelSelector(once)), once, s);
      assert.deepEqual(parseLabelSelector(once), parseLabelSelector(s).sort((x, y) => (x.key < y.key ? -1 : 1)), s);
    }
    assert.equal(formatLabelSelector(parseLabelSelector("tier in (b, a), app=web")), "app=web,tier in (a,b)");
  });
});
