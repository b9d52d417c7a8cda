// The trader population a stress path runs against: a seeded generator with documented default
// distributions, and a CSV loader so that a real event can be replayed with its real positions.
import { hardhat, USD, WAD } from "#sdk";

import { checkSeed, createRng } from "./rng.js";

/** The markets the lab models, as deployed by sdk/deploy/networks/local.ts. */
export const MARKETS = ["ETH-USD", "BTC-USD"] as const;
export type MarketSymbol = (typeof MARKETS)[number];

/** One account's position in one market. Amounts in the contracts' units. */
export interface Holding {
  account: string;
  market: MarketSymbol;
  /** Base units with 18 decimals, positive long, negative short. */
  size: bigint;
  /** Entry price, 18 decimals (USD per unit). */
  entryPrice: bigint;
  /** Collateral in the 6-decimal USD token. */
  collateral: bigint;
}

/** Distributions of the generated population. */
export interface PopulationParams {
  accounts: number;
  /** Share of accounts in BTC-USD; the rest trade ETH-USD. */
  btcShare: number;
  /** Probability that an account is long. Crypto books lean long, so a crash is the costly move. */
  longShare: number;
  /** Position notional in USD: Pareto(xMin, alpha), capped at `maxNotional`. alpha < 2: infinite variance. */
  notional: { xMin: number; alpha: number; max: number };
  /** Leverage 1 + (cap − 1)·U^shape, U uniform; shape < 1 leans toward the cap. cap ≤ 1/initialMarginRatio. */
  leverage: { cap: number; shape: number };
  /** Leverage of the market makers that take the net of each market, so long and short open interest match. */
  makerLeverage: number;
  /**
   * Share of the notional deposited on top of notional/leverage to pay the opening fill's fee: the deployed taker
   * fee, so that leverage up to the cap still passes the initial-margin check after the fee.
   */
  openingFee: number;
  seed: number;
}

/**
 * The default: 200 accounts, 40% in BTC-USD, 65% long, Pareto(α = 1.3) notionals from $1,000 capped at
 * $2,000,000 (top accounts hold a large share of open interest, as on real venues), leverage up to the
 * deployed 10x cap with most accounts above 5x, makers at 3x.
 */
export const DEFAULT_POPULATION: PopulationParams = {
  accounts: 200,
  btcShare: 0.4,
  longShare: 0.65,
  notional: { xMin: 1_000, alpha: 1.3, max: 2_000_000 },
  leverage: { cap: 10, shape: 0.5 },
  makerLeverage: 3,
  openingFee: Number(hardhat.markets[0].risk.takerFeeRatio) / 1e18,
  seed: 1,
};

/** Start prices of the deployment's mock feeds (sdk/deploy/networks/local.ts), 18 decimals. */
export type StartPrices = Readonly<Record<MarketSymbol, bigint>>;

/** Float USD to an integer amount with `decimals`, via whole cents so the result does not depend on float noise. */
function toUnits(usd: number, decimals: bigint): bigint {
  return (BigInt(Math.round(usd * 100)) * decimals) / 100n;
}

function checkParams(p: PopulationParams): void {
  const bad = (what: string): never => {
    throw new Error(`population: ${what}`);
  };
  if (!Number.isInteger(p.accounts) || p.accounts < 1 || p.accounts > 100_000)
    bad(`accounts ${p.accounts} is not an integer from 1 to 100000`);
  if (!(p.btcShare >= 0 && p.btcShare <= 1)) bad(`btcShare ${p.btcShare} is not in [0, 1]`);
  if (!(p.longShare >= 0 && p.longShare <= 1)) bad(`longShare ${p.longShare} is not in [0, 1]`);
  if (!(p.notional.xMin > 0 && p.notional.alpha > 0 && p.notional.max >= p.notional.xMin))
    bad("notional needs xMin > 0, alpha > 0 and max ≥ xMin");
  if (!(p.leverage.cap >= 1 && p.leverage.shape > 0)) bad("leverage needs cap ≥ 1 and shape > 0");
  if (!(p.makerLeverage >= 1)) bad(`makerLeverage ${p.makerLeverage} is below 1`);
  if (!(p.openingFee >= 0 && p.openingFee < 1)) bad(`openingFee ${p.openingFee} is not in [0, 1)`);
  checkSeed(p.seed, "population seed");
}

/**
 * Draws the population from its own mt19937 stream (seed words [seed, 0], apart from every price path's
 * [seed, i + 1]). Every position opens at the start price, then {@link balance} adds the makers.
 */
export function generatePopulation(p: PopulationParams, prices: StartPrices): Holding[] {
  checkParams(p);
  const rng = createRng([p.seed, 0x706f70]);
  const holdings: Holding[] = [];
  for (let i = 0; i < p.accounts; i++) {
    const market: MarketSymbol = rng.uniform() < p.btcShare ? "BTC-USD" : "ETH-USD";
    const long = rng.uniform() < p.longShare;
    // Inverse-CDF Pareto draw: x = xMin·(1 − U)^(−1/α).
    const notional = Math.min(p.notional.max, p.notional.xMin * (1 - rng.uniform()) ** (-1 / p.notional.alpha));
    const leverage = 1 + (p.leverage.cap - 1) * rng.uniform() ** p.leverage.shape;
    const price = prices[market];
    const size = (toUnits(notional, WAD) * WAD) / price;
    holdings.push({
      account: `trader-${String(i + 1).padStart(4, "0")}`,
      market,
      size: long ? size : -size,
      entryPrice: price,
      // Whole cents, rounded up: the initial-margin check must pass after the fee.
      collateral: (BigInt(Math.ceil((notional / leverage + notional * p.openingFee) * 100)) * USD) / 100n,
    });
  }
  return balance(holdings, p.makerLeverage);
}

