import type { Provider } from "ethers";

import type { Executor, ExecResult, SignerSlot } from "./executor.js";
import type { Indexer, Reader } from "#sdk";
import type { Logger } from "./logger.js";
import type { TrackedPosition } from "#sdk";
import { liquidateId, nextDeleverageStep, type DeleverageJob, type Job, type LiquidateJob } from "./strategy.js";

/** Most ADL steps one job takes before handing the case back to the next cycle. */
const MAX_DELEVERAGE_STEPS = 64;

export interface JobContext {
  provider: Provider;
  executor: Executor;
  reader: Reader;
  indexer: Indexer;
  logger: Logger;
  signal: AbortSignal;
}

/** Runs one job on one signer, step after step; returns every step's result. */
export async function runJob(ctx: JobContext, slot: SignerSlot, job: Job): Promise<ExecResult[]> {
  switch (job.type) {
    case "liquidate":
      return runLiquidation(ctx, slot, job);
    case "deleverage":
      return runDeleverage(ctx, slot, job);
    case "socialize":
      return [await ctx.executor.execute(slot, job.action, { signal: ctx.signal })];
  }
}

const NOT_NEEDED = new Set(["NotLiquidatable"]);
/** After a step of our own, the fund may have paid the rest (not bankrupt) or the case may be closed. */
const CASE_DONE = new Set(["NotBankrupt", "NoDeleverageCase"]);

async function runLiquidation(ctx: JobContext, slot: SignerSlot, job: LiquidateJob): Promise<ExecResult[]> {
  const results: ExecResult[] = [];
  let done = false;
  for (const action of job.steps) {
    if (ctx.signal.aborted) break;
    // Once one step went through, "not liquidatable" on the next means the account is healthy again.
    const result = await ctx.executor.execute(slot, action, {
      signal: ctx.signal,
      quiet: done ? NOT_NEEDED : undefined,
    });
    results.push(result);
    if (result.outcome === "confirmed" || result.outcome === "dry_run") {
      done = true;
      continue;
    }
    // Another keeper took this market: the account's other positions may still be ours to liquidate.
    if (result.outcome === "lost_race" && result.revert?.name === "NoPosition") {
      ctx.indexer.markUnknown(job.account);
      continue;
    }
    break;
  }
  return results;
}

async function runDeleverage(ctx: JobContext, slot: SignerSlot, job: DeleverageJob): Promise<ExecResult[]> {
  const results: ExecResult[] = [];
  const excluded = new Set<string>();
  /** Holders of the first bucket this job already tried to liquidate: once each. */
  const tried = new Set<string>();
  let stepped = false;
  const log = ctx.logger.child({ module: "adl", account: job.account, marketId: job.marketId });
  for (let step = 0; step < MAX_DELEVERAGE_STEPS && !ctx.signal.aborted; step++) {
    const candidates = ctx.indexer
      .accountsOnSide(job.marketId, job.longCounterparties)
      .filter((a) => a !== job.account && !excluded.has(a));
    // Scores move with every price and trade: read them right before choosing.
    const [ranks, bankruptSize, latest] = await Promise.all([
      ctx.reader.ranks(job.marketId, candidates, "latest"),
      ctx.reader.positionSize(job.account, job.marketId, "latest"),
      ctx.provider.getBlock("latest"),
    ]);
    // Every position on the side, the excluded ones too: whoever holds the first entry bucket goes first.
    const side = new Map<string, TrackedPosition>();
    for (const a of ctx.indexer.accountsOnSide(job.marketId, job.longCounterparties)) {
      const p = ctx.indexer.positionsOf(a)?.find((x) => x.marketId === job.marketId);
      if (p !== undefined) side.set(a, p);
    }
    const sizes = new Map<string, bigint>();
    for (const a of candidates) {
      const p = side.get(a);
      if (p !== undefined) sizes.set(a, p.size);
    }
    const decision = nextDeleverageStep({
      account: job.account,
      marketId: job.marketId,
      caseStart: job.caseStart,
      bankruptSize,
      ranks,
      sizes,
      side,
      excluded,
      now: BigInt(latest?.timestamp ?? 0),
      socializeAt: job.socializeAt,
    });
    if (decision.kind === "done") break;
    if (decision.kind === "wait") {
      log.info({ candidates: candidates.length }, "no eligible counterparty yet; waiting for the timeout");
      break;
    }
    if (decision.kind === "unblock") {
      // Their position heads the side's ADL order but their equity is ≤ 0: the contract would refuse every other
      // counterparty (DeleverageOutOfOrder). Liquidating them moves that position to the liquidator at the oracle
      // price, out of the first bucket; then the ranks are read again.
      const fresh = decision.accounts.filter((a) => !tried.has(a));
      if (fresh.length === 0) break;
      log.info({ accounts: fresh }, "first entry bucket held by accounts with equity ≤ 0; liquidating them first");
      for (const a of fresh) tried.add(a);
      const unblocked = await unblock(ctx, slot, job, fresh, latest?.number ?? 0);
      results.push(...unblocked);
      if (unblocked.some((r) => r.outcome === "confirmed" || r.outcome === "dry_run")) continue;
      break;
    }
    const quiet = stepped ? CASE_DONE : undefined;
    const result = await ctx.executor.execute(slot, decision.action, { signal: ctx.signal, quiet });
    results.push(result);
    if (decision.kind === "socialize") break;
    if (result.revert !== undefined && CASE_DONE.has(result.revert.name)) break;
    // The indexer's view of the side was behind the chain's first bucket: read again at the next cycle.
    if (result.revert?.name === "DeleverageOutOfOrder") break;
    if (result.outcome === "rejected" && decision.action.counterparty !== undefined) {
      excluded.add(decision.action.counterparty);
      continue;
    }
    if (result.outcome === "confirmed") {
      stepped = true;
      // Its position is now smaller or gone; the next ranks tell.
      continue;
    }
    break;
  }
  return results;
}

/**
 * What stops another keeper's, or the account's own liquidation job's, win from counting as a lost race here, and
 * a bankrupt holder whose largest position is this one (its own job liquidates its markets in order) from
 * counting as a failure.
 */
const UNBLOCK_QUIET = new Set(["NotLiquidatable", "NoPosition", "DeleverageInProgress", "LargestPositionGoesLast"]);

/** Liquidates the holders of the side's first entry bucket in the case's market, one after the other. */
async function unblock(
  ctx: JobContext,
  slot: SignerSlot,
  job: DeleverageJob,
  accounts: readonly string[],
  block: number,
): Promise<ExecResult[]> {
  const results: ExecResult[] = [];
  for (const account of accounts) {
    if (ctx.signal.aborted) break;
    const action = {
      id: liquidateId(account, job.marketId, block),
      kind: "liquidate" as const,
      account,
      marketId: job.marketId,
      // Equity ≤ 0: its gas is estimated, not taken from solvent liquidations'.
      bankrupt: true,
    };
    results.push(await ctx.executor.execute(slot, action, { signal: ctx.signal, quiet: UNBLOCK_QUIET }));
  }
  return results;
}
