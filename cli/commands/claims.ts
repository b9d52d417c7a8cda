import type { EventLog, Log } from "ethers";

import { ZeroAddress } from "ethers";

import {
  DEFAULT_MAX_BLOCK_RANGE,
  SCALE,
  SHARED_CLAIMS_POOL,
  claimsPoolOf,
  parseInteger,
  parsePositive,
  querySpans,
} from "#sdk";
import type { ClearingHouse } from "../../typechain-types/index.js";
import { requireSigner, type CommandContext, type CommandResult } from "../command.js";
import { findMarket, marketLabel, targetAccount } from "../connection.js";
import { InputError } from "../errors.js";
import { money, table, wad } from "../format.js";
import { transact } from "../tx.js";
import { approveIfShort, formatToken, requireWalletHolds, tokenInfo } from "./token.js";

/**
 * `claims list [account]` and `claims repay [account] [--max-records n]` (issue 10): what loss rules took from an
 * account, as claim records repaid from later inflows in order of loss event.
 *
 * The clearing house exposes an account's claims as totals (`claimsOf`: paid, repaid, repayable now, records), not
 * record by record, and has no room for another view; so the records are read back from their events:
 * `ClaimRecorded` (kind, market, paid), `ClaimRepaid` (repaid) and `LossEventRecorded` (the loss events, their
 * market, kind and side). An ADL record's event is the step's own (the `LossEventRecorded` just before it in the
 * same transaction). A haircut or socialization record covers the events of its market, kind and side that came
 * after the position last changed or wrote a record there and before the record; its side is the position's at
 * the end of the block before (a settlement that writes a record comes before any trade in its transaction, and
 * an earlier transaction of the block that touched the position would have written it). "Repayable now" is the
 * account's total from `claimsOf`: the contract's own figure.
 */

const KIND = ["ADL", "haircut", "socialized"] as const;

interface LossEventRow {
  id: number;
  marketId: number;
  kind: number;
  longSide: boolean;
  at: Position;
}

interface Position {
  block: number;
  index: number;
}

export interface ClaimRow {
  record: number;
  kind: (typeof KIND)[number];
  marketId: number;
  /** "long" | "short", or null when the node no longer has the state of the block before the record. */
  side: "long" | "short" | null;
  /** Loss event ids the record covers, in order. */
  events: number[];
  paid: bigint;
  repaid: bigint;
  block: number;
}

const before = (a: Position, b: Position): boolean => a.block < b.block || (a.block === b.block && a.index < b.index);
const at = (log: Log): Position => ({ block: log.blockNumber, index: log.index });

/** Every log of `filter` from the deployment's start to the head, in spans a public RPC accepts. */
async function logs(
  ch: ClearingHouse,
  filter: Parameters<ClearingHouse["queryFilter"]>[0],
  from: number,
  to: number,
): Promise<EventLog[]> {
  const found = await querySpans(from, to, DEFAULT_MAX_BLOCK_RANGE, (a, b) => ch.queryFilter(filter, a, b));
  return found.filter((log): log is EventLog => "args" in log);
}

