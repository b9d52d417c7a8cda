// The `run` stage: population, Monte Carlo and scenario paths through the engine, risk figures, fund sizing.
import {
  abs,
  hardhat,
  LOCAL_BTC_PRICE,
  LOCAL_ETH_PRICE,
  overshoot,
  SCALE,
  takenFromTraders,
  WAD,
  type NetworkParams,
} from "#sdk";

import { calibrate, DEFAULT_SETTINGS, marketModel, type BacktestRow } from "./calibrate.js";
import { logReturns, type OhlcDay } from "./data.js";
import { engineFigures, FIGURE_KEYS, openChainLab, type PathFigures } from "./chain.js";
import { runInWorkers } from "./chain-pool.js";
import {
  LAB_LIQUIDATION_BUFFER,
  openingFills,
  openLedger,
  type EngineMarket,
  type LossPolicy,
  type Outcome,
} from "./engine.js";
import { ascending } from "./moments.js";
import {
  concentration,
  generatePopulation,
  DEFAULT_POPULATION,
  type Holding,
  type PopulationParams,
  type StartPrices,
} from "./population.js";
import { empiricalVaR } from "./risk.js";
import { readAssets } from "./run.js";
import { DEFAULT_PATH_SETTINGS, runPath, type PathSettings } from "./scenario.js";
import { simulatePath, type AssetPath, type MarketModel } from "./simulate.js";

/**
 * The deployed markets (sdk/deploy/networks/local.ts) as the engine sees them, in market-id order; with `policy`,
 * every market listed under that loss policy instead of its own (the side-by-side runs of `--policies`), and every
 * market with the lab's liquidation `buffer` (the chain check deploys the markets so).
 */
export function engineMarkets(
  params: NetworkParams = hardhat,
  mmr?: bigint,
  policy?: LossPolicy,
  buffer: bigint = LAB_LIQUIDATION_BUFFER,
): EngineMarket[] {
  return params.markets.map((m) => {
    if (m.symbol !== "ETH-USD" && m.symbol !== "BTC-USD") throw new Error(`market ${m.symbol} is not modelled`);
    return {
      symbol: m.symbol,
      lossPolicy: policy ?? m.lossPolicy,
      maintenanceMarginRatio: mmr ?? BigInt(m.risk.maintenanceMarginRatio),
      liquidationDiscount: BigInt(m.risk.liquidationDiscount),
      liquidationFeeRatio: BigInt(m.risk.liquidationFeeRatio),
      liquidationBuffer: buffer,
      makerFeeRatio: BigInt(m.risk.makerFeeRatio),
      takerFeeRatio: BigInt(m.risk.takerFeeRatio),
    };
  });
}

export const START_PRICES: StartPrices = { "ETH-USD": LOCAL_ETH_PRICE * WAD, "BTC-USD": LOCAL_BTC_PRICE * WAD };

/** Options of a run, validated by the CLI. */
export interface RunOptions {
  paths: number;
  seed: number;
  accounts: number;
  /** Insurance fund in whole USD. */
  fundUsd: number;
  horizonDays: number;
  latencyBlocks: number;
  /** Every market's liquidation buffer, in the engine and on chain (default LAB_LIQUIDATION_BUFFER). */
  liquidationBuffer?: bigint;
  population?: Holding[];
  /** A price path from a file: replaces nothing, runs as one more scenario. */
  pathFile?: { name: string; paths: AssetPath[] };
  /** Paths per sensitivity cell (at most `paths`). */
  sensitivityPaths: number;
  /** Monte Carlo paths also run through the contracts (0: none). */
  chainPaths: number;
  /** Of those, how many the project's keeper runs on its own; the rest replay the engine's calls (default all). */
  keeperPaths?: number;
  /** Target probability per year that a deficit reaches the loss policy. */
  targetPerYear: number;
  /**
   * Loss policies to run the same Monte Carlo paths under side by side, every market listed under each in turn
   * (none: no side-by-side table). With "haircut", the chain check also runs on a haircut deployment.
   */
  policies?: readonly LossPolicy[];
  /** Simulated days the 99.9% move is read from (10,000 in the CLI). */
  jointDays: number;
  dataDir: string;
  onProgress?: (done: number, total: number) => void;
  onChainProgress?: (done: number, total: number) => void;
  onPolicyProgress?: (policy: LossPolicy, done: number, total: number) => void;
}

/** USD float of a wad amount, for statistics (the exact wei stay in the outcomes). */
export const usd = (wad: bigint): number => Number(wad / 10n ** 12n) / 1e6;

export interface Stats {
  paths: number;
  mean: number;
  probabilityPositive: number;
  var99: number;
  var999: number;
  es99: number;
  es999: number;
  max: number;
}

/**
 * Expected shortfall as the mean of the worst ⌈n(1 − level)⌉ paths. Unlike the mean of the losses at or
 * beyond the VaR, it stays coherent when many paths tie at the VaR, as bad debt does at 0 (Acerbi & Tasche
 * 2002, the sample estimator of their eq. 3.3 at k = ⌈n(1 − level)⌉).
 */
