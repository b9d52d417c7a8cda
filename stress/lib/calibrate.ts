// Calibration, the first stage of the stress lab: every fit, risk measure and backtest on the
// shipped daily prices, as one plain object that serializes to calibration.json. Pure: the same
// series and settings give the same result, byte for byte once serialized.
import tQuantile from "@stdlib/stats-base-dists-t-quantile";

import { alignByDate, intradayMoves, logReturns, type OhlcSeries } from "./data.js";
import { fitTCopula, kendallTau, lowerTailDependence, pearson, spearman, tCopulaTailDependence } from "./dependence.js";
import { fitGarchT, garchVariances, type GarchT } from "./garch.js";
import { fitLossTail, tailES, tailVaR, type TailFit } from "./gpd.js";
import { mean, quantileSorted, ascending, standardDeviation } from "./moments.js";
import {
  empiricalES,
  empiricalVaR,
  kupiecTest,
  normalES,
  normalVaR,
  studentTLossES,
  studentTLossVaR,
  type Kupiec,
} from "./risk.js";
import { checkSeed } from "./rng.js";
import { simulatePath, type MarketModel } from "./simulate.js";
import { fitStudentT, type StudentTFit } from "./student-t.js";

/** One asset's input: its name (e.g. "BTC"), where its prices came from, and the parsed series. */
export interface AssetInput {
  asset: string;
  source: { file: string; sha256: string };
  series: OhlcSeries;
}

/** Settings; defaults in {@link DEFAULT_SETTINGS}. */
export interface CalibrationSettings {
  /** Quantile of the losses used as the peaks-over-threshold threshold. */
  thresholdQuantile: number;
  /** Thresholds at which ξ is refitted to show how much it depends on the choice (a stability table). */
  stabilityQuantiles: number[];
  /** Confidence levels of the VaR / ES table. */
  levels: number[];
  /** Levels q of the empirical lower-tail dependence C(q, q)/q. */
  tailDependenceLevels: number[];
  /** Level of the one-day VaR backtested against history. */
  backtestLevel: number;
  /** Window of the rolling historical-simulation VaR in the backtest. */
  historicalWindow: number;
  /** Seed and length of the simulated check of the joint model against history. */
  checkSeed: number;
  checkDays: number;
  /** Open-to-low drops whose frequency the check compares, e.g. 0.1 for days falling 10% from the open. */
  gapLevels: number[];
}

export const DEFAULT_SETTINGS: CalibrationSettings = {
  thresholdQuantile: 0.95,
  stabilityQuantiles: [0.9, 0.925, 0.95, 0.975],
  levels: [0.99, 0.995, 0.999],
  tailDependenceLevels: [0.01, 0.05, 0.1],
  backtestLevel: 0.99,
  historicalWindow: 500,
  checkSeed: 20200312,
  checkDays: 20_000,
  gapLevels: [0.1, 0.2],
};

/** VaR and ES of the one-day loss (a fraction of the position, log-return units) at one level, by each method. */
export interface RiskRow {
  level: number;
  empiricalVaR: number;
  empiricalES: number;
  normalVaR: number;
  normalES: number;
  studentTVaR: number;
  studentTES: number;
  /** null when the level is not beyond the GPD threshold. */
  gpdVaR: number | null;
  gpdES: number | null;
}

/** A VaR model's backtest: Kupiec's test of the exceedance count. */
export interface BacktestRow extends Kupiec {
  model: string;
  /** How the VaR was produced, said in one line for the report. */
  basis: string;
  from: string;
  to: string;
}

/** The GARCH-t fit as stored: no per-day variances, and no unconditional variance when α + β ≥ 1 − 1e−6. */
export interface GarchSummary extends GarchT {
  se: GarchT;
  logLikelihood: number;
  n: number;
  converged: boolean;
  persistence: number;
  /** True when α + β is within 1e−6 of 1: integrated GARCH, no finite unconditional variance. */
  integrated: boolean;
  unconditionalVariance: number | null;
  nextVariance: number;
}

