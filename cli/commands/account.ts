import { AggregatorV3Interface__factory } from "../../typechain-types/index.js";
import { WAD, abs, entryPrice, liquidationPrice, parsePositive, type MarketPosition } from "#sdk";
import { requireSigner, type CommandContext, type CommandResult } from "../command.js";
import { marketLabel, targetAccount } from "../connection.js";
import { InputError } from "../errors.js";
import { fields, money, qty, table, usd, wad } from "../format.js";
import { transact } from "../tx.js";
import { adlPlace, indexAccounts } from "./adl.js";
import { approveIfShort, formatToken, requireWalletHolds, tokenInfo } from "./token.js";

/** `deposit <amount>`: approves the clearing house when its allowance is short, then deposits. */
export async function deposit(ctx: CommandContext): Promise<CommandResult> {
  const signer = requireSigner(ctx);
  const { clearingHouse, token } = ctx.conn.contracts;
  const info = await tokenInfo(token);
  const amount = parsePositive(ctx.parsed.args.amount ?? "", info.decimals, "amount");
  const balance = await token.balanceOf(signer.address);
  requireWalletHolds(balance, amount, info);
  // The deposit can only be simulated once the allowance is there: refuse what would make the approval useless.
  if (await clearingHouse.paused()) throw new InputError("deposits are paused");
  const spender = await clearingHouse.getAddress();
  const approval = await approveIfShort(ctx.conn.decoding, token, signer, spender, amount);
  const txs: string[] = approval === undefined ? [] : [approval];
  const receipt = await transact("deposit", ctx.conn.decoding, clearingHouse.connect(signer).deposit, amount);
  txs.push(receipt.hash);
  const collateral = await clearingHouse.collateralOf(signer.address);
  return {
    text: `deposited ${formatToken(amount, info)}; collateral now ${money(collateral, ctx.conn.symbol)} (tx ${receipt.hash})`,
    json: {
      action: "deposit",
      account: signer.address,
      amount: formatToken(amount, info, true),
      collateral: wad(collateral),
      txs,
    },
  };
}

/** `withdraw <amount>`. */
export async function withdraw(ctx: CommandContext): Promise<CommandResult> {
  const signer = requireSigner(ctx);
  const { clearingHouse, token } = ctx.conn.contracts;
  const info = await tokenInfo(token);
  const amount = parsePositive(ctx.parsed.args.amount ?? "", info.decimals, "amount");
  const receipt = await transact("withdraw", ctx.conn.decoding, clearingHouse.connect(signer).withdraw, amount);
  const collateral = await clearingHouse.collateralOf(signer.address);
  return {
    text: `withdrew ${formatToken(amount, info)}; collateral now ${money(collateral, ctx.conn.symbol)} (tx ${receipt.hash})`,
    json: {
      action: "withdraw",
      account: signer.address,
      amount: formatToken(amount, info, true),
      collateral: wad(collateral),
      txs: [receipt.hash],
    },
  };
}

/** Average entry price of an open position (the SDK's, re-exported for the CLI's tests). */
export { entryPrice };

/** `positions [address]`: every open position valued at the oracle. */
export async function positions(ctx: CommandContext): Promise<CommandResult> {
  const account = targetAccount(ctx.parsed.args.address, ctx.signer);
  const rows = await ctx.conn.contracts.lens.positionsOf(account);
  const list = rows.map((r) => {
    const p = r.position;
    return {
      marketId: Number(r.marketId),
      market: marketLabel(ctx.conn.deployment, r.marketId),
      side: p.size > 0n ? "long" : "short",
      size: p.size,
      entryPrice: entryPrice(p.size, p.openNotional),
      markPrice: p.markPrice,
      notional: (abs(p.size) * p.markPrice) / WAD,
      unrealizedPnl: p.unrealizedPnl,
      fundingOwed: p.fundingOwed,
      socialLossOwed: p.socialLossOwed,
    };
  });
  const text =
    list.length === 0
      ? `${account}: no open positions`
      : `${account}\n${table([
          [
            "market",
            "side",
            "size",
            "entry",
            "mark",
            ...["notional", "unrealized PnL", "funding owed", "social loss owed"].map(
              (h) => `${h} (${ctx.conn.symbol})`,
            ),
          ],
          ...list.map((p) => [
            p.market,
            p.side,
            qty(p.size),
            usd(p.entryPrice),
            usd(p.markPrice),
            usd(p.notional),
            usd(p.unrealizedPnl),
            usd(p.fundingOwed),
            usd(p.socialLossOwed),
          ]),
        ])}`;
  const json = {
    account,
    positions: list.map((p) => ({
      ...p,
      size: wad(p.size),
      entryPrice: wad(p.entryPrice),
      markPrice: wad(p.markPrice),
      notional: wad(p.notional),
      unrealizedPnl: wad(p.unrealizedPnl),
      fundingOwed: wad(p.fundingOwed),
      socialLossOwed: wad(p.socialLossOwed),
    })),
  };
  return { text, json };
}