export function tailMean(x: readonly number[], level: number): number {
  if (!(level > 0 && level < 1)) throw new Error(`confidence level ${level} is not in (0, 1)`);
  const s = ascending(x);
  const k = Math.max(1, Math.ceil(s.length * (1 - level) - 1e-9));
  return s.slice(s.length - k).reduce((a, b) => a + b, 0) / k;
}

export function stats(x: readonly number[]): Stats {
  const s = ascending(x);
  return {
    paths: s.length,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    probabilityPositive: s.filter((v) => v > 0).length / s.length,
    var99: empiricalVaR(s, 0.99),
    var999: empiricalVaR(s, 0.999),
    es99: tailMean(s, 0.99),
    es999: tailMean(s, 0.999),
    max: s[s.length - 1],
  };
}

/**
 * The smallest fund F (a value of the sample, or 0) with P(loss > F) ≤ p over the sample: the fund that keeps
 * the frequency of deficits reaching the loss policy at or below p (fees set aside would only lower it).
 */
export function fundForTarget(losses: readonly number[], p: number): number {
  if (!(p >= 0 && p < 1)) throw new Error(`target probability ${p} is not in [0, 1)`);
  const s = ascending(losses);
  const allowed = Math.floor(p * s.length);
  // Losses strictly above F may number at most `allowed`: F is the (n − allowed)-th smallest.
  const k = s.length - allowed - 1;
  return k < 0 ? 0 : Math.max(0, s[k]);
}

/** Per-path probability for a per-year target over a horizon of `days`: 1 − (1 − p)^(days/365). */
export const perPathTarget = (perYear: number, days: number): number => 1 - (1 - perYear) ** (days / 365);

export interface PathRow {
  /** The engine's exact amounts as integer strings: wad (18 decimals), fundDrawn in token units (6 decimals). */
  exact: { badDebt: string; fundDrawn: string; deleveraged: string; socialized: string };
  /** The same in USD, for statistics and charts. */
  badDebt: number;
  fundDrawn: number;
  deleveraged: number;
  socialized: number;
  /** The largest drop from the start to a low, over both markets (for the ADL-volume chart). */
  crash: number;
}

function row(o: Outcome, paths: readonly AssetPath[]): PathRow {
  const crash = Math.max(...paths.map((p) => 1 - Math.min(...p.low) / p.open[0]));
  return {
    exact: {
      badDebt: o.badDebt.toString(),
      fundDrawn: o.fundDrawn.toString(),
      deleveraged: o.deleveraged.toString(),
      socialized: o.socialized.toString(),
    },
    badDebt: usd(o.badDebt),
    fundDrawn: Number(o.fundDrawn) / 1e6,
    deleveraged: usd(o.deleveraged),
    socialized: usd(o.socialized),
    crash,
  };
}

/** The model's asset order is BTC, ETH; the engine's market order is the deployment's. */
function toMarketOrder(markets: readonly EngineMarket[], model: MarketModel, paths: AssetPath[]): AssetPath[] {
  return markets.map((m) => {
    const k = model.assets.indexOf(m.symbol.slice(0, 3));
    if (k < 0) throw new Error(`no price model for ${m.symbol}`);
    return paths[k];
  });
}

/** Monte Carlo path `i` of the run's seed, in the engine's market order (the same path under every policy). */
export function monteCarloPath(
  model: MarketModel,
  markets: readonly EngineMarket[],
  o: Pick<RunOptions, "seed" | "horizonDays">,
  i: number,
  start: number[] = startPricesFor(model),
): AssetPath[] {
  return toMarketOrder(
    markets,
    model,
    simulatePath(model, { seed: o.seed, days: o.horizonDays, startPrices: start }, i),
  );
}

/** The price model a run drives its paths with: GARCH(1,1)-t margins and the t copula fitted to the shipped data. */
export async function labModel(dataDir: string): Promise<{
  assets: Awaited<ReturnType<typeof readAssets>>;
  calibration: ReturnType<typeof calibrate>;
  model: MarketModel;
}> {
  const assets = await readAssets(dataDir);
  const calibration = calibrate(assets, { ...DEFAULT_SETTINGS, checkDays: 100 });
  return { assets, calibration, model: marketModel([assets[0], assets[1]], calibration, "garch-t") };
}

function startPricesFor(model: MarketModel): number[] {
  return model.assets.map((a) => Number((a === "BTC" ? START_PRICES["BTC-USD"] : START_PRICES["ETH-USD"]) / WAD));
}

/** One historical day as a one-day path from the deployment's start prices, by its open-to-low/high ratios. */
export function replayDay(markets: readonly EngineMarket[], days: Map<string, OhlcDay[]>, date: string): AssetPath[] {
  return markets.map((m) => {
    const day = days.get(m.symbol.slice(0, 3))?.find((d) => d.date === date);
    if (day === undefined) throw new Error(`no ${m.symbol} prices for ${date} in stress/data`);
    const p0 = Number(START_PRICES[m.symbol] / WAD);
    const k = p0 / day.open;
    return { open: [p0], high: [day.high * k], low: [day.low * k], close: [day.close * k] };
  });
}

