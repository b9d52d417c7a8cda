import { expect } from "chai";

import {
  fitTCopula,
  kendallTau,
  lowerTailDependence,
  pearson,
  ranks,
  spearman,
  tCopulaTailDependence,
} from "../../stress/lib/dependence.js";
import { createRng } from "../../stress/lib/rng.js";
import { expectNear } from "./near.js";

/** n draws of a bivariate t with correlation rho and nu degrees of freedom. */
function bivariateT(seed: number, rho: number, nu: number, n: number): [number[], number[]] {
  const rng = createRng(seed);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const z1 = rng.normal();
    const z2 = rho * z1 + Math.sqrt(1 - rho * rho) * rng.normal();
    const s = Math.sqrt(nu / rng.chisquare(nu));
    x.push(z1 * s);
    // Any increasing transform of a margin leaves the copula alone: exp makes this margin skewed.
    y.push(Math.exp(z2 * s));
  }
  return [x, y];
}

describe("stress dependence", function () {
  this.timeout(20_000);

  it("computes Pearson's r of a small sample by hand", function () {
    // x = 1, 2, 3; y = 2, 4, 7: sxy = 5, sxx = 2, syy = 114/9.
    expectNear(pearson([1, 2, 3], [2, 4, 7]), 5 / Math.sqrt((2 * 114) / 9), 1e-12);
    expect(() => pearson([1, 2, 3], [1, 2])).to.throw("paired samples differ in length: 3 and 2");
  });

  it("ranks ties at the mean rank and computes Spearman's rho and Kendall's tau by hand", function () {
    expect(ranks([10, 20, 20, 30])).to.deep.equal([1, 2.5, 2.5, 4]);
    // y ranks 3, 1, 2, 5, 4: Σd² = 8, rho = 1 − 6·8/(5·24) = 0.6; 7 concordant and 3 discordant pairs: tau = 0.4.
    expectNear(spearman([1, 2, 3, 4, 5], [3, 1, 2, 5, 4]), 0.6, 1e-12);
    expectNear(kendallTau([1, 2, 3, 4, 5], [3, 1, 2, 5, 4]), 0.4, 1e-12);
    // tau-b with one tie in x: S = 5 over √((6 − 1)(6 − 0)).
    expectNear(kendallTau([1, 2, 2, 3], [1, 2, 3, 4]), 5 / Math.sqrt(30), 1e-12);
  });

  it("finds full lower-tail dependence for comonotone data and none for countermonotone", function () {
    const x = Array.from({ length: 999 }, (_, i) => Math.sin(i) * 10 + i / 1000);
    // q = 10%: the 100 lowest of 999 pseudo-observations r/1000, so 100/(999·0.1).
    expectNear(lowerTailDependence(x, x, 0.1), 100 / 99.9, 1e-12);
    expect(
      lowerTailDependence(
        x,
        x.map((v) => -v),
        0.1,
      ),
    ).to.equal(0);
    expect(() => lowerTailDependence(x, x, 0)).to.throw("tail level 0 is not in (0, 1)");
  });

  it("gives the t copula's tail dependence of Embrechts, McNeil & Straumann (2002), Table 1", function () {
    const table: [number, number, number][] = [
      [2, 0, 0.18],
      [2, 0.5, 0.39],
      [2, 0.9, 0.72],
      [4, -0.5, 0.01],
      [4, 0, 0.08],
      [4, 0.5, 0.25],
      [4, 0.9, 0.63],
      [10, 0.5, 0.08],
      [10, 0.9, 0.46],
    ];
    for (const [nu, rho, lambda] of table) expectNear(tCopulaTailDependence(rho, nu), lambda, 0.006);
  });

  it("recovers the correlation and degrees of freedom of a simulated t copula", function () {
    const [x, y] = bivariateT(99, 0.6, 4, 1500);
    const fit = fitTCopula(x, y);
    expectNear(fit.rho, 0.6, 0.04);
    expect(fit.nu).to.be.within(2.5, 7);
    // Kendall's tau of an elliptical copula is (2/π)·arcsin(rho).
    expectNear(kendallTau(x, y), (2 / Math.PI) * Math.asin(0.6), 0.03);
  });
});
