import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  QuantityError,
  addQuantity,
  compareQuantity,
  formatQuantity,
  isNegative,
  milliValue,
  parseQuantity,
  quantityFromMilli,
  quantityFromValue,
  subtractQuantity,
  tryParseQuantity,
  value,
  valueBig,
} from "./quantity.js";

const q = parseQuantity;

describe("parseQuantity", () => {
  it("reads CPU forms", () => {
    assert.equal(milliValue(q("250m")), 250);
    assert.equal(milliValue(q("1.5")), 1500);
    assert.equal(milliValue(q("2")), 2000);
    assert.equal(milliValue(q("0.1")), 100);
    assert.equal(milliValue(q(".5")), 500);
    assert.equal(milliValue(q("1.")), 1000);
    assert.equal(milliValue(q("+1")), 1000);
  });

  it("reads binary and decimal memory suffixes", () => {
    assert.equal(value(q("128Mi")), 128 * 1024 * 1024);
    assert.equal(value(q("1Gi")), 1024 ** 3);
    assert.equal(value(q("0.5Gi")), 512 * 1024 * 1024);
    assert.equal(value(q("1Ki")), 1024);
    assert.equal(value(q("2Ti")), 2 * 1024 ** 4);
    assert.equal(valueBig(q("1Ei")), 2n ** 60n);
    assert.equal(value(q("500M")), 500_000_000);
    assert.equal(value(q("100k")), 100_000);
    assert.equal(value(q("1G")), 1e9);
    assert.equal(milliValue(q("5u")), 1); // rounded up
    assert.equal(q("3n").nanos, 3n);
  });

  it("reads exponents", () => {
    assert.equal(value(q("1e3")), 1000);
    assert.equal(value(q("1E3")), 1000);
    assert.equal(value(q("1.5e3")), 1500);
    assert.equal(milliValue(q("5e-3")), 5);
    assert.equal(value(q("2e+2")), 200);
    assert.equal(q("1e3").format, "DecimalExponent");
  });

  it("treats a bare E as exa, not an exponent", () => {
    assert.equal(valueBig(q("1E")), 10n ** 18n);
    assert.equal(q("1E").format, "DecimalSI");
  });

  it("keeps the format of the suffix", () => {
    assert.equal(q("1Gi").format, "BinarySI");
    assert.equal(q("1G").format, "DecimalSI");
    assert.equal(q("1").format, "DecimalSI");
  });

  it("accepts negatives and reports them", () => {
    assert.equal(isNegative(q("-1")), true);
    assert.equal(isNegative(q("1")), false);
    assert.equal(isNegative(q("0")), false);
    assert.equal(milliValue(q("-250m")), -250);
  });

  it("rounds precision below a nano-unit up, as Kubernetes does", () => {
    assert.equal(q("1e-12").nanos, 1n);
    assert.equal(q("0.0000000001").nanos, 1n);
    assert.equal(q("-1e-12").nanos, -1n);
  });

  for (const [input, reason] of [
    ["", /empty/],
    ["12Q", /unknown suffix "Q"/],
    ["1.2.3", /more than one decimal point/],
    ["-", /missing number/],
    ["Mi", /missing number/],
    [".", /missing number/],
    ["1 Gi", /unknown suffix " Gi"/],
    [" 1", /missing number/],
    ["1e", /exponent/],
    ["1e2.5", /exponent must be an integer/],
    ["1ki", /unknown suffix "ki"/],
    ["1e99999", /out of range/],
  ] as const) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => q(input),
        (e: unknown) => e instanceof QuantityError && reason.test(e.message) && e.message.includes(JSON.stringify(input)),
      );
      assert.equal(tryParseQuantity(input), undefined);
    });
  }
});

describe("milliValue and value", () => {
  it("round up like Kubernetes", () => {
    assert.equal(value(q("1500m")), 2);
    assert.equal(value(q("1001m")), 2);
    assert.equal(value(q("1000m")), 1);
    assert.equal(milliValue(q("1n")), 1);
    assert.equal(milliValue(q("0")), 0);
  });

  it("round away from zero for negatives", () => {
    assert.equal(value(q("-1500m")), -2);
  });
});

describe("arithmetic and comparison", () => {
  it("sums exactly", () => {
    const sum = addQuantity(q("0.1"), q("0.2"));
    assert.equal(compareQuantity(sum, q("0.3")), 0);
    assert.equal(formatQuantity(sum), "300m");
  });

  it("adds across suffixes", () => {
    assert.equal(compareQuantity(addQuantity(q("512Mi"), q("0.5Gi")), q("1Gi")), 0);
    assert.equal(compareQuantity(addQuantity(q("250m"), q("1")), q("1250m")), 0);
  });

  it("keeps the first operand's format unless it is zero", () => {
    assert.equal(addQuantity(q("1Gi"), q("1")).format, "BinarySI");
    assert.equal(addQuantity(q("0"), q("1Gi")).format, "BinarySI");
  });

  it("subtracts", () => {
    assert.equal(formatQuantity(subtractQuantity(q("1Gi"), q("512Mi"))), "512Mi");
    assert.equal(isNegative(subtractQuantity(q("1"), q("2"))), true);
  });

  it("compares", () => {
    assert.equal(compareQuantity(q("1Gi"), q("1G")), 1);
    assert.equal(compareQuantity(q("999m"), q("1")), -1);
    assert.equal(compareQuantity(q("1000m"), q("1")), 0);
    assert.equal(compareQuantity(q("1e3"), q("1k")), 0);
    assert.equal(compareQuantity(q("-1"), q("0")), -1);
  });

  it("builds quantities from numbers", () => {
    assert.equal(formatQuantity(quantityFromMilli(250)), "250m");
    assert.equal(formatQuantity(quantityFromValue(128 * 1024 * 1024, "BinarySI")), "128Mi");
    assert.equal(formatQuantity(quantityFromValue(3n)), "3");
  });
});

describe("formatQuantity", () => {
  for (const [input, out] of [
    ["250m", "250m"],
    ["0.25", "250m"],
    ["1.5", "1500m"],
    ["2", "2"],
    ["2000", "2k"],
    ["100k", "100k"],
    ["500M", "500M"],
    ["1.5G", "1500M"],
    ["128Mi", "128Mi"],
    ["0.5Gi", "512Mi"],
    ["1024Mi", "1Gi"],
    ["1536Mi", "1536Mi"],
    ["1Ki", "1Ki"],
    ["0.5Ki", "512"],
    ["1.5Ki", "1536"],
    ["0.3Ki", "307200m"],
    ["1e3", "1e3"],
    ["1500e0", "1500"],
    ["1e-3", "1e-3"],
    ["0", "0"],
    ["0Mi", "0"],
    ["-250m", "-250m"],
    ["-2Gi", "-2Gi"],
    ["1n", "1n"],
    ["1000000u", "1"],
  ] as const) {
    it(`${input} → ${out}`, () => assert.equal(formatQuantity(q(input)), out));
  }

  it("formats in a requested format", () => {
    assert.equal(formatQuantity(q("134217728"), "BinarySI"), "128Mi");
    assert.equal(formatQuantity(q("1Gi"), "DecimalSI"), "1073741824");
  });

  it("round-trips through parseQuantity", () => {
    for (const s of ["123456789n", "1.25Gi", "7e6", "42", "3.5", "999Ei"]) {
      const v = q(s);
      assert.equal(compareQuantity(q(formatQuantity(v)), v), 0, s);
    }
  });
});