/** A one-day move: open to `factor` × open in a single gap, closing there. */
export function moveDay(markets: readonly EngineMarket[], factors: readonly number[]): AssetPath[] {
  return markets.map((m, i) => {
    const p0 = Number(START_PRICES[m.symbol] / WAD);
    const p1 = p0 * factors[i];
    return { open: [p0], high: [Math.max(p0, p1)], low: [Math.min(p0, p1)], close: [p1] };
  });
}

export interface ScenarioRow {
  name: string;
  badDebt: number;
  fundDrawn: number;
  deleveraged: number;
  socialized: number;
  bankruptcies: number;
  largestDeficits: { account: string; deficit: number }[];
}

function scenarioRow(name: string, o: Outcome): ScenarioRow {
  const largest = [...o.deficits]
    .sort((a, b) => (a.deficit === b.deficit ? (a.account < b.account ? -1 : 1) : a.deficit > b.deficit ? -1 : 1))
    .slice(0, 2)
    .map((d) => ({ account: d.account, deficit: usd(d.deficit) }));
  return {
    name,
    badDebt: usd(o.badDebt),
    fundDrawn: Number(o.fundDrawn) / 1e6,
    deleveraged: usd(o.deleveraged),
    socialized: usd(o.socialized),
    bankruptcies: o.bankruptcies,
    largestDeficits: largest,
  };
}

export interface SensitivityRow {
  parameter: string;
  value: string;
  probabilityBadDebt: number;
  probabilityLossPolicy: number;
  meanBadDebt: number;
  /** The fund that covers a path's bad debt with 99% / 99.9% probability (its VaR over the row's paths). */
  fund99: number;
  fund999: number;
}

/** Kupiec's backtest of the one-day VaR of the model that drives the paths, per asset (from the calibration). */
export interface SizingBacktest extends BacktestRow {
  asset: string;
  level: number;
}

/** What the run leaves out of the contracts' behaviour, in the report's words. */
export const SIMPLIFICATIONS: readonly string[] = [
  "One position per account: nobody holds both markets, so issue 9's largest-position-last rule never applies (the protocol keeper is the one account in both).",
  "No funding payments: every position opens at the oracle price, so the premium and the rate stay 0 over the horizon; over days funding moves money between traders, not into bad debt.",
  "No trading after the opening fills: nobody adds margin, closes or reopens during a path; the opening fees are charged and the fund's 30% share of them is set aside.",
  "One keeper, one signer: it reacts `latency` blocks after each oracle update and then works at that block's prices until it has nothing left to do (ADL timeouts included); prices do not move while it does.",
  "Intraday path: a daily bar is walked open → far extreme → close; each leg starts with a gap (the gap share) and then moves in 0.5% oracle steps every `stepBlocks` blocks.",
  "Makers take the net of each market at 3x so that long and short open interest are equal, as on chain.",
  "The fund: the staked amount only (no stakers leaving, no fee sweeps during a path); its floor 0 and draw cap never bind, as deployed locally.",
];

/**
 * One loss policy over the same Monte Carlo paths (every market listed under it). Amounts in USD; "taken" is what the
 * receipts took from traders (ADL + socialized + haircut, sdk takenFromTraders), per path.
 */
export interface PolicyRow {
  policy: LossPolicy;
  paths: number;
  /** Share of paths on which the policy took anything from traders. */
  probabilityHit: number;
  taken: { mean: number; var99: number; es99: number; max: number };
  badDebtMean: number;
  fundPaidMean: number;
  /** Positions an ADL step cut (each account once per path), summed over the paths. */
  adlPositions: number;
  /** Of those, makers and positions opened at ≤ LOW_LEVERAGE (the hedged and low-leverage ones ADL should spare). */
  adlLowLeverage: number;
  /** Σ over paths of taken − (bad debt − fund paid), and the largest |per path|, in wei (18 decimals): computed, 0 by rule. */
  overshootWei: string;
  largestOvershootWei: string;
  /** Exact per-path amounts taken (wad integers as strings), so the table can be checked against the runs. */
  takenExact: string[];
}

/** Opening leverage at or below which a position counts as low-leverage in the policy table (makers hold 3x). */
export const LOW_LEVERAGE = 3;