/** Per-asset results. */
export interface AssetCalibration {
  asset: string;
  source: {
    file: string;
    sha256: string;
    firstDate: string;
    lastDate: string;
    days: number;
    skippedNullDates: string[];
  };
  returns: {
    count: number;
    mean: number;
    standardDeviation: number;
    worst: { date: string; value: number };
    best: { date: string; value: number };
  };
  openToLow: { median: number; p99: number; worst: { date: string; value: number } };
  studentT: StudentTFit;
  garchT: GarchSummary;
  tail: TailFit;
  /** ξ refitted at each stability quantile that leaves at least 20 exceedances. */
  tailStability: { thresholdQuantile: number; threshold: number; exceedances: number; xi: number; seXi: number }[];
  risk: RiskRow[];
  backtest: BacktestRow[];
}

/** Results for the pair of assets, on the days both have. */
export interface DependenceCalibration {
  assets: [string, string];
  pairs: number;
  from: string;
  to: string;
  pearson: number;
  spearman: number;
  kendall: number;
  lowerTail: { q: number; empirical: number }[];
  tCopula: { rho: number; nu: number; logLikelihood: number; tailDependence: number };
}

/** A published figure to print next to a fitted one. */
export interface PublishedRange {
  parameter: string;
  low: number;
  high: number;
  source: string;
}

/** One figure of the simulated check, on history and in the simulation. */
export interface CheckRow {
  measure: string;
  historical: number;
  simulated: number;
}

/**
 * The joint model (t margins, t copula, bootstrapped intraday excursions) simulated for `days`
 * independent days and compared with the days both assets have.
 */
export interface SimulationCheck {
  seed: number;
  days: number;
  historicalDays: number;
  rows: CheckRow[];
}

export interface Calibration {
  schema: "backstop-stress-calibration/1";
  settings: CalibrationSettings;
  assets: AssetCalibration[];
  dependence: DependenceCalibration | null;
  check: SimulationCheck | null;
  published: PublishedRange[];
}

/**
 * Published range for the GPD shape of daily crypto losses: ξ ≈ 0.2–0.4, the range issue 12 gives;
 * EVT studies of crypto returns in that line are Osterrieder & Lorenz (2017), "A statistical risk
 * assessment of Bitcoin and its extreme tail behavior", Annals of Financial Economics 12(1),
 * doi:10.1142/S2010495217500038, and Gkillas & Katsiampa (2018), "An application of extreme value
 * theory to cryptocurrencies", Economics Letters 164, 109–111. Their tables were not re-read for this
 * range; a reader who checks them should correct it here.
 */
export const PUBLISHED: PublishedRange[] = [
  {
    parameter: "GPD shape ξ of daily losses",
    low: 0.2,
    high: 0.4,
    source:
      "range as given in issue 12; cf. Osterrieder & Lorenz (2017), Ann. Financ. Econ. 12(1); Gkillas & Katsiampa (2018), Econ. Lett. 164",
  },
];

function extreme<T extends { value: number }>(xs: readonly T[], pick: (a: number, b: number) => boolean): T {
  return xs.reduce((best, x) => (pick(x.value, best.value) ? x : best));
}

function checkSettings(s: CalibrationSettings): void {
  const inUnit = (x: number): boolean => x > 0 && x < 1;
  if (!inUnit(s.thresholdQuantile)) throw new Error(`threshold quantile ${s.thresholdQuantile} is not in (0, 1)`);
  for (const l of [...s.levels, s.backtestLevel])
    if (!inUnit(l)) throw new Error(`confidence level ${l} is not in (0, 1)`);
  for (const q of s.tailDependenceLevels) if (!inUnit(q)) throw new Error(`tail level ${q} is not in (0, 1)`);
  for (const q of s.stabilityQuantiles) if (!inUnit(q)) throw new Error(`stability quantile ${q} is not in (0, 1)`);
  if (!Number.isInteger(s.historicalWindow) || s.historicalWindow < 50) {
    throw new Error(`historical window ${s.historicalWindow} is not an integer ≥ 50`);
  }
  checkSeed(s.checkSeed, "check seed");
  if (!Number.isInteger(s.checkDays) || s.checkDays < 100)
    throw new Error(`check days ${s.checkDays} is not an integer ≥ 100`);
  for (const g of s.gapLevels) if (!inUnit(g)) throw new Error(`gap level ${g} is not in (0, 1)`);
}

