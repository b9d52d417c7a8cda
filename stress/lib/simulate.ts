// Seeded simulator of fat-tailed daily OHLC paths for several assets at once: t or GARCH(1,1)-t
// margins joined by a t copula, with intraday lows and highs bootstrapped from history.
import tCdf from "@stdlib/stats-base-dists-t-cdf";
import tQuantile from "@stdlib/stats-base-dists-t-quantile";

import type { GarchT } from "./garch.js";
import { checkSeed, createRng, type Rng } from "./rng.js";
import type { StudentT } from "./student-t.js";

/** How one asset's daily log return is drawn. */
export type Marginal =
  | { kind: "t"; params: StudentT }
  /** Starts from variance `initialVariance` (e.g. the fit's next-day forecast, or its unconditional variance). */
  | { kind: "garch-t"; params: GarchT; initialVariance: number };

/**
 * One historical day's intraday excursions beyond the open–close body, per asset (see
 * data.ts `intradayMoves`), and that day's GARCH conditional standard deviation per asset.
 */
export interface IntradayDay {
  down: readonly number[];
  up: readonly number[];
  sigma: readonly number[];
}

/** Everything the simulator needs; calibration builds it from the fits. */
export interface MarketModel {
  assets: readonly string[];
  marginals: readonly Marginal[];
  /** Copula correlation matrix (positive definite) and degrees of freedom (Infinity: a Gaussian copula). */
  copula: { correlation: readonly (readonly number[])[]; nu: number };
  /** Historical days to draw intraday excursions from, with all assets on the same day. */
  intraday: readonly IntradayDay[];
}

/** One asset's simulated days; open_t is close_{t−1} (the market trades around the clock). */
export interface AssetPath {
  open: number[];
  high: number[];
  low: number[];
  close: number[];
}

/** Lower-triangular L with L·Lᵀ = A, for a symmetric positive definite A (Golub & Van Loan, Alg. 4.2.1). */
export function cholesky(a: readonly (readonly number[])[]): number[][] {
  const n = a.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    if (a[i].length !== n) throw new Error("cholesky: matrix is not square");
    for (let j = 0; j <= i; j++) {
      let s = a[i][j];
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      if (i === j) {
        if (!(s > 0)) throw new Error("cholesky: matrix is not positive definite");
        l[i][i] = Math.sqrt(s);
      } else {
        l[i][j] = s / l[j][j];
      }
    }
  }
  return l;
}

/**
 * Maps a t_{from} variate to the t_{to} variate with the same probability, F_to⁻¹(F_from(x)).
 * Works on the lower tail by symmetry, so a far upper-tail x does not round to probability 1.
 */
function tToT(x: number, from: number, to: number): number {
  if (from === to) return x;
  const q = tQuantile(tCdf(-Math.abs(x), from), to);
  return x > 0 ? -q : q;
}

function checkModel(model: MarketModel): number[][] {
  const n = model.assets.length;
  if (n === 0) throw new Error("market model has no assets");
  if (model.marginals.length !== n)
    throw new Error(`market model has ${model.marginals.length} marginals for ${n} assets`);
  if (model.copula.correlation.length !== n) throw new Error("copula correlation matrix does not match the assets");
  if (!(model.copula.nu > 0)) throw new Error(`copula nu ${model.copula.nu} is not positive`);
  if (!Number.isFinite(model.copula.nu)) throw new Error("copula nu must be finite (a t copula)");
  if (model.intraday.length === 0) throw new Error("market model has no intraday days to draw from");
  model.intraday.forEach((day, i) => {
    const ok = [day.down, day.up, day.sigma].every(
      (v) => v.length === n && v.every((x) => x >= 0 && Number.isFinite(x)),
    );
    if (!ok || day.sigma.some((x) => !(x > 0))) {
      throw new Error(`intraday day ${i} needs ${n} non-negative excursions and ${n} positive sigmas`);
    }
  });
  for (const m of model.marginals) {
    if (m.kind === "garch-t" && !(m.params.nu > 2)) throw new Error(`GARCH-t nu ${m.params.nu} must exceed 2`);
  }
  return cholesky(model.copula.correlation);
}

/**
 * Draws one path of `days` days. Each day: correlated normals Z = L·N, one χ²(ν_c) draw W for all
 * assets, the t-copula variates T_k = Z_k/√(W/ν_c) (Demarta & McNeil 2005), each mapped to its
 * margin's t; the return is μ + σ·t (t margin) or μ + σ_t·t·√((ν−2)/ν) (GARCH-t). The intraday low and
 * high come from one historical day drawn at random for all assets, so joint crash days stay joint:
 * excursions as they were for a t margin, scaled by σ_t/σ_hist for a GARCH margin (filtered
 * historical simulation, Barone-Adesi, Giannopoulos & Vosper 1999).
 */
