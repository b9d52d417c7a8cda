import tLogpdf from "@stdlib/stats-base-dists-t-logpdf";
import { expect } from "chai";

import { fitGarchT, garchPath, garchTLogLikelihood, garchVariances } from "../../stress/lib/garch.js";
import { createRng } from "../../stress/lib/rng.js";
import { standardizedTDraws } from "../../stress/lib/simulate.js";
import { expectNear } from "./near.js";

describe("stress GARCH(1,1)-t", function () {
  this.timeout(30_000);

  it("filters variances by the recursion, from the mean squared residual", function () {
    const p = { mu: 0, omega: 1e-5, alpha: 0.1, beta: 0.8, nu: 5 };
    const { variances, next } = garchVariances([0.01, -0.02, 0.03], p);
    // σ²₁ = (1e−4 + 4e−4 + 9e−4)/3; σ²₂ = 1e−5 + 0.1·1e−4 + 0.8·σ²₁; σ²₃ = 1e−5 + 0.1·4e−4 + 0.8·σ²₂; next from 9e−4.
    const v1 = 14e-4 / 3;
    const v2 = 1e-5 + 1e-5 + 0.8 * v1;
    const v3 = 1e-5 + 4e-5 + 0.8 * v2;
    expectNear(variances[0], v1, 1e-18);
    expectNear(variances[1], v2, 1e-18);
    expectNear(variances[2], v3, 1e-18);
    expectNear(next, 1e-5 + 9e-5 + 0.8 * v3, 1e-18);
  });

  it("sums the log-density of unit-variance t residuals", function () {
    const r = [0.01, -0.02, 0.03, -0.05, 0.002];
    const p = { mu: 0.001, omega: 2e-5, alpha: 0.12, beta: 0.85, nu: 4.5 };
    const { variances } = garchVariances(r, p);
    const k = Math.sqrt((p.nu - 2) / p.nu);
    const byHand = r.reduce((s, x, t) => {
      const scale = Math.sqrt(variances[t]) * k;
      return s + tLogpdf((x - p.mu) / scale, p.nu) - Math.log(scale);
    }, 0);
    expectNear(garchTLogLikelihood(r, p), byHand, 1e-9);
    expect(garchTLogLikelihood(r, { ...p, beta: 0.9 })).to.equal(Number.NEGATIVE_INFINITY); // α + β ≥ 1
    expect(garchTLogLikelihood(r, { ...p, nu: 2 })).to.equal(Number.NEGATIVE_INFINITY);
  });

  it("recovers ω, α, β and ν from a simulated 4,000-day path", function () {
    const truth = { mu: 0.0005, omega: 2e-5, alpha: 0.1, beta: 0.85, nu: 5 };
    const z = standardizedTDraws(createRng(515), truth.nu, 4000);
    const { returns } = garchPath(truth, z, truth.omega / (1 - truth.alpha - truth.beta));
    const fit = fitGarchT(returns);
    expect(fit.converged).to.equal(true);
    expectNear(fit.alpha, truth.alpha, 0.035);
    expectNear(fit.beta, truth.beta, 0.05);
    expectNear(fit.nu, truth.nu, 1.2);
    expectNear(fit.persistence, 0.95, 0.03);
    expectNear(Math.sqrt(fit.unconditionalVariance), 0.02, 0.003);
    // The fit beats the truth's likelihood on its own sample, as a maximum must.
    expect(fit.logLikelihood).to.be.at.least(garchTLogLikelihood(returns, truth));
    expect(fit.variances).to.have.length(4000);
  });

  it("drives a path from given innovations", function () {
    const p = { mu: 0.001, omega: 1e-5, alpha: 0.1, beta: 0.8, nu: 5 };
    const { returns, variances } = garchPath(p, [1, -2], 4e-4);
    expect(variances[0]).to.equal(4e-4);
    expectNear(returns[0], 0.001 + 0.02, 1e-15);
    // σ²₂ = 1e−5 + 0.1·0.02² + 0.8·4e−4 = 3.7e−4.
    expectNear(variances[1], 3.7e-4, 1e-18);
    expectNear(returns[1], 0.001 - 2 * Math.sqrt(3.7e-4), 1e-15);
  });

  it("refuses a series too short to fit", function () {
    expect(() => fitGarchT([0.01, 0.02])).to.throw("needs at least 100 returns, got 2");
  });
});
