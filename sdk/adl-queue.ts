import type { BlockTag } from "ethers";

import type { Indexer } from "./indexer.js";
import { rankCounterparties } from "./math/adl.js";
import type { Reader } from "./reader.js";

/** Where an account's position stands in its side's ADL queue; `rank` is absent when it is not in it. */
export interface AdlPlace {
  /** The position's ADL score (BackstopLens.adlRanks); 0 when it is not profitable. */
  score: bigint;
  rank: number | undefined;
  /** Positions in the queue: profitable ones of solvent accounts on that side. */
  queue: number;
}

/**
 * The account's place in the ADL queue of its side of `marketId`: positions on that side in descending score,
 * as the keeper orders counterparties (keeper/src/strategy.ts), with the accounts from the indexer and the
 * scores read through the lens.
 */
export async function adlPlace(
  reader: Reader,
  indexer: Pick<Indexer, "accountsInMarket">,
  account: string,
  marketId: number,
  long: boolean,
  blockTag: BlockTag = "latest",
): Promise<AdlPlace> {
  const side = new Set(indexer.accountsInMarket(marketId, long));
  side.add(account);
  const ranks = await reader.ranks(marketId, [...side], blockTag);
  const queue = rankCounterparties(ranks, () => false);
  const same = (other: string): boolean => other.toLowerCase() === account.toLowerCase();
  const index = queue.findIndex((r) => same(r.account));
  return {
    score: ranks.find((r) => same(r.account))?.score ?? 0n,
    rank: index < 0 ? undefined : index + 1,
    queue: queue.length,
  };
}
