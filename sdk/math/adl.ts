import { MAX_UINT256, WAD } from "../constants.js";
import { mulDiv } from "./fixed-point.js";

export interface AdlInputs {
  unrealizedPnl: bigint;
  collateral: bigint;
  notional: bigint;
  equity: bigint;
}

/** unrealizedPnl/collateral × notional/equity for a profitable position, 0 otherwise (LiquidationLogic._adlRank). */
export function adlScore(r: AdlInputs): bigint {
  if (r.unrealizedPnl <= 0n) return 0n;
  if (r.collateral <= 0n || r.equity <= 0n) return MAX_UINT256;
  return mulDiv(mulDiv(r.unrealizedPnl, WAD, r.collateral), r.notional, r.equity);
}

/** Profitable counterparties in descending ADL score; ties by address for a deterministic order. */
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
