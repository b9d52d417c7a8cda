import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { expect } from "chai";

import type { ClearingHouse, MockERC20 } from "../../typechain-types/index.js";
import type { OrderStruct } from "../../typechain-types/ClearingHouse.js";
import { ORDER_TYPES, orderDomain as sdkOrderDomain } from "#sdk";
import { ethers, makeOrder, networkHelpers, signOrder } from "./fixture.js";

export { ORDER_TYPES };

/** The EIP-712 domain of a clearing house, as #sdk builds it. */
export type OrderDomain = ReturnType<typeof sdkOrderDomain>;

/** The EIP-712 domain of a clearing house on the in-process network. */
export async function orderDomain(clearingHouse: ClearingHouse): Promise<OrderDomain> {
  const { chainId } = await ethers.provider.getNetwork();
  return sdkOrderDomain(Number(chainId), await clearingHouse.getAddress());
}

/** The EIP-712 digest of an order, computed by ethers (not by the contract). */
export async function orderDigest(clearingHouse: ClearingHouse, order: OrderStruct): Promise<string> {
  return ethers.TypedDataEncoder.hash(await orderDomain(clearingHouse), ORDER_TYPES, order);
}

export interface SignedOrder {
  order: OrderStruct;
  signature: string;
  hash: string;
}

/** An order made and signed by `maker`, with its digest computed by ethers. */
export async function signedOrder(
  clearingHouse: ClearingHouse,
  maker: HardhatEthersSigner,
  fields: Partial<OrderStruct> = {},
): Promise<SignedOrder> {
  const order = await makeOrder(maker.address, fields);
  const signature = await signOrder(clearingHouse, maker, order);
  return { order, signature, hash: await orderDigest(clearingHouse, order) };
}

/** Fills `size` of a signed order with `taker` as the caller. */
export function fill(
  clearingHouse: ClearingHouse,
  taker: HardhatEthersSigner,
  signed: SignedOrder,
  size: bigint,
): Promise<ContractTransactionResponse> {
  return clearingHouse.connect(taker).fillOrder(signed.order, signed.signature, size);
}

/** Signs an order by `maker` and has `taker` fill `size` of it; returns the mined receipt. */
export async function trade(
  clearingHouse: ClearingHouse,
  maker: HardhatEthersSigner,
  taker: HardhatEthersSigner,
  fields: Partial<OrderStruct>,
  size: bigint,
): Promise<ContractTransactionReceipt> {
  const signed = await signedOrder(clearingHouse, maker, fields);
  return mined(fill(clearingHouse, taker, signed, size));
}

/** Waits for a transaction and returns its receipt (never null on a mined transaction). */
export async function mined(tx: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("transaction not mined");
  return receipt;
}

/** Makes the next block carry timestamp `ts`. */
export async function nextBlockAt(ts: bigint): Promise<void> {
  await networkHelpers.time.setNextBlockTimestamp(ts);
}

/** The latest block's timestamp. */
export async function latestTime(): Promise<bigint> {
  return BigInt(await networkHelpers.time.latest());
}

/** The timestamp of the block a receipt was mined in. */
export async function blockTime(receipt: ContractTransactionReceipt): Promise<bigint> {
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  if (block === null) throw new Error("block not found");
  return BigInt(block.timestamp);
}

export interface DecodedEvent {
  name: string;
  args: unknown[];
}

/** Every event the clearing house emitted in a transaction, in order, with decoded arguments. */
export function clearingHouseEvents(clearingHouse: ClearingHouse, receipt: ContractTransactionReceipt): DecodedEvent[] {
  const target = clearingHouse.target;
  if (typeof target !== "string") throw new Error("clearing house without a resolved address");
  const address = target.toLowerCase();
  const events: DecodedEvent[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = clearingHouse.interface.parseLog(log);
    if (parsed === null) throw new Error("unknown clearing-house log");
    events.push({ name: parsed.name, args: parsed.args.toArray() });
  }
  return events;
}

export interface PositionSnapshot {
  size: bigint;
  openNotional: bigint;
  unrealizedPnl: bigint;
  fundingOwed: bigint;
}

export interface MarketSnapshot {
  fundingIndex: bigint;
  premiumEma: bigint;
  longOpenInterest: bigint;
  shortOpenInterest: bigint;
  lastFundingTime: bigint;
  lastPremiumTime: bigint;
}

export interface StateSnapshot {
  collateral: bigint[];
  tokenBalances: bigint[];
  clearingHouseBalance: bigint;
  positions: PositionSnapshot[][];
  openMarkets: bigint[][];
  markets: MarketSnapshot[];
  orders: [bigint, boolean][];
  nonces: bigint[];
  protocolFees: bigint;
  insuranceFees: bigint;
}

/**
 * Everything a fill, cancel or withdrawal could change for the given accounts, markets and orders, read at
 * the latest block. Two snapshots around a reverted call must be deeply equal.
 */
