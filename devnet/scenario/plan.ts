import { id } from "ethers";

import { LOCAL_RISK, SCALE, USD, WAD, sum } from "#sdk";
import { BTC_MARKET, ETH_MARKET } from "../constants.js";

/**
 * The crash, as data: who trades what with whom before the price gap, and what the margin math says each account
 * becomes after it. Pure: the same seed gives the same plan, and nothing here touches a chain.
 *
 * Design. Half the accounts by default ("losers") hold the side a gap hurts (by default ETH longs and BTC shorts;
 * see PlanOptions.gap), and every fifth one both. The other half ("winners") take the opposite side and profit. Losers are built in a cycle of classes
 * per kind (bankrupt, liquidatable, safe, liquidatable, safe) whose leverages are chosen so that at the default
 * gap (ETH −15%, BTC +15%) the class holds with room to spare for fees and rounding:
 *   safe 2–4x (equity ≥ 0.4 × collateral against a maintenance need ≤ 0.23),
 *   liquidatable 5.5–6.5x (equity 0.025–0.175 × collateral, need ≥ 0.23),
 *   bankrupt 7–9x (equity ≤ −0.05 × collateral).
 * Bankrupt accounts are five times larger so that bad debt outweighs the fees the fund collects meanwhile;
 * the fund is staked with a quarter of the smaller market's bad debt, so it runs dry and both the ADL market
 * (ETH) and the socialized one (BTC) reach their third step. Winners' sizes are random and matched to losers'
 * orders by partial fills, so a bankrupt position usually needs several counterparties in ADL score order.
 * Every fill is at the oracle price: with no premium the funding rate stays zero, so the model below is exact
 * and an account a keeper restores to exactly its maintenance margin is not pushed back under it by funding a
 * block later (with a premium, such accounts turn liquidatable again by a few wei every block).
 */

export type Side = "long" | "short";
export type RiskClass = "safe" | "liquidatable" | "bankrupt";

export interface PlannedLeg {
  marketId: bigint;
  side: Side;
  /** Base units, 18 decimals, positive. */
  size: bigint;
  /** Σ fill size × fill price, rounded down per fill as the contract does (18 decimals, positive). */
  openNotional: bigint;
  /** Trading fees the fills charge (18 decimals). */
  fees: bigint;
}

export interface PlannedAccount {
  index: number;
  privateKey: string;
  role: "loser" | "winner";
  /** The class the account is built to have at DEFAULT_GAP; winners are always "safe". */
  designed: RiskClass;
  /** Entry notional / collateral. */
  leverage: number;
  /** Token units (6 decimals). */
  collateral: bigint;
  legs: PlannedLeg[];
}

/** One maker order: the loser's whole leg, at the oracle price. */
export interface PlannedOrder {
  makerIndex: number;
  marketId: bigint;
  isBuy: boolean;
  size: bigint;
  limitPrice: bigint;
  /** Distinct per maker. */
  nonce: bigint;
}

/** A winner (the taker) fills part of a loser's order. */
export interface PlannedFill {
  orderIndex: number;
  takerIndex: number;
  size: bigint;
}

export interface CrashPlan {
  seed: string;
  prices: MarketPrices;
  accounts: PlannedAccount[];
  orders: PlannedOrder[];
  fills: PlannedFill[];
  /** The stakers' deposits into the insurance fund (token units), largest first. */
  stakes: bigint[];
  stakerKeys: string[];
}

/** Oracle prices of both markets, 18 decimals. */
export interface MarketPrices {
  eth: bigint;
  btc: bigint;
}

/** Percent moves of the two feeds, e.g. { ethPct: -15, btcPct: 15 }. */
export interface PriceGap {
  ethPct: number;
  btcPct: number;
}

export const DEFAULT_GAP: PriceGap = { ethPct: -15, btcPct: 15 };

/** Market parameters the model needs: those of the local networks (sdk/deploy/networks/local.ts). */
const MAINTENANCE_MARGIN_RATIO = BigInt(LOCAL_RISK.maintenanceMarginRatio);
const MAKER_FEE_RATIO = BigInt(LOCAL_RISK.makerFeeRatio);
const TAKER_FEE_RATIO = BigInt(LOCAL_RISK.takerFeeRatio);

