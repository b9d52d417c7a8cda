import { groupLossEvents, readWaterfallEvents, type LiquidationEvent, type LossEvent } from "#sdk";
import type { CommandContext, CommandResult } from "../command.js";
import { marketLabel } from "../connection.js";
import { poolLabel } from "./claims.js";
import { money, qty, usd, wad } from "../format.js";
import { formatToken, tokenInfo } from "./token.js";

/**
 * `loss-events`: every liquidation and every resolved bad debt of the deployment, read back from the chain's
 * events with the reader the demo uses (#sdk's readWaterfallEvents and groupLossEvents): per receipt the
 * shortfall and its parts (the fund's, ADL's and the socialized charge), the deleverage case, the fund's
 * payments, every ADL counterparty with the size it closed and what it gave up, and the charge per unit of size of
 * a socialization. Liquidations come first, solvent and bankrupt, as `Liquidated` events report them.
 */
export async function lossEvents(ctx: CommandContext): Promise<CommandResult> {
  const { conn } = ctx;
  const events = await readWaterfallEvents(
    {
      clearingHouse: conn.contracts.clearingHouse,
      insuranceFund: conn.contracts.fund,
      ...(conn.contracts.layers === undefined ? {} : { defaultLayers: conn.contracts.layers }),
    },
    conn.deployment.startBlock,
  );
  const losses = groupLossEvents(events);
  const token = await tokenInfo(conn.contracts.token);
  const symbol = conn.symbol;
  const market = (id: number): string => marketLabel(conn.deployment, id);
  const amount = (v: bigint): string => money(v, symbol);

  const liquidationLine = (l: LiquidationEvent): string => {
    const side = l.size > 0n ? "long" : "short";
    const size = l.size < 0n ? -l.size : l.size;
    const what = l.bankrupt
      ? "bankrupt: its deficit is the receipt below"
      : `reward ${amount(l.reward)}, fee ${amount(l.fee)}`;
    return (
      `  block ${l.blockNumber}: ${l.account} ${side} ${qty(size)} ${market(l.marketId)} at ${usd(l.oraclePrice)} ` +
      `by ${l.liquidator}; ${what}`
    );
  };

  const lossLines = (e: LossEvent, i: number): string[] => {
    const r = e.receipt;
    const lines = [
      `${i + 1}. ${r.account} in ${market(r.marketId)}, block ${r.blockNumber} (tx ${r.txHash})`,
      `   shortfall ${amount(r.shortfall)} = fund ${amount(r.fundPaid)} + ADL ${amount(r.deleveraged)} + ` +
        `socialized ${amount(r.socialized)}` +
        // Only haircut markets take from profit; the other markets' lines stay as they were.
        (r.haircut === 0n ? "" : ` + haircut of the other side's profit ${amount(r.haircut)}`),
    ];
    if (e.caseOpened !== undefined) {
      lines.push(
        `   deleverage case opened in block ${e.caseOpened.blockNumber}: deficit ${amount(e.caseOpened.shortfall)}; ` +
          `the fund could have paid ${amount(e.caseOpened.fundAvailable)} of it then`,
      );
    }
    for (const d of e.fundDraws)
      lines.push(`   fund paid ${amount(d.amount)} toward the deficit (block ${d.blockNumber})`);
    if (e.layers.length > 0) {
      const parts = e.layers.map((d) => `${d.layer} ${formatToken(d.amount, token)}`).join(", ");
      lines.push(`   of which the default layers paid: ${parts}`);
    }
    for (const s of e.adlSteps) {
      lines.push(
        `   ADL: ${s.counterparty} closed ${qty(s.size)} at ${usd(s.price)} and gave up ${amount(s.loss)} ` +
          `(score ${s.score}, block ${s.blockNumber})`,
      );
    }
    if (e.socialization !== undefined) {
      const side = e.socialization.longSide ? "long" : "short";
      lines.push(
        `   socialized ${amount(e.socialization.amount)} over every ${side} position: ` +
          `${qty(e.socialization.indexDelta)} ${symbol} per unit of size`,
      );
    }
    return lines;
  };

  // What the loss rules took is owed back from later inflows of its claims pool (issue 10's claims, one pool per
  // isolated market since issue 11): the contract's own totals, a line per pool.
  const pools = await conn.contracts.lens.claimsPools();
  const text = [
    `liquidations since block ${conn.deployment.startBlock}: ${events.liquidations.length}`,
    ...events.liquidations.map(liquidationLine),
    "",
    `bad debts resolved: ${losses.length}`,
    ...losses.flatMap(lossLines),
    "",
    ...pools.map(
      (p) =>
        `claims, ${poolLabel(p.pool, market)}: ${amount(p.issued)} taken (loss events: ${p.events}), ` +
        `${amount(p.inflow)} funded by inflows, ${amount(p.issued - p.inflow)} still owed`,
    ),
    "(per account: claims list <account>; per pool: claims totals)",
  ].join("\n");

  const json = {
    fromBlock: conn.deployment.startBlock,
    liquidations: events.liquidations.map((l) => ({
      block: l.blockNumber,
      tx: l.txHash,
      account: l.account,
      liquidator: l.liquidator,
      market: market(l.marketId),
      size: wad(l.size),
      oraclePrice: wad(l.oraclePrice),
      reward: wad(l.reward),
      fee: wad(l.fee),
      bankrupt: l.bankrupt,
    })),
    lossEvents: losses.map((e) => ({
      block: e.receipt.blockNumber,
      tx: e.receipt.txHash,
      account: e.receipt.account,
      market: market(e.receipt.marketId),
      shortfall: wad(e.receipt.shortfall),
      fundPaid: wad(e.receipt.fundPaid),
      deleveraged: wad(e.receipt.deleveraged),
      socialized: wad(e.receipt.socialized),
      socializedPerUnit: wad(e.receipt.socializedPerUnit),
      caseOpened:
        e.caseOpened === undefined
          ? null
          : {
              block: e.caseOpened.blockNumber,
              shortfall: wad(e.caseOpened.shortfall),
              fundAvailable: wad(e.caseOpened.fundAvailable),
            },
      fundDraws: e.fundDraws.map((d) => ({ block: d.blockNumber, amount: wad(d.amount) })),
      // Token units (integers), as LayerDrawn reports them.
      layers: e.layers.map((d) => ({ layer: d.layer, amount: d.amount.toString() })),
      adl: e.adlSteps.map((s) => ({
        block: s.blockNumber,
        counterparty: s.counterparty,
        size: wad(s.size),
        price: wad(s.price),
        loss: wad(s.loss),
        score: s.score.toString(),
      })),
      socialization:
        e.socialization === undefined
          ? null
          : {
              side: e.socialization.longSide ? "long" : "short",
              amount: wad(e.socialization.amount),
              perUnit: wad(e.socialization.indexDelta),
            },
    })),
    claims: pools.map((p) => ({
      pool: Number(p.pool),
      market: p.pool === 0n ? null : market(Number(p.pool - 1n)),
      issued: wad(p.issued),
      inflow: wad(p.inflow),
      owed: wad(p.issued - p.inflow),
      events: Number(p.events),
    })),
  };
  return { text, json };
}
