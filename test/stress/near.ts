import { expect } from "chai";

/**
 * Asserts |actual − expected| ≤ tolerance for plain numbers. chai's `closeTo` cannot be used here: when
 * the Hardhat chai matchers are loaded (any test touching the network loads them for the whole run),
 * they take over `closeTo` and convert a number argument to a bigint, which fails on fractions.
 */
export function expectNear(actual: number, expected: number, tolerance: number): void {
  expect(Number.isFinite(actual), `${actual} is not a finite number`).to.equal(true);
  expect(
    Math.abs(actual - expected) <= tolerance,
    `expected ${actual} to be within ${tolerance} of ${expected}`,
  ).to.equal(true);
}