/** The account's claim records from their events (see the file's comment), in record order. */
export async function readClaimRows(ctx: CommandContext, account: string): Promise<ClaimRow[]> {
  const ch = ctx.conn.contracts.clearingHouse;
  const from = ctx.conn.deployment.startBlock;
  const to = await ctx.conn.provider.getBlockNumber();
  const [recorded, repaid, lossLogs, changes] = await Promise.all([
    logs(ch, ch.filters.ClaimRecorded(account), from, to),
    logs(ch, ch.filters.ClaimRepaid(account), from, to),
    logs(ch, ch.filters.LossEventRecorded(), from, to),
    logs(ch, ch.filters.PositionChanged(account), from, to),
  ]);
  const events: LossEventRow[] = lossLogs.map((l) => ({
    id: Number(l.args.eventId),
    marketId: Number(l.args.marketId),
    kind: Number(l.args.kind),
    longSide: l.args.longSide as boolean,
    at: at(l),
  }));
  const repaidOf = new Map<number, bigint>();
  for (const l of repaid) {
    const r = Number(l.args.record);
    repaidOf.set(r, (repaidOf.get(r) ?? 0n) + (l.args.amount as bigint));
  }
  const rows: ClaimRow[] = [];
  for (const l of recorded) {
    const record = Number(l.args.record);
    const kind = Number(l.args.kind);
    const marketId = Number(l.args.marketId);
    const here = at(l);
    let side: ClaimRow["side"] = null;
    let covered: number[];
    if (kind === 0) {
      // The ADL step's own event: the last LossEventRecorded before the record in its transaction.
      const own = events.filter((e) => e.at.block === here.block && before(e.at, here)).at(-1);
      covered = own === undefined ? [] : [own.id];
      if (own !== undefined) side = own.longSide ? "long" : "short";
    } else {
      const position = await ch.positionOf(account, marketId, { blockTag: here.block - 1 }).catch(() => undefined);
      if (position !== undefined && position.size !== 0n) side = position.size > 0n ? "long" : "short";
      // The window opens at the position's last change or the last record of this market and kind.
      const opens = [
        ...changes.filter((c) => Number(c.args.marketId) === marketId).map(at),
        ...recorded.filter((r) => Number(r.args.marketId) === marketId && Number(r.args.kind) === kind).map(at),
      ].filter((p) => before(p, here));
      const start = opens.reduce<Position | undefined>((a, p) => (a === undefined || before(a, p) ? p : a), undefined);
      covered = events
        .filter(
          (e) =>
            e.marketId === marketId &&
            e.kind === kind &&
            (side === null || e.longSide === (side === "long")) &&
            before(e.at, here) &&
            (start === undefined || before(start, e.at)),
        )
        .map((e) => e.id);
    }
    rows.push({
      record,
      kind: KIND[kind] ?? "ADL",
      marketId,
      side,
      events: covered,
      paid: l.args.paid as bigint,
      repaid: repaidOf.get(record) ?? 0n,
      block: l.blockNumber,
    });
  }
  return rows.sort((a, b) => a.record - b.record);
}

function window(events: readonly number[]): string {
  if (events.length === 0) return "?";
  if (events.length === 1) return `event ${events[0]}`;
  const contiguous = events.every((e, i) => i === 0 || e === events[i - 1] + 1);
  return contiguous ? `events ${events[0]}–${events.at(-1)}` : `events ${events.join(", ")}`;
}

/** `claims list [account]`: one line per claim record, then the account's totals from claimsOf. */
export async function claimsList(ctx: CommandContext): Promise<CommandResult> {
  const account = targetAccount(ctx.parsed.args.address, ctx.signer);
  const [rows, summary] = await Promise.all([
    readClaimRows(ctx, account),
    ctx.conn.contracts.clearingHouse.claimsOf(account),
  ]);
  const symbol = ctx.conn.symbol;
  const market = (id: number): string => marketLabel(ctx.conn.deployment, id);
  const lines =
    rows.length === 0
      ? [`${account} has no claims: no loss rule has taken anything from it`]
      : [
          `claims of ${account} (${rows.length} record${rows.length === 1 ? "" : "s"}):`,
          table([
            ["record", "rule", "market", "side", "loss events", "paid", "repaid"],
            ...rows.map((r) => [
              String(r.record),
              r.kind,
              market(r.marketId),
              r.side ?? "?",
              window(r.events),
              money(r.paid, symbol),
              money(r.repaid, symbol),
            ]),
          ]),
        ];
  lines.push(
    `total paid ${money(summary.paid, symbol)}, repaid ${money(summary.repaid, symbol)}, ` +
      `repayable now ${money(summary.repayable, symbol)}` +
      (summary.repayable > 0n ? ` ('claims repay ${account}' credits it)` : ""),
  );
  return {
    text: lines.join("\n"),
    json: {
      account,
      paid: wad(summary.paid),
      repaid: wad(summary.repaid),
      repayable: wad(summary.repayable),
      records: rows.map((r) => ({
        record: r.record,
        kind: r.kind,
        market: market(r.marketId),
        side: r.side,
        events: r.events,
        paid: wad(r.paid),
        repaid: wad(r.repaid),
        block: r.block,
      })),
    },
  };
}

