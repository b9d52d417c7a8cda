import { accountHealth, isLiquidatable, type PositionInput } from "./margin.js";

/** An open position in one market, as the account's health depends on it. */
export interface MarketPosition extends PositionInput {
  marketId: number;
}

/** Doublings of the price tried when looking for a price at which a short is liquidatable. */
const MAX_DOUBLINGS = 256;

/** Whether the account is liquidatable with `marketId` at `price` and every other market at its current price. */
export function liquidatableAt(
  collateral: bigint,
  positions: readonly MarketPosition[],
  marketId: number,
  price: bigint,
): boolean {
  const moved = positions.map((p) => (p.marketId === marketId ? { ...p, price } : p));
  return isLiquidatable(accountHealth(collateral, moved));
}

/**
 * The liquidation price of the account's position in `marketId`: the oracle price, on the feed's grid of
 * `tick` (10^(18 − feed decimals)), at which equity falls below maintenance margin with the other markets held at
 * their current prices and the pending funding and social loss unchanged. For a long, the highest such price
 * (one tick above it the account is not liquidatable); for a short, the lowest. `undefined` without a
 * position, or for a long that no positive price makes liquidatable.
 *
 * Exact to the contract's rounding (sdk/math/margin.ts mirrors it): a search over ticks of a predicate that
 * is monotone in the price, since maintenance margin grows slower than the position's value (ratio < 1).
 */
export function liquidationPrice(
  collateral: bigint,
  positions: readonly MarketPosition[],
  marketId: number,
  tick: bigint,
): bigint | undefined {
  const position = positions.find((p) => p.marketId === marketId);
  if (position === undefined || position.size === 0n) return undefined;
  const at = (ticks: bigint): boolean => liquidatableAt(collateral, positions, marketId, ticks * tick);
  const long = position.size > 0n;
  // Ticks where the answer switches: `safe` on the healthy side, `unsafe` on the liquidatable side.
  let unsafe: bigint;
  let safe: bigint;
  if (long) {
    if (!at(1n)) return undefined;
    unsafe = 1n;
    safe = position.price / tick + 1n;
    for (let i = 0; at(safe); i++) {
      if (i === MAX_DOUBLINGS) return undefined;
      unsafe = safe;
      safe *= 2n;
    }
  } else {
    if (at(1n)) return tick;
    safe = 1n;
    unsafe = position.price / tick + 1n;
    for (let i = 0; !at(unsafe); i++) {
      if (i === MAX_DOUBLINGS) return undefined;
      safe = unsafe;
      unsafe *= 2n;
    }
  }
  // Invariant: at(unsafe) and !at(safe), |safe − unsafe| shrinking to one tick.
  while (safe - unsafe > 1n || unsafe - safe > 1n) {
    const mid = (safe + unsafe) / 2n;
    if (at(mid)) unsafe = mid;
    else safe = mid;
  }
  return unsafe * tick;
}
