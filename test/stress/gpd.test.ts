import { expect } from "chai";

import {
  fitGpd,
  fitLossTail,
  gpdLogLikelihood,
  gpdQuantile,
  tailES,
  tailVaR,
  type TailFit,
} from "../../stress/lib/gpd.js";
import { createRng } from "../../stress/lib/rng.js";
import { expectNear } from "./near.js";

/** GPD draws by inversion: y = β/ξ·(U^(−ξ) − 1), U uniform on (0, 1]. */
function gpdDraws(seed: number, xi: number, beta: number, n: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => (beta / xi) * (Math.pow(1 - rng.uniform(), -xi) - 1));
}

describe("stress generalized Pareto tail", function () {
  this.timeout(20_000);

  it("inverts its own distribution function", function () {
    const g = { xi: 0.3, beta: 0.02 };
    const y = gpdQuantile(0.9, g);
    expectNear(1 - Math.pow(1 + (g.xi * y) / g.beta, -1 / g.xi), 0.9, 1e-12);
    // ξ = 0 is the exponential: quantile −β ln(1 − p).
    expectNear(gpdQuantile(0.9, { xi: 0, beta: 2 }), -2 * Math.log(0.1), 1e-12);
  });

  it("is −∞ outside the support", function () {
    expect(gpdLogLikelihood([0.5], { xi: -1, beta: 0.2 })).to.equal(Number.NEGATIVE_INFINITY);
    expect(gpdLogLikelihood([0.5], { xi: 0.2, beta: 0 })).to.equal(Number.NEGATIVE_INFINITY);
  });

  it("recovers ξ and β from 4,000 simulated GPD excesses", function () {
    for (const [seed, xi, beta] of [
      [7, 0.3, 0.02],
      [11, 0.1, 0.05],
    ]) {
      const fit = fitGpd(gpdDraws(seed, xi, beta, 4000));
      expect(fit.converged).to.equal(true);
      // The standard error of ξ is about (1 + ξ)/√n ≈ 0.02: tolerance about three of them.
      expectNear(fit.xi, xi, 0.06);
      expectNear(fit.beta, beta, beta * 0.08);
      expectNear(fit.se.xi, (1 + xi) / Math.sqrt(4000), 0.01);
    }
  });

  it("puts the threshold at the loss quantile and fits the excesses above it", function () {
    // Losses: 1,900 small ones in [0, 0.01) and 100 GPD excesses above 0.01.
    const rng = createRng(3);
    const small = Array.from({ length: 1900 }, () => 0.01 * rng.uniform());
    const big = gpdDraws(5, 0.25, 0.03, 100).map((y) => 0.0101 + y);
    const tail = fitLossTail([...small, ...big], 0.95);
    expect(tail.exceedances).to.equal(100);
    // Type-7 quantile at 0.95·1999 = 1899.05: between the largest small loss and the smallest big one.
    expect(tail.threshold).to.be.within(Math.max(...small), Math.min(...big));
    expect(() => fitLossTail([1, 2], 1)).to.throw("threshold quantile 1 is not in (0, 1)");
  });

  it("gives the tail VaR and ES of McNeil & Frey (2000) by hand", function () {
    const tail: TailFit = {
      xi: 0.25,
      beta: 0.03,
      se: { xi: Number.NaN, beta: Number.NaN },
      thresholdQuantile: 0.95,
      threshold: 0.06,
      n: 2000,
      exceedances: 100,
      logLikelihood: 0,
      converged: true,
    };
    // VaR_0.99 = u + β/ξ·(((n/N_u)(1 − 0.99))^(−ξ) − 1) = 0.06 + 0.12·((20·0.01)^(−0.25) − 1).
    const v = 0.06 + 0.12 * (Math.pow(0.2, -0.25) - 1);
    expectNear(tailVaR(tail, 0.99), v, 1e-15);
    // ES = VaR/(1 − ξ) + (β − ξu)/(1 − ξ).
    expectNear(tailES(tail, 0.99), v / 0.75 + (0.03 - 0.25 * 0.06) / 0.75, 1e-15);
    expect(() => tailVaR(tail, 0.9)).to.throw("not beyond the threshold quantile 0.95");
    expect(() => tailES({ ...tail, xi: 1.2 }, 0.99)).to.throw("the expected shortfall is infinite");
  });
});
