import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse } from "ethers";

import type { ClearingHouse, FeeOnTransferERC20, MockERC20 } from "../../typechain-types/index.js";
import type { MarketParamsStruct, OrderStruct } from "../../typechain-types/ClearingHouse.js";
import { ethers, makeOrder, networkHelpers, signOrder } from "./fixture.js";

/** A signed order and its EIP-712 digest. */
export interface SignedOrder {
  order: OrderStruct;
  signature: string;
  orderHash: string;
}

/** Builds (from `makeOrder` defaults plus `fields`) and signs an order of `maker`. */
export async function signedOrder(
  clearingHouse: ClearingHouse,
  maker: HardhatEthersSigner,
  fields: Partial<OrderStruct> = {},
): Promise<SignedOrder> {
  const order = await makeOrder(maker.address, fields);
  const signature = await signOrder(clearingHouse, maker, order);
  const orderHash = await clearingHouse.hashOrder(order);
  return { order, signature, orderHash };
}

/**
 * `maker` signs an order (makeOrder defaults plus `fields`) and `taker` fills `fillSize` of it
 * (the whole order when omitted). Returns the mined transaction.
 */
export async function fill(
  clearingHouse: ClearingHouse,
  maker: HardhatEthersSigner,
  taker: HardhatEthersSigner,
  fields: Partial<OrderStruct> = {},
  fillSize?: bigint,
): Promise<ContractTransactionResponse> {
  const { order, signature } = await signedOrder(clearingHouse, maker, fields);
  const size = fillSize ?? ethers.toBigInt(order.size);
  const tx = await clearingHouse.connect(taker).fillOrder(order, signature, size);
  await tx.wait();
  return tx;
}

/** Timestamp of the block that mined `tx`. */
export async function blockTimestampOf(tx: ContractTransactionResponse): Promise<bigint> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("transaction not mined");
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  if (block === null) throw new Error("block not found");
  return BigInt(block.timestamp);
}

/** Latest block timestamp as a bigint. */
export async function latestTimestamp(): Promise<bigint> {
  return BigInt(await networkHelpers.time.latest());
}

/** The market parameters as the ordered tuple the ABI uses (for event `withArgs`). */
export function paramsTuple(p: MarketParamsStruct): unknown[] {
  return [
    p.oracleFeed,
    ethers.toBigInt(p.oracleHeartbeat),
    ethers.toBigInt(p.lossPolicy),
    ethers.toBigInt(p.initialMarginRatio),
    ethers.toBigInt(p.maintenanceMarginRatio),
    ethers.toBigInt(p.liquidationDiscount),
    ethers.toBigInt(p.liquidationFeeRatio),
    ethers.toBigInt(p.makerFeeRatio),
    ethers.toBigInt(p.takerFeeRatio),
    ethers.toBigInt(p.priceBand),
    ethers.toBigInt(p.maxFundingRate),
    ethers.toBigInt(p.maxOpenInterest),
    ethers.toBigInt(p.liquidationBuffer),
  ];
}

/** A market's stored parameters as a plain tuple, comparable with `paramsTuple`. */
export async function readParams(clearingHouse: ClearingHouse, marketId: bigint): Promise<unknown[]> {
  const p = await clearingHouse.marketParams(marketId);
  return [
    p.oracleFeed,
    p.oracleHeartbeat,
    p.lossPolicy,
    p.initialMarginRatio,
    p.maintenanceMarginRatio,
    p.liquidationDiscount,
    p.liquidationFeeRatio,
    p.makerFeeRatio,
    p.takerFeeRatio,
    p.priceBand,
    p.maxFundingRate,
    p.maxOpenInterest,
    p.liquidationBuffer,
  ];
}

/** Everything a collateral operation can change, read without touching the oracle. */
export interface CollateralSnapshot {
  collateral: bigint[];
  tokenBalances: bigint[];
  clearingHouseBalance: bigint;
  protocolFees: bigint;
  insuranceFees: bigint;
  openMarkets: bigint[][];
}

/** Reads collateral, token balances and open markets of `accounts` plus the fee pools. */
export async function collateralSnapshot(
  clearingHouse: ClearingHouse,
  token: MockERC20 | FeeOnTransferERC20,
  accounts: string[],
): Promise<CollateralSnapshot> {
  const collateral: bigint[] = [];
  const tokenBalances: bigint[] = [];
  const openMarkets: bigint[][] = [];
  for (const account of accounts) {
    collateral.push(await clearingHouse.collateralOf(account));
    tokenBalances.push(await token.balanceOf(account));
    openMarkets.push([...(await clearingHouse.openMarketsOf(account))]);
  }
  return {
    collateral,
    tokenBalances,
    clearingHouseBalance: await token.balanceOf(await clearingHouse.getAddress()),
    protocolFees: await clearingHouse.protocolFees(),
    insuranceFees: await clearingHouse.insuranceFees(),
    openMarkets,
  };
}

/** Size and cost basis of each account's position in each market (reads the oracle). */
export async function positionsSnapshot(
  clearingHouse: ClearingHouse,
  accounts: string[],
  marketIds: bigint[],
): Promise<bigint[][]> {
  const rows: bigint[][] = [];
  for (const account of accounts) {
    for (const marketId of marketIds) {
      const p = await clearingHouse.positionOf(account, marketId);
      rows.push([p.size, p.openNotional]);
    }
  }
  return rows;
}
