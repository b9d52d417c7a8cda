// The benchmark's system: the test fixture's deployment plus extra markets, a counterparty per market, a keeper,
// and as many other accounts with open positions as a case needs. Everything is deterministic (fixed keys,
// nonces and order expiry), so two runs send the same transactions.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import type { ContractTransactionReceipt } from "ethers";

import type { MockAggregatorV3 } from "../../typechain-types/index.js";
import type { OrderStruct } from "../../typechain-types/ClearingHouse.js";
import {
  BTC_MARKET,
  BTC_PRICE,
  ETH_MARKET,
  ETH_PRICE,
  USD,
  WAD,
  deploySystem,
  ethers,
  marketParams,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { refreshFeeds } from "../../devnet/hardhat/fund.js";
import { ORDER_TYPES, mined, orderDomain } from "../../devnet/hardhat/trading.js";
import type { OrderDomain } from "../../devnet/hardhat/trading.js";

/** Extra ADL markets listed after ETH (0) and BTC (1), so that an account can hold up to 11 markets. */
export const EXTRA_MARKETS = 9;
const EXTRA_PRICE = 100n;
/** Fixed, far-future expiry: an expiry taken from the clock would change the calldata from run to run. */
const ORDER_EXPIRY = 2n ** 40n;
const LARGE_BALANCE = 10n ** 12n * USD;
const LARGE_DEPOSIT = 10n ** 9n * USD;
const ACTOR_BALANCE = 10n ** 7n * USD;
const OTHER_ACCOUNT_DEPOSIT = 100n * USD;

export type Trader = HardhatEthersSigner | Wallet;

export interface Bench {
  system: System;
  /** The counterparty that takes the other side of every trade in a market (its only market). */
  makerOf: (marketId: bigint) => HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  /** An ADL counterparty, short in the ETH market. */
  counterparty: HardhatEthersSigner;
  /** Stakes the insurance fund where a scenario needs it full. */
  seedStaker: HardhatEthersSigner;
  /** Accounts the scenarios act on; repeated runs take a different one each. */
  actors: HardhatEthersSigner[];
  extraMarkets: bigint[];
  feedOf: (marketId: bigint) => MockAggregatorV3;
  /** Every market's feed. */
  feeds: MockAggregatorV3[];
  /** Oracle price at deployment (18 decimals). */
  priceOf: (marketId: bigint) => bigint;
  /** Other accounts, each long in the ETH and in the BTC market. */
  others: string[];
  domain: OrderDomain;
  /** The next order nonce; one counter for every maker keeps every order distinct. */
  nextNonce: () => bigint;
}

/** A wallet with a key derived from `label` and `index`: the same address on every run. */
export function seededWallet(label: string, index: number): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(`backstop-bench/${label}/${index}`)));
}

export async function createBench(): Promise<Bench> {
  const system = await deploySystem();
  const { clearingHouse, fund, token, riskManager, traders } = system;
  const [whaleEth, whaleBtc, extraMaker, keeper, counterparty, seedStaker, ...actors] = traders;
  const chAddress = await clearingHouse.getAddress();
  const fundAddress = await fund.getAddress();

  const feeds = new Map<bigint, MockAggregatorV3>([
    [ETH_MARKET, system.ethFeed],
    [BTC_MARKET, system.btcFeed],
  ]);
  const prices = new Map<bigint, bigint>([
    [ETH_MARKET, ETH_PRICE * WAD],
    [BTC_MARKET, BTC_PRICE * WAD],
  ]);
  const extraMarkets: bigint[] = [];
  for (let i = 0; i < EXTRA_MARKETS; i += 1) {
    const feed = await ethers.deployContract("MockAggregatorV3", [8, `X${i} / USD`, EXTRA_PRICE * 10n ** 8n]);
    const marketId = await clearingHouse.marketCount();
    await mined(clearingHouse.connect(riskManager).listMarket(marketParams(await feed.getAddress())));
    feeds.set(marketId, feed);
    prices.set(marketId, EXTRA_PRICE * WAD);
    extraMarkets.push(marketId);
  }

  for (const signer of traders) {
    const large = [whaleEth, whaleBtc, extraMaker, keeper].includes(signer);
    await mined(token.mint(signer.address, large ? LARGE_BALANCE : ACTOR_BALANCE));
    await mined(token.connect(signer).approve(chAddress, ethers.MaxUint256));
    await mined(token.connect(signer).approve(fundAddress, ethers.MaxUint256));
  }
  for (const signer of [whaleEth, whaleBtc, extraMaker, keeper]) {
    await mined(clearingHouse.connect(signer).deposit(LARGE_DEPOSIT));
  }

  let nonce = 0n;
  const lookup = <T>(map: Map<bigint, T>, marketId: bigint, what: string): T => {
    const value = map.get(marketId);
    if (value === undefined) throw new Error(`no ${what} for market ${marketId}`);
    return value;
  };
  return {
    system,
    makerOf: (marketId) => (marketId === ETH_MARKET ? whaleEth : marketId === BTC_MARKET ? whaleBtc : extraMaker),
    keeper,
    counterparty,
    seedStaker,
    actors,
    extraMarkets,
    feedOf: (marketId) => lookup(feeds, marketId, "feed"),
    feeds: [...feeds.values()],
    priceOf: (marketId) => lookup(prices, marketId, "price"),
    others: [],
    domain: await orderDomain(clearingHouse),
    nextNonce: () => (nonce += 1n),
  };
}

