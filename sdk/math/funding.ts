import { WAD } from "../constants.js";
import { abs, mulDivCeil, mulDivFloor, mulWadUp } from "./fixed-point.js";

/** Charges a position accrues: contracts/libraries/FundingMath.sol and LedgerLib's socialized-loss index. */

const FUNDING_PERIOD = 86_400n;

/** The premium average clamped to ±maxFundingRate (FundingMath.clampedRate). */
export function clampedRate(premiumEma: bigint, maxFundingRate: bigint): bigint {
  if (premiumEma > maxFundingRate) return maxFundingRate;
  if (premiumEma < -maxFundingRate) return -maxFundingRate;
  return premiumEma;
}

/** Funding index growth over `elapsed` seconds at a daily `rate` and `price` (FundingMath.indexGrowth). */
export function fundingIndexGrowth(rate: bigint, price: bigint, elapsed: bigint): bigint {
  return mulDivFloor(rate, price * elapsed, WAD * FUNDING_PERIOD);
}

/** Funding a position owes for an index move, rounded against it (FundingMath.owed). */
export function fundingOwed(size: bigint, lastIndex: bigint, index: bigint): bigint {
  return mulDivCeil(size, index - lastIndex, WAD);
}

/** Socialized loss a position owes since its last settlement, rounded up (LedgerLib.socialLossOwed). */
export function socialLossOwed(size: bigint, lastIndex: bigint, index: bigint): bigint {
  return size === 0n ? 0n : mulWadUp(abs(size), index - lastIndex);
}
