import { Indexer, Reader, rankCounterparties, toHeader } from "#sdk";
import { ClearingHouse__factory } from "../../typechain-types/index.js";
import type { CommandContext } from "../command.js";

/** Blocks per eth_getLogs while looking for accounts. */
const LOG_CHUNK = 10_000;

/** Where an account's position stands in its side's ADL queue; `rank` is absent when it is not in it. */
export interface AdlPlace {
  rank: number | undefined;
  /** Positions in the queue: profitable ones of solvent accounts on that side. */
  queue: number;
}

/** Finds every account with a position from the clearing house's events, with the SDK's indexer. */
export async function indexAccounts(ctx: CommandContext): Promise<Indexer> {
  const { provider, deployment } = ctx.conn;
  const indexer = new Indexer({
    provider,
    clearingHouse: deployment.contracts.clearingHouse,
    iface: ClearingHouse__factory.createInterface(),
    startBlock: deployment.startBlock,
    logChunk: LOG_CHUNK,
    reorgDepth: 0,
    completeHistory: true,
  });
  const head = await provider.getBlock("latest");
  if (head === null) throw new Error("the node returned no latest block");
  await indexer.sync(toHeader(head));
  return indexer;
}

/**
 * The account's place in the ADL queue of its side of `marketId`: positions on that side in descending score,
 * as the keeper orders counterparties (keeper/src/strategy.ts), with scores read through the lens.
 */
export async function adlPlace(
  ctx: CommandContext,
  indexer: Indexer,
  account: string,
  marketId: number,
  long: boolean,
): Promise<AdlPlace> {
  const { provider, deployment } = ctx.conn;
  const reader = new Reader({
    provider,
    clearingHouse: deployment.contracts.clearingHouse,
    lens: deployment.contracts.lens,
    batchSize: 200,
  });
  const side = new Set(indexer.accountsInMarket(marketId, long));
  side.add(account);
  const queue = rankCounterparties(await reader.ranks(marketId, [...side]), () => false);
  const index = queue.findIndex((r) => r.account.toLowerCase() === account.toLowerCase());
  return { rank: index < 0 ? undefined : index + 1, queue: queue.length };
}