/**
 * `claims repay [account] [--max-records n]`: sends claimRepayment (anyone may; the account is credited). Refused
 * before anything is sent when nothing is repayable, or when the first n records from the account's cursor have
 * nothing to pay.
 */
export async function claimsRepay(ctx: CommandContext): Promise<CommandResult> {
  const account = targetAccount(ctx.parsed.args.address, ctx.signer);
  const given = ctx.parsed.flags.get("--max-records")?.[0];
  const ch = ctx.conn.contracts.clearingHouse;
  const summary = await ch.claimsOf(account);
  const maxRecords =
    given === undefined ? Math.max(1, Number(summary.records)) : parseInteger("--max-records", given, 1, 100_000);
  const symbol = ctx.conn.symbol;
  if (summary.repayable === 0n) {
    throw new InputError(
      `nothing repayable now for ${account}: claims paid ${money(summary.paid, symbol)}, repaid ` +
        `${money(summary.repaid, symbol)} (claims are repaid as swept fees or repayClaims bring money in)`,
    );
  }
  const signer = requireSigner(ctx, "it pays the gas; the account is credited");
  const method = ch.connect(signer).claimRepayment;
  const amount = await method.staticCall(account, maxRecords);
  if (amount === 0n) {
    throw new InputError(
      `the first ${maxRecords} record(s) from ${account}'s cursor have nothing repayable: raise --max-records ` +
        `(it has ${summary.records} records, ${money(summary.repayable, symbol)} repayable in all)`,
    );
  }
  const receipt = await transact("claimRepayment", ctx.conn.decoding, method, account, maxRecords);
  const paid = receipt.logs
    .map((log) => ch.interface.parseLog(log))
    .filter((p) => p?.name === "ClaimRepaid")
    .map((p) => ({ record: Number(p?.args.record), amount: p?.args.amount as bigint }));
  const total = paid.reduce((s, p) => s + p.amount, 0n);
  return {
    text:
      `repaid ${money(total, symbol)} to ${account}'s collateral over ${paid.length} record(s) ` +
      `(${paid.map((p) => `#${p.record} ${money(p.amount, symbol)}`).join(", ")}); tx ${receipt.hash}`,
    json: {
      action: "claims-repay",
      account,
      maxRecords,
      repaid: wad(total),
      records: paid.map((p) => ({ record: p.record, amount: wad(p.amount) })),
      tx: receipt.hash,
    },
  };
}

/** A claims pool as a person reads it: "shared pool", or "SOL-USD's own pool" for isolated market m's (1 + m). */
export function poolLabel(pool: bigint, market: (id: number) => string): string {
  return pool === SHARED_CLAIMS_POOL ? "shared pool" : `${market(Number(pool - 1n))}'s own pool`;
}

/**
 * The claims pool `--market` names: the named market's own pool if it is isolated (read on chain), the shared pool
 * for a shared market or without the flag.
 */
async function poolOfFlag(ctx: CommandContext): Promise<bigint> {
  const name = ctx.parsed.flags.get("--market");
  if (name === undefined) return SHARED_CLAIMS_POOL;
  const market = findMarket(ctx.conn.deployment, name);
  const { fund } = await ctx.conn.contracts.clearingHouse.isolatedPool(market.id);
  return claimsPoolOf(BigInt(market.id), fund !== ZeroAddress);
}

