// Peaks over threshold: generalized Pareto fit to the losses above a high threshold, and the tail
// VaR / expected shortfall it implies. No maintained npm package fits a GPD, so it is written here
// and checked by recovering xi and beta from simulated GPD data (test/stress/gpd.test.ts).
import { ascending, mean, quantileSorted, variance } from "./moments.js";
import { minimize, standardErrors } from "./optimize.js";

/** Generalized Pareto distribution of excesses y ≥ 0: G(y) = 1 − (1 + xi·y/beta)^(−1/xi). */
export interface Gpd {
  xi: number;
  beta: number;
}

/** A peaks-over-threshold fit of one tail. */
export interface TailFit extends Gpd {
  se: Gpd;
  /** The threshold's quantile level in the loss sample, e.g. 0.95. */
  thresholdQuantile: number;
  threshold: number;
  /** Observations and exceedances: the tail above u holds exceedances / n of the probability. */
  n: number;
  exceedances: number;
  logLikelihood: number;
  converged: boolean;
}

/** |xi| below this is the exponential limit xi → 0 of the formulas. */
const XI_ZERO = 1e-9;

/**
 * Log-likelihood of excesses under a GPD: −k ln β − (1 + 1/ξ) Σ ln(1 + ξ y_i/β), or −k ln β − Σ y_i/β
 * at ξ = 0 (Smith 1987; Coles 2001, An Introduction to Statistical Modeling of Extreme Values, §4.3.2).
 * −∞ outside the support (β ≤ 0, or 1 + ξy/β ≤ 0 for some excess).
 */
export function gpdLogLikelihood(excesses: readonly number[], p: Gpd): number {
  const { xi, beta } = p;
  if (!(beta > 0)) return Number.NEGATIVE_INFINITY;
  let sum = 0;
  if (Math.abs(xi) < XI_ZERO) {
    for (const y of excesses) sum += y;
    return -excesses.length * Math.log(beta) - sum / beta;
  }
  for (const y of excesses) {
    const w = 1 + (xi * y) / beta;
    if (!(w > 0)) return Number.NEGATIVE_INFINITY;
    sum += Math.log1p((xi * y) / beta);
  }
  return -excesses.length * Math.log(beta) - (1 + 1 / xi) * sum;
}

/** Quantile of the GPD: y_p = β/ξ·((1 − p)^(−ξ) − 1), or −β ln(1 − p) at ξ = 0. */
export function gpdQuantile(p: number, g: Gpd): number {
  if (!(p >= 0 && p < 1)) throw new Error(`GPD quantile: probability ${p} is not in [0, 1)`);
  if (Math.abs(g.xi) < XI_ZERO) return -g.beta * Math.log1p(-p);
  return (g.beta / g.xi) * (Math.pow(1 - p, -g.xi) - 1);
}

/**
 * Maximum-likelihood GPD fit to excesses (Coles 2001 §4.3.2), started from the method-of-moments
 * estimates ξ₀ = ½(1 − m²/s²), β₀ = ½m(1 + m²/s²) (Hosking & Wallis 1987, Technometrics 29). ξ is
 * kept in (−0.5, 1.5): below −0.5 the MLE is not regular (Smith 1985), above 1 the mean is infinite.
 */
export function fitGpd(excesses: readonly number[]): Gpd & { se: Gpd; logLikelihood: number; converged: boolean } {
  if (excesses.length < 10) throw new Error(`fitGpd: needs at least 10 excesses, got ${excesses.length}`);
  if (excesses.some((y) => !(y >= 0))) throw new Error("fitGpd: excesses must be non-negative");
  const m = mean(excesses);
  const ratio = (m * m) / variance(excesses);
  const xi0 = Math.min(0.9, Math.max(-0.4, 0.5 * (1 - ratio)));
  const beta0 = 0.5 * m * (1 + ratio);
  const negLogLik = (theta: readonly number[]): number =>
    theta[0] <= -0.5 || theta[0] >= 1.5
      ? Number.POSITIVE_INFINITY
      : -gpdLogLikelihood(excesses, { xi: theta[0], beta: Math.exp(theta[1]) * m });
  const best = minimize(negLogLik, [xi0, Math.log(beta0 / m)], { step: [0.1, 0.2] });
  const fit = { xi: best.x[0], beta: Math.exp(best.x[1]) * m };
  const [seXi, seBeta] = standardErrors(
    (q) => -gpdLogLikelihood(excesses, { xi: q[0], beta: q[1] }),
    [fit.xi, fit.beta],
  );
  return {
    ...fit,
    se: { xi: seXi, beta: seBeta },
    logLikelihood: gpdLogLikelihood(excesses, fit),
    converged: best.converged,
  };
}

/**
 * Peaks over threshold on a loss sample: the threshold u is the empirical `thresholdQuantile`
 * of the losses, and a GPD is fitted to the excesses L − u of the losses above u
 * (Balkema & de Haan 1974, Pickands 1975; McNeil & Frey 2000, J. Empirical Finance 7).
 */
export function fitLossTail(losses: readonly number[], thresholdQuantile: number): TailFit {
  if (!(thresholdQuantile > 0 && thresholdQuantile < 1)) {
    throw new Error(`threshold quantile ${thresholdQuantile} is not in (0, 1)`);
  }
  const sorted = ascending(losses);
  const threshold = quantileSorted(sorted, thresholdQuantile);
  const excesses = sorted.filter((l) => l > threshold).map((l) => l - threshold);
  const fit = fitGpd(excesses);
  return { ...fit, thresholdQuantile, threshold, n: losses.length, exceedances: excesses.length };
}

/**
 * One-day VaR at `level` from a tail fit: u + β/ξ·(((n/N_u)(1 − level))^(−ξ) − 1)
 * (McNeil & Frey 2000, eq. 4; McNeil, Frey & Embrechts, Quantitative Risk Management, 2015, eq. 5.18).
 * Only for levels beyond the threshold's.
 */
export function tailVaR(tail: TailFit, level: number): number {
  const beyond = (1 - level) * (tail.n / tail.exceedances);
  if (!(level > 0 && level < 1) || !(beyond > 0 && beyond <= 1)) {
    throw new Error(`tail VaR: level ${level} is not beyond the threshold quantile ${tail.thresholdQuantile}`);
  }
  return tail.threshold + gpdQuantile(1 - beyond, tail);
}

/**
 * Expected shortfall at `level` from a tail fit: VaR/(1 − ξ) + (β − ξu)/(1 − ξ), finite for ξ < 1
 * (McNeil & Frey 2000, eq. 6; QRM 2015, eq. 5.19).
 */
export function tailES(tail: TailFit, level: number): number {
  if (!(tail.xi < 1)) throw new Error(`tail ES: xi ${tail.xi} ≥ 1, the expected shortfall is infinite`);
  const v = tailVaR(tail, level);
  return v / (1 - tail.xi) + (tail.beta - tail.xi * tail.threshold) / (1 - tail.xi);
}
