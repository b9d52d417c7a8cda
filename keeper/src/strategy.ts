/**
 * Pure decisions: from a snapshot of chain state (read at one block) to the jobs the keeper runs, and, inside
 * an ADL job, from freshly read ranks to the next step. No I/O here.
 */
import type { Action } from "./executor.js";
import {
  MAX_UINT256,
  entryBucket,
  notionalAt,
  rankCounterparties,
  shortfall,
  type LossPolicyName,
  type TrackedPosition,
} from "#sdk";
import { orderQueue } from "./estimate.js";

export interface MarketRule {
  /** A haircut market resolves like a socialized one: liquidate settles the deficit at once, no case opens. */
  lossPolicy: LossPolicyName;
  maintenanceMarginRatio: bigint;
}

export interface AccountSnapshot {
  account: string;
  equity: bigint;
  maintenanceMargin: bigint;
  /** Open positions at the snapshot's block; `undefined` when unknown (the account cannot be planned). */
  positions: readonly TrackedPosition[] | undefined;
  /** Block from which the account has been liquidatable without a confirmed liquidation since. */
  liquidatableSince: number;
  /** Block of the lens read these figures come from. */
  readAt?: number;
}

export interface CaseSnapshot {
  account: string;
  marketId: number;
  startedAt: bigint;
  longCounterparties: boolean;
}

export interface Snapshot {
  block: number;
  timestamp: bigint;
  deleverageTimeout: bigint;
  markets: ReadonlyMap<number, MarketRule>;
  prices: ReadonlyMap<number, bigint>;
  /** Every account read at this block (healthy ones are ignored). */
  accounts: readonly AccountSnapshot[];
  /** Open deleverage cases. */
  cases: readonly CaseSnapshot[];
  /** Accounts a running job is handling: nothing new is planned for them. */
  busy: ReadonlySet<string>;
  /** Action ids already confirmed: never sent again. */
  confirmed: ReadonlySet<string>;
  /** Solvent accounts short of maintenance by less than this share of it (bps) are not worth a transaction. */
  minShortfallBps: number;
}

export interface LiquidateJob {
  type: "liquidate";
  account: string;
  bankrupt: boolean;
  /** In order; a bankrupt account's last step is the one that realizes its deficit. */
  steps: Action[];
}

export interface DeleverageJob {
  type: "deleverage";
  account: string;
  marketId: number;
  caseStart: bigint;
  longCounterparties: boolean;
  /** Timestamp from which `socializeAfterTimeout` is allowed. */
  socializeAt: bigint;
}

export interface SocializeJob {
  type: "socialize";
  account: string;
  action: Action;
}

export type Job = LiquidateJob | DeleverageJob | SocializeJob;

/**
 * The isolated market a job acts in, or `undefined` when it acts in shared markets only. Every job in an isolated
 * market may hand its position to the signer (a liquidation, an ADL step the fund covers, a socialization, the
 * liquidation that unblocks an ADL order), so it must run on that market's own signer; by the isolation rule an
 * account holding an isolated market holds nothing else, so a job has one such market at most.
 */
export function isolatedLane(job: Job, isolated: ReadonlySet<number>): number | undefined {
  const markets =
    job.type === "liquidate"
      ? job.steps.map((s) => s.marketId)
      : [job.type === "deleverage" ? job.marketId : job.action.marketId];
  return markets.find((m) => isolated.has(m));
}

export const liquidateId = (account: string, marketId: number, since: number): string =>
  `liquidate:${account}:${marketId}:${since}`;
export const deleverageId = (account: string, marketId: number, caseStart: bigint, counterparty: string): string =>
  `deleverage:${account}:${marketId}:${caseStart}:${counterparty}`;
export const socializeId = (account: string, marketId: number, caseStart: bigint): string =>
  `socialize:${account}:${marketId}:${caseStart}`;

const byId = (a: TrackedPosition, b: TrackedPosition): number => a.marketId - b.marketId;

function notional(p: TrackedPosition, prices: ReadonlyMap<number, bigint>): bigint {
  return notionalAt(p.size, prices.get(p.marketId) ?? 0n);
}