/** A backtest row from per-day VaR forecasts and realized losses over the same days. */
function backtestRow(
  model: string,
  basis: string,
  days: readonly { date: string; loss: number; varForecast: number }[],
  level: number,
): BacktestRow {
  const exceedances = days.filter((d) => d.loss > d.varForecast).length;
  return {
    model,
    basis,
    from: days[0].date,
    to: days[days.length - 1].date,
    ...kupiecTest(days.length, exceedances, level),
  };
}

/**
 * Backtests of the one-day VaR at `level` against the realized losses: normal, Student-t and GPD with
 * one set of parameters for the whole sample (in-sample, the test of the fitted distribution), GARCH-t
 * with full-sample parameters filtered one day ahead, and a rolling historical simulation over the
 * previous `window` days, the only one fully out of sample.
 */
function backtests(
  returns: readonly { date: string; value: number }[],
  t: StudentTFit,
  g: GarchSummary & { variances: number[] },
  tail: TailFit,
  s: CalibrationSettings,
): BacktestRow[] {
  const level = s.backtestLevel;
  const losses = returns.map((r) => ({ date: r.date, loss: -r.value }));
  const x = returns.map((r) => r.value);
  const m = mean(x);
  const sd = standardDeviation(x);
  const flat = (v: number) => losses.map((d) => ({ ...d, varForecast: v }));
  const rows = [
    backtestRow("normal", "one normal for the sample, in-sample", flat(normalVaR(-m, sd, level)), level),
    backtestRow("Student-t", "one t fit for the sample, in-sample", flat(studentTLossVaR(t, level)), level),
  ];
  if (level > tail.thresholdQuantile) {
    rows.push(backtestRow("GPD tail", "one POT fit for the sample, in-sample", flat(tailVaR(tail, level)), level));
  }
  const zq = tQuantile(level, g.nu) * Math.sqrt((g.nu - 2) / g.nu);
  const garchDays = losses.map((d, i) => ({ ...d, varForecast: -g.mu + Math.sqrt(g.variances[i]) * zq }));
  rows.push(backtestRow("GARCH-t", "full-sample parameters, variance filtered one day ahead", garchDays, level));
  const w = s.historicalWindow;
  if (losses.length > w + 50) {
    const hs = losses.slice(w).map((d, i) => ({
      ...d,
      varForecast: quantileSorted(ascending(losses.slice(i, i + w).map((p) => p.loss)), level),
    }));
    rows.push(backtestRow("historical simulation", `previous ${w} days, out-of-sample`, hs, level));
  }
  return rows;
}

/** Fits, risk table and backtests for one asset. */
export function calibrateAsset(input: AssetInput, s: CalibrationSettings = DEFAULT_SETTINGS): AssetCalibration {
  checkSettings(s);
  const { days, skippedNullDates } = input.series;
  const returns = logReturns(days);
  const x = returns.map((r) => r.value);
  const losses = x.map((v) => -v);
  const moves = intradayMoves(days).map((d) => ({ date: d.date, value: d.openToLow }));
  const sortedDrops = ascending(moves.map((d) => d.value));

  const studentT = fitStudentT(x);
  const garchFit = fitGarchT(x);
  const integrated = garchFit.persistence >= 1 - 1e-6;
  const { variances, ...garchRest } = garchFit;
  const garchT: GarchSummary = {
    ...garchRest,
    integrated,
    unconditionalVariance: integrated ? null : garchFit.unconditionalVariance,
  };
  const tail = fitLossTail(losses, s.thresholdQuantile);
  const tailStability = s.stabilityQuantiles
    .filter((q) => losses.length * (1 - q) >= 20)
    .map((q) => {
      const f = fitLossTail(losses, q);
      return { thresholdQuantile: q, threshold: f.threshold, exceedances: f.exceedances, xi: f.xi, seXi: f.se.xi };
    });
  const m = mean(x);
  const sd = standardDeviation(x);
  const risk: RiskRow[] = s.levels.map((level) => {
    const beyond = level > s.thresholdQuantile;
    return {
      level,
      empiricalVaR: empiricalVaR(losses, level),
      empiricalES: empiricalES(losses, level),
      normalVaR: normalVaR(-m, sd, level),
      normalES: normalES(-m, sd, level),
      studentTVaR: studentTLossVaR(studentT, level),
      studentTES: studentTLossES(studentT, level),
      gpdVaR: beyond ? tailVaR(tail, level) : null,
      gpdES: beyond && tail.xi < 1 ? tailES(tail, level) : null,
    };
  });
  return {
    asset: input.asset,
    source: {
      ...input.source,
      firstDate: days[0].date,
      lastDate: days[days.length - 1].date,
      days: days.length,
      skippedNullDates,
    },
    returns: {
      count: x.length,
      mean: m,
      standardDeviation: sd,
      worst: extreme(returns, (a, b) => a < b),
      best: extreme(returns, (a, b) => a > b),
    },
    openToLow: {
      median: quantileSorted(sortedDrops, 0.5),
      p99: quantileSorted(sortedDrops, 0.99),
      worst: extreme(moves, (a, b) => a > b),
    },
    studentT,
    garchT,
    tail,
    tailStability,
    risk,
    backtest: backtests(returns, studentT, { ...garchT, variances }, tail, s),
  };
}

