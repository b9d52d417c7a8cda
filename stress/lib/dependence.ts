// Dependence between two return series: linear and rank correlation, empirical lower-tail
// dependence, and a t copula fitted to it. Rank statistics and the copula fit are written here
// (stdlib has no Kendall tau or copula fit); checked on known cases in test/stress/dependence.test.ts.
import gammaln from "@stdlib/math-base-special-gammaln";
import tCdf from "@stdlib/stats-base-dists-t-cdf";
import tLogpdf from "@stdlib/stats-base-dists-t-logpdf";
import tQuantile from "@stdlib/stats-base-dists-t-quantile";

import { mean } from "./moments.js";
import { goldenSection } from "./optimize.js";

function checkPairs(x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) throw new Error(`paired samples differ in length: ${x.length} and ${y.length}`);
  if (x.length < 3) throw new Error(`dependence needs at least 3 pairs, got ${x.length}`);
}

/** Pearson's linear correlation coefficient. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  checkPairs(x, y);
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Ranks 1..n, ties sharing the mean of their ranks. */
export function ranks(x: readonly number[]): number[] {
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  const out = new Array<number>(x.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]] === x[order[i]]) j++;
    for (let k = i; k <= j; k++) out[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** Spearman's rho: Pearson's correlation of the ranks (ties at mid-rank). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  checkPairs(x, y);
  return pearson(ranks(x), ranks(y));
}

/**
 * Kendall's tau-b = (C − D)/√((n₀ − n₁)(n₀ − n₂)) over all n₀ = n(n−1)/2 pairs, n₁, n₂ the pairs
 * tied in x, y (Kendall 1945). O(n²): about 2.6 million pairs for the shipped overlap, a few ms.
 */
export function kendallTau(x: readonly number[], y: readonly number[]): number {
  checkPairs(x, y);
  let s = 0;
  let tiesX = 0;
  let tiesY = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      if (dx === 0) tiesX++;
      if (dy === 0) tiesY++;
      s += dx * dy;
    }
  }
  const pairs = (n * (n - 1)) / 2;
  return s / Math.sqrt((pairs - tiesX) * (pairs - tiesY));
}

/** Pseudo-observations rank/(n + 1) in (0, 1), the empirical copula's coordinates (Genest, Ghoudi & Rivest 1995). */
export function pseudoObservations(x: readonly number[]): number[] {
  return ranks(x).map((r) => r / (x.length + 1));
}

/**
 * Empirical lower-tail dependence at level q: C_n(q, q)/q, the share of days in the lowest q of x
 * that are also in the lowest q of y (Schmidt & Stadtmüller 2006, Scand. J. Statist. 33). It tends
 * to λ_L as q → 0; at q = 1% on a few thousand days it rests on a few dozen days.
 */
export function lowerTailDependence(x: readonly number[], y: readonly number[], q: number): number {
  checkPairs(x, y);
  if (!(q > 0 && q < 1)) throw new Error(`tail level ${q} is not in (0, 1)`);
  const u = pseudoObservations(x);
  const v = pseudoObservations(y);
  let both = 0;
  for (let i = 0; i < u.length; i++) if (u[i] <= q && v[i] <= q) both++;
  return both / u.length / q;
}

/**
 * Lower (= upper) tail dependence of a t copula: λ = 2·t_{ν+1}(−√((ν+1)(1−ρ)/(1+ρ)))
 * (Embrechts, McNeil & Straumann 2002; Demarta & McNeil 2005, Int. Statist. Rev. 73).
 */
export function tCopulaTailDependence(rho: number, nu: number): number {
  return 2 * tCdf(-Math.sqrt(((nu + 1) * (1 - rho)) / (1 + rho)), nu + 1);
}

/** A bivariate t copula: correlation rho and degrees of freedom nu. */
export interface TCopula {
  rho: number;
  nu: number;
  logLikelihood: number;
}

/** Log-density of the bivariate t copula at pseudo-observations (u, v). */
function tCopulaLogDensity(u: readonly number[], v: readonly number[], rho: number, nu: number): number {
  const c = gammaln((nu + 2) / 2) - gammaln(nu / 2) - Math.log(nu * Math.PI) - 0.5 * Math.log(1 - rho * rho);
  let sum = 0;
  for (let i = 0; i < u.length; i++) {
    const a = tQuantile(u[i], nu);
    const b = tQuantile(v[i], nu);
    const quad = (a * a - 2 * rho * a * b + b * b) / (1 - rho * rho);
    sum += c - ((nu + 2) / 2) * Math.log1p(quad / nu) - tLogpdf(a, nu) - tLogpdf(b, nu);
  }
  return sum;
}

/**
 * Fits a t copula by the semiparametric method: ρ = sin(πτ/2) from Kendall's tau, which holds for
 * every elliptical copula (Lindskog, McNeil & Schmock 2003), then ν by maximum likelihood on the
 * pseudo-observations with ρ fixed (Genest, Ghoudi & Rivest 1995), searched in ln ν over [1, 200].
 */
export function fitTCopula(x: readonly number[], y: readonly number[]): TCopula {
  checkPairs(x, y);
  const rho = Math.sin((Math.PI * kendallTau(x, y)) / 2);
  const u = pseudoObservations(x);
  const v = pseudoObservations(y);
  const best = goldenSection((lnNu) => -tCopulaLogDensity(u, v, rho, Math.exp(lnNu)), 0, Math.log(200), 1e-4);
  const nu = Math.exp(best.x);
  return { rho, nu, logLikelihood: -best.value };
}
