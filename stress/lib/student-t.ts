// Location–scale Student-t: log-likelihood and maximum-likelihood fit.
import gammaln from "@stdlib/math-base-special-gammaln";

import { minimize, standardErrors } from "./optimize.js";
import { mean, standardDeviation } from "./moments.js";

/** X = mu + sigma·T with T Student-t with nu degrees of freedom. */
export interface StudentT {
  mu: number;
  sigma: number;
  nu: number;
}

/** A fit: the estimates, their standard errors (NaN where not available) and the maximized log-likelihood. */
export interface StudentTFit extends StudentT {
  se: StudentT;
  logLikelihood: number;
  n: number;
  converged: boolean;
}

/**
 * Log-likelihood of a sample under a location–scale t:
 * Σ [lnΓ((ν+1)/2) − lnΓ(ν/2) − ½ln(νπ) − ln σ − (ν+1)/2 · ln(1 + z²/ν)], z = (x − μ)/σ
 * (Lange, Little & Taylor 1989, "Robust statistical modeling using the t distribution", JASA 84).
 * −∞ outside the domain σ > 0, ν > 0. Checked against stdlib's t log-pdf in the tests.
 */
export function studentTLogLikelihood(x: readonly number[], p: StudentT): number {
  const { mu, sigma, nu } = p;
  if (!(sigma > 0) || !(nu > 0) || !Number.isFinite(nu)) return Number.NEGATIVE_INFINITY;
  const c = gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * Math.log(nu * Math.PI) - Math.log(sigma);
  let sum = 0;
  for (const xi of x) {
    const z = (xi - mu) / sigma;
    sum += Math.log1p((z * z) / nu);
  }
  return x.length * c - ((nu + 1) / 2) * sum;
}

const NU_MAX = 1000;

/**
 * Maximum-likelihood fit of (μ, σ, ν). The data are scaled by their standard deviation first so the
 * simplex works on numbers near 1; σ and ν are optimized through their logarithms (positive by
 * construction) and ν is kept below 1000 (beyond it the t is a normal for any sample size here).
 */
export function fitStudentT(x: readonly number[]): StudentTFit {
  if (x.length < 10) throw new Error(`fitStudentT: needs at least 10 observations, got ${x.length}`);
  const s = standardDeviation(x);
  if (!(s > 0)) throw new Error("fitStudentT: the sample has no spread");
  const y = x.map((v) => v / s);
  const negLogLik = (theta: readonly number[]): number => {
    const nu = Math.exp(theta[2]);
    if (nu > NU_MAX) return Number.POSITIVE_INFINITY;
    return -studentTLogLikelihood(y, { mu: theta[0], sigma: Math.exp(theta[1]), nu });
  };
  const start = [mean(y), Math.log(0.7), Math.log(4)];
  const best = minimize(negLogLik, start, { step: [0.1, 0.2, 0.5] });
  const fit: StudentT = { mu: best.x[0] * s, sigma: Math.exp(best.x[1]) * s, nu: Math.exp(best.x[2]) };
  const natural = (p: readonly number[]): number => -studentTLogLikelihood(x, { mu: p[0], sigma: p[1], nu: p[2] });
  const [seMu, seSigma, seNu] = standardErrors(natural, [fit.mu, fit.sigma, fit.nu]);
  return {
    ...fit,
    se: { mu: seMu, sigma: seSigma, nu: seNu },
    logLikelihood: studentTLogLikelihood(x, fit),
    n: x.length,
    converged: best.converged,
  };
}
