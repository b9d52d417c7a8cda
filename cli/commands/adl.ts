import { Indexer, Reader, adlPlace as adlPlaceOf, toHeader, type AdlPlace } from "#sdk";
import { ClearingHouse__factory } from "../../typechain-types/index.js";
import type { CommandContext } from "../command.js";

/** Blocks per eth_getLogs while looking for accounts. */
const LOG_CHUNK = 10_000;

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

/** The account's place in the ADL queue of its side of `marketId` (the SDK's `adlPlace`). */
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
  return adlPlaceOf(reader, indexer, account, marketId, long);
}