export interface LabReport {
  settings: Omit<
    RunOptions,
    "population" | "pathFile" | "onProgress" | "onChainProgress" | "onPolicyProgress" | "dataDir" | "jointDays"
  > & {
    gapShare: number;
    deviation: number;
    stepBlocks: number;
    minShortfallBps: number;
    markets: { symbol: string; lossPolicy: string; maintenanceMarginRatio: string; liquidationBuffer: string }[];
    population: PopulationParams | "file";
  };
  concentration: ReturnType<typeof concentration>;
  badDebt: Stats;
  fundDrawdown: Stats;
  probabilityFundDepleted: number;
  lossPolicy: {
    probabilityAdl: number;
    meanAdl: number;
    maxAdl: number;
    probabilitySocialized: number;
    meanSocialized: number;
    maxSocialized: number;
  };
  fundSizing: {
    /** Bad debt of the worse 99.9% move with every defaulter, not only the two largest. */
    allDefaults: number;
    targetPerYear: number;
    targetPerPath: number;
    fundForTarget: number;
    cover1: number;
    cover2: number;
    recommended: number;
  };
  joint999: { down: number[]; up: number[] };
  scenarios: ScenarioRow[];
  sensitivity: SensitivityRow[];
  backtest: SizingBacktest[];
  contractBacked: ContractReport | { skipped: string };
  /** The same Monte Carlo paths under each policy of `--policies` (empty without). */
  policies: PolicyRow[];
  /** The chain check on a deployment with every market under "haircut", when it is among the policies. */
  contractBackedHaircut?: ContractReport | { skipped: string };
  simplifications: readonly string[];
  depletionCurve: { fund: number; probability: number }[];
  /** Per asset: empirical survival of the daily losses above the GPD threshold, and the fitted GPD's. */
  tail: { asset: string; points: { loss: number; survival: number; kind: "empirical" | "GPD fit" }[] }[];
  rows: PathRow[];
}

/**
 * Empirical P(L > x) at each loss above the threshold u, and the fit's ζ_u·(1 + ξ(x − u)/β)^(−1/ξ),
 * ζ_u = exceedances/n (McNeil, Frey & Embrechts 2015, eq. 5.18).
 */
export function tailPoints(
  losses: readonly number[],
  fit: { threshold: number; xi: number; beta: number; exceedances: number; n: number },
): { loss: number; survival: number; kind: "empirical" | "GPD fit" }[] {
  const above = losses.filter((x) => x > fit.threshold).sort((a, b) => a - b);
  const zeta = fit.exceedances / fit.n;
  return above.flatMap((x, i) => [
    { loss: x, survival: (above.length - i) / losses.length, kind: "empirical" as const },
    {
      loss: x,
      survival:
        zeta *
        (Math.abs(fit.xi) < 1e-9
          ? Math.exp(-(x - fit.threshold) / fit.beta)
          : (1 + (fit.xi * (x - fit.threshold)) / fit.beta) ** (-1 / fit.xi)),
      kind: "GPD fit" as const,
    },
  ]);
}

/** One contract-backed path: the engine's and the chain's figures (exact integers) and where they differ. */
export interface ContractPathRow {
  path: number;
  engine: Record<(typeof FIGURE_KEYS)[number], string>;
  chain: Record<(typeof FIGURE_KEYS)[number], string>;
  /** Accounts (the keeper included) whose final equity differs between the two. */
  equitiesDiffering: number;
  /** Largest |engine − chain| over the figures and the equities, in wei of the 18-decimal ledger (0: to the wei). */
  largestDifference: string;
  keeperPoints: number;
  /** How the chain ran the path: the project's keeper deciding on its own, or the engine's calls replayed. */
  mode: "keeper" | "replay";
  /** Replayed paths: points where the chain left an account the project's keeper would still act on (0: none). */
  pointsLeftUndone: number;
}

export interface ContractReport {
  paths: number;
  /** Paths whose every figure and every final equity agree to the wei. */
  agreed: number;
  /** Over the paths, in wei (18 decimals). */
  largestDifference: string;
  setupSeconds: number;
  /** Replaying the paths on chain (the keeper, the oracle, the receipts), without the set-up. */
  seconds: number;
  pathsPerSecond: number;
  /** Seconds on chain of the keeper paths and of the replayed ones (left out of report.json, as the other times). */
  secondsByMode?: { keeper: number; replay: number };
  /** CPU seconds of the paths on chain, every worker summed (left out of report.json, as the times). */
  cpuSeconds?: number;
  rows: ContractPathRow[];
}

const figureText = (f: PathFigures): ContractPathRow["engine"] =>
  Object.fromEntries(FIGURE_KEYS.map((k) => [k, f[k].toString()])) as ContractPathRow["engine"];

/** |a − b| in wei of the ledger: wad amounts as they are, token units (the fund draw) scaled up. */
function differenceWei(key: string, a: bigint, b: bigint): bigint {
  const d = a > b ? a - b : b - a;
  return key === "fundDrawn" ? d * SCALE : d;
}

const maxOf = (xs: readonly bigint[]): bigint => xs.reduce((m, x) => (x > m ? x : m), 0n);

/**
 * Which Monte Carlo paths also run on chain: the first ⌈n/2⌉, and the ⌊n/2⌋ others with the largest bad debt (ties
 * by index), so that the subset has ordinary paths and the ones that reach the fund, ADL and socialization.
 */
export function chainSubset(badDebt: readonly number[], n: number): number[] {
  const count = Math.min(n, badDebt.length);
  const first = Array.from({ length: Math.ceil(count / 2) }, (_, i) => i);
  const worst = badDebt
    .map((b, i) => ({ b, i }))
    .filter((x) => x.i >= first.length)
    .sort((x, y) => y.b - x.b || x.i - y.i)
    .slice(0, count - first.length)
    .map((x) => x.i);
  return [...first, ...worst.sort((a, b) => a - b)];
}

