import tQuantile from "@stdlib/stats-base-dists-t-quantile";
import { expect } from "chai";

import { kendallTau } from "../../stress/lib/dependence.js";
import { ascending, quantileSorted } from "../../stress/lib/moments.js";
import { createRng } from "../../stress/lib/rng.js";
import { cholesky, simulatePath, simulatePaths, type MarketModel } from "../../stress/lib/simulate.js";
import { expectNear } from "./near.js";

const model: MarketModel = {
  assets: ["A", "B"],
  marginals: [
    { kind: "t", params: { mu: 0, sigma: 0.02, nu: 3 } },
    { kind: "garch-t", params: { mu: 0, omega: 2e-5, alpha: 0.1, beta: 0.85, nu: 5 }, initialVariance: 9e-4 },
  ],
  copula: {
    correlation: [
      [1, 0.6],
      [0.6, 1],
    ],
    nu: 4,
  },
  intraday: [
    { down: [0.01, 0.02], up: [0.005, 0.01], sigma: [0.02, 0.03] },
    { down: [0.05, 0.08], up: [0, 0], sigma: [0.04, 0.05] },
  ],
};

const options = { seed: 42, days: 20, startPrices: [60_000, 3_000] };

describe("stress path simulator", function () {
  this.timeout(20_000);

  it("draws the same paths for the same seed and other paths for another seed", function () {
    const a = simulatePaths(model, options, 5);
    const b = simulatePaths(model, options, 5);
    const c = simulatePaths(model, { ...options, seed: 43 }, 5);
    expect(a).to.deep.equal(b);
    expect(c[0][0].close).to.not.deep.equal(a[0][0].close);
    expect(c[0][1].close).to.not.deep.equal(a[0][1].close);
  });

  it("draws path i the same alone as among many", function () {
    expect(simulatePath(model, options, 3)).to.deep.equal(simulatePaths(model, options, 8)[3]);
    expect(simulatePath(model, options, 3)).to.not.deep.equal(simulatePath(model, options, 4));
  });

  it("chains opens to closes and brackets each day by its low and high", function () {
    for (const path of simulatePaths(model, options, 3)) {
      path.forEach((asset, k) => {
        expect(asset.open[0]).to.equal(options.startPrices[k]);
        for (let t = 0; t < options.days; t++) {
          if (t > 0) expect(asset.open[t]).to.equal(asset.close[t - 1]);
          expect(asset.low[t]).to.be.at.most(Math.min(asset.open[t], asset.close[t]));
          expect(asset.high[t]).to.be.at.least(Math.max(asset.open[t], asset.close[t]));
        }
      });
      // The t margin takes a historical day's excursion as it was: 1% or 5% below the body.
      const a = path[0];
      for (let t = 0; t < options.days; t++) {
        const down = Math.log(Math.min(a.open[t], a.close[t]) / a.low[t]);
        expect([0.01, 0.05].some((d) => Math.abs(down - d) < 1e-12)).to.equal(true);
      }
    }
  });

  it("draws t margins with the fitted quantiles and the copula's rank correlation", function () {
    const t1: MarketModel = {
      ...model,
      marginals: [model.marginals[0], { kind: "t", params: { mu: 0, sigma: 0.03, nu: 5 } }],
    };
    // With t margins the days are independent: one 6,000-day path is 6,000 one-day draws.
    const [a, b] = simulatePath(t1, { seed: 7, days: 6000, startPrices: [1, 1] }, 0);
    const ra = a.close.map((c, t) => Math.log(c / a.open[t]));
    const rb = b.close.map((c, t) => Math.log(c / b.open[t]));
    // 99% quantile of 0.02·t₃ is 0.02·4.541 = 0.0908; sampling error at n = 6,000 is about 6%.
    expectNear(quantileSorted(ascending(ra), 0.99), 0.02 * tQuantile(0.99, 3), 0.0908 * 0.15);
    expectNear(quantileSorted(ascending(rb), 0.01), 0.03 * tQuantile(0.01, 5), 0.101 * 0.15);
    expectNear(kendallTau(ra.slice(0, 3000), rb.slice(0, 3000)), (2 / Math.PI) * Math.asin(0.6), 0.03);
  });

  it("factors a correlation matrix by Cholesky", function () {
    const l = cholesky([
      [4, 2],
      [2, 3],
    ]);
    expect(l).to.deep.equal([
      [2, 0],
      [1, Math.sqrt(2)],
    ]);
    expect(() =>
      cholesky([
        [1, 2],
        [2, 1],
      ]),
    ).to.throw("not positive definite");
  });

  it("refuses bad runs with the reason", function () {
    expect(() => simulatePaths(model, { ...options, days: 0 }, 1)).to.throw("days 0 is not a positive integer");
    expect(() => simulatePaths(model, { ...options, startPrices: [1] }, 1)).to.throw(
      "start prices must be 2 positive numbers",
    );
    expect(() => simulatePaths(model, { ...options, seed: 0 }, 1)).to.throw(
      "seed 0 is not an integer in [1, 4294967295]",
    );
    expect(() => simulatePaths(model, options, 0)).to.throw("path count 0 is not a positive integer");
    expect(() => simulatePaths({ ...model, marginals: [model.marginals[0]] }, options, 1)).to.throw(
      "1 marginals for 2 assets",
    );
    expect(() =>
      simulatePaths({ ...model, intraday: [{ down: [0.01], up: [0, 0], sigma: [1, 1] }] }, options, 1),
    ).to.throw("intraday day 0 needs 2 non-negative excursions and 2 positive sigmas");
    expect(() => createRng([])).to.throw("seed list is empty");
  });
});