export const DEFAULT_CLASS_CYCLE: readonly RiskClass[] = ["bankrupt", "liquidatable", "safe", "liquidatable", "safe"];
/** Leverages in tenths, per class; see the design note above for the margins they leave. */
const LEVERAGE_TENTHS: Record<RiskClass, readonly number[]> = {
  safe: [20, 30, 40],
  liquidatable: [55, 60, 65],
  bankrupt: [70, 80, 90],
};
const WINNER_LEVERAGE_TENTHS = [20, 30, 40, 50, 60, 70, 80, 90];
const BANKRUPT_SIZE_FACTOR = 5n;
/** Sizes are whole multiples of 1e-8 base units. */
const SIZE_STEP = 10n ** 10n;
/** Share of the smaller market's expected bad debt that the stakers put in the fund, in percent. */
const FUND_SHARE_PCT = 25n;
const MIN_STAKE = 100n * USD;

export interface PlanOptions {
  /** Number of trader accounts (≥ 12 for every class in both markets). */
  accounts: number;
  seed: string | number;
  prices: MarketPrices;
  /** Total fund stake in token units; default a quarter of the smaller market's expected bad debt. */
  fundStake?: bigint;
  /** Stakers sharing it; default 2 (60/40), more in shares n : n−1 : … : 1. */
  stakers?: number;
  /** Share of the accounts on the losing side, in (0, 1); default 0.5. */
  loserShare?: number;
  /**
   * Classes given in turn to the losers of each kind (ETH only, BTC only, both); default DEFAULT_CLASS_CYCLE
   * (1 bankrupt, 2 liquidatable, 2 safe in 5). E.g. ["liquidatable"] with loserShare 0.5 and 200 accounts gives
   * 100 liquidatable accounts and no bad debt.
   */
  classCycle?: readonly RiskClass[];
  /**
   * The move the crash is built for; default DEFAULT_GAP. Losers hold the side it hurts in each market (long
   * where the price falls, short where it rises) and the default fund stake is sized on it. The leverages of the
   * classes are those above, designed for a 15% move: a smaller one makes fewer accounts bankrupt, a larger more.
   */
  gap?: PriceGap;
}

/** The crash for `options.accounts` traders at `options.prices`; deterministic in the seed. */
export function planCrash(options: PlanOptions): CrashPlan {
  const seed = String(options.seed);
  const random = seededRandom(seed);
  const keyOf = (role: string, i: number): string => id(`keeper-crash/${seed}/${role}/${i}`);
  const loserShare = options.loserShare ?? 0.5;
  if (!(loserShare > 0 && loserShare < 1)) throw new Error("plan: loserShare must be in (0, 1)");
  const cycle = options.classCycle ?? DEFAULT_CLASS_CYCLE;
  if (cycle.length === 0) throw new Error("plan: empty classCycle");
  const loserCount = Math.max(1, Math.min(options.accounts - 2, Math.floor(options.accounts * loserShare)));
  const gap = options.gap ?? DEFAULT_GAP;
  if (gap.ethPct === 0 || gap.btcPct === 0) throw new Error("plan: the gap must move both prices");
  const losing = { eth: losingSide(gap.ethPct), btc: losingSide(gap.btcPct) };

  const accounts: PlannedAccount[] = [];
  const orders: PlannedOrder[] = [];
  planLosers(loserCount, cycle, options.prices, losing, random, keyOf, accounts, orders);
  const fills = planWinners(options.accounts - loserCount, options.prices, losing, random, keyOf, accounts, orders);
  applyFills(accounts, orders, fills);
  const stakerCount = options.stakers ?? 2;
  if (!Number.isInteger(stakerCount) || stakerCount < 1) throw new Error("plan: stakers must be a whole number ≥ 1");
  const stakes = splitStake(options.fundStake ?? defaultFundStake(accounts, options.prices, gap), stakerCount);
  return {
    seed,
    prices: options.prices,
    accounts,
    orders,
    fills,
    stakes,
    stakerKeys: stakes.map((_, i) => keyOf("staker", i)),
  };
}

type KeyOf = (role: string, i: number) => string;
/** The side each market's losers hold. */
type LosingSides = { eth: Side; btc: Side };

function losingSide(pct: number): Side {
  return pct < 0 ? "long" : "short";
}

function sideIn(sides: LosingSides, marketId: bigint): Side {
  return marketId === ETH_MARKET ? sides.eth : sides.btc;
}

function opposite(side: Side): Side {
  return side === "long" ? "short" : "long";
}