/** One path of the chain check and how the chain runs it. */
export interface ChainJob {
  index: number;
  mode: ContractPathRow["mode"];
}

/** The inputs of a chain check, the same in every worker process (plain data, so they cross to a worker). */
export interface ChainCheckInput {
  model: MarketModel;
  markets: readonly EngineMarket[];
  holdings: readonly Holding[];
  options: Pick<RunOptions, "seed" | "horizonDays" | "fundUsd">;
  settings: PathSettings;
}

/** A deployed, populated chain and the engine ledgers opened with its ids: what runs the chain check's paths. */
export interface ChainSession {
  setupSeconds: number;
  /** Runs one path through the engine and the chain and compares them; `ms` is the chain's part. */
  run(job: ChainJob): Promise<{ row: ContractPathRow; ms: number }>;
  close(): Promise<void>;
}

/** Deploys and opens the population on a fresh in-process network (stress/lib/chain.ts) for {@link ChainSession.run}. */
export async function openChainSession(input: ChainCheckInput): Promise<ChainSession> {
  const { model, markets, holdings, options: o, settings: s } = input;
  const fundTokens = BigInt(o.fundUsd) * 1_000_000n;
  const started = performance.now();
  const lab = await openChainLab(markets, holdings, fundTokens, { seed: o.seed, minShortfallBps: s.minShortfallBps });
  const setupSeconds = (performance.now() - started) / 1000;
  const renamed = holdings.map((h) => ({ ...h, account: lab.ids.accounts.get(h.account)! }));
  // The keeper's id ranks ADL ties: the project's keeper signs with its wallet, the replay with the forwarder.
  const ledgers = {
    keeper: openLedger(markets, renamed, fundTokens, { keeperId: lab.ids.keeper }),
    replay: openLedger(markets, renamed, fundTokens, { keeperId: lab.ids.forwarder }),
  };
  const start = startPricesFor(model);
  return {
    setupSeconds,
    async run({ index: i, mode }) {
      const paths = monteCarloPath(model, markets, o, i, start);
      const { outcome, ledger: end, points } = runPath(ledgers[mode], paths, s, mode === "replay");
      const engine = engineFigures(outcome, end);
      const t0 = performance.now();
      const chain =
        mode === "keeper"
          ? { ...(await lab.run(points, end.prices)), undone: [] }
          : await lab.replay(points, outcome.log ?? [], end.prices);
      const ms = performance.now() - t0;
      if (chain.equities.length !== engine.equities.length)
        throw new Error("the chain read a different number of accounts");
      const equityDifferences = engine.equities.map((e, k) => differenceWei("equity", e, chain.equities[k]));
      const largest = maxOf([...FIGURE_KEYS.map((k) => differenceWei(k, engine[k], chain[k])), ...equityDifferences]);
      const row: ContractPathRow = {
        path: i,
        engine: figureText(engine),
        chain: figureText(chain),
        equitiesDiffering: equityDifferences.filter((d) => d !== 0n).length,
        largestDifference: largest.toString(),
        keeperPoints: points.length,
        mode,
        pointsLeftUndone: chain.undone.length,
      };
      return { row, ms };
    },
    close: () => lab.close(),
  };
}

/**
 * Monte Carlo paths `indices` again, through the engine with the chain's account ids (so ADL ties rank as
 * on chain) and through the contracts with the project's keeper (stress/lib/chain.ts), compared to the wei.
 * With `workers` > 1 the paths run in that many worker processes (stress/lib/chain-pool.ts), each with its own
 * deployment from the same seed; every path starts from the deployment's snapshot, so the rows are the same.
 */
export async function contractBacked(
  model: MarketModel,
  markets: readonly EngineMarket[],
  holdings: readonly Holding[],
  o: Pick<RunOptions, "seed" | "horizonDays" | "fundUsd" | "onProgress"> & {
    keeperPaths?: number;
    workers?: number;
    /** Paths known only later (the worst of a Monte Carlo still running), run after `indices`. */
    later?: Promise<readonly number[]>;
  },
  s: PathSettings,
  indices: readonly number[],
): Promise<ContractReport> {
  const input: ChainCheckInput = {
    model,
    markets,
    holdings,
    options: { seed: o.seed, horizonDays: o.horizonDays, fundUsd: o.fundUsd },
    settings: s,
  };
  const keeperPaths = o.keeperPaths;
  const jobsOf = (list: readonly number[], from: number): ChainJob[] =>
    list.map((index, k) => ({
      index,
      mode: keeperPaths === undefined || from + k < keeperPaths ? "keeper" : "replay",
    }));
  const jobs = jobsOf(indices, 0);
  const later = o.later?.then((list) => jobsOf(list, indices.length));
  const workers = o.workers ?? 1;
  const done =
    workers > 1
      ? await runInWorkers(input, jobs, later, workers, o.onProgress)
      : await runInProcess(input, [...jobs, ...((await later) ?? [])], o.onProgress);
  const { rows } = done;
  return {
    paths: rows.length,
    agreed: rows.filter((r) => r.largestDifference === "0" && r.pointsLeftUndone === 0).length,
    largestDifference: maxOf(rows.map((r) => BigInt(r.largestDifference))).toString(),
    setupSeconds: done.setupSeconds,
    seconds: done.seconds,
    pathsPerSecond: rows.length / done.seconds,
    secondsByMode: done.secondsByMode,
    cpuSeconds: done.cpuSeconds,
    rows,
  };
}