/** `maker` signs an order for `size` at the market's starting price; `makerBuys` picks its side. */
export async function signedOrderOf(
  bench: Bench,
  maker: Trader,
  marketId: bigint,
  makerBuys: boolean,
  size: bigint,
): Promise<{ order: OrderStruct; signature: string }> {
  const order: OrderStruct = {
    maker: maker.address,
    marketId,
    isBuy: makerBuys,
    size,
    limitPrice: bench.priceOf(marketId),
    expiry: ORDER_EXPIRY,
    nonce: bench.nextNonce(),
    reduceOnly: false,
  };
  return { order, signature: await maker.signTypedData(bench.domain, ORDER_TYPES, order) };
}

/** `taker` fills a fresh order of `maker` for all of `size`; the taker buys when `takerBuys`. */
export async function fillAgainst(
  bench: Bench,
  taker: HardhatEthersSigner,
  maker: Trader,
  marketId: bigint,
  takerBuys: boolean,
  size: bigint,
): Promise<ContractTransactionReceipt> {
  const { order, signature } = await signedOrderOf(bench, maker, marketId, !takerBuys, size);
  return mined(bench.system.clearingHouse.connect(taker).fillOrder(order, signature, size));
}

/** `trader` moves its position in `marketId` by `delta` (positive buys) against the market's counterparty. */
export function tradeWithMaker(
  bench: Bench,
  trader: HardhatEthersSigner,
  marketId: bigint,
  delta: bigint,
): Promise<ContractTransactionReceipt> {
  return fillAgainst(bench, trader, bench.makerOf(marketId), marketId, delta > 0n, delta > 0n ? delta : -delta);
}

/**
 * Opens a long of `notionalUsd` in `marketId` for a wallet that never sends a transaction: the market's
 * counterparty pays its collateral in and takes its signed order.
 */
export async function openWalletLong(
  bench: Bench,
  wallet: Wallet,
  marketId: bigint,
  notionalUsd: bigint,
  collateral: bigint,
): Promise<void> {
  const whale = bench.makerOf(marketId);
  if (collateral > 0n) await mined(bench.system.clearingHouse.connect(whale).depositFor(wallet.address, collateral));
  const size = (notionalUsd * WAD * WAD) / bench.priceOf(marketId);
  await fillAgainst(bench, whale, wallet, marketId, false, size);
}

/** Blocks come at least a second apart, so a long set-up outlives the feeds' one-hour heartbeat. */
const ACCOUNTS_PER_REFRESH = 500;

/** Re-publishes every feed's answer, so that the prices are fresh again after many blocks. */
export async function refreshAllFeeds(bench: Bench): Promise<void> {
  await refreshFeeds(...bench.feeds);
}

/** Adds `count` other accounts, each long 20 USD of ETH and 60 USD of BTC; the feeds are fresh afterwards. */
export async function addOtherAccounts(bench: Bench, count: number): Promise<void> {
  for (let k = 0; k < count; k += 1) {
    const wallet = seededWallet("other", bench.others.length);
    await openWalletLong(bench, wallet, ETH_MARKET, 20n, OTHER_ACCOUNT_DEPOSIT);
    await openWalletLong(bench, wallet, BTC_MARKET, 60n, 0n);
    bench.others.push(wallet.address);
    if ((k + 1) % ACCOUNTS_PER_REFRESH === 0) await refreshAllFeeds(bench);
  }
  await refreshAllFeeds(bench);
}