/**
 * Adds one maker per market holding the opposite of the market's net size at that market's volume-weighted
 * entry price, with collateral for `leverage`: the contracts keep long and short open interest equal
 * (every fill has two sides), and the loss policies charge the side opposite a bankrupt position.
 */
export function balance(holdings: readonly Holding[], leverage: number): Holding[] {
  const out = [...holdings];
  for (const market of MARKETS) {
    const rows = holdings.filter((h) => h.market === market);
    const net = rows.reduce((s, h) => s + h.size, 0n);
    if (net === 0n) continue;
    const absSum = rows.reduce((s, h) => s + (h.size < 0n ? -h.size : h.size), 0n);
    const price = rows.reduce((s, h) => s + (h.size < 0n ? -h.size : h.size) * h.entryPrice, 0n) / absSum;
    const absNet = net < 0n ? -net : net;
    const notionalTokens = (absNet * price) / WAD / 10n ** 12n; // 6-decimal USD
    out.push({
      account: `maker-${market}`,
      market,
      size: -net,
      entryPrice: price,
      collateral: (notionalTokens * 100n) / BigInt(Math.round(leverage * 100)),
    });
  }
  return out;
}

/** Concentration of the book: each account's notional at entry, and the largest shares of the total. */
export interface Concentration {
  accounts: number;
  totalNotionalUsd: number;
  top1Share: number;
  top2Share: number;
  top10Share: number;
  largest: { account: string; market: MarketSymbol; notionalUsd: number }[];
}

export function concentration(holdings: readonly Holding[]): Concentration {
  const rows = holdings
    .map((h) => ({
      account: h.account,
      market: h.market,
      notionalUsd: Number(((h.size < 0n ? -h.size : h.size) * h.entryPrice) / WAD / 10n ** 12n) / 1e6,
    }))
    .sort((a, b) => b.notionalUsd - a.notionalUsd || (a.account < b.account ? -1 : 1));
  const total = rows.reduce((s, r) => s + r.notionalUsd, 0);
  const share = (k: number): number => rows.slice(0, k).reduce((s, r) => s + r.notionalUsd, 0) / total;
  return {
    accounts: rows.length,
    totalNotionalUsd: total,
    top1Share: share(1),
    top2Share: share(2),
    top10Share: share(10),
    largest: rows.slice(0, 5),
  };
}

export const POPULATION_HEADER = "account,market,side,size,entry_price,collateral";
const DECIMAL = /^\d+(\.\d+)?$/;

function decimalUnits(text: string, decimals: number, where: string, what: string): bigint {
  if (!DECIMAL.test(text)) throw new Error(`${where}: ${what} "${text}" is not a positive decimal number`);
  const [whole, frac = ""] = text.split(".");
  if (frac.length > decimals) throw new Error(`${where}: ${what} "${text}" has more than ${decimals} decimals`);
  const value = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0");
  if (value === 0n) throw new Error(`${where}: ${what} is zero`);
  return value;
}

/**
 * Parses a population file: header `account,market,side,size,entry_price,collateral`, then one row per
 * account — market ETH-USD or BTC-USD, side long or short, size in base units (up to 18 decimals),
 * entry price and collateral in USD (collateral up to 6 decimals, the token's). An account may appear
 * once (the engine models one position per account). Every error names the file and line. Makers are
 * added by {@link balance} when the file's long and short sizes differ.
 */
export function parsePopulationCsv(text: string, source: string, makerLeverage: number): Holding[] {
  const lines = text.split(/\r?\n/).filter((l, i, all) => l.trim() !== "" || i < all.length - 1);
  if (lines[0]?.trim() !== POPULATION_HEADER) throw new Error(`${source}:1: header is not "${POPULATION_HEADER}"`);
  const seen = new Set<string>();
  const holdings: Holding[] = [];
  for (let i = 1; i < lines.length; i++) {
    const where = `${source}:${i + 1}`;
    const cells = lines[i].split(",").map((c) => c.trim());
    if (cells.length !== 6) throw new Error(`${where}: expected 6 fields, got ${cells.length}`);
    const [account, market, side, size, entry, collateral] = cells;
    if (account === "") throw new Error(`${where}: account is empty`);
    if (seen.has(account)) throw new Error(`${where}: account "${account}" appears twice; one position per account`);
    seen.add(account);
    if (!(MARKETS as readonly string[]).includes(market))
      throw new Error(`${where}: market "${market}" is not one of ${MARKETS.join(", ")}`);
    if (side !== "long" && side !== "short") throw new Error(`${where}: side "${side}" is not long or short`);
    const units = decimalUnits(size, 18, where, "size");
    holdings.push({
      account,
      market: market as MarketSymbol,
      size: side === "long" ? units : -units,
      entryPrice: decimalUnits(entry, 18, where, "entry price"),
      collateral: decimalUnits(collateral, 6, where, "collateral"),
    });
  }
  if (holdings.length === 0) throw new Error(`${source}: no accounts`);
  return balance(holdings, makerLeverage);
}