/**
 * Markets to liquidate, in order. Solvent: the largest maintenance requirement first, since the contract
 * stops at what restores maintenance and later steps may be unnecessary. Bankrupt: every market, the largest
 * notional last — the last position's market policy decides what the fund cannot pay, and the position that
 * carries most of the loss is the natural owner of that decision.
 */
export function liquidationOrder(
  positions: readonly TrackedPosition[],
  bankrupt: boolean,
  prices: ReadonlyMap<number, bigint>,
  markets: ReadonlyMap<number, MarketRule>,
): TrackedPosition[] {
  const open = positions.filter((p) => p.size !== 0n).sort(byId);
  if (bankrupt) {
    return open.sort((a, b) => {
      const d = notional(a, prices) - notional(b, prices);
      return d === 0n ? a.marketId - b.marketId : d < 0n ? -1 : 1;
    });
  }
  const requirement = (p: TrackedPosition): bigint =>
    notional(p, prices) * (markets.get(p.marketId)?.maintenanceMarginRatio ?? 0n);
  return open.sort((a, b) => {
    const d = requirement(b) - requirement(a);
    return d === 0n ? a.marketId - b.marketId : d < 0n ? -1 : 1;
  });
}

/** Short of maintenance by less than `bps` of it: the next liquidation would be dust. */
export function isDust(a: { equity: bigint; maintenanceMargin: bigint }, bps: number): boolean {
  return shortfall(a) * 10_000n < a.maintenanceMargin * BigInt(bps);
}

/**
 * The jobs for one snapshot, most urgent first: every liquidatable account by shortfall (largest first) —
 * a liquidation, or the ADL of its open deleverage case — then cases to close after their timeout.
 */
export function planJobs(s: Snapshot): Job[] {
  const cases = new Map(s.cases.map((c) => [c.account, c]));
  const jobs: Job[] = [];
  const planned = new Set<string>();
  for (const a of orderQueue(s.accounts)) {
    if (s.busy.has(a.account)) continue;
    const open = cases.get(a.account);
    const bankrupt = a.equity < 0n;
    if (!bankrupt && isDust(a, s.minShortfallBps)) continue;
    if (open !== undefined && bankrupt) {
      jobs.push({
        type: "deleverage",
        account: a.account,
        marketId: open.marketId,
        caseStart: open.startedAt,
        longCounterparties: open.longCounterparties,
        socializeAt: open.startedAt + s.deleverageTimeout,
      });
      planned.add(a.account);
      continue;
    }
    // A recovered account with a case: `liquidate` closes the case first, then liquidates what is left.
    if (a.positions === undefined) continue;
    const steps: Action[] = liquidationOrder(a.positions, bankrupt, s.prices, s.markets)
      .map((p) => ({
        id: liquidateId(a.account, p.marketId, a.liquidatableSince),
        kind: "liquidate" as const,
        account: a.account,
        marketId: p.marketId,
        size: MAX_UINT256,
        ...(bankrupt ? { bankrupt: true } : {}),
      }))
      .filter((action) => !s.confirmed.has(action.id));
    if (steps.length === 0) continue;
    // The first step goes on the read it was planned on, or on a fresher one (see Action.readAt); later ones
    // follow a step of ours.
    if (a.readAt !== undefined) steps[0] = { ...steps[0], readAt: a.readAt };
    jobs.push({ type: "liquidate", account: a.account, bankrupt, steps });
    planned.add(a.account);
  }
  for (const c of s.cases) {
    if (planned.has(c.account) || s.busy.has(c.account)) continue;
    if (s.timestamp < c.startedAt + s.deleverageTimeout) continue;
    // Not liquidatable any more (recovered) and past the timeout: the socialized path closes the case.
    const id = socializeId(c.account, c.marketId, c.startedAt);
    if (s.confirmed.has(id)) continue;
    jobs.push({
      type: "socialize",
      account: c.account,
      action: { id, kind: "socialize", account: c.account, marketId: c.marketId },
    });
  }
  return jobs;
}