/** Appends the losers and their orders (one per leg, the whole leg, at the oracle price). */
function planLosers(
  count: number,
  cycle: readonly RiskClass[],
  prices: MarketPrices,
  losing: LosingSides,
  random: () => number,
  keyOf: KeyOf,
  accounts: PlannedAccount[],
  orders: PlannedOrder[],
): void {
  const turns = { eth: 0, btc: 0, both: 0 };
  for (let j = 0; j < count; ++j) {
    const kind = j % 5 === 4 ? "both" : j % 2 === 0 ? "eth" : "btc";
    const designed = cycle[turns[kind]++ % cycle.length];
    const leverageTenths = pick(random, LEVERAGE_TENTHS[designed]);
    const factor = designed === "bankrupt" ? BANKRUPT_SIZE_FACTOR : 1n;
    const notionalUsd = BigInt(5_000 + Math.floor(random() * 15_000)) * factor;
    const markets = kind === "eth" ? [ETH_MARKET] : kind === "btc" ? [BTC_MARKET] : [ETH_MARKET, BTC_MARKET];
    const index = accounts.length;
    const account: PlannedAccount = {
      index,
      privateKey: keyOf("trader", index),
      role: "loser",
      designed,
      leverage: leverageTenths / 10,
      collateral: (notionalUsd * USD * 10n) / BigInt(leverageTenths),
      legs: [],
    };
    for (const marketId of markets) {
      const price = priceOf(prices, marketId);
      const size = roundDown((notionalUsd * WAD * WAD) / BigInt(markets.length) / price, SIZE_STEP);
      const side = sideIn(losing, marketId);
      orders.push({
        makerIndex: index,
        marketId,
        isBuy: side === "long",
        size,
        limitPrice: price,
        nonce: BigInt(orders.length),
      });
      account.legs.push({ marketId, side, size, openNotional: 0n, fees: 0n });
    }
    accounts.push(account);
  }
}

/**
 * Appends the winners (random shares of each market's loser size, on the other side, split between the markets
 * in proportion to their notional) and returns the fills that pair them with the losers' orders in sequence.
 */
function planWinners(
  count: number,
  prices: MarketPrices,
  losing: LosingSides,
  random: () => number,
  keyOf: KeyOf,
  accounts: PlannedAccount[],
  orders: readonly PlannedOrder[],
): PlannedFill[] {
  const marketSize = (marketId: bigint): bigint =>
    orders.filter((o) => o.marketId === marketId).reduce((sum, o) => sum + o.size, 0n);
  const ethNotional = Number((marketSize(ETH_MARKET) * prices.eth) / WAD / WAD);
  const btcNotional = Number((marketSize(BTC_MARKET) * prices.btc) / WAD / WAD);
  const ethCount = Math.min(count - 1, Math.max(1, Math.round((count * ethNotional) / (ethNotional + btcNotional))));
  const fills: PlannedFill[] = [];
  for (const [marketId, marketCount] of [
    [ETH_MARKET, ethCount],
    [BTC_MARKET, count - ethCount],
  ] as const) {
    const total = marketSize(marketId);
    const weights = Array.from({ length: marketCount }, () => BigInt(Math.round((0.5 + random() * 1.5) * 1e6)));
    const weightSum = weights.reduce((a, b) => a + b, 0n);
    let left = total;
    const winners = weights.map((weight, k): PlannedAccount => {
      const size = k === marketCount - 1 ? left : roundDown((total * weight) / weightSum, SIZE_STEP);
      left -= size;
      const leverageTenths = pick(random, WINNER_LEVERAGE_TENTHS);
      const index = accounts.length;
      const winner: PlannedAccount = {
        index,
        privateKey: keyOf("trader", index),
        role: "winner",
        designed: "safe",
        leverage: leverageTenths / 10,
        collateral: ((mulWad(size, priceOf(prices, marketId)) / SCALE) * 10n) / BigInt(leverageTenths) + USD,
        legs: [{ marketId, side: opposite(sideIn(losing, marketId)), size, openNotional: 0n, fees: 0n }],
      };
      accounts.push(winner);
      return winner;
    });
    fills.push(...matchFills(orders, marketId, winners));
  }
  return fills;
}

/** Fills the market's orders, in order, from the winners' sizes, in order: partial fills on both sides. */
function matchFills(orders: readonly PlannedOrder[], marketId: bigint, winners: PlannedAccount[]): PlannedFill[] {
  const fills: PlannedFill[] = [];
  let w = 0;
  let available = winners[0]?.legs[0].size ?? 0n;
  orders.forEach((order, orderIndex) => {
    if (order.marketId !== marketId) return;
    let open = order.size;
    while (open > 0n) {
      if (w >= winners.length) throw new Error("plan: winners' sizes do not cover the orders");
      const size = open < available ? open : available;
      if (size > 0n) fills.push({ orderIndex, takerIndex: winners[w].index, size });
      open -= size;
      available -= size;
      if (available === 0n && ++w < winners.length) available = winners[w].legs[0].size;
    }
  });
  return fills;
}

