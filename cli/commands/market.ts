import type { CommandContext, CommandResult } from "../command.js";
import { findMarket } from "../connection.js";
import { revertError } from "../errors.js";
import { fields, percent, qty, usd, wad } from "../format.js";

/** `market status [market]`: one market, or every market in the deployment. */
export async function marketStatus(ctx: CommandContext): Promise<CommandResult> {
  const { deployment } = ctx.conn;
  const name = ctx.parsed.args.market;
  const markets = name === undefined ? deployment.markets : [findMarket(deployment, name)];
  const rows = await Promise.all(markets.map((m) => readMarket(ctx, m.id, m.symbol)));
  return { text: rows.map((r) => r.text).join("\n\n"), json: { markets: rows.map((r) => r.json) } };
}

async function readMarket(ctx: CommandContext, id: number, symbol: string): Promise<CommandResult> {
  const { clearingHouse, oracle } = ctx.conn.contracts;
  const [params, state, rate] = await Promise.all([
    clearingHouse.marketParams(id),
    clearingHouse.marketState(id),
    clearingHouse.fundingRate(id),
  ]);
  let price: bigint | undefined;
  let priceError: string | undefined;
  try {
    price = await oracle.getPrice(params.oracleFeed, params.oracleHeartbeat);
  } catch (error) {
    // A stale feed is a market state worth showing, not a failure of the command.
    priceError = revertError("oracle", error, ctx.conn.decoding).message;
  }
  const lossPolicy = params.lossPolicy === 0n ? "adl" : "socialized";
  const cases = Number(state.longDeleverageCases + state.shortDeleverageCases);
  const text = fields([
    ["market", `${symbol} (id ${id})`],
    ["oracle price", price === undefined ? (priceError ?? "unavailable") : usd(price)],
    ["open interest", `long ${qty(state.longOpenInterest)}, short ${qty(state.shortOpenInterest)}`],
    ["funding rate", `${percent(rate)} per day (longs pay shorts when positive)`],
    ["loss policy", lossPolicy === "adl" ? "ADL (auto-deleveraging)" : "socialized loss"],
    ["open ADL cases", String(cases)],
    ["margins", `initial ${percent(params.initialMarginRatio)}, maintenance ${percent(params.maintenanceMarginRatio)}`],
    [
      "liquidation",
      `discount ${percent(params.liquidationDiscount)}, fee ${percent(params.liquidationFeeRatio)}, ` +
        `restores maintenance + ${percent(params.liquidationBuffer)}`,
    ],
    ["trading fees", `maker ${percent(params.makerFeeRatio)}, taker ${percent(params.takerFeeRatio)}`],
    ["price band", percent(params.priceBand)],
    ["max funding rate", `${percent(params.maxFundingRate)} per day`],
    ["max open interest", `${qty(params.maxOpenInterest)} per side`],
    ["oracle", `${params.oracleFeed}, heartbeat ${params.oracleHeartbeat} s`],
  ]);
  return {
    text,
    json: {
      marketId: id,
      market: symbol,
      oraclePrice: price === undefined ? null : wad(price),
      oracleError: priceError ?? null,
      longOpenInterest: wad(state.longOpenInterest),
      shortOpenInterest: wad(state.shortOpenInterest),
      fundingRatePerDay: wad(rate),
      fundingIndex: wad(state.fundingIndex),
      lossPolicy,
      openDeleverageCases: cases,
      params: {
        oracleFeed: params.oracleFeed,
        oracleHeartbeat: Number(params.oracleHeartbeat),
        initialMarginRatio: wad(params.initialMarginRatio),
        maintenanceMarginRatio: wad(params.maintenanceMarginRatio),
        liquidationDiscount: wad(params.liquidationDiscount),
        liquidationFeeRatio: wad(params.liquidationFeeRatio),
        liquidationBuffer: wad(params.liquidationBuffer),
        makerFeeRatio: wad(params.makerFeeRatio),
        takerFeeRatio: wad(params.takerFeeRatio),
        priceBand: wad(params.priceBand),
        maxFundingRate: wad(params.maxFundingRate),
        maxOpenInterest: wad(params.maxOpenInterest),
      },
    },
  };
}
