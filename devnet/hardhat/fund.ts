import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionReceipt } from "ethers";

import type { ClearingHouse, InsuranceFund, MockAggregatorV3, MockERC20 } from "../../typechain-types/index.js";
import { USD, WAD } from "./fixture.js";
import { captureState, mined, trade } from "./trading.js";
import type { StateSnapshot } from "./trading.js";

/** One unit of an 8-decimal feed answer. */
export const FEED = 10n ** 8n;

/** Publishes `dollars` (whole dollars, or a fraction given as `cents`) as the feed's new answer. */
export async function setPrice(feed: MockAggregatorV3, dollars: bigint, cents = 0n): Promise<void> {
  await mined(feed.setAnswer(dollars * FEED + cents * 10n ** 6n));
}

/** Re-publishes each feed's current answer, so that it is fresh again after time travel. */
export async function refreshFeeds(...feeds: MockAggregatorV3[]): Promise<void> {
  for (const feed of feeds) {
    const [, answer] = await feed.latestRoundData();
    await mined(feed.setAnswer(answer));
  }
}

/** `long` (maker, buying) and `short` (taker) trade `size` (18 decimals) at `price` whole dollars. */
export function openAt(
  clearingHouse: ClearingHouse,
  long: HardhatEthersSigner,
  short: HardhatEthersSigner,
  marketId: bigint,
  size: bigint,
  price: bigint,
): Promise<ContractTransactionReceipt> {
  return trade(clearingHouse, long, short, { marketId, isBuy: true, size, limitPrice: price * WAD }, size);
}

/** Deposits `dollars` whole USD into the clearing house for each signer. */
export async function depositUsd(clearingHouse: ClearingHouse, dollars: bigint, ...who: HardhatEthersSigner[]) {
  for (const signer of who) await mined(clearingHouse.connect(signer).deposit(dollars * USD));
}

export interface CaseSnapshot {
  open: boolean;
  longCounterparties: boolean;
  marketId: bigint;
  startedAt: bigint;
  initialShortfall: bigint;
  fundPaid: bigint;
  deleveraged: bigint;
}

export interface FundSnapshot {
  totalAssets: bigint;
  totalSupply: bigint;
  tokenBalance: bigint;
  drawnInWindow: bigint;
  windowStart: bigint;
  shares: bigint[];
  requests: [bigint, bigint, bigint][];
}

/** Balances, supply, window and unstake requests of the insurance fund for `stakers`. */
export async function fundSnapshot(fund: InsuranceFund, token: MockERC20, stakers: string[]): Promise<FundSnapshot> {
  const requests: [bigint, bigint, bigint][] = [];
  for (const staker of stakers) {
    const [shares, assets, readyAt] = await fund.unstakeRequests(staker);
    requests.push([shares, assets, readyAt]);
  }
  return {
    totalAssets: await fund.totalAssets(),
    totalSupply: await fund.totalSupply(),
    tokenBalance: await token.balanceOf(await fund.getAddress()),
    drawnInWindow: await fund.drawnInWindow(),
    windowStart: await fund.windowStart(),
    shares: await Promise.all(stakers.map((s) => fund.balanceOf(s))),
    requests,
  };
}

export interface WaterfallSnapshot {
  state: StateSnapshot;
  /** Per market: [longSocialLossIndex, shortSocialLossIndex, longDeleverageCases, shortDeleverageCases]. */
  lossIndexes: bigint[][];
  openDeleverageCases: bigint;
  cases: CaseSnapshot[];
  fund: FundSnapshot;
}

/**
 * Everything a waterfall call could change: positions, collateral, token balances, open interest and fee
 * pots (captureState), social-loss indexes and deleverage counters of each market, every account's
 * deleverage case, and the insurance fund. Two snapshots around a reverted call must be deeply equal.
 */
export async function waterfallSnapshot(
  clearingHouse: ClearingHouse,
  fund: InsuranceFund,
  token: MockERC20,
  accounts: string[],
  marketIds: bigint[],
): Promise<WaterfallSnapshot> {
  const lossIndexes: bigint[][] = [];
  for (const marketId of marketIds) {
    const s = await clearingHouse.marketState(marketId);
    lossIndexes.push([s.longSocialLossIndex, s.shortSocialLossIndex, s.longDeleverageCases, s.shortDeleverageCases]);
  }
  const cases: CaseSnapshot[] = [];
  for (const account of accounts) {
    const c = await clearingHouse.deleverageCaseOf(account);
    cases.push({
      open: c.open,
      longCounterparties: c.longCounterparties,
      marketId: c.marketId,
      startedAt: c.startedAt,
      initialShortfall: c.initialShortfall,
      fundPaid: c.fundPaid,
      deleveraged: c.deleveraged,
    });
  }
  return {
    state: await captureState(clearingHouse, token, accounts, marketIds),
    lossIndexes,
    openDeleverageCases: await clearingHouse.openDeleverageCases(),
    cases,
    fund: await fundSnapshot(fund, token, accounts),
  };
}
