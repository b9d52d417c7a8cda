import { mulWadUp } from "./fixed-point.js";
import { notionalAt, unrealizedPnl } from "./position.js";

/**
 * An account's margin, mirroring LedgerLib.health. Like every file under sdk/math, a bigint copy of the
 * contracts' math that rounds exactly as they do, tested against the contract's views to the wei; the keeper
 * uses it only to decide what to re-read through the lens, the CLI to show liquidation prices.
 */

/** One open position, with everything its contribution to the account's health depends on. */
export interface PositionInput {
  size: bigint;
  openNotional: bigint;
  /** Oracle price, 18 decimals. */
  price: bigint;
  /** Funding plus socialized loss owed and not settled (negative: owed to the position). */
  charges: bigint;
  initialMarginRatio: bigint;
  maintenanceMarginRatio: bigint;
}

export interface Health {
  equity: bigint;
  initialMargin: bigint;
  maintenanceMargin: bigint;
}

/** Equity and requirements at oracle prices (LedgerLib.health). */
export function accountHealth(collateral: bigint, positions: readonly PositionInput[]): Health {
  let equity = collateral;
  let initialMargin = 0n;
  let maintenanceMargin = 0n;
  for (const p of positions) {
    if (p.size === 0n) continue;
    const notional = notionalAt(p.size, p.price);
    equity += unrealizedPnl(p.size, p.openNotional, p.price) - p.charges;
    initialMargin += mulWadUp(notional, p.initialMarginRatio);
    maintenanceMargin += mulWadUp(notional, p.maintenanceMarginRatio);
  }
  return { equity, initialMargin, maintenanceMargin };
}

/** How far equity is below maintenance margin; ≤ 0 for a healthy account. */
export function shortfall(h: Pick<Health, "equity" | "maintenanceMargin">): bigint {
  return h.maintenanceMargin - h.equity;
}

export const isLiquidatable = (h: Pick<Health, "equity" | "maintenanceMargin">): boolean =>
  h.equity < h.maintenanceMargin;
export const isBankrupt = (h: Pick<Health, "equity">): boolean => h.equity < 0n;
