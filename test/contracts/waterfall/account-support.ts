// liquidateAccount (issue 15): a bankrupt account in N markets, and the comparison of one liquidateAccount against
// the single liquidate calls it stands for. Shared by the differential test and the attack tests.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { expect } from "chai";

import type { MockAggregatorV3 } from "../../../typechain-types/index.js";
import {
  BTC_MARKET,
  ETH_MARKET,
  USD,
  WAD,
  deploySystemWithPolicies,
  ethers,
  marketParams,
  networkHelpers,
} from "../../../devnet/hardhat/fixture.js";
import type { System } from "../../../devnet/hardhat/fixture.js";
import { clearingHouseEvents, latestTime, mined, trade } from "../../../devnet/hardhat/trading.js";
import type { DecodedEvent } from "../../../devnet/hardhat/trading.js";
import { setFundLimits, setPrice, stake } from "../../../devnet/hardhat/waterfall.js";

/** One market of the bankrupt account: its policy, the account's signed size, and the price before and after. */
export interface MarketSpec {
  policy: bigint;
  /** The account's position (18 decimals): long > 0, short < 0. */
  size: bigint;
  /** Price at which it opens and the price it moves to (18 decimals, at most 8 decimals of USD). */
  open: bigint;
  moved: bigint;
}

export interface AccountSpec {
  markets: MarketSpec[];
  /** The bankrupt account's deposit (token units). */
  deposit: bigint;
  /** What the fund may pay today (token units); its stake is 10,000. */
  drawCap: bigint;
  /** Fees and funding off (and no fee pot): the worked examples' figures. Default: the fixture's fees and funding. */
  quiet?: boolean;
}

export interface AccountCtx extends System {
  spec: AccountSpec;
  feeds: MockAggregatorV3[];
  markets: bigint[];
  alice: HardhatEthersSigner; // goes bankrupt
  bob: HardhatEthersSigner; // counterparty
  carol: HardhatEthersSigner; // liquidator
  dave: HardhatEthersSigner; // fund staker
  erin: HardhatEthersSigner; // counterparty
  frank: HardhatEthersSigner; // counterparty
  /** The counterparty of each market: bob, erin, frank in turn. */
  counterparties: HardhatEthersSigner[];
}

export const FEED_DECIMALS = 10n ** 10n;
const COUNTERPARTY_DEPOSIT = 100_000n * USD;
const LIQUIDATOR_DEPOSIT = 100_000n * USD;
export const FUND_STAKE = 10_000n * USD;

/**
 * Lists the spec's markets (the first two are the fixture's ETH and BTC, re-listed with the spec's policies and
 * prices; the others new), has alice (maker) open each position against a counterparty at its open price, and
 * moves every price. Funding and fees are the fixture's unless `quiet`.
 */
export async function accountFixture(spec: AccountSpec): Promise<AccountCtx> {
  if (spec.markets.length < 2) throw new Error("at least two markets (ETH and BTC)");
  const system = await deploySystemWithPolicies(spec.markets[0].policy, spec.markets[1].policy);
  const { clearingHouse, riskManager } = system;
  const [alice, bob, carol, dave, erin, frank] = system.traders;
  const quiet = spec.quiet === true ? { maxFundingRate: 0n, makerFeeRatio: 0n, takerFeeRatio: 0n } : {};
  const feeds: MockAggregatorV3[] = [system.ethFeed, system.btcFeed];
  const markets: bigint[] = [ETH_MARKET, BTC_MARKET];
  for (const [i, m] of spec.markets.entries()) {
    if (i < 2) {
      await setPrice(feeds[i], m.open);
      await mined(
        clearingHouse
          .connect(riskManager)
          .updateMarketParams(
            markets[i],
            marketParams(await feeds[i].getAddress(), { lossPolicy: m.policy, ...quiet }),
          ),
      );
      continue;
    }
    const feed = await ethers.deployContract("MockAggregatorV3", [8, `X${i} / USD`, m.open / FEED_DECIMALS]);
    markets.push(await clearingHouse.marketCount());
    feeds.push(feed);
    await mined(
      clearingHouse
        .connect(riskManager)
        .listMarket(marketParams(await feed.getAddress(), { lossPolicy: m.policy, ...quiet })),
    );
  }
  await stake(system.fund, dave, FUND_STAKE);
  await setFundLimits(system, 0n, spec.drawCap * USD);
  await mined(clearingHouse.connect(alice).deposit(spec.deposit * USD));
  await mined(clearingHouse.connect(carol).deposit(LIQUIDATOR_DEPOSIT));
  for (const cp of [bob, erin, frank]) await mined(clearingHouse.connect(cp).deposit(COUNTERPARTY_DEPOSIT));
  const counterparties = spec.markets.map((_, i) => [bob, erin, frank][i % 3]);
  for (const [i, m] of spec.markets.entries()) {
    const size = m.size > 0n ? m.size : -m.size;
    await trade(
      clearingHouse,
      alice,
      counterparties[i],
      { marketId: markets[i], isBuy: m.size > 0n, size, limitPrice: m.open, nonce: BigInt(i) },
      size,
    );
  }
  for (const [i, m] of spec.markets.entries()) await setPrice(feeds[i], m.moved);
  return { ...system, spec, feeds, markets, alice, bob, carol, dave, erin, frank, counterparties };
}

/** ⌊|size| × price / 10^18⌋, as PositionMath.notionalAt. */
export function notionalAt(size: bigint, price: bigint): bigint {
  return ((size < 0n ? -size : size) * price) / WAD;
}