/** What running the chain check's jobs gave, in job order, and its times (seconds). */
export interface ChainRun {
  rows: ContractPathRow[];
  /** Deploying and opening the population (the longest of the workers' when in parallel). */
  setupSeconds: number;
  /** Wall time of the paths, the set-up left out. */
  seconds: number;
  /** Chain time per mode, summed over paths (over the workers too, so more than `seconds` in parallel). */
  secondsByMode: { keeper: number; replay: number };
  /**
   * CPU seconds of the processes running the paths (EDR's threads included), summed: what the paths cost whatever
   * else the shared machine runs.
   */
  cpuSeconds: number;
}

/** CPU seconds (user and system) of this process since `from`. */
export function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
}

async function runInProcess(
  input: ChainCheckInput,
  jobs: readonly ChainJob[],
  onProgress: ((done: number, total: number) => void) | undefined,
): Promise<ChainRun> {
  const session = await openChainSession(input);
  try {
    const rows: ContractPathRow[] = [];
    const msByMode = { keeper: 0, replay: 0 };
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (const job of jobs) {
      const { row, ms } = await session.run(job);
      rows.push(row);
      msByMode[job.mode] += ms;
      onProgress?.(rows.length, jobs.length);
    }
    return {
      rows,
      setupSeconds: session.setupSeconds,
      seconds: (performance.now() - started) / 1000,
      secondsByMode: { keeper: msByMode.keeper / 1000, replay: msByMode.replay / 1000 },
      cpuSeconds: cpuSecondsSince(cpu),
    };
  } finally {
    await session.close();
  }
}

function monteCarlo(
  model: MarketModel,
  markets: readonly EngineMarket[],
  holdings: readonly Holding[],
  o: RunOptions,
  s: PathSettings,
  count: number,
  progress: ((done: number, total: number) => void) | undefined,
): { rows: PathRow[]; outcomes: Outcome[] } {
  const ledger = openLedger(markets, holdings, BigInt(o.fundUsd) * 1_000_000n);
  const rows: PathRow[] = [];
  const outcomes: Outcome[] = [];
  const start = startPricesFor(model);
  for (let i = 0; i < count; i++) {
    const paths = monteCarloPath(model, markets, o, i, start);
    const { outcome } = runPath(ledger, paths, s);
    rows.push(row(outcome, paths));
    outcomes.push(outcome);
    if (progress !== undefined && ((i + 1) % 50 === 0 || i + 1 === count)) progress(i + 1, count);
  }
  return { rows, outcomes };
}

/**
 * The 99.9% one-day move of each asset, down (open to low) and up (open to high), over `count` simulated days,
 * applied to both markets at once: comonotone, so more severe than any one joint draw (the usual conservative
 * reading of "extreme but plausible" for a Cover-2 test).
 */
function jointMove(
  model: MarketModel,
  markets: readonly EngineMarket[],
  seed: number,
  count: number,
): { down: number[]; up: number[] } {
  const start = startPricesFor(model);
  const daySeed = seed === 2 ** 32 - 1 ? 1 : seed + 1;
  const days = Array.from({ length: count }, (_, i) =>
    toMarketOrder(markets, model, simulatePath(model, { seed: daySeed, days: 1, startPrices: start }, i)),
  );
  const quantile = (k: number, f: (p: AssetPath) => number, level: number): number =>
    empiricalVaR(
      days.map((d) => f(d[k]) / d[k].open[0]),
      level,
    );
  return {
    down: markets.map((_, k) => quantile(k, (p) => p.low[0], 0.001)),
    up: markets.map((_, k) => quantile(k, (p) => p.high[0], 0.999)),
  };
}

/** Accounts whose position opened at ≤ LOW_LEVERAGE (notional at entry over collateral), makers included. */
export function lowLeverage(holdings: readonly Holding[]): Set<string> {
  const low = new Set<string>();
  for (const h of holdings) {
    const notional = (abs(h.size) * h.entryPrice) / WAD / SCALE; // token units
    if (h.account.startsWith("maker-") || notional <= BigInt(LOW_LEVERAGE) * h.collateral) low.add(h.account);
  }
  return low;
}

