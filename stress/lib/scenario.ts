// Drives the engine along a price path: daily OHLC bars become oracle updates block by block, and the project's
// keeper (keeper/src/strategy.ts and jobs.ts, mirrored here) acts `latencyBlocks` after each update it reacts to,
// on the state and prices of that block.
import {
  cloneLedger,
  emptyOutcome,
  health,
  liquidate,
  lossCharged,
  adlRank,
  autoDeleverage,
  socializeAfterTimeout,
  type Account,
  type Ledger,
  type Outcome,
} from "./engine.js";
import { abs, rankCounterparties, WAD } from "#sdk";
import type { AssetPath } from "./simulate.js";

/** 12-second blocks. */
export const BLOCKS_PER_DAY = 7200;

/** How a daily bar is walked and how fast the keeper is. */
export interface PathSettings {
  /** Blocks from an oracle update to the keeper's transactions that react to it. */
  latencyBlocks: number;
  /** Oracle deviation threshold: an update whenever the price has moved this much (log), as Chainlink feeds do. */
  deviation: number;
  /** Share of each intraday leg that happens as one oracle jump at its start: the intraday gap. */
  gapShare: number;
  /** Blocks between two `deviation` steps while a leg moves: the speed of a move (10 blocks ≈ 0.5% per 2 minutes). */
  stepBlocks: number;
  /** The keeper's --min-shortfall-bps: solvent accounts less short of maintenance than this are left alone. */
  minShortfallBps: number;
}

export const DEFAULT_PATH_SETTINGS: PathSettings = {
  latencyBlocks: 5,
  deviation: 0.005,
  gapShare: 0.25,
  stepBlocks: 10,
  minShortfallBps: 1,
};

/** One oracle update: block number (from the path's start), market index, price in 18 decimals on the 8-decimal grid. */
export interface OracleUpdate {
  block: number;
  market: number;
  price: bigint;
}

/** A float price on the 8-decimal feed grid, in 18 decimals. */
export function feedPrice(usd: number): bigint {
  if (!(usd > 0) || !Number.isFinite(usd)) throw new Error(`price ${usd} is not a positive number`);
  const units = BigInt(Math.max(1, Math.round(usd * 1e8)));
  return units * 10n ** 10n;
}

/**
 * The oracle updates of one market's path. Each day runs open → low → high → close when it closes up, open →
 * high → low → close when it closes down (the far extreme second); each leg gets blocks in proportion to its
 * length. A leg starts with one update of `gapShare` of it (the gap), then moves in `deviation` steps every
 * `stepBlocks` blocks (faster when the leg's time is short), then rests until the next leg.
 */
export function oracleUpdates(path: AssetPath, market: number, s: PathSettings): OracleUpdate[] {
  const out: OracleUpdate[] = [];
  for (let d = 0; d < path.open.length; d++) {
    const o = path.open[d];
    const c = path.close[d];
    const points = c >= o ? [o, path.low[d], path.high[d], c] : [o, path.high[d], path.low[d], c];
    const legs = points.slice(1).map((p, i) => Math.abs(Math.log(p / points[i])));
    const total = legs.reduce((a, b) => a + b, 0);
    let block = d * BLOCKS_PER_DAY;
    for (let i = 0; i < 3; i++) {
      const span = total === 0 ? BLOCKS_PER_DAY / 3 : (BLOCKS_PER_DAY * legs[i]) / total;
      const from = Math.log(points[i]);
      const to = Math.log(points[i + 1]);
      if (legs[i] === 0) {
        block += span;
        continue;
      }
      const gap = legs[i] * s.gapShare;
      const steps = Math.max(1, Math.ceil((legs[i] - gap) / s.deviation));
      const spacing = Math.min(Math.max(1, s.stepBlocks), span / (steps + 1));
      const sign = to > from ? 1 : -1;
      const startBlock = block;
      if (gap > 0) out.push({ block: Math.floor(startBlock), market, price: feedPrice(Math.exp(from + sign * gap)) });
      for (let k = 1; k <= steps; k++) {
        const x = from + sign * (gap + ((legs[i] - gap) * k) / steps);
        out.push({ block: Math.floor(startBlock + spacing * k), market, price: feedPrice(Math.exp(x)) });
      }
      block += span;
    }
  }
  return out;
}