/** Correlations, tail dependence and the t copula of two assets' returns on their common days. */
export function calibrateDependence(
  a: AssetInput,
  b: AssetInput,
  s: CalibrationSettings = DEFAULT_SETTINGS,
): DependenceCalibration {
  const pairs = alignByDate(logReturns(a.series.days), logReturns(b.series.days));
  if (pairs.length < 100) throw new Error(`${a.asset} and ${b.asset} share only ${pairs.length} days of returns`);
  const x = pairs.map(([p]) => p.value);
  const y = pairs.map(([, q]) => q.value);
  const copula = fitTCopula(x, y);
  return {
    assets: [a.asset, b.asset],
    pairs: pairs.length,
    from: pairs[0][0].date,
    to: pairs[pairs.length - 1][0].date,
    pearson: pearson(x, y),
    spearman: spearman(x, y),
    kendall: kendallTau(x, y),
    lowerTail: s.tailDependenceLevels.map((q) => ({ q, empirical: lowerTailDependence(x, y, q) })),
    tCopula: { ...copula, tailDependence: tCopulaTailDependence(copula.rho, copula.nu) },
  };
}

/** The whole calibration: each asset, and the dependence of the first two. */
export function calibrate(inputs: readonly AssetInput[], s: CalibrationSettings = DEFAULT_SETTINGS): Calibration {
  if (inputs.length === 0) throw new Error("calibrate: no assets");
  checkSettings(s);
  const c: Calibration = {
    schema: "backstop-stress-calibration/1",
    settings: s,
    assets: inputs.map((input) => calibrateAsset(input, s)),
    dependence: inputs.length >= 2 ? calibrateDependence(inputs[0], inputs[1], s) : null,
    check: null,
    published: PUBLISHED,
  };
  if (inputs.length >= 2) c.check = simulationCheck([inputs[0], inputs[1]], c, s);
  return c;
}

/**
 * Simulates the joint model with t margins (independent days, so one long path is as good as many
 * one-day paths) and compares it with the days both assets have: each asset's one-day VaR, how often
 * a day falls more than each gap level from its open, and how often both assets do on the same day.
 */
