// Mirror of EntryBookLib.priceBucket / entryBucket (contracts/libraries/EntryBookLib.sol): the entry-price bucket
// ⌊256·log2(price)⌋ that orders ADL and splits a side into winners and losers for a haircut, computed exactly as
// the contract does (bit length, then eight squarings of a 128-bit mantissa, truncating).
import { WAD } from "../constants.js";

/** ⌊256·log2(price)⌋ for an 18-decimal price, as the contract truncates it; 0 for price 0. */
export function priceBucket(price: bigint): number {
  if (price < 0n) throw new RangeError(`priceBucket: negative price ${price}`);
  if (price === 0n) return 0;
  const integer = price.toString(2).length - 1;
  let m = integer >= 127 ? price >> BigInt(integer - 127) : price << BigInt(127 - integer);
  let fraction = 0;
  for (let i = 0; i < 8; i++) {
    m = (m * m) >> 127n;
    fraction <<= 1;
    if (m >= 1n << 128n) {
      m >>= 1n;
      fraction |= 1;
    }
  }
  return (integer << 8) | fraction;
}

/** The bucket of a position's entry price |openNotional| / |size| (rounded down), as EntryBookLib.entryBucket. */
export function entryBucket(size: bigint, openNotional: bigint): number {
  const s = size < 0n ? -size : size;
  const n = openNotional < 0n ? -openNotional : openNotional;
  if (s === 0n) throw new RangeError("entryBucket: flat position");
  return priceBucket((n * WAD) / s);
}
