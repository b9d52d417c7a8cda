// Sample moments and quantiles shared by the fits and the risk measures.

/** Arithmetic mean; throws on an empty sample. */
export function mean(x: readonly number[]): number {
  if (x.length === 0) throw new Error("mean of no observations");
  let sum = 0;
  for (const v of x) sum += v;
  return sum / x.length;
}

/** Sample variance with the n − 1 divisor. */
export function variance(x: readonly number[]): number {
  if (x.length < 2) throw new Error(`variance needs two observations, got ${x.length}`);
  const m = mean(x);
  let sum = 0;
  for (const v of x) sum += (v - m) * (v - m);
  return sum / (x.length - 1);
}

/** Sample standard deviation (n − 1 divisor). */
export function standardDeviation(x: readonly number[]): number {
  return Math.sqrt(variance(x));
}

/**
 * Empirical quantile at probability p of an ascending sample, by linear interpolation between
 * order statistics (Hyndman & Fan 1996, definition 7; the default of R and NumPy).
 */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error("quantile of no observations");
  if (!(p >= 0 && p <= 1)) throw new Error(`probability ${p} is not in [0, 1]`);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Ascending copy of a sample. */
export function ascending(x: readonly number[]): number[] {
  // A typed array sorts numerically; Array.prototype.sort would compare strings.
  return Array.from(Float64Array.from(x).sort());
}