/**
 * `claims totals [--market m]`: per claims pool, what its loss events took, what inflows repaid and what is still
 * owed; every pool (the lens's `claimsPools`), or the one `--market` names. `--json` gives 18-decimal integers.
 */
export async function claimsTotals(ctx: CommandContext): Promise<CommandResult> {
  const { clearingHouse, lens } = ctx.conn.contracts;
  const market = (id: number): string => marketLabel(ctx.conn.deployment, id);
  const symbol = ctx.conn.symbol;
  const rows = ctx.parsed.flags.has("--market")
    ? await poolOfFlag(ctx).then(async (pool) => {
        const [issued, inflow, events] = await clearingHouse.claimsTotals(pool);
        return [{ pool, issued, inflow, events }];
      })
    : (await lens.claimsPools()).map((p) => ({ pool: p.pool, issued: p.issued, inflow: p.inflow, events: p.events }));
  return {
    text: [
      "claims by pool (a pool is repaid only from its own fee sweeps and from 'claims fund' into it):",
      table([
        ["pool", "loss events", "taken", "funded", "still owed"],
        ...rows.map((r) => [
          poolLabel(r.pool, market),
          String(r.events),
          money(r.issued, symbol),
          money(r.inflow, symbol),
          money(r.issued - r.inflow, symbol),
        ]),
      ]),
    ].join("\n"),
    json: {
      pools: rows.map((r) => ({
        pool: Number(r.pool),
        market: r.pool === SHARED_CLAIMS_POOL ? null : market(Number(r.pool - 1n)),
        events: Number(r.events),
        issued: r.issued.toString(),
        inflow: r.inflow.toString(),
        owed: (r.issued - r.inflow).toString(),
      })),
    },
  };
}

/**
 * `claims fund <amount> [--market m]`: repayClaims into one pool (the shared one by default, an isolated market's
 * own with `--market`), e.g. a treasury making traders whole. Refused before anything is sent above what the pool
 * still owes, or when the wallet holds less; approves the clearing house first when its allowance is short.
 */
export async function claimsFund(ctx: CommandContext): Promise<CommandResult> {
  const { clearingHouse, token } = ctx.conn.contracts;
  const info = await tokenInfo(token);
  const amount = parsePositive(ctx.parsed.args.amount ?? "", info.decimals, "amount");
  const pool = await poolOfFlag(ctx);
  const label = poolLabel(pool, (id) => marketLabel(ctx.conn.deployment, id));
  const [issued, inflow] = await clearingHouse.claimsTotals(pool);
  const owedUnits = (issued - inflow) / SCALE;
  if (amount > owedUnits) {
    throw new InputError(
      `amount ${formatToken(amount, info)} is more than the ${label} still owes in whole units ` +
        `(${formatToken(owedUnits, info)} of ${money(issued - inflow, ctx.conn.symbol)})`,
    );
  }
  const signer = requireSigner(ctx, "it pays the amount");
  const balance = await token.balanceOf(signer.address);
  requireWalletHolds(balance, amount, info);
  const spender = await clearingHouse.getAddress();
  const approval = await approveIfShort(ctx.conn.decoding, token, signer, spender, amount);
  const txs: string[] = approval === undefined ? [] : [approval];
  const receipt = await transact(
    "repayClaims",
    ctx.conn.decoding,
    clearingHouse.connect(signer).repayClaims,
    pool,
    amount,
  );
  txs.push(receipt.hash);
  const [, inflowAfter] = await clearingHouse.claimsTotals(pool);
  return {
    text:
      `funded the ${label} with ${formatToken(amount, info)}; it still owes ` +
      `${money(issued - inflowAfter, ctx.conn.symbol)} (tx ${receipt.hash})`,
    json: {
      action: "claims-fund",
      pool: Number(pool),
      amount: amount.toString(),
      inflow: inflowAfter.toString(),
      owed: (issued - inflowAfter).toString(),
      txs,
    },
  };
}