/** 10^(18 − feed decimals): the smallest step of an oracle price in 18 decimals. */
async function priceTick(ctx: CommandContext, feed: string): Promise<bigint> {
  const decimals = await AggregatorV3Interface__factory.connect(feed, ctx.conn.provider).decimals();
  return 10n ** (18n - decimals);
}

/** `health [address]`: equity, margins, and per market the liquidation price and the ADL queue place. */
export async function health(ctx: CommandContext): Promise<CommandResult> {
  const account = targetAccount(ctx.parsed.args.address, ctx.signer);
  const { clearingHouse, lens } = ctx.conn.contracts;
  const [h, rows, claims] = await Promise.all([
    clearingHouse.accountHealth(account),
    lens.positionsOf(account),
    clearingHouse.claimsOf(account),
  ]);
  const params = await Promise.all(rows.map((r) => clearingHouse.marketParams(r.marketId)));
  const inputs: MarketPosition[] = rows.map((r, i) => ({
    marketId: Number(r.marketId),
    size: r.position.size,
    openNotional: r.position.openNotional,
    price: r.position.markPrice,
    charges: r.position.fundingOwed + r.position.socialLossOwed,
    initialMarginRatio: params[i].initialMarginRatio,
    maintenanceMarginRatio: params[i].maintenanceMarginRatio,
  }));
  const indexer = rows.length === 0 ? undefined : await indexAccounts(ctx);
  const markets = await Promise.all(
    rows.map(async (r, i) => {
      const marketId = Number(r.marketId);
      const tick = await priceTick(ctx, params[i].oracleFeed);
      const place =
        indexer === undefined
          ? { rank: undefined, queue: 0 }
          : await adlPlace(ctx, indexer, account, marketId, r.position.size > 0n);
      return {
        marketId,
        market: marketLabel(ctx.conn.deployment, marketId),
        side: r.position.size > 0n ? "long" : "short",
        size: r.position.size,
        markPrice: r.position.markPrice,
        liquidationPrice: liquidationPrice(h.collateral, inputs, marketId, tick),
        // The lens extends the line below zero; a long whose collateral covers a fall to zero has no such price.
        bankruptcyPrice: r.bankruptcyPrice > 0n ? r.bankruptcyPrice : undefined,
        adlScore: r.rank.score,
        adlRank: place.rank,
        adlQueue: place.queue,
      };
    }),
  );
  const liquidatable = h.equity < h.maintenanceMargin;
  const bankrupt = h.equity < 0n;
  const state = bankrupt ? "BANKRUPT" : liquidatable ? "LIQUIDATABLE" : "healthy";
  const summary = fields([
    ["account", account],
    ["state", state],
    ["collateral", money(h.collateral, ctx.conn.symbol)],
    ["equity", money(h.equity, ctx.conn.symbol)],
    ["initial margin", money(h.initialMargin, ctx.conn.symbol)],
    ["maintenance margin", money(h.maintenanceMargin, ctx.conn.symbol)],
    ["free collateral", money(h.freeCollateral, ctx.conn.symbol)],
    // Repayable claims: what loss rules took from the account, repaid from later fee inflows (ClaimsLib).
    ["claims paid", money(claims.paid, ctx.conn.symbol)],
    ["claims repaid", money(claims.repaid, ctx.conn.symbol)],
    ["claims repayable now", money(claims.repayable, ctx.conn.symbol)],
  ]);
  const perMarket =
    markets.length === 0
      ? "no open positions"
      : table([
          ["market", "side", "size", "mark", "liquidation price", "bankruptcy price", "ADL score", "ADL rank"],
          ...markets.map((m) => [
            m.market,
            m.side,
            qty(m.size),
            usd(m.markPrice),
            m.liquidationPrice === undefined ? "none" : usd(m.liquidationPrice),
            m.bankruptcyPrice === undefined ? "none" : usd(m.bankruptcyPrice),
            m.adlScore.toString(),
            m.adlRank === undefined ? `not queued (of ${m.adlQueue})` : `${m.adlRank} of ${m.adlQueue}`,
          ]),
        ]);
  return {
    text: `${summary}\n\n${perMarket}`,
    json: {
      account,
      state,
      liquidatable,
      bankrupt,
      collateral: wad(h.collateral),
      equity: wad(h.equity),
      initialMargin: wad(h.initialMargin),
      maintenanceMargin: wad(h.maintenanceMargin),
      freeCollateral: wad(h.freeCollateral),
      claims: {
        paid: wad(claims.paid),
        repaid: wad(claims.repaid),
        repayable: wad(claims.repayable),
        records: Number(claims.records),
      },
      markets: markets.map((m) => ({
        ...m,
        size: wad(m.size),
        markPrice: wad(m.markPrice),
        liquidationPrice: m.liquidationPrice === undefined ? null : wad(m.liquidationPrice),
        bankruptcyPrice: m.bankruptcyPrice === undefined ? null : wad(m.bankruptcyPrice),
        adlScore: m.adlScore.toString(),
        adlRank: m.adlRank ?? null,
      })),
    },
  };
}
