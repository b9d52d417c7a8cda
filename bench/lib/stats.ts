// Pure arithmetic on gas samples: medians, ratios to a baseline, and the "does it grow" test.

/** Median of the samples; the mean of the two middle ones for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no samples");
  for (const v of values) if (!Number.isFinite(v)) throw new Error(`median: sample ${v} is not a finite number`);
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** value / base, for figures where 0 or a negative baseline would be a measuring error. */
export function ratio(value: number, base: number): number {
  if (!(base > 0)) throw new Error(`ratio: baseline ${base} is not positive`);
  if (!Number.isFinite(value)) throw new Error(`ratio: value ${value} is not a finite number`);
  return value / base;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(samples: readonly number[]): Summary {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs: samples.length };
}

export interface ScalePoint {
  /** Other positions in the market, or markets held by the account. */
  n: number;
  gas: number;
  /** gas / gas of the smallest n. */
  ratio: number;
}

/** Points sorted by n, each with its ratio to the smallest n. */
export function scalePoints(byN: ReadonlyMap<number, number>): ScalePoint[] {
  const ns = [...byN.keys()].sort((a, b) => a - b);
  if (ns.length === 0) throw new Error("scalePoints: no points");
  const base = byN.get(ns[0]) ?? 0;
  return ns.map((n) => {
    const gas = byN.get(n) ?? 0;
    return { n, gas, ratio: ratio(gas, base) };
  });
}

/** True when any point costs more than (1 + tolerance) × the smallest case. */
export function grows(points: readonly ScalePoint[], tolerance: number): boolean {
  if (tolerance < 0) throw new Error(`grows: negative tolerance ${tolerance}`);
  return points.some((p) => p.ratio > 1 + tolerance);
}

export interface CurvePoint {
  x: number;
  y: number;
}

/** The parabola y = a + b·x + c·x² through three points with distinct x. */
export function quadraticThrough(points: readonly CurvePoint[]): { a: number; b: number; c: number } {
  if (points.length !== 3) throw new Error(`quadraticThrough: needs 3 points, got ${points.length}`);
  const [p, q, r] = points;
  if (p.x === q.x || q.x === r.x || p.x === r.x) throw new Error("quadraticThrough: the x values must differ");
  // Divided differences: c = [p,q,r], b = [p,q] − c·(xp + xq), a = yp − b·xp − c·xp².
  const pq = (q.y - p.y) / (q.x - p.x);
  const qr = (r.y - q.y) / (r.x - q.x);
  const c = (qr - pq) / (r.x - p.x);
  const b = pq - c * (p.x + q.x);
  const a = p.y - b * p.x - c * p.x * p.x;
  return { a, b, c };
}

/** The largest whole x ≥ 0 with a + b·x + c·x² ≤ limit on a rising curve; 0 when even x = 0 is over. */
export function largestWithin(curve: { a: number; b: number; c: number }, limit: number): number {
  const { a, b, c } = curve;
  if (a > limit) return 0;
  let x: number;
  if (Math.abs(c) < 1e-12) {
    if (b <= 0) throw new Error("largestWithin: the curve does not rise");
    x = (limit - a) / b;
  } else {
    const disc = b * b - 4 * c * (a - limit);
    if (disc < 0) throw new Error("largestWithin: the curve never reaches the limit");
    x = (-b + Math.sqrt(disc)) / (2 * c);
  }
  let n = Math.floor(x);
  // Guard against floating-point error at the boundary.
  while (n > 0 && a + b * n + c * n * n > limit) n -= 1;
  return n;
}

/** The `p`-th percentile (0 < p ≤ 100) by nearest rank: the smallest sample with at least p % of samples ≤ it. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error("percentile of no samples");
  if (!(p > 0 && p <= 100)) throw new Error(`percentile: ${p} is not in (0, 100]`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1];
}

/**
 * Items of `fixed + perItem × n` gas transactions, each at most `txCap`, that fit in `blockGas`: full transactions
 * first, then one with what is left.
 */
export function batchPacking(
  fixed: number,
  perItem: number,
  txCap: number,
  blockGas: number,
): { itemsPerTransaction: number; perBlock: number } {
  const itemsPerTransaction = Math.floor((txCap - fixed) / perItem);
  if (itemsPerTransaction < 1) throw new Error(`one item (${fixed} + ${perItem} gas) exceeds the cap ${txCap}`);
  let left = blockGas;
  let perBlock = 0;
  while (left >= fixed + perItem) {
    const n = Math.min(itemsPerTransaction, Math.floor((left - fixed) / perItem));
    perBlock += n;
    left -= fixed + n * perItem;
  }
  return { itemsPerTransaction, perBlock };
}
