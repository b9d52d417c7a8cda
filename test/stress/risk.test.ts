import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import tQuantile from "@stdlib/stats-base-dists-t-quantile";
import { expect } from "chai";

import {
  empiricalES,
  empiricalVaR,
  kupiecTest,
  normalES,
  normalVaR,
  studentTLossES,
  studentTLossVaR,
} from "../../stress/lib/risk.js";
import { expectNear } from "./near.js";

/** ES as the mean of the quantile function beyond the level, by the midpoint rule: an independent check. */
function esByIntegral(quantile: (p: number) => number, level: number, steps = 200_000): number {
  let sum = 0;
  const h = (1 - level) / steps;
  for (let i = 0; i < steps; i++) sum += quantile(level + (i + 0.5) * h);
  return sum / steps;
}

describe("stress risk measures", function () {
  this.timeout(20_000);

  it("gives the standard normal VaR and ES at 99% in closed form", function () {
    // z_0.99 = 2.326348, φ(z)/0.01 = 2.665214 (McNeil, Frey & Embrechts 2015, Example 2.14).
    expectNear(normalVaR(0, 1, 0.99), 2.326348, 1e-6);
    expectNear(normalES(0, 1, 0.99), 2.665214, 1e-6);
    expectNear(normalES(0.01, 0.03, 0.975), 0.01 + 0.03 * esByIntegral((p) => normalQuantile(p, 0, 1), 0.975), 1e-6);
  });

  it("gives the VaR and ES of a location–scale t loss that match its quantiles and their tail mean", function () {
    // A return R = μ + σT with μ = 0.001, σ = 0.02, ν = 4: the loss −R has VaR −μ + σ·t₄⁻¹(0.99) = −0.001 + 0.02·3.746947.
    const returns = { mu: 0.001, sigma: 0.02, nu: 4 };
    expectNear(studentTLossVaR(returns, 0.99), -0.001 + 0.02 * 3.746947, 1e-8);
    const integral = esByIntegral((p) => tQuantile(p, 4), 0.99);
    expectNear(studentTLossES(returns, 0.99), -0.001 + 0.02 * integral, 1e-5);
    expect(() => studentTLossES({ ...returns, nu: 1 }, 0.99)).to.throw("nu 1 ≤ 1");
  });

  it("takes empirical VaR by interpolation and ES as the mean beyond it", function () {
    const losses = [5, 1, 4, 2, 3, 10, 7, 6, 9, 8]; // sorted 1..10
    // Type 7 at 0.9: h = 9·0.9 = 8.1 → 9 + 0.1·(10 − 9) = 9.1; losses ≥ 9.1: {10}.
    expectNear(empiricalVaR(losses, 0.9), 9.1, 1e-12);
    expect(empiricalES(losses, 0.9)).to.equal(10);
    // At 0.8: h = 7.2 → 8.2; losses ≥ 8.2: {9, 10}, mean 9.5.
    expect(empiricalES(losses, 0.8)).to.equal(9.5);
    expect(() => empiricalVaR(losses, 1)).to.throw("confidence level 1 is not in (0, 1)");
  });

  it("computes Kupiec's LR for 8 exceedances in 250 days at 99% as the formula does by hand", function () {
    // LR = −2[242·ln 0.99 + 8·ln 0.01] + 2[242·ln(242/250) + 8·ln(8/250)].
    const byHand = -2 * (242 * Math.log(0.99) + 8 * Math.log(0.01)) + 2 * (242 * Math.log(0.968) + 8 * Math.log(0.032));
    const k = kupiecTest(250, 8, 0.99);
    expectNear(k.lr, byHand, 1e-9);
    expectNear(k.lr, 7.7, 0.05); // the textbook's "≈ 7.7": rejected at 1% (χ²₁ 99% = 6.63)
    expectNear(k.expected, 2.5, 1e-12);
    // χ²₁ is Z²: the p-value is two-sided normal, Φ⁻¹(1 − p/2) = √LR.
    expectNear(normalQuantile(1 - k.pValue / 2, 0, 1), Math.sqrt(k.lr), 1e-6);
    expect(k.pValue).to.be.within(0.004, 0.007);
  });

  it("handles no exceedances and an exact hit", function () {
    // x = 0: LR = −2·250·ln 0.99.
    expectNear(kupiecTest(250, 0, 0.99).lr, -500 * Math.log(0.99), 1e-9);
    const exact = kupiecTest(1000, 10, 0.99);
    expectNear(exact.lr, 0, 1e-9);
    expectNear(exact.pValue, 1, 1e-6);
    expect(() => kupiecTest(10, 11, 0.99)).to.throw("exceedances 11 is not an integer in [0, 10]");
    expect(() => kupiecTest(0, 0, 0.99)).to.throw("observations 0 is not a positive integer");
  });
});