/** A point of the path where the keeper acted: the block and every market's oracle price then. */
export interface KeeperPoint {
  block: number;
  prices: bigint[];
  /** With a recorded path: the length of the outcome's log once the keeper was done here. */
  actions?: number;
  /** With a recorded path: accounts within 5% of maintenance once the keeper was done here (ids), for a replay's check. */
  watch?: string[];
}

/** Most keeper cycles at one point; a waterfall that needs more means the mirror loops. */
const MAX_CYCLES = 500;
/** keeper/src/jobs.ts MAX_DELEVERAGE_STEPS. */
const MAX_DELEVERAGE_STEPS = 64;

const byId = (a: string, b: string): number => {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * keeper/src/jobs.ts runDeleverage: before each step, rank the accounts on the counterparties' side
 * (the keeper's own included) by their ADL score and call autoDeleverage against the best for min(both sizes);
 * a counterparty the contract rules out is skipped; with none left, socialize once the timeout has passed.
 */
function runDeleverage(l: Ledger, a: Account, out: Outcome): number {
  const excluded = new Set<Account>();
  const price = l.prices[a.market];
  let confirmed = 0;
  for (let step = 0; step < MAX_DELEVERAGE_STEPS; step++) {
    const open = l.cases.get(a.id);
    if (open === undefined || a.size === 0n) break;
    const side = [...l.accounts, ...l.keeper].filter(
      (c) => c !== a && c.market === a.market && c.size !== 0n && c.size > 0n === open.longCounterparties,
    );
    const [best] = rankCounterparties(
      side.filter((c) => !excluded.has(c)).map((c) => adlRank(l, c, price)),
      () => false,
    );
    if (best === undefined) {
      if (open.ready && socializeAfterTimeout(l, a, price, out) === "confirmed") confirmed++;
      break;
    }
    const theirs = abs(best.ref.size);
    const mine = abs(a.size);
    const r = autoDeleverage(l, a, best.ref, theirs < mine ? theirs : mine, price, out);
    if (r === "nothing") break;
    if (r === "rejected") excluded.add(best.ref);
    else confirmed++;
  }
  return confirmed;
}

/**
 * Equity below 1.05 × the maintenance margin + 1 USD, exactly: the accounts a replay on chain checks after the
 * point (KeeperPoint.watch), wide enough that an engine whose margin is off by a few percent shows there.
 */
function nearMaintenance(l: Ledger, a: Account): boolean {
  const h = health(l, a, l.prices[a.market]);
  return h.equity * 100n < h.maintenanceMargin * 105n + 100n * WAD;
}

/**
 * A float screen before the exact check. With no social loss or haircut charged in its market, an account's equity is
 * cash + size·P (cash = collateral − open notional) and its maintenance margin |size|·P·mmr. It is clearly healthy
 * when the equity is above (1 + 10⁻⁶) × the margin + 10⁻⁶ USD in floating point: a margin far above float rounding
 * (about 10⁻¹⁵ of the notional) and the few wei of the exact rounding. That holds exactly when P lies on one side
 * of a price of its own: a long above (A − cash)/(size·(1 − M·mmr)), a short below (cash − A)/(|size|·(1 + M·mmr)).
 * A market whose price is above every long's and below every short's has no account worth the exact check.
 * Accounts move only through the keeper's calls: a market's screen is rebuilt after a cycle that acted there. (A
 * caller that changes a ledger's accounts by other means runs the keeper on a copy, cloneLedger, as runPath does.)
 */
const MARGIN = 1 + 1e-6;
const ABSOLUTE_USD = 1e-6;

interface MarketScreen {
  /** Accounts with a position when it was built, and the price on whose safe side each is clearly healthy. */
  accounts: Account[];
  screenPrices: number[];
  /** The fields each price was computed from: a rebuild recomputes only accounts whose fields moved. */
  fields: { collateral: bigint; size: bigint; openNotional: bigint }[];
  longMax: number;
  shortMin: number;
  /** Set after a cycle that acted in the market: rebuilt before the next use. */
  stale: boolean;
}

/** Per ledger, per market. */
const screens = new WeakMap<Ledger, MarketScreen[]>();

/** The price on whose safe side the account is clearly healthy (+∞ for a long that never is). */
function screenPrice(a: Account, mmr: number): number {
  const size = Number(a.size) / 1e18;
  const cash = (Number(a.collateral) - Number(a.openNotional)) / 1e18;
  if (size > 0) {
    const perUnit = size * (1 - MARGIN * mmr);
    return perUnit > 0 ? (ABSOLUTE_USD - cash) / perUnit : Number.POSITIVE_INFINITY;
  }
  return (cash - ABSOLUTE_USD) / (-size * (1 + MARGIN * mmr));
}

function newScreen(l: Ledger, m: number): MarketScreen {
  const accounts = l.accounts.filter((a) => a.size !== 0n && a.market === m);
  // Fields of size 0 never match an account with a position: the first refresh computes every price.
  return {
    accounts,
    screenPrices: accounts.map(() => 0),
    fields: accounts.map(() => ({ collateral: 0n, size: 0n, openNotional: 0n })),
    longMax: 0,
    shortMin: 0,
    stale: true,
  };
}

/** Drops accounts closed since, recomputes the prices of accounts whose fields moved, and the market's extremes. */
function refresh(l: Ledger, m: number, s: MarketScreen): void {
  const mmr = Number(l.markets[m].maintenanceMarginRatio) / 1e18;
  let kept = 0;
  let longMax = Number.NEGATIVE_INFINITY;
  let shortMin = Number.POSITIVE_INFINITY;
  for (let i = 0; i < s.accounts.length; i++) {
    const a = s.accounts[i];
    // Only the keeper takes positions over: an account once flat stays flat.
    if (a.size === 0n) continue;
    const f = s.fields[i];
    let price = s.screenPrices[i];
    if (f.collateral !== a.collateral || f.size !== a.size || f.openNotional !== a.openNotional) {
      price = screenPrice(a, mmr);
      s.fields[i] = { collateral: a.collateral, size: a.size, openNotional: a.openNotional };
    }
    s.accounts[kept] = a;
    s.fields[kept] = s.fields[i];
    s.screenPrices[kept] = price;
    kept++;
    if (a.size > 0n) longMax = price > longMax ? price : longMax;
    else shortMin = price < shortMin ? price : shortMin;
  }
  s.accounts.length = kept;
  s.fields.length = kept;
  s.screenPrices.length = kept;
  s.longMax = longMax;
  s.shortMin = shortMin;
  s.stale = false;
}

/**
 * The accounts with a position that may be liquidatable at the ledger's prices: every one of a market with social
 * loss or a profit haircut charged (the screen does not model them), else those the screen does not clear. `exhaustive` skips the
 * screen (every account with a position): the reference the tests compare it with.
 */
function candidates(l: Ledger, exhaustive: boolean): Account[] {
  if (exhaustive) return l.accounts.filter((a) => a.size !== 0n);
  let byMarket = screens.get(l);
  if (byMarket === undefined) {
    byMarket = l.markets.map((_, m) => newScreen(l, m));
    screens.set(l, byMarket);
  }
  const out: Account[] = [];
  for (let m = 0; m < l.markets.length; m++) {
    if (lossCharged(l, m)) {
      for (const a of l.accounts) if (a.market === m && a.size !== 0n) out.push(a);
      continue;
    }
    const s = byMarket[m];
    if (s.stale) refresh(l, m, s);
    const price = Number(l.prices[m]) / 1e18;
    if (price > s.longMax && price < s.shortMin) continue;
    for (let i = 0; i < s.accounts.length; i++) {
      const a = s.accounts[i];
      if (a.size > 0n ? !(price > s.screenPrices[i]) : !(price < s.screenPrices[i])) out.push(a);
    }
  }
  // Market by market rather than in ledger order: the keeper's order (shortfall, then id) is total, so the same.
  return out;
}

/**
 * One keeper cycle (keeper/src/strategy.ts planJobs, then the jobs in order on one signer): every liquidatable
 * account read at the cycle's start, largest shortfall first (ties by id): a deleverage job when it is bankrupt
 * with an open case, else a liquidation unless it is solvent and short by less than `minShortfallBps` of its
 * maintenance margin; then the socialization of cases past their timeout that were not planned. Returns the
 * number of calls that went through.
 */
export function keeperCycle(l: Ledger, out: Outcome, minShortfallBps: number, exhaustive = false): number {
  const rows = candidates(l, exhaustive)
    .map((a) => ({ a, ...health(l, a, l.prices[a.market]) }))
    .filter((r) => r.equity < r.maintenanceMargin)
    .sort((x, y) => {
      const d = y.maintenanceMargin - y.equity - (x.maintenanceMargin - x.equity);
      return d !== 0n ? (d > 0n ? 1 : -1) : byId(x.a.id, y.a.id);
    });
  const planned = new Set<string>();
  const jobs: (() => number)[] = [];
  for (const r of rows) {
    const bankrupt = r.equity < 0n;
    const shortfall = r.maintenanceMargin - r.equity;
    if (!bankrupt && shortfall * 10_000n < r.maintenanceMargin * BigInt(minShortfallBps)) continue;
    planned.add(r.a.id);
    if (bankrupt && l.cases.has(r.a.id)) jobs.push(() => runDeleverage(l, r.a, out));
    else jobs.push(() => (liquidate(l, r.a, l.prices[r.a.market], out) ? 1 : 0));
  }
  for (const id of [...l.cases.keys()].sort(byId)) {
    if (planned.has(id) || !l.cases.get(id)!.ready) continue;
    const a = l.accounts.find((x) => x.id === id)!;
    jobs.push(() => (socializeAfterTimeout(l, a, l.prices[a.market], out) === "confirmed" ? 1 : 0));
  }
  // Accounts move only through these calls, and only in the market of the account called on.
  const byMarket = screens.get(l);
  if (byMarket !== undefined && jobs.length > 0) {
    for (const r of rows) byMarket[r.a.market].stale = true;
    for (const id of l.cases.keys()) {
      const a = l.accounts.find((x) => x.id === id);
      if (a !== undefined) byMarket[a.market].stale = true;
    }
  }
  return jobs.reduce((n, job) => n + job(), 0);
}

/**
 * The keeper at one point of the path, prices fixed: cycles until one gets nothing through; while a deleverage case
 * waits for its timeout, the clock moves past it (every open case becomes ready) and the cycles go on. Returns
 * whether any call went through.
 */
export function settleKeeper(l: Ledger, out: Outcome, minShortfallBps: number, exhaustive = false): boolean {
  let acted = false;
  for (let cycle = 0; cycle < MAX_CYCLES; cycle++) {
    if (keeperCycle(l, out, minShortfallBps, exhaustive) > 0) {
      acted = true;
      continue;
    }
    const waiting = [...l.cases.values()].filter((c) => !c.ready);
    if (waiting.length === 0) return acted;
    for (const c of waiting) c.ready = true;
  }
  throw new Error(`the keeper was still acting after ${MAX_CYCLES} cycles at one point`);
}

/**
 * Runs one path: updates of every market merged in block order; `latencyBlocks` after each update the keeper
 * settles everything it finds at that block's prices (a point of several updates' reactions runs once). The
 * ledger is copied first. Returns the outcome, the ledger after the path and the points where the keeper acted;
 * with `record`, the outcome's log lists every keeper call, for replaying the path on the contracts.
 */
export function runPath(
  start: Ledger,
  paths: readonly AssetPath[],
  s: PathSettings,
  record = false,
  exhaustive = false,
): { outcome: Outcome; ledger: Ledger; points: KeeperPoint[] } {
  const l = cloneLedger(start);
  const out = emptyOutcome();
  if (record) out.log = [];
  const updates = paths
    .flatMap((p, m) => oracleUpdates(p, m, s))
    .sort((a, b) => a.block - b.block || a.market - b.market);
  l.prices = paths.map((p) => feedPrice(p.open[0]));
  const latency = Math.max(0, Math.floor(s.latencyBlocks));
  const points: KeeperPoint[] = [];
  const react = (block: number): void => {
    if (!settleKeeper(l, out, s.minShortfallBps, exhaustive)) return;
    const prices = [...l.prices];
    if (out.log === undefined) points.push({ block, prices });
    else {
      const watch = l.accounts.filter((a) => a.size !== 0n && nearMaintenance(l, a)).map((a) => a.id);
      points.push({ block, prices, actions: out.log.length, watch });
    }
  };
  // Reactions in block order (latency is the same for every update); a reaction at block t runs after the
  // updates of block t, and one with no update since the previous reaction has nothing new to see.
  const due: number[] = [];
  let changed = false;
  const runDue = (before: number): void => {
    while (due.length > 0 && due[0] < before) {
      const block = due.shift()!;
      if (changed) react(block);
      changed = false;
    }
  };
  for (const u of updates) {
    runDue(u.block);
    if (l.prices[u.market] !== u.price) changed = true;
    l.prices[u.market] = u.price;
    const at = u.block + latency;
    if (due[due.length - 1] !== at) due.push(at);
  }
  runDue(Number.POSITIVE_INFINITY);
  return { outcome: out, ledger: l, points };
}