/**
 * The order of the single liquidate calls liquidateAccount stands for: every other market in market order, then the
 * largest position by notional at the moved prices (the first of equals).
 */
export function singleCallOrder(spec: AccountSpec, markets: bigint[]): bigint[] {
  let largest = 0;
  spec.markets.forEach((m, i) => {
    const best = spec.markets[largest];
    if (notionalAt(m.size, m.moved) > notionalAt(best.size, best.moved)) largest = i;
  });
  return [...markets.filter((_, i) => i !== largest), markets[largest]];
}

/** A contract struct or tuple as plain nested arrays of bigints, booleans and strings, for deep equality. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return Array.from(value, plain);
  return value;
}

/**
 * Everything a liquidation can change, for every market and the parties: collateral, health, positions (with
 * funding and social loss owed, haircut owed), claims, deleverage cases, market states, fee pots, the fund and its
 * token balance, the clearing house's balance and the shared claims pool's totals.
 */
export async function fullState(c: AccountCtx, extra: string[] = []): Promise<unknown> {
  const { clearingHouse, fund, token } = c;
  const accounts = [c.alice, c.bob, c.carol, c.dave, c.erin, c.frank].map((s) => s.address).concat(extra);
  const rows: unknown[] = [];
  for (const account of accounts) {
    const positions: unknown[] = [];
    for (const marketId of c.markets) {
      positions.push([
        plain(await clearingHouse.positionOf(account, marketId)),
        await clearingHouse.haircutOwed(account, marketId),
      ]);
    }
    rows.push({
      account,
      collateral: await clearingHouse.collateralOf(account),
      health: plain(await clearingHouse.accountHealth(account)),
      openMarkets: plain(await clearingHouse.openMarketsOf(account)),
      positions,
      claims: plain(await clearingHouse.claimsOf(account)),
      deleverageCase: plain(await clearingHouse.deleverageCaseOf(account)),
      tokens: await token.balanceOf(account),
    });
  }
  const markets: unknown[] = [];
  for (const marketId of c.markets) {
    markets.push([
      plain(await clearingHouse.marketState(marketId)),
      plain(await clearingHouse.haircutSide(marketId, true)),
      plain(await clearingHouse.haircutSide(marketId, false)),
    ]);
  }
  return {
    rows,
    markets,
    protocolFees: await clearingHouse.protocolFees(),
    insuranceFees: await clearingHouse.insuranceFees(),
    openDeleverageCases: await clearingHouse.openDeleverageCases(),
    claimsTotals: plain(await clearingHouse.claimsTotals(0n)),
    fundAssets: await fund.totalAssets(),
    fundSupply: await fund.totalSupply(),
    fundAvailable: await fund.availableForDraw(),
    fundDrawn: await fund.drawnInWindow(),
    fundTokens: await token.balanceOf(await fund.getAddress()),
    clearingHouseTokens: await token.balanceOf(await clearingHouse.getAddress()),
  };
}

export interface Outcome {
  state: unknown;
  events: DecodedEvent[];
  receipts: ContractTransactionReceipt[];
}

/** Gas limit of each call sent while automine is off (estimates would run on the state before the block). */
const GAS_LIMIT = 8_000_000n;

/**
 * Sends `calls` in one block at `timestamp` (automine off, then one block mined), so that funding and the oracle
 * are the same for every call, and returns the state after and every clearing-house event in order.
 */
export async function inOneBlock(
  c: AccountCtx,
  timestamp: bigint,
  calls: ((overrides: { gasLimit: bigint }) => Promise<ContractTransactionResponse>)[],
  extra: string[] = [],
): Promise<Outcome> {
  await ethers.provider.send("evm_setAutomine", [false]);
  const sent: ContractTransactionResponse[] = [];
  try {
    for (const call of calls) sent.push(await call({ gasLimit: GAS_LIMIT }));
    await networkHelpers.time.setNextBlockTimestamp(timestamp);
    await networkHelpers.mine();
  } finally {
    await ethers.provider.send("evm_setAutomine", [true]);
  }
  const receipts: ContractTransactionReceipt[] = [];
  for (const tx of sent) {
    const receipt = await tx.wait();
    if (receipt === null) throw new Error("transaction not mined");
    receipts.push(receipt);
  }
  expect(new Set(receipts.map((r) => r.blockNumber)).size, "one block").to.equal(1);
  return {
    state: await fullState(c, extra),
    events: receipts.flatMap((r) => clearingHouseEvents(c.clearingHouse, r)),
    receipts,
  };
}

/**
 * From the same state: the single liquidate calls (every other market first, the largest last) in one block, and
 * liquidateAccount in one block at the same timestamp. Returns both outcomes; the state is left after liquidateAccount.
 */
export async function singlesAndAccount(
  c: AccountCtx,
  liquidator: HardhatEthersSigner = c.carol,
): Promise<{ singles: Outcome; account: Outcome }> {
  const timestamp = (await latestTime()) + 60n;
  const before = await networkHelpers.takeSnapshot();
  const singles = await inOneBlock(
    c,
    timestamp,
    singleCallOrder(c.spec, c.markets).map(
      (marketId) => (o) =>
        c.clearingHouse.connect(liquidator).liquidate(c.alice.address, marketId, ethers.MaxUint256, o),
    ),
  );
  await before.restore();
  const account = await inOneBlock(c, timestamp, [
    (o) => c.clearingHouse.connect(liquidator).liquidateAccount(c.alice.address, o),
  ]);
  return { singles, account };
}
