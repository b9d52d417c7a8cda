import { WAD } from "../constants.js";

/** Fixed-point helpers rounding exactly as contracts/libraries/FixedPointMath.sol and OpenZeppelin Math do. */

export const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** x·y/d for x, y ≥ 0, rounded down or up (OpenZeppelin Math.mulDiv). */
export function mulDiv(x: bigint, y: bigint, d: bigint, roundUp = false): bigint {
  const product = x * y;
  const q = product / d;
  return roundUp && q * d !== product ? q + 1n : q;
}

export const mulWad = (x: bigint, y: bigint): bigint => mulDiv(x, y, WAD);
export const mulWadUp = (x: bigint, y: bigint): bigint => mulDiv(x, y, WAD, true);

/** x·y/d rounded toward −∞ (FixedPointMath.mulDivFloor). */
export function mulDivFloor(x: bigint, y: bigint, d: bigint): bigint {
  const negative = x < 0n !== y < 0n;
  const magnitude = mulDiv(abs(x), abs(y), d, negative);
  return negative ? -magnitude : magnitude;
}

/** x·y/d rounded toward +∞ (FixedPointMath.mulDivCeil). */
export function mulDivCeil(x: bigint, y: bigint, d: bigint): bigint {
  const negative = x < 0n !== y < 0n;
  const magnitude = mulDiv(abs(x), abs(y), d, !negative);
  return negative ? -magnitude : magnitude;
}
