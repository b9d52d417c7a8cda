import { WAD } from "../constants.js";
import { abs, mulDivCeil, mulWadUp } from "./fixed-point.js";

/** Charges a position accrues: contracts/libraries/FundingMath.sol and LedgerLib's socialized-loss index. */

const FUNDING_PERIOD = 86_400n;

/** The premium average clamped to ±maxFundingRate (FundingMath.clampedRate). */
export function clampedRate(premiumEma: bigint, maxFundingRate: bigint): bigint {
  if (premiumEma > maxFundingRate) return maxFundingRate;
  if (premiumEma < -maxFundingRate) return -maxFundingRate;
  return premiumEma;
}

/** Time over which a premium average at the clamp falls to zero without fills (FundingMath.PREMIUM_DECAY). */
export const PREMIUM_DECAY = 3600n;

/**
 * 2·D·m × ∫₀ᵗ max(0, r − m·s/D) ds, exactly (FundingMath._area): the rate falls linearly from r by the clamp m
 * per D seconds, so the integral is m·t·(2·D·r − m·t) until it reaches zero at t = r·D/m, r²·D² after.
 */
function decayArea(rate: bigint, maxFundingRate: bigint, age: bigint): bigint {
  const fall = maxFundingRate * age;
  const start = rate * PREMIUM_DECAY;
  return fall >= start ? start * start : fall * (2n * start - fall);
}

/**
 * Funding index growth between `fromAge` and `toAge` seconds after the premium average was set, at `price`,
 * as the average falls toward zero (FundingMath.indexGrowth), rounded toward −∞.
 */
export function fundingIndexGrowth(
  premiumEma: bigint,
  maxFundingRate: bigint,
  price: bigint,
  fromAge: bigint,
  toAge: bigint,
): bigint {
  if (premiumEma === 0n || maxFundingRate === 0n) return 0n;
  const rate = abs(clampedRate(premiumEma, maxFundingRate));
  const area = decayArea(rate, maxFundingRate, toAge) - decayArea(rate, maxFundingRate, fromAge);
  const divisor = 2n * PREMIUM_DECAY * maxFundingRate * WAD * FUNDING_PERIOD;
  return premiumEma > 0n ? (area * price) / divisor : -((area * price + divisor - 1n) / divisor);
}

/** Funding a position owes for an index move, rounded against it (FundingMath.owed). */
export function fundingOwed(size: bigint, lastIndex: bigint, index: bigint): bigint {
  return mulDivCeil(size, index - lastIndex, WAD);
}

/** Socialized loss a position owes since its last settlement, rounded up (LedgerLib.socialLossOwed). */
export function socialLossOwed(size: bigint, lastIndex: bigint, index: bigint): bigint {
  return size === 0n ? 0n : mulWadUp(abs(size), index - lastIndex);
}