function simulationCheck(
  inputs: readonly [AssetInput, AssetInput],
  c: Calibration,
  s: CalibrationSettings,
): SimulationCheck {
  const model = marketModel(inputs, c, "t");
  const [a, b] = simulatePath(model, { seed: s.checkSeed, days: s.checkDays, startPrices: [1, 1] }, 0);
  const simulated = [a, b].map((p) =>
    p.close.map((close, t) => ({ r: Math.log(close / p.open[t]), drop: 1 - p.low[t] / p.open[t] })),
  );
  const moves = inputs.map((input) => new Map(intradayMoves(input.series.days).map((m) => [m.date, m.openToLow])));
  const returnsB = new Map(logReturns(inputs[1].series.days).map((r) => [r.date, r.value]));
  const historical = logReturns(inputs[0].series.days).flatMap((ra) => {
    const rb = returnsB.get(ra.date);
    const dropA = moves[0].get(ra.date);
    const dropB = moves[1].get(ra.date);
    return rb === undefined || dropA === undefined || dropB === undefined
      ? []
      : [
          [
            { r: ra.value, drop: dropA },
            { r: rb, drop: dropB },
          ],
        ];
  });
  const share = (days: number, hits: number): number => hits / days;
  const rows: CheckRow[] = [];
  model.assets.forEach((asset, k) => {
    const hist = historical.map((d) => d[k]);
    const sim = simulated[k];
    rows.push({
      measure: `${asset} one-day VaR ${s.backtestLevel * 100}%`,
      historical: empiricalVaR(
        hist.map((d) => -d.r),
        s.backtestLevel,
      ),
      simulated: empiricalVaR(
        sim.map((d) => -d.r),
        s.backtestLevel,
      ),
    });
    for (const g of s.gapLevels) {
      rows.push({
        measure: `${asset} days falling more than ${g * 100}% from the open`,
        historical: share(hist.length, hist.filter((d) => d.drop > g).length),
        simulated: share(sim.length, sim.filter((d) => d.drop > g).length),
      });
    }
  });
  for (const g of s.gapLevels) {
    rows.push({
      measure: `both falling more than ${g * 100}% from the open on the same day`,
      historical: share(historical.length, historical.filter(([x, y]) => x.drop > g && y.drop > g).length),
      simulated: share(s.checkDays, simulated[0].filter((d, t) => d.drop > g && simulated[1][t].drop > g).length),
    });
  }
  return { seed: s.checkSeed, days: s.checkDays, historicalDays: historical.length, rows };
}

/**
 * The simulator's market model from a calibration: GARCH-t margins started at their next-day variance
 * forecast (or t margins), the fitted t copula, and the intraday excursions of the days both assets
 * have, each with that day's GARCH conditional standard deviation for filtered historical simulation.
 */
export function marketModel(
  inputs: readonly [AssetInput, AssetInput],
  calibration: Calibration,
  margins: "t" | "garch-t",
): MarketModel {
  const [a, b] = calibration.assets;
  const dep = calibration.dependence;
  if (a === undefined || b === undefined || dep === null) throw new Error("market model needs a two-asset calibration");
  const sigmaByDate = inputs.map((input, k) => {
    const returns = logReturns(input.series.days);
    const g = calibration.assets[k].garchT;
    const { variances } = garchVariances(
      returns.map((r) => r.value),
      g,
    );
    return new Map(returns.map((r, i) => [r.date, Math.sqrt(variances[i])]));
  });
  const movesB = new Map(intradayMoves(inputs[1].series.days).map((m) => [m.date, m]));
  const intraday = intradayMoves(inputs[0].series.days).flatMap((ma) => {
    const mb = movesB.get(ma.date);
    const sa = sigmaByDate[0].get(ma.date);
    const sb = sigmaByDate[1].get(ma.date);
    return mb === undefined || sa === undefined || sb === undefined
      ? []
      : [{ down: [ma.down, mb.down], up: [ma.up, mb.up], sigma: [sa, sb] }];
  });
  return {
    assets: [a.asset, b.asset],
    marginals: [a, b].map((c) =>
      margins === "t"
        ? { kind: "t" as const, params: { mu: c.studentT.mu, sigma: c.studentT.sigma, nu: c.studentT.nu } }
        : {
            kind: "garch-t" as const,
            params: {
              mu: c.garchT.mu,
              omega: c.garchT.omega,
              alpha: c.garchT.alpha,
              beta: c.garchT.beta,
              nu: c.garchT.nu,
            },
            initialVariance: c.garchT.nextVariance,
          },
    ),
    copula: {
      correlation: [
        [1, dep.tCopula.rho],
        [dep.tCopula.rho, 1],
      ],
      nu: dep.tCopula.nu,
    },
    intraday,
  };
}