/** The side-by-side row of one policy from its paths' outcomes (exact sums; USD floats only for the statistics). */
export function policyRow(policy: LossPolicy, outcomes: readonly Outcome[], low: ReadonlySet<string>): PolicyRow {
  const taken = outcomes.map((x) => takenFromTraders(x));
  const over = outcomes.map((x) => overshoot({ ...x, shortfall: x.badDebt }));
  const t = stats(taken.map(usd));
  const mean = (x: number[]): number => x.reduce((a, b) => a + b, 0) / x.length;
  const cut = outcomes.flatMap((x) => x.adlCounterparties);
  return {
    policy,
    paths: outcomes.length,
    probabilityHit: t.probabilityPositive,
    taken: { mean: t.mean, var99: t.var99, es99: t.es99, max: t.max },
    badDebtMean: mean(outcomes.map((x) => usd(x.badDebt))),
    fundPaidMean: mean(outcomes.map((x) => usd(x.fundPaid))),
    adlPositions: cut.length,
    adlLowLeverage: cut.filter((id) => low.has(id)).length,
    overshootWei: over.reduce((a, b) => a + b, 0n).toString(),
    largestOvershootWei: over.reduce((m, x) => (abs(x) > m ? abs(x) : m), 0n).toString(),
    takenExact: taken.map(String),
  };
}