export async function captureState(
  clearingHouse: ClearingHouse,
  token: MockERC20,
  accounts: string[],
  marketIds: bigint[],
  orderHashes: string[] = [],
): Promise<StateSnapshot> {
  const positions: PositionSnapshot[][] = [];
  for (const account of accounts) {
    const row: PositionSnapshot[] = [];
    for (const marketId of marketIds) {
      const p = await clearingHouse.positionOf(account, marketId);
      row.push({
        size: p.size,
        openNotional: p.openNotional,
        unrealizedPnl: p.unrealizedPnl,
        fundingOwed: p.fundingOwed,
      });
    }
    positions.push(row);
  }
  const markets: MarketSnapshot[] = [];
  for (const marketId of marketIds) {
    const s = await clearingHouse.marketState(marketId);
    markets.push({
      fundingIndex: s.fundingIndex,
      premiumEma: s.premiumEma,
      longOpenInterest: s.longOpenInterest,
      shortOpenInterest: s.shortOpenInterest,
      lastFundingTime: s.lastFundingTime,
      lastPremiumTime: s.lastPremiumTime,
    });
  }
  const orders: [bigint, boolean][] = [];
  for (const hash of orderHashes) {
    const [filled, cancelled] = await clearingHouse.orderStatus(hash);
    orders.push([filled, cancelled]);
  }
  return {
    collateral: await Promise.all(accounts.map((a) => clearingHouse.collateralOf(a))),
    tokenBalances: await Promise.all(accounts.map((a) => token.balanceOf(a))),
    clearingHouseBalance: await token.balanceOf(await clearingHouse.getAddress()),
    positions,
    openMarkets: await Promise.all(accounts.map(async (a) => [...(await clearingHouse.openMarketsOf(a))])),
    markets,
    orders,
    nonces: await Promise.all(accounts.map((a) => clearingHouse.minValidNonce(a))),
    protocolFees: await clearingHouse.protocolFees(),
    insuranceFees: await clearingHouse.insuranceFees(),
  };
}

/** Asserts that a market's long and short open interest both equal `expected`. */
export async function expectOpenInterest(
  clearingHouse: ClearingHouse,
  marketId: bigint,
  expected: bigint,
): Promise<void> {
  const state = await clearingHouse.marketState(marketId);
  expect(state.longOpenInterest, `long OI of market ${marketId}`).to.equal(expected);
  expect(state.shortOpenInterest, `short OI of market ${marketId}`).to.equal(expected);
}

/** Asserts an account's position size and cost basis. */
export async function expectPosition(
  clearingHouse: ClearingHouse,
  account: string,
  marketId: bigint,
  size: bigint,
  openNotional: bigint,
): Promise<void> {
  const p = await clearingHouse.positionOf(account, marketId);
  expect(p.size, `size of ${account} in ${marketId}`).to.equal(size);
  expect(p.openNotional, `open notional of ${account} in ${marketId}`).to.equal(openNotional);
}

// ---------------------------------------------------------------- funding model
// An independent bigint model of FundingMath, for expectations that chain several steps.

const WAD_UNIT = 10n ** 18n;
const PREMIUM_WINDOW = 3600n;
const FUNDING_PERIOD = 86_400n;

/** a × b / d rounded toward −∞. */
export function floorMulDiv(a: bigint, b: bigint, d: bigint): bigint {
  const n = a * b;
  const q = n / d;
  return n % d !== 0n && n < 0n !== d < 0n ? q - 1n : q;
}

/** a × b / d rounded toward +∞. */
export function ceilMulDiv(a: bigint, b: bigint, d: bigint): bigint {
  return -floorMulDiv(-a, b, d);
}

/**
 * The premium average after a fill: it moves toward (fill − oracle) / oracle by
 * ⌊min(elapsed, 1 h) × fillSize / (fillSize + openInterestBefore)⌋ / 1 h.
 */
export function premiumEmaAfterFill(
  ema: bigint,
  fillPrice: bigint,
  oraclePrice: bigint,
  elapsed: bigint,
  fillSize: bigint,
  openInterestBefore: bigint,
): bigint {
  const premium = floorMulDiv(fillPrice - oraclePrice, WAD_UNIT, oraclePrice);
  const timeWeight = elapsed < PREMIUM_WINDOW ? elapsed : PREMIUM_WINDOW;
  const weight = (timeWeight * fillSize) / (fillSize + openInterestBefore);
  return ema + floorMulDiv(premium - ema, weight, PREMIUM_WINDOW);
}

/** The premium average clamped to ±maxRate. */
export function clampRate(ema: bigint, maxRate: bigint): bigint {
  return ema > maxRate ? maxRate : ema < -maxRate ? -maxRate : ema;
}

/** Funding-index growth at `rate` per day over `elapsed` seconds at `price`, rounded toward −∞. */
export function fundingIndexGrowth(rate: bigint, price: bigint, elapsed: bigint): bigint {
  return floorMulDiv(rate, price * elapsed, WAD_UNIT * FUNDING_PERIOD);
}
