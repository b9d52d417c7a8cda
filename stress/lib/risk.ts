// Risk measures on losses (L = −return): VaR and expected shortfall, empirical and parametric,
// and Kupiec's proportion-of-failures backtest.
import chisquareCdf from "@stdlib/stats-base-dists-chisquare-cdf";
import normalPdf from "@stdlib/stats-base-dists-normal-pdf";
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import tPdf from "@stdlib/stats-base-dists-t-pdf";
import tQuantile from "@stdlib/stats-base-dists-t-quantile";

import { ascending, quantileSorted } from "./moments.js";
import type { StudentT } from "./student-t.js";

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new Error(`confidence level ${level} is not in (0, 1)`);
}

/** Empirical VaR: the `level` quantile of the losses (Hyndman–Fan type 7 interpolation). */
export function empiricalVaR(losses: readonly number[], level: number): number {
  checkLevel(level);
  return quantileSorted(ascending(losses), level);
}

/**
 * Empirical expected shortfall: the mean of the losses at or beyond the empirical VaR
 * (Acerbi & Tasche 2002, "On the coherence of expected shortfall", J. Banking & Finance 26).
 */
export function empiricalES(losses: readonly number[], level: number): number {
  const v = empiricalVaR(losses, level);
  const tail = losses.filter((l) => l >= v);
  return tail.reduce((a, b) => a + b, 0) / tail.length;
}

/** VaR of a normal loss N(m, s²): m + s·Φ⁻¹(level). */
export function normalVaR(m: number, s: number, level: number): number {
  checkLevel(level);
  return m + s * normalQuantile(level, 0, 1);
}

/** ES of a normal loss: m + s·φ(Φ⁻¹(level))/(1 − level) (McNeil, Frey & Embrechts 2015, Example 2.14). */
export function normalES(m: number, s: number, level: number): number {
  checkLevel(level);
  return m + (s * normalPdf(normalQuantile(level, 0, 1), 0, 1)) / (1 - level);
}

/**
 * VaR of the loss L = −R when the return R is a location–scale t fitted to returns: by symmetry of
 * the t, L has location −μ and the same σ, ν, so VaR = −μ + σ·t_ν⁻¹(level).
 */
export function studentTLossVaR(returns: StudentT, level: number): number {
  checkLevel(level);
  return -returns.mu + returns.sigma * tQuantile(level, returns.nu);
}

/**
 * ES of that loss: −μ + σ·g_ν(q)/(1 − level)·(ν + q²)/(ν − 1), q = t_ν⁻¹(level), g_ν the t density
 * (McNeil, Frey & Embrechts 2015, Example 2.15); infinite for ν ≤ 1.
 */
export function studentTLossES(returns: StudentT, level: number): number {
  checkLevel(level);
  const { nu } = returns;
  if (!(nu > 1)) throw new Error(`t expected shortfall: nu ${nu} ≤ 1, the mean loss is infinite`);
  const q = tQuantile(level, nu);
  return -returns.mu + ((returns.sigma * tPdf(q, nu)) / (1 - level)) * ((nu + q * q) / (nu - 1));
}

/** Kupiec's proportion-of-failures test of a VaR backtest. */
export interface Kupiec {
  observations: number;
  exceedances: number;
  expected: number;
  /** Likelihood ratio, χ²(1) under the hypothesis that the exceedance rate is 1 − level. */
  lr: number;
  pValue: number;
}

/** x·ln(y), with 0·ln 0 = 0 as in the binomial likelihood. */
function xlogy(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(y);
}

/**
 * Kupiec (1995), "Techniques for verifying the accuracy of risk measurement models", J. Derivatives 3:
 * with x exceedances in n days and p = 1 − level,
 * LR = −2 ln[(1−p)^(n−x) p^x] + 2 ln[(1−x/n)^(n−x) (x/n)^x], asymptotically χ²(1).
 */
export function kupiecTest(observations: number, exceedances: number, level: number): Kupiec {
  checkLevel(level);
  if (!Number.isInteger(observations) || observations < 1)
    throw new Error(`observations ${observations} is not a positive integer`);
  if (!Number.isInteger(exceedances) || exceedances < 0 || exceedances > observations) {
    throw new Error(`exceedances ${exceedances} is not an integer in [0, ${observations}]`);
  }
  const n = observations;
  const x = exceedances;
  const p = 1 - level;
  const rate = x / n;
  const lr = -2 * (xlogy(n - x, 1 - p) + xlogy(x, p)) + 2 * (xlogy(n - x, 1 - rate) + xlogy(x, rate));
  // Rounding can leave −1e−15 when x/n equals p.
  const stat = Math.max(0, lr);
  return { observations: n, exceedances: x, expected: n * p, lr: stat, pValue: 1 - chisquareCdf(stat, 1) };
}
