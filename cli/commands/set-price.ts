import { MockAggregatorV3__factory } from "../../typechain-types/index.js";
import { parsePositive } from "#sdk";
import { requireSigner, type CommandContext, type CommandResult } from "../command.js";
import { findMarket } from "../connection.js";
import { usd, wad } from "../format.js";
import { requireLocalChain } from "../local-chain.js";
import { transact } from "../tx.js";

/**
 * `market set-price <market> <price>`: publishes a new answer on the market's mock feed, on a local network only,
 * so that a local-node user can move prices and watch the keeper act. The price is in USD with at most the feed's
 * decimals; what the clearing house then reads is printed back from its oracle adapter.
 */
export async function setPrice(ctx: CommandContext): Promise<CommandResult> {
  const { deployment, contracts, decoding } = ctx.conn;
  requireLocalChain(ctx.parsed.command, deployment.chainId, deployment.network);
  const market = findMarket(deployment, ctx.parsed.args.market ?? "");
  // The mock feed has no owner: whoever pays the gas may publish, so any funded account of the local node will do.
  const signer = requireSigner(ctx, "any funded account of the local node, e.g. dev account #0 of `npx hardhat node`");
  const feed = MockAggregatorV3__factory.connect(market.feed, signer);
  const decimals = Number(await feed.decimals());
  const answer = parsePositive(ctx.parsed.args.price ?? "", decimals, "price");
  const receipt = await transact("setAnswer", decoding, feed.setAnswer, answer);
  const params = await contracts.clearingHouse.marketParams(market.id);
  const price = await contracts.oracle.getPrice(params.oracleFeed, params.oracleHeartbeat);
  return {
    text: `${market.symbol} oracle price now ${usd(price)} (tx ${receipt.hash})`,
    json: { action: "set-price", market: market.symbol, price: wad(price), txs: [receipt.hash] },
  };
}