export interface DeleverageInput {
  account: string;
  marketId: number;
  caseStart: bigint;
  /** The bankrupt position's signed size now. */
  bankruptSize: bigint;
  /** Fresh ADL ranks of accounts on the counterparties' side. */
  ranks: readonly {
    account: string;
    score: bigint;
    unrealizedPnl: bigint;
    notional: bigint;
    /** The account's equity (ADL rank rows carry it). */
    equity?: bigint;
  }[];
  /** Counterparties' signed sizes, where known. */
  sizes: ReadonlyMap<string, bigint>;
  /**
   * Every position on the counterparties' side (the indexer's, excluded accounts included): the contract takes
   * only from the side's first entry bucket, whoever holds it. Without it the first bucket is not checked.
   */
  side?: ReadonlyMap<string, { size: bigint; openNotional: bigint }>;
  /** Counterparties the simulation already ruled out in this job. */
  excluded: ReadonlySet<string>;
  now: bigint;
  socializeAt: bigint;
}

export type DeleverageStep =
  | { kind: "deleverage"; action: Action; score: bigint }
  | { kind: "socialize"; action: Action }
  /** The side's first entry bucket is held by accounts with equity ≤ 0 (score 0): liquidate them, then retry. */
  | { kind: "unblock"; accounts: string[] }
  | { kind: "wait" }
  | { kind: "done" };

/**
 * A position's place in its side's ADL order whatever its profit and equity: the score its entry bucket gives
 * (65,536 − bucket for a long, bucket + 1 for a short, as LiquidationMath.adlScore), 0 when flat.
 */
export function entryScore(p: { size: bigint; openNotional: bigint }): bigint {
  if (p.size === 0n) return 0n;
  const bucket = BigInt(entryBucket(p.size, p.openNotional));
  return p.size > 0n ? 65_536n - bucket : bucket + 1n;
}

/**
 * The next step of an ADL case: the highest-scoring eligible counterparty for min(both sizes). The contract
 * accepts only the side's first entry bucket (`DeleverageOutOfOrder` otherwise), so when `side` is known a
 * counterparty outside it is never chosen; if that bucket holds only accounts whose equity is ≤ 0 (their score
 * is 0, they cannot be deleveraged but are liquidatable), the step is to liquidate them — their positions go to
 * the liquidator at the oracle price, out of that bucket — and retry. When nothing is eligible: the socialized
 * path once the timeout has passed, else wait.
 */
export function nextDeleverageStep(input: DeleverageInput): DeleverageStep {
  if (input.bankruptSize === 0n) return { kind: "done" };
  const bankruptAbs = input.bankruptSize < 0n ? -input.bankruptSize : input.bankruptSize;
  const self = (account: string): boolean => account.toLowerCase() === input.account.toLowerCase();
  let best: DeleverageInput["ranks"][number] | undefined = rankCounterparties(
    input.ranks,
    (account) => self(account) || input.excluded.has(account),
  )[0];
  if (input.side !== undefined) {
    let first = 0n;
    for (const [account, p] of input.side) if (!self(account) && entryScore(p) > first) first = entryScore(p);
    if (first > 0n && (best === undefined || best.score < first)) {
      const equity = new Map(input.ranks.map((r) => [r.account, r.equity]));
      const holders = [...input.side]
        .filter(([account, p]) => !self(account) && entryScore(p) === first)
        .map(([account]) => account)
        .sort();
      const blocking = holders.filter((a) => {
        const e = equity.get(a);
        return e !== undefined && e <= 0n;
      });
      if (blocking.length > 0) return { kind: "unblock", accounts: blocking };
      best = undefined;
    }
  }
  if (best !== undefined) {
    const theirs = input.sizes.get(best.account);
    const theirAbs = theirs === undefined ? bankruptAbs : theirs < 0n ? -theirs : theirs;
    const size = theirAbs !== 0n && theirAbs < bankruptAbs ? theirAbs : bankruptAbs;
    return {
      kind: "deleverage",
      score: best.score,
      action: {
        id: deleverageId(input.account, input.marketId, input.caseStart, best.account),
        kind: "deleverage",
        account: input.account,
        marketId: input.marketId,
        counterparty: best.account,
        size,
      },
    };
  }
  if (input.now >= input.socializeAt) {
    return {
      kind: "socialize",
      action: {
        id: socializeId(input.account, input.marketId, input.caseStart),
        kind: "socialize",
        account: input.account,
        marketId: input.marketId,
      },
    };
  }
  return { kind: "wait" };
}
