import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionReceipt } from "ethers";
import { expect } from "chai";

import type { ClearingHouse, InsuranceFund, MockAggregatorV3 } from "../../typechain-types/index.js";
import { BTC_MARKET, ETH_MARKET, FUND_COOLDOWN, FUND_DRAW_WINDOW, marketParams } from "./fixture.js";
import type { System } from "./fixture.js";
import { captureState } from "./trading.js";
import type { DecodedEvent, StateSnapshot } from "./trading.js";

/** 18-decimal price → answer of an 8-decimal feed. */
const FEED_TO_WAD = 10n ** 10n;

/** Publishes `price` (18 decimals, a whole number of 1e-8 USD) as a new round of an 8-decimal feed. */
export async function setPrice(feed: MockAggregatorV3, price: bigint): Promise<void> {
  if (price % FEED_TO_WAD !== 0n) throw new Error(`price ${price} has more than 8 decimals`);
  await (await feed.setAnswer(price / FEED_TO_WAD)).wait();
}

/**
 * Switches funding off in both markets (maxFundingRate 0: the index never moves, FundingAccrued carries index 0
 * and rate 0) and, with `tradingFees` false, trading fees too, so that every figure of a scenario is waterfall
 * arithmetic only. Liquidation discount 1%, liquidation fee 1%, maintenance 5% and initial 10% stay; the liquidation
 * buffer is `liquidationBuffer` (0: a partial liquidation restores exactly maintenance).
 */
export async function quietMarkets(system: System, tradingFees: boolean, liquidationBuffer = 0n): Promise<void> {
  const fees = tradingFees ? {} : { makerFeeRatio: 0n, takerFeeRatio: 0n };
  const { clearingHouse, riskManager } = system;
  // Each market keeps the loss policy it was listed with (it cannot change).
  for (const [market, feed] of [
    [ETH_MARKET, system.ethFeed],
    [BTC_MARKET, system.btcFeed],
  ] as const) {
    const { lossPolicy } = await clearingHouse.marketParams(market);
    await clearingHouse
      .connect(riskManager)
      .updateMarketParams(
        market,
        marketParams(await feed.getAddress(), { maxFundingRate: 0n, lossPolicy, liquidationBuffer, ...fees }),
      );
  }
}

/** `staker` deposits `amount` (token units) into the insurance fund. */
export async function stake(fund: InsuranceFund, staker: HardhatEthersSigner, amount: bigint): Promise<void> {
  await (await fund.connect(staker).deposit(amount, staker.address)).wait();
}

/** Sets the fund's floor and draw cap (token units), keeping the fixture's one-day window and cooldown. */
export async function setFundLimits(
  system: System,
  floor: bigint,
  drawCap: bigint,
  cooldown: bigint = FUND_COOLDOWN,
): Promise<void> {
  await (await system.fund.connect(system.admin).setParams(cooldown, floor, drawCap, FUND_DRAW_WINDOW)).wait();
}

/** Events of the claims ledger (ClaimsLib): kept apart from the waterfall's receipt, read with {@link claimEvents}. */
export const CLAIM_EVENTS: ReadonlySet<string> = new Set([
  "LossEventRecorded",
  "ClaimRecorded",
  "ClaimsFunded",
  "ClaimRepaid",
]);

/** The claims ledger's events of a transaction, in log order, with decoded arguments. */
export function claimEvents(clearingHouse: ClearingHouse, receipt: ContractTransactionReceipt): DecodedEvent[] {
  const target = clearingHouse.target;
  if (typeof target !== "string") throw new Error("unresolved address");
  const ch = target.toLowerCase();
  const events: DecodedEvent[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== ch) continue;
    const parsed = clearingHouse.interface.parseLog(log);
    if (parsed !== null && CLAIM_EVENTS.has(parsed.name))
      events.push({ name: parsed.name, args: parsed.args.toArray() });
  }
  return events;
}

/**
 * Every event the clearing house and the insurance fund emitted in a transaction, in log order, with decoded
 * arguments. Token transfers of the collateral token are left out, and so are the claims ledger's events (a
 * separate record of the same amounts, see {@link claimEvents}).
 */
