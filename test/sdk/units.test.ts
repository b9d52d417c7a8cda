import { expect } from "chai";

import { formatDisplay, formatUnitsExact, parseDecimal, parsePositive, parseWhole } from "../../sdk/units.js";
import { InputError } from "../../cli/errors.js";

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("expected an InputError");
}

describe("cli amounts", function () {
  describe("parseDecimal", function () {
    it("converts human amounts with the unit's decimals", function () {
      expect(parseDecimal("1500.25", 6, "amount")).to.equal(1_500_250_000n);
      expect(parseDecimal("1500", 6, "amount")).to.equal(1_500_000_000n);
      expect(parseDecimal("0.000001", 6, "amount")).to.equal(1n);
      expect(parseDecimal(" 2.5 ", 18, "size")).to.equal(25n * 10n ** 17n);
      expect(parseDecimal("0", 6, "amount")).to.equal(0n);
      // Exact beyond double precision: 2^53 + 1 whole units.
      expect(parseDecimal("9007199254740993.000000000000000001", 18, "x")).to.equal(
        9007199254740993n * 10n ** 18n + 1n,
      );
    });

    it("names the label and the problem for a negative number, a non-number and too many decimals", function () {
      expect(refusal(() => parseDecimal("-5", 6, "amount"))).to.equal("amount must not be negative: -5");
      expect(refusal(() => parseDecimal("-0.5", 6, "amount"))).to.equal("amount must not be negative: -0.5");
      expect(refusal(() => parseDecimal("abc", 6, "amount"))).to.equal("amount is not a number: 'abc'");
      expect(refusal(() => parseDecimal("", 6, "amount"))).to.equal("amount is not a number: ''");
      for (const text of ["1e3", "1,000", "1.", ".5", "0x10", "1.2.3", "+5", "NaN", "Infinity"]) {
        expect(
          refusal(() => parseDecimal(text, 6, "amount")),
          text,
        ).to.equal(`amount is not a number: '${text}'`);
      }
      expect(refusal(() => parseDecimal("1.1234567", 6, "amount"))).to.equal(
        "amount has more than 6 decimals: 1.1234567",
      );
      expect(refusal(() => parseWhole("1.5", "--nonce"))).to.equal("--nonce has more than 0 decimals: 1.5");
    });

    it("parsePositive refuses zero", function () {
      expect(refusal(() => parsePositive("0.000", 6, "--size"))).to.equal("--size must be above zero: 0.000");
      expect(parsePositive("0.5", 18, "--size")).to.equal(5n * 10n ** 17n);
    });
  });

  describe("formatting", function () {
    it("formatUnitsExact is the exact inverse of parseDecimal, without trailing zeros", function () {
      expect(formatUnitsExact(1_500_250_000n, 6)).to.equal("1500.25");
      expect(formatUnitsExact(2000n * 10n ** 18n, 18)).to.equal("2000");
      expect(formatUnitsExact(-1n, 18)).to.equal("-0.000000000000000001");
      expect(formatUnitsExact(0n, 6)).to.equal("0");
      expect(formatUnitsExact(42n, 0)).to.equal("42");
      for (const text of ["1500.25", "0.000001", "123456789.123456"]) {
        expect(formatUnitsExact(parseDecimal(text, 6, "x"), 6)).to.equal(text);
      }
    });

    it("formatDisplay truncates toward zero to the places asked and groups thousands", function () {
      // 1,234,567.899 with 18 decimals shown with two decimals: .899 truncated to .89.
      expect(formatDisplay(1_234_567_899n * 10n ** 15n, 18, 2)).to.equal("1,234,567.89");
      expect(formatDisplay(-1_053_052_631_578_947_368_421n, 18, 2)).to.equal("-1,053.05");
      expect(formatDisplay(5n * 10n ** 17n, 18, 6)).to.equal("0.500000");
      expect(formatDisplay(999n, 3, 0)).to.equal("0");
      expect(formatDisplay(1_500_250_000n, 6, 8)).to.equal("1,500.250000");
    });
  });
});
