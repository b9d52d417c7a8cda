import { WAD } from "../constants.js";
import { abs, mulDiv, mulDivCeil, mulWad, mulWadUp } from "./fixed-point.js";
import { accountHealth, type Health } from "./margin.js";
import type { MarketPosition } from "./liquidation-price.js";

/** What one fill does to a trader's account, mirroring ClearingHouse._executeFill and LedgerLib.applyFill. */

export interface FilledPosition {
  size: bigint;
  openNotional: bigint;
  /** PnL of the part the fill closed; zero for a fill that opens or adds. */
  realizedPnl: bigint;
}

/** A fill of signed `sizeDelta` carrying `notional` (|sizeDelta| × price, rounded down) (PositionMath.applyFill). */
export function applyFill(size: bigint, openNotional: bigint, sizeDelta: bigint, notional: bigint): FilledPosition {
  const signedNotional = sizeDelta > 0n ? notional : -notional;
  const newSize = size + sizeDelta;
  // Opening or adding: the whole fill joins the cost basis.
  if (size === 0n || size > 0n === sizeDelta > 0n) {
    return { size: newSize, openNotional: openNotional + signedNotional, realizedPnl: 0n };
  }
  const absSize = abs(size);
  const absDelta = abs(sizeDelta);
  if (absDelta <= absSize) {
    // Reducing or closing: the matching share of the cost basis, rounded toward +∞, is released.
    const closed = mulDivCeil(openNotional, absDelta, absSize);
    return { size: newSize, openNotional: openNotional - closed, realizedPnl: -signedNotional - closed };
  }
  // Flipping: everything closes at the share of the notional that closes; the rest opens.
  const closingPart = mulDiv(notional, absSize, absDelta);
  const signedClosing = sizeDelta > 0n ? closingPart : -closingPart;
  return { size: newSize, openNotional: signedNotional - signedClosing, realizedPnl: -signedClosing - openNotional };
}

/** A fill as one side sees it: signed size (positive: bought), the order's price and this side's fee ratio. */
export interface FillInput {
  marketId: number;
  sizeDelta: bigint;
  price: bigint;
  feeRatio: bigint;
}

/** The market of a fill where the account may hold no position yet: its oracle price and margin ratios. */
export interface FillMarket {
  oraclePrice: bigint;
  initialMarginRatio: bigint;
  maintenanceMarginRatio: bigint;
}

export interface FillEffect {
  notional: bigint;
  fee: bigint;
  realizedPnl: bigint;
  /** The position in the fill's market afterwards (size 0 when it closed). */
  position: MarketPosition;
  collateral: bigint;
  health: Health;
  /** Whether the fill only moved the position toward zero: then only equity ≥ 0 is required, else equity ≥ IM. */
  reduces: boolean;
}

/**
 * The account after a fill, at the oracle prices and pending charges of `positions` (as lens.positionsOf gives
 * them): the fill's market's charges settled into collateral, the realized PnL added and the fee taken
 * (LedgerLib.applyFill), notional ⌊size × price⌋ and fee ⌈notional × ratio⌉ (ClearingHouse._fillSide).
 * Funding accrued between the read and the fill's block is not in it.
 */
export function fillEffect(
  collateral: bigint,
  positions: readonly MarketPosition[],
  fill: FillInput,
  market: FillMarket,
): FillEffect {
  const notional = mulWad(abs(fill.sizeDelta), fill.price);
  const fee = mulWadUp(notional, fill.feeRatio);
  const before = positions.find((p) => p.marketId === fill.marketId) ?? {
    marketId: fill.marketId,
    size: 0n,
    openNotional: 0n,
    price: market.oraclePrice,
    charges: 0n,
    initialMarginRatio: market.initialMarginRatio,
    maintenanceMarginRatio: market.maintenanceMarginRatio,
  };
  const after = applyFill(before.size, before.openNotional, fill.sizeDelta, notional);
  const collateralAfter = collateral - before.charges + after.realizedPnl - fee;
  const position: MarketPosition = { ...before, size: after.size, openNotional: after.openNotional, charges: 0n };
  const rest = positions.filter((p) => p.marketId !== fill.marketId);
  const reduces = after.size === 0n || (before.size > 0n === after.size > 0n && abs(after.size) <= abs(before.size));
  return {
    notional,
    fee,
    realizedPnl: after.realizedPnl,
    position,
    collateral: collateralAfter,
    health: accountHealth(collateralAfter, [...rest, position]),
    reduces,
  };
}

/** |openNotional| / |size|: the average entry price of a position (0 when flat). */
export function entryPrice(size: bigint, openNotional: bigint): bigint {
  return size === 0n ? 0n : mulDiv(abs(openNotional), WAD, abs(size));
}
