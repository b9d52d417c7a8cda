// GARCH(1,1) with Student-t innovations: filter, log-likelihood, maximum-likelihood fit, paths.
// Written here because no maintained TypeScript/npm package estimates GARCH; checked in
// test/stress/garch.test.ts by recovering the parameters of a simulated path.
import gammaln from "@stdlib/math-base-special-gammaln";

import { mean, standardDeviation } from "./moments.js";
import { minimize, standardErrors } from "./optimize.js";

/**
 * r_t = mu + eps_t, eps_t = sigma_t·z_t, sigma²_t = omega + alpha·eps²_{t−1} + beta·sigma²_{t−1},
 * z_t Student-t with nu > 2 degrees of freedom scaled to unit variance
 * (Bollerslev 1986, J. Econometrics 31; t innovations: Bollerslev 1987, Rev. Econ. Stat. 69).
 */
export interface GarchT {
  mu: number;
  omega: number;
  alpha: number;
  beta: number;
  nu: number;
}

/** A fit, with standard errors, the conditional variances it filtered and the next-day variance. */
export interface GarchTFit extends GarchT {
  se: GarchT;
  logLikelihood: number;
  n: number;
  converged: boolean;
  /** alpha + beta: how slowly a volatility shock fades (half-life ln ½ / ln(α+β) days). */
  persistence: number;
  /** Unconditional daily variance omega / (1 − alpha − beta). */
  unconditionalVariance: number;
  /** sigma²_t for each observation (the one-day-ahead variance known the day before). */
  variances: number[];
  /** sigma²_{n+1}: the variance forecast for the day after the sample. */
  nextVariance: number;
}

/**
 * The conditional variances sigma²_1..sigma²_n of a return series, and sigma²_{n+1}. The recursion
 * starts from the sample mean of squared residuals, the usual backcast (as in R's rugarch).
 */
export function garchVariances(r: readonly number[], p: GarchT): { variances: number[]; next: number } {
  let start = 0;
  for (const x of r) start += (x - p.mu) * (x - p.mu);
  start /= r.length;
  const variances = new Array<number>(r.length);
  let v = start;
  for (let t = 0; t < r.length; t++) {
    variances[t] = v;
    const e = r[t] - p.mu;
    v = p.omega + p.alpha * e * e + p.beta * v;
  }
  return { variances, next: v };
}

/** True for a stationary GARCH-t with finite-variance innovations. */
function admissible(p: GarchT): boolean {
  return p.omega > 0 && p.alpha >= 0 && p.beta >= 0 && p.alpha + p.beta < 1 && p.nu > 2 && Number.isFinite(p.nu);
}

/**
 * Log-likelihood Σ_t [lnΓ((ν+1)/2) − lnΓ(ν/2) − ½ln(π(ν−2)) − ½ln σ²_t − (ν+1)/2·ln(1 + ε²_t/((ν−2)σ²_t))]
 * of the unit-variance t (Bollerslev 1987, eq. 3); −∞ outside the stationary region.
 */
export function garchTLogLikelihood(r: readonly number[], p: GarchT): number {
  if (!admissible(p)) return Number.NEGATIVE_INFINITY;
  const { variances } = garchVariances(r, p);
  const { mu, nu } = p;
  const c = gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * Math.log(Math.PI * (nu - 2));
  let sum = r.length * c;
  for (let t = 0; t < r.length; t++) {
    const e = r[t] - mu;
    sum -= 0.5 * Math.log(variances[t]) + ((nu + 1) / 2) * Math.log1p((e * e) / ((nu - 2) * variances[t]));
  }
  return sum;
}

/** Unconstrained vector → parameters: alpha, beta by a 3-way softmax (so alpha + beta < 1), omega and nu − 2 by exp. */
function fromTheta(theta: readonly number[]): GarchT {
  const ea = Math.exp(theta[2]);
  const eb = Math.exp(theta[3]);
  const d = 1 + ea + eb;
  return { mu: theta[0], omega: Math.exp(theta[1]), alpha: ea / d, beta: eb / d, nu: 2 + Math.exp(theta[4]) };
}

/**
 * Maximum-likelihood fit of GARCH(1,1)-t by Nelder–Mead with restarts. The returns are scaled by
 * their standard deviation (so omega starts near 0.02, not 1e−5) and the answer scaled back; the
 * start is the typical daily fit alpha = 0.08, beta = 0.9, nu = 5.
 */
export function fitGarchT(r: readonly number[]): GarchTFit {
  if (r.length < 100) throw new Error(`fitGarchT: needs at least 100 returns, got ${r.length}`);
  const s = standardDeviation(r);
  if (!(s > 0)) throw new Error("fitGarchT: the returns have no spread");
  const y = r.map((v) => v / s);
  const negLogLik = (theta: readonly number[]): number => -garchTLogLikelihood(y, fromTheta(theta));
  const start = [mean(y), Math.log(0.02), Math.log(4), Math.log(45), Math.log(3)];
  const best = minimize(negLogLik, start, { step: [0.05, 0.5, 0.5, 0.5, 0.5] });
  const scaled = fromTheta(best.x);
  const p: GarchT = { ...scaled, mu: scaled.mu * s, omega: scaled.omega * s * s };
  const natural = (q: readonly number[]): number =>
    -garchTLogLikelihood(y, { mu: q[0], omega: q[1], alpha: q[2], beta: q[3], nu: q[4] });
  const se = standardErrors(natural, [scaled.mu, scaled.omega, scaled.alpha, scaled.beta, scaled.nu]);
  const { variances, next } = garchVariances(r, p);
  return {
    ...p,
    se: { mu: se[0] * s, omega: se[1] * s * s, alpha: se[2], beta: se[3], nu: se[4] },
    logLikelihood: garchTLogLikelihood(r, p),
    n: r.length,
    converged: best.converged,
    persistence: p.alpha + p.beta,
    unconditionalVariance: p.omega / (1 - p.alpha - p.beta),
    variances,
    nextVariance: next,
  };
}

/**
 * A GARCH path driven by given unit-variance innovations z_1..z_n, from variance `initialVariance`
 * and last residual `initialResidual`: returns r_t and sigma²_t. Pure, so the simulator and the
 * tests feed it their own seeded draws.
 */
export function garchPath(
  p: GarchT,
  innovations: readonly number[],
  initialVariance: number,
  initialResidual = 0,
): { returns: number[]; variances: number[] } {
  const returns = new Array<number>(innovations.length);
  const variances = new Array<number>(innovations.length);
  let v = initialVariance;
  let e = initialResidual;
  for (let t = 0; t < innovations.length; t++) {
    if (t > 0) v = p.omega + p.alpha * e * e + p.beta * v;
    e = Math.sqrt(v) * innovations[t];
    variances[t] = v;
    returns[t] = p.mu + e;
  }
  return { returns, variances };
}
