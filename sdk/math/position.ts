import { WAD } from "../constants.js";
import { abs, mulDivFloor, mulWadUp } from "./fixed-point.js";

/** One position's value, mirroring contracts/libraries/PositionMath.sol. */

/** A position as the event log tells it: size and cost basis after the account's last fill in the market. */
export interface TrackedPosition {
  marketId: number;
  size: bigint;
  openNotional: bigint;
}

/** size × price − openNotional, rounded down (PositionMath.unrealizedPnl). */
export function unrealizedPnl(size: bigint, openNotional: bigint, price: bigint): bigint {
  return mulDivFloor(size, price, WAD) - openNotional;
}

/** |size| × price rounded up: the notional margin is charged on (PositionMath.notionalAt). */
export function notionalAt(size: bigint, price: bigint): bigint {
  return mulWadUp(abs(size), price);
}