export function waterfallEvents(
  clearingHouse: ClearingHouse,
  fund: InsuranceFund,
  receipt: ContractTransactionReceipt,
): DecodedEvent[] {
  const chTarget = clearingHouse.target;
  const fundTarget = fund.target;
  if (typeof chTarget !== "string" || typeof fundTarget !== "string") throw new Error("unresolved address");
  const ch = chTarget.toLowerCase();
  const fd = fundTarget.toLowerCase();
  const events: DecodedEvent[] = [];
  for (const log of receipt.logs) {
    const address = log.address.toLowerCase();
    if (address !== ch && address !== fd) continue;
    const parsed = address === ch ? clearingHouse.interface.parseLog(log) : fund.interface.parseLog(log);
    if (parsed === null) throw new Error(`unknown log of ${log.address}`);
    if (address === ch && CLAIM_EVENTS.has(parsed.name)) continue;
    events.push({ name: parsed.name, args: parsed.args.toArray() });
  }
  return events;
}

/** A FundingAccrued event of a market whose funding is switched off (index and rate stay 0). */
export function quietFunding(marketId: bigint, oraclePrice: bigint): DecodedEvent {
  return { name: "FundingAccrued", args: [marketId, 0n, 0n, oraclePrice] };
}

/** Shorthand for an expected event. */
export function ev(name: string, ...args: unknown[]): DecodedEvent {
  return { name, args };
}

export interface FundSnapshot {
  totalAssets: bigint;
  totalSupply: bigint;
  tokenBalance: bigint;
  availableForDraw: bigint;
  drawnInWindow: bigint;
}

export interface LossSnapshot {
  longSocialLossIndex: bigint;
  shortSocialLossIndex: bigint;
  longDeleverageCases: bigint;
  shortDeleverageCases: bigint;
}

export interface WaterfallSnapshot {
  state: StateSnapshot;
  fund: FundSnapshot;
  losses: LossSnapshot[];
  cases: bigint[][];
  caseOpen: boolean[];
  openDeleverageCases: bigint;
  socialLossOwed: bigint[][];
  unstakeRequests: bigint[][];
}

/** What the insurance fund holds and could pay now. */
export async function fundSnapshot(system: System): Promise<FundSnapshot> {
  const { fund, token } = system;
  return {
    totalAssets: await fund.totalAssets(),
    totalSupply: await fund.totalSupply(),
    tokenBalance: await token.balanceOf(await fund.getAddress()),
    availableForDraw: await fund.availableForDraw(),
    drawnInWindow: await fund.drawnInWindow(),
  };
}

/**
 * Everything a step of the waterfall can change for `accounts` in both markets: collateral, positions, token
 * balances, open interest, fee pots (captureState), the fund, social-loss indexes and deleverage counters,
 * deleverage cases, pending social loss and unstake requests. Two snapshots around a reverted call must be equal.
 */
export async function waterfallSnapshot(system: System, accounts: string[]): Promise<WaterfallSnapshot> {
  const { clearingHouse, fund, token } = system;
  const markets = [ETH_MARKET, BTC_MARKET];
  const losses: LossSnapshot[] = [];
  for (const marketId of markets) {
    const s = await clearingHouse.marketState(marketId);
    losses.push({
      longSocialLossIndex: s.longSocialLossIndex,
      shortSocialLossIndex: s.shortSocialLossIndex,
      longDeleverageCases: s.longDeleverageCases,
      shortDeleverageCases: s.shortDeleverageCases,
    });
  }
  const cases: bigint[][] = [];
  const caseOpen: boolean[] = [];
  const socialLossOwed: bigint[][] = [];
  const unstakeRequests: bigint[][] = [];
  for (const account of accounts) {
    const c = await clearingHouse.deleverageCaseOf(account);
    caseOpen.push(c.open);
    cases.push([c.marketId, c.startedAt, c.initialShortfall, c.fundPaid, c.deleveraged]);
    const owed: bigint[] = [];
    for (const marketId of markets) owed.push((await clearingHouse.positionOf(account, marketId)).socialLossOwed);
    socialLossOwed.push(owed);
    const r = await fund.unstakeRequests(account);
    unstakeRequests.push([r.shares, r.assets, r.readyAt]);
  }
  return {
    state: await captureState(clearingHouse, token, [...accounts, await fund.getAddress()], markets),
    fund: await fundSnapshot(system),
    losses,
    cases,
    caseOpen,
    openDeleverageCases: await clearingHouse.openDeleverageCases(),
    socialLossOwed,
    unstakeRequests,
  };
}