export async function runLab(o: RunOptions): Promise<LabReport> {
  const { assets, calibration, model } = await labModel(o.dataDir);
  const buffer = o.liquidationBuffer ?? LAB_LIQUIDATION_BUFFER;
  const markets = engineMarkets(hardhat, undefined, undefined, buffer);
  const population: PopulationParams = { ...DEFAULT_POPULATION, accounts: o.accounts, seed: o.seed };
  const holdings = o.population ?? generatePopulation(population, START_PRICES);
  const s: PathSettings = { ...DEFAULT_PATH_SETTINGS, latencyBlocks: o.latencyBlocks };
  const { rows } = monteCarlo(model, markets, holdings, o, s, o.paths, o.onProgress);

  const bad = rows.map((r) => r.badDebt);
  const drawn = rows.map((r) => r.fundDrawn);
  const adl = rows.map((r) => r.deleveraged);
  const soc = rows.map((r) => r.socialized);
  const share = (x: number[]): number => x.filter((v) => v > 0).length / x.length;
  const mean = (x: number[]): number => x.reduce((a, b) => a + b, 0) / x.length;

  const byAsset = new Map(assets.map((a) => [a.asset, a.series.days]));
  const ledger = openLedger(markets, holdings, BigInt(o.fundUsd) * 1_000_000n);
  const scenarios: ScenarioRow[] = [];
  for (const date of ["2020-03-12", "2021-05-19"]) {
    scenarios.push(scenarioRow(`replay ${date}`, runPath(ledger, replayDay(markets, byAsset, date), s).outcome));
  }
  const joint = jointMove(model, markets, o.seed, o.jointDays);
  // Cover-1/Cover-2: the whole move in one oracle update (gap share 1), before any keeper can act.
  const gap: PathSettings = { ...s, gapShare: 1 };
  const down = scenarioRow("99.9% move down, one gap", runPath(ledger, moveDay(markets, joint.down), gap).outcome);
  const up = scenarioRow("99.9% move up, one gap", runPath(ledger, moveDay(markets, joint.up), gap).outcome);
  scenarios.push(down, up);
  if (o.pathFile !== undefined)
    scenarios.push(scenarioRow(`file ${o.pathFile.name}`, runPath(ledger, o.pathFile.paths, s).outcome));
  const coverOf = (r: ScenarioRow, k: number): number =>
    r.largestDeficits.slice(0, k).reduce((a, d) => a + d.deficit, 0);
  const cover1 = Math.max(coverOf(down, 1), coverOf(up, 1));
  const cover2 = Math.max(coverOf(down, 2), coverOf(up, 2));

  const targetPerPath = perPathTarget(o.targetPerYear, o.horizonDays);
  const forTarget = fundForTarget(bad, targetPerPath);

  const sensitivity: SensitivityRow[] = [];
  const n = Math.min(o.sensitivityPaths, o.paths);
  const cell = (parameter: string, value: string, m: EngineMarket[], h: readonly Holding[], ps: PathSettings): void => {
    const r = monteCarlo(model, m, h, o, ps, n, undefined);
    const b = r.rows.map((x) => x.badDebt);
    sensitivity.push({
      parameter,
      value,
      probabilityBadDebt: share(b),
      probabilityLossPolicy: share(r.rows.map((x) => x.deleveraged + x.socialized)),
      meanBadDebt: mean(b),
      fund99: empiricalVaR(b, 0.99),
      fund999: empiricalVaR(b, 0.999),
    });
  };
  const mark = (isDefault: boolean, text: string): string => (isDefault ? `${text} (default)` : text);
  const deployedMmr = markets[0].maintenanceMarginRatio;
  for (const mmr of [3n, 5n, 7n]) {
    const ratio = (WAD * mmr) / 100n;
    const m = engineMarkets(hardhat, ratio, undefined, buffer);
    cell("maintenance margin", mark(ratio === deployedMmr, `${mmr}%`), m, holdings, s);
  }
  for (const pct of [0n, 10n, 25n, 100n]) {
    const b = (WAD * pct) / 100n;
    const m = engineMarkets(hardhat, undefined, undefined, b);
    cell("liquidation buffer", mark(b === buffer, `${pct}%`), m, holdings, s);
  }
  if (o.population === undefined) {
    for (const cap of [5, 10, 15]) {
      cell(
        "leverage cap",
        cap > 10 ? `${cap}x (above the deployed 10x)` : mark(cap === population.leverage.cap, `${cap}x`),
        markets,
        generatePopulation({ ...population, leverage: { ...population.leverage, cap } }, START_PRICES),
        s,
      );
    }
  }
  for (const b of [0, 5, 25, 100, 300])
    cell("keeper latency", mark(b === s.latencyBlocks, `${b} blocks`), markets, holdings, { ...s, latencyBlocks: b });
  for (const g of [0, 0.1, 0.25, 0.5, 1])
    cell("gap share", mark(g === s.gapShare, `${g * 100}%`), markets, holdings, { ...s, gapShare: g });

  const backtest: SizingBacktest[] = calibration.assets.flatMap((a) =>
    a.backtest
      .filter((row) => row.model === "GARCH-t")
      .map((row) => ({ ...row, asset: a.asset, level: DEFAULT_SETTINGS.backtestLevel })),
  );

  /** The chain check of `m`'s markets on the subset of paths chosen by `badDebt` (or why it did not run). */
  const chainCheck = async (
    m: EngineMarket[],
    badDebt: readonly number[],
    keeperPaths: number | undefined,
  ): Promise<ContractReport | { skipped: string }> => {
    if (o.chainPaths === 0) return { skipped: "--chain-paths 0" };
    if (openingFills(m, holdings) === undefined)
      return { skipped: "the population's entry prices differ within a market: no fill opens both sides at theirs" };
    const options = { ...o, keeperPaths, onProgress: o.onChainProgress };
    return contractBacked(model, m, holdings, options, s, chainSubset(badDebt, o.chainPaths));
  };
  const contract = await chainCheck(markets, bad, o.keeperPaths);

  const policies: PolicyRow[] = [];
  let contractHaircut: ContractReport | { skipped: string } | undefined;
  for (const policy of o.policies ?? []) {
    const under = engineMarkets(hardhat, undefined, policy, buffer);
    const progress = o.onPolicyProgress && ((done: number, total: number) => o.onPolicyProgress?.(policy, done, total));
    const { outcomes } = monteCarlo(model, under, holdings, o, s, o.paths, progress);
    policies.push(policyRow(policy, outcomes, lowLeverage(holdings)));
    // The deployment's markets are ADL and socialized; the haircut's own deployment is checked here, by replays only
    // (the keeper treats a haircut market as a socialized one, which the deployed BTC-USD already runs).
    if (policy === "haircut")
      contractHaircut = await chainCheck(
        under,
        outcomes.map((x) => usd(x.badDebt)),
        0,
      );
  }

  const maxBad = Math.max(...bad, 0);
  const grid = Array.from({ length: 21 }, (_, i) => (maxBad * i) / 20);
  return {
    settings: {
      paths: o.paths,
      seed: o.seed,
      accounts: o.accounts,
      fundUsd: o.fundUsd,
      horizonDays: o.horizonDays,
      latencyBlocks: o.latencyBlocks,
      chainPaths: o.chainPaths,
      policies: o.policies ?? [],
      sensitivityPaths: n,
      targetPerYear: o.targetPerYear,
      gapShare: s.gapShare,
      deviation: s.deviation,
      stepBlocks: s.stepBlocks,
      minShortfallBps: s.minShortfallBps,
      markets: markets.map((m) => ({
        symbol: m.symbol,
        lossPolicy: m.lossPolicy,
        maintenanceMarginRatio: m.maintenanceMarginRatio.toString(),
        liquidationBuffer: m.liquidationBuffer.toString(),
      })),
      population: o.population === undefined ? population : "file",
    },
    concentration: concentration(holdings),
    badDebt: stats(bad),
    fundDrawdown: stats(drawn),
    probabilityFundDepleted: share(rows.map((r) => r.deleveraged + r.socialized)),
    lossPolicy: {
      probabilityAdl: share(adl),
      meanAdl: mean(adl),
      maxAdl: Math.max(...adl),
      probabilitySocialized: share(soc),
      meanSocialized: mean(soc),
      maxSocialized: Math.max(...soc),
    },
    fundSizing: {
      allDefaults: Math.max(down.badDebt, up.badDebt),
      targetPerYear: o.targetPerYear,
      targetPerPath,
      fundForTarget: forTarget,
      cover1,
      cover2,
      recommended: Math.max(forTarget, cover2),
    },
    joint999: joint,
    scenarios,
    sensitivity,
    backtest,
    contractBacked: contract,
    policies,
    ...(contractHaircut === undefined ? {} : { contractBackedHaircut: contractHaircut }),
    simplifications: SIMPLIFICATIONS,
    tail: calibration.assets.map((a, k) => ({
      asset: a.asset,
      points: tailPoints(
        logReturns(assets[k].series.days).map((x) => -x.value),
        a.tail,
      ),
    })),
    depletionCurve: grid.map((f) => ({ fund: f, probability: bad.filter((b) => b > f).length / bad.length })),
    rows,
  };
}