/** Books each fill's notional and fees on both legs, as the contract's fill does. */
function applyFills(accounts: PlannedAccount[], orders: PlannedOrder[], fills: PlannedFill[]): void {
  for (const fill of fills) {
    const order = orders[fill.orderIndex];
    const notional = mulWad(fill.size, order.limitPrice);
    const makerLeg = accounts[order.makerIndex].legs.find((leg) => leg.marketId === order.marketId);
    const takerLeg = accounts[fill.takerIndex].legs[0];
    if (makerLeg === undefined) throw new Error("plan: order without a leg");
    makerLeg.openNotional += notional;
    makerLeg.fees += mulWadUp(notional, MAKER_FEE_RATIO);
    takerLeg.openNotional += notional;
    takerLeg.fees += mulWadUp(notional, TAKER_FEE_RATIO);
  }
}

function defaultFundStake(accounts: PlannedAccount[], prices: MarketPrices, gap: PriceGap): bigint {
  const after = gapPrices(prices, gap);
  let ethDebt = 0n;
  let btcDebt = 0n;
  for (const account of accounts) {
    if (account.legs.length !== 1) continue;
    const { equity } = modelHealth(account, after);
    if (equity >= 0n) continue;
    if (account.legs[0].marketId === ETH_MARKET) ethDebt -= equity;
    else btcDebt -= equity;
  }
  const smaller = ethDebt < btcDebt ? ethDebt : btcDebt;
  const stake = roundDown((smaller * FUND_SHARE_PCT) / 100n / SCALE, USD);
  return stake > MIN_STAKE ? stake : MIN_STAKE;
}

function priceOf(prices: MarketPrices, marketId: bigint): bigint {
  return marketId === ETH_MARKET ? prices.eth : prices.btc;
}

/** Shares n : n−1 : … : 1 (60/40 for two), the last taking the rounding. */
function splitStake(total: bigint, count: number): bigint[] {
  const weights = count === 2 ? [6n, 4n] : Array.from({ length: count }, (_, i) => BigInt(count - i));
  const stakes = weights.map((w) => (total * w) / sum(weights));
  stakes[count - 1] = total - sum(stakes.slice(0, -1));
  return stakes;
}

/** Prices after a gap, rounded to the 8 decimals of the feeds. */
export function gapPrices(prices: MarketPrices, gap: PriceGap): MarketPrices {
  return { eth: movePrice(prices.eth, gap.ethPct), btc: movePrice(prices.btc, gap.btcPct) };
}

/** `price` (18 decimals) moved by `pct` percent, to a whole number of basis points, rounded to 8 decimals. */
export function movePrice(price: bigint, pct: number): bigint {
  const bps = BigInt(Math.round(pct * 100));
  return roundDown((price * (10_000n + bps)) / 10_000n, 10n ** 10n);
}

export interface ModelHealth {
  equity: bigint;
  maintenanceMargin: bigint;
  riskClass: RiskClass;
}

/**
 * Equity and maintenance margin of a planned account at `prices`, as the contract computes them before any
 * liquidation (funding is zero, see above). For checks of the plan against the lens, not for the keeper.
 */
export function modelHealth(account: PlannedAccount, prices: MarketPrices): ModelHealth {
  let equity = account.collateral * SCALE;
  let maintenanceMargin = 0n;
  for (const leg of account.legs) {
    const price = priceOf(prices, leg.marketId);
    const size = leg.side === "long" ? leg.size : -leg.size;
    const openNotional = leg.side === "long" ? leg.openNotional : -leg.openNotional;
    equity += floorDiv(size * price, WAD) - openNotional - leg.fees;
    maintenanceMargin += mulWadUp(mulWadUp(leg.size, price), MAINTENANCE_MARGIN_RATIO);
  }
  const riskClass: RiskClass = equity < 0n ? "bankrupt" : equity < maintenanceMargin ? "liquidatable" : "safe";
  return { equity, maintenanceMargin, riskClass };
}

/** A deterministic PRNG (mulberry32) seeded from a string. */
export function seededRandom(seed: string): () => number {
  let state = Number(BigInt(id(seed)) & 0xffffffffn);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)];
}

function roundDown(value: bigint, step: bigint): bigint {
  return (value / step) * step;
}

function mulWad(x: bigint, y: bigint): bigint {
  return (x * y) / WAD;
}

function mulWadUp(x: bigint, y: bigint): bigint {
  return (x * y + WAD - 1n) / WAD;
}

function floorDiv(x: bigint, d: bigint): bigint {
  const q = x / d;
  return x % d !== 0n && x < 0n ? q - 1n : q;
}