/** Asserts an account's settled collateral (18 decimals). */
export async function expectCollateral(clearingHouse: ClearingHouse, account: string, expected: bigint): Promise<void> {
  expect(await clearingHouse.collateralOf(account), `collateral of ${account}`).to.equal(expected);
}

export interface MarketExpectation {
  longOpenInterest: bigint;
  shortOpenInterest: bigint;
  longSocialLossIndex: bigint;
  shortSocialLossIndex: bigint;
  longDeleverageCases: bigint;
  shortDeleverageCases: bigint;
}

/** Asserts both sides' open interest, social-loss index and deleverage counter of a market. */
export async function expectMarket(
  clearingHouse: ClearingHouse,
  marketId: bigint,
  expected: MarketExpectation,
): Promise<void> {
  const s = await clearingHouse.marketState(marketId);
  expect(
    {
      longOpenInterest: s.longOpenInterest,
      shortOpenInterest: s.shortOpenInterest,
      longSocialLossIndex: s.longSocialLossIndex,
      shortSocialLossIndex: s.shortSocialLossIndex,
      longDeleverageCases: s.longDeleverageCases,
      shortDeleverageCases: s.shortDeleverageCases,
    },
    `state of market ${marketId}`,
  ).to.deep.equal(expected);
}

/** Open interest `oi` on both sides and no social loss or deleverage case. */
export function plainMarket(oi: bigint): MarketExpectation {
  return {
    longOpenInterest: oi,
    shortOpenInterest: oi,
    longSocialLossIndex: 0n,
    shortSocialLossIndex: 0n,
    longDeleverageCases: 0n,
    shortDeleverageCases: 0n,
  };
}

/** Asserts the fund's assets, share supply, token balance and what it could pay now (token units). */
export async function expectFund(
  system: System,
  expected: { totalAssets: bigint; totalSupply: bigint; availableForDraw: bigint; tokenBalance?: bigint },
): Promise<void> {
  const f = await fundSnapshot(system);
  // The token balance equals totalAssets unless income is still streaming in (or not yet streaming).
  expect(
    {
      totalAssets: f.totalAssets,
      totalSupply: f.totalSupply,
      tokenBalance: f.tokenBalance,
      available: f.availableForDraw,
    },
    "insurance fund",
  ).to.deep.equal({
    totalAssets: expected.totalAssets,
    totalSupply: expected.totalSupply,
    tokenBalance: expected.tokenBalance ?? expected.totalAssets,
    available: expected.availableForDraw,
  });
}

/** Asserts the clearing house's token balance (token units) and both fee pots (18 decimals). */
export async function expectClearingHouseFunds(
  system: System,
  expected: { tokenBalance: bigint; insuranceFees: bigint; protocolFees: bigint },
): Promise<void> {
  const { clearingHouse, token } = system;
  expect(
    {
      tokenBalance: await token.balanceOf(await clearingHouse.getAddress()),
      insuranceFees: await clearingHouse.insuranceFees(),
      protocolFees: await clearingHouse.protocolFees(),
    },
    "clearing house funds",
  ).to.deep.equal(expected);
}

/** An account's deleverage case as [open, longCounterparties, marketId, startedAt, shortfall, fundPaid, deleveraged]. */
export async function caseOf(clearingHouse: ClearingHouse, account: string): Promise<unknown[]> {
  const c = await clearingHouse.deleverageCaseOf(account);
  return [c.open, c.longCounterparties, c.marketId, c.startedAt, c.initialShortfall, c.fundPaid, c.deleveraged];
}
