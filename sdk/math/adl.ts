import { entryBucket } from "./entry-bucket.js";

export interface AdlInputs {
  /** The position's signed size and open notional. */
  size: bigint;
  openNotional: bigint;
  unrealizedPnl: bigint;
  /** The account's equity. */
  equity: bigint;
}

/**
 * The position's place in the ADL queue the contract enforces (LiquidationMath.adlScore): its entry-price bucket
 * counted from the losing end — 65,536 − bucket for a long, bucket + 1 for a short — so the most profitable entries
 * per unit of size go first; 0 when not eligible (no profit, or equity ≤ 0). It does not move with the price.
 */
export function adlScore(r: AdlInputs): bigint {
  if (r.unrealizedPnl <= 0n || r.equity <= 0n || r.size === 0n) return 0n;
  const bucket = BigInt(entryBucket(r.size, r.openNotional));
  return r.size > 0n ? 65_536n - bucket : bucket + 1n;
}

/**
 * Profitable counterparties in descending ADL score; ties by address for a deterministic order. The contract
 * accepts any position of the first bucket, so ties may go in any order.
 */
export function rankCounterparties<
  T extends { account: string; score: bigint; unrealizedPnl: bigint; notional: bigint },
>(ranks: readonly T[], exclude: (account: string) => boolean): T[] {
  return ranks
    .filter((r) => r.unrealizedPnl > 0n && r.notional > 0n && r.score > 0n && !exclude(r.account))
    .sort((a, b) => {
      if (a.score !== b.score) return a.score > b.score ? -1 : 1;
      const x = a.account.toLowerCase();
      const y = b.account.toLowerCase();
      return x < y ? -1 : x > y ? 1 : 0;
    });
}
