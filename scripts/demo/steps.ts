import { movePrice } from "../../devnet/scenario/plan.js";
import type { MarketPrices } from "../../devnet/scenario/plan.js";

/** The price path of the crash: two slides, then a gap down to the full crash. */

export interface PriceStep {
  index: number;
  kind: "slide" | "gap";
  /** Fall from the starting prices, percent (positive). */
  cumulativePct: number;
  prices: MarketPrices;
}

/**
 * Shares of the crash reached after each step: a quarter, a half (the keeper liquidates the most leveraged
 * accounts on the way down), then the rest at once — the gap that leaves accounts bankrupt.
 */
export const STEP_SHARES = [0.25, 0.5, 1] as const;

/** Both prices fall by the same percentage at each step, rounded to whole basis points and the feeds' 8 decimals. */
export function priceSteps(start: MarketPrices, crashPct: number): PriceStep[] {
  return STEP_SHARES.map((share, index) => {
    const cumulativePct = Math.round(crashPct * share * 100) / 100;
    return {
      index,
      kind: share === 1 ? "gap" : "slide",
      cumulativePct,
      prices: { eth: movePrice(start.eth, -cumulativePct), btc: movePrice(start.btc, -cumulativePct) },
    };
  });
}