function drawPath(
  model: MarketModel,
  l: readonly (readonly number[])[],
  rng: Rng,
  days: number,
  start: readonly number[],
): AssetPath[] {
  const n = model.assets.length;
  const nuC = model.copula.nu;
  const paths: AssetPath[] = model.assets.map(() => ({ open: [], high: [], low: [], close: [] }));
  const variance = model.marginals.map((m) => (m.kind === "garch-t" ? m.initialVariance : 0));
  const residual = new Array<number>(n).fill(0);
  const last = [...start];
  const z = new Array<number>(n);
  for (let t = 0; t < days; t++) {
    for (let k = 0; k < n; k++) z[k] = rng.normal();
    const scale = Math.sqrt(nuC / rng.chisquare(nuC));
    const day = model.intraday[Math.floor(rng.uniform() * model.intraday.length)];
    for (let k = 0; k < n; k++) {
      let x = 0;
      for (let j = 0; j <= k; j++) x += l[k][j] * z[j];
      const m = model.marginals[k];
      const e = tToT(x * scale, nuC, m.params.nu);
      let r: number;
      let down = day.down[k];
      let up = day.up[k];
      if (m.kind === "t") {
        r = m.params.mu + m.params.sigma * e;
      } else {
        const p = m.params;
        if (t > 0) variance[k] = p.omega + p.alpha * residual[k] ** 2 + p.beta * variance[k];
        residual[k] = Math.sqrt(variance[k]) * e * Math.sqrt((p.nu - 2) / p.nu);
        r = p.mu + residual[k];
        const ratio = Math.sqrt(variance[k]) / day.sigma[k];
        down *= ratio;
        up *= ratio;
      }
      const open = last[k];
      const close = open * Math.exp(r);
      const path = paths[k];
      path.open.push(open);
      path.close.push(close);
      path.low.push(Math.min(open, close) * Math.exp(-down));
      path.high.push(Math.max(open, close) * Math.exp(up));
      last[k] = close;
    }
  }
  return paths;
}

/** Options of a simulation run. */
export interface SimulationOptions {
  seed: number;
  days: number;
  /** Price of each asset at the start, in the model's asset order. */
  startPrices: readonly number[];
}

/**
 * Path `index` (0-based) of the run with `seed`: its own mt19937 stream seeded by [seed, index + 1],
 * so it is the same whether it is drawn alone or among 10,000 (and paths can be split across workers).
 */
export function simulatePath(model: MarketModel, options: SimulationOptions, index: number): AssetPath[] {
  const l = checkModel(model);
  checkOptions(model, options);
  if (!Number.isInteger(index) || index < 0) throw new Error(`path index ${index} is not a non-negative integer`);
  return drawPath(model, l, createRng([options.seed, index + 1]), options.days, options.startPrices);
}

/** Paths 0..count−1 of the run with `seed` (see {@link simulatePath}). */
export function simulatePaths(model: MarketModel, options: SimulationOptions, count: number): AssetPath[][] {
  const l = checkModel(model);
  checkOptions(model, options);
  if (!Number.isInteger(count) || count < 1) throw new Error(`path count ${count} is not a positive integer`);
  return Array.from({ length: count }, (_, i) =>
    drawPath(model, l, createRng([options.seed, i + 1]), options.days, options.startPrices),
  );
}

function checkOptions(model: MarketModel, options: SimulationOptions): void {
  if (!Number.isInteger(options.days) || options.days < 1)
    throw new Error(`days ${options.days} is not a positive integer`);
  if (options.startPrices.length !== model.assets.length || options.startPrices.some((p) => !(p > 0))) {
    throw new Error(`start prices must be ${model.assets.length} positive numbers`);
  }
  checkSeed(options.seed);
}

/**
 * Unit-variance Student-t draws N·√((ν−2)/W), W ~ χ²(ν): the innovations of a GARCH-t, for tests and
 * for callers that simulate one series.
 */
export function standardizedTDraws(rng: Rng, nu: number, count: number): number[] {
  if (!(nu > 2)) throw new Error(`standardized t needs nu > 2, got ${nu}`);
  return Array.from({ length: count }, () => rng.normal() * Math.sqrt((nu - 2) / rng.chisquare(nu)));
}
