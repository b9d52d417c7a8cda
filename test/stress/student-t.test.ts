import tLogpdf from "@stdlib/stats-base-dists-t-logpdf";
import tQuantile from "@stdlib/stats-base-dists-t-quantile";
import { expect } from "chai";

import { createRng } from "../../stress/lib/rng.js";
import { fitStudentT, studentTLogLikelihood } from "../../stress/lib/student-t.js";
import { expectNear } from "./near.js";

describe("stress Student-t", function () {
  this.timeout(20_000);

  it("takes t quantiles that match the printed tables", function () {
    // Critical values t_{p,ν} as printed in any statistics table (e.g. NIST/SEMATECH e-Handbook, 1.3.6.7.2).
    const table: [number, number, number][] = [
      [0.975, 1, 12.706],
      [0.975, 5, 2.571],
      [0.95, 10, 1.812],
      [0.99, 10, 2.764],
      [0.995, 30, 2.75],
      [0.999, 4, 7.173],
      [0.99, 100, 2.364],
    ];
    for (const [p, nu, value] of table) expectNear(tQuantile(p, nu), value, 5e-4);
  });

  it("sums the same log-likelihood as stdlib's t log-density", function () {
    const x = [-0.1, 0.02, 0.03, -0.005, 0.2];
    const p = { mu: 0.01, sigma: 0.04, nu: 3.5 };
    const byHand = x.reduce((s, xi) => s + tLogpdf((xi - p.mu) / p.sigma, p.nu) - Math.log(p.sigma), 0);
    expectNear(studentTLogLikelihood(x, p), byHand, 1e-10);
    expect(studentTLogLikelihood(x, { ...p, sigma: 0 })).to.equal(Number.NEGATIVE_INFINITY);
  });

  it("recovers location, scale and degrees of freedom from 5,000 simulated draws", function () {
    const truth = { mu: 0.001, sigma: 0.02, nu: 4 };
    const rng = createRng(20240312);
    const x = Array.from(
      { length: 5000 },
      () => truth.mu + truth.sigma * (rng.normal() / Math.sqrt(rng.chisquare(truth.nu) / truth.nu)),
    );
    const fit = fitStudentT(x);
    expect(fit.converged).to.equal(true);
    // Tolerances are about three standard errors at n = 5,000.
    expectNear(fit.mu, truth.mu, 0.001);
    expectNear(fit.sigma, truth.sigma, 0.0015);
    expectNear(fit.nu, truth.nu, 0.8);
    expect(Math.abs(fit.nu - truth.nu)).to.be.below(3 * fit.se.nu + 0.1);
  });

  it("refuses a sample too small to fit", function () {
    expect(() => fitStudentT([1, 2, 3])).to.throw("needs at least 10 observations, got 3");
  });
});
