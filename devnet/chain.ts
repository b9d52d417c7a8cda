import type { BlockTag } from "ethers";

import { accountRow, type AccountRow } from "#sdk";

import type { DeployedSystem } from "./deploy.js";

/** Reads of chain state for assertions: through the lens and the clearing house's views and events. */

/** One account's margin, as the SDK's reader returns it. */
export type HealthRow = AccountRow;

export interface PositionRow {
  marketId: bigint;
  size: bigint;
  openNotional: bigint;
  unrealizedPnl: bigint;
  adlScore: bigint;
}

export interface CaseRow {
  account: string;
  marketId: bigint;
  longCounterparties: boolean;
  startedAt: bigint;
  initialShortfall: bigint;
  fundPaid: bigint;
  deleveraged: bigint;
}

export interface DeleverageStep {
  counterparty: string;
  size: bigint;
  price: bigint;
  loss: bigint;
  /** The counterparty's ADL score before the step. */
  score: bigint;
  blockNumber: number;
  logIndex: number;
}

/** One deleverage case from its DeleverageRequired event, with the Deleveraged steps taken in it, in order. */
export interface DeleverageCaseLog {
  account: string;
  marketId: bigint;
  openedAtBlock: number;
  shortfall: bigint;
  steps: DeleverageStep[];
  /** Whether a BadDebtResolved event closed it. */
  resolved: boolean;
}

export interface WaterfallLogs {
  liquidated: { account: string; liquidator: string; marketId: bigint; size: bigint; bankrupt: boolean }[];
  fundDrawn: { account: string; recipient: string; amount: bigint }[];
  badDebtResolved: {
    account: string;
    marketId: bigint;
    shortfall: bigint;
    fundPaid: bigint;
    deleveraged: bigint;
    socialized: bigint;
  }[];
  socialized: { marketId: bigint; longSide: boolean; amount: bigint }[];
}

const DEFAULT_BATCH = 100;

/** Every account's margin through BackstopLens.healthOf, in batches, all at one block tag. */
export async function readHealth(
  system: DeployedSystem,
  accounts: readonly string[],
  blockTag: BlockTag = "latest",
  batchSize = DEFAULT_BATCH,
): Promise<HealthRow[]> {
  const { lens } = system.contracts;
  const batches: string[][] = [];
  for (let i = 0; i < accounts.length; i += batchSize) batches.push(accounts.slice(i, i + batchSize));
  const results = await Promise.all(batches.map((batch) => lens.healthOf(batch, { blockTag })));
  return results.flat().map(accountRow);
}

/** Open positions of each account (lens.positionsOf), keyed by address. */
export async function readPositions(
  system: DeployedSystem,
  accounts: readonly string[],
  blockTag: BlockTag = "latest",
): Promise<Map<string, PositionRow[]>> {
  const { lens } = system.contracts;
  const rows = await Promise.all(accounts.map((account) => lens.positionsOf(account, { blockTag })));
  return new Map(
    accounts.map((account, i) => [
      account,
      rows[i].map((row) => ({
        marketId: row.marketId,
        size: row.position.size,
        openNotional: row.position.openNotional,
        unrealizedPnl: row.position.unrealizedPnl,
        adlScore: row.rank.score,
      })),
    ]),
  );
}

/** The accounts among `accounts` with an open deleverage case, and the clearing house's count of open cases. */
export async function readOpenCases(
  system: DeployedSystem,
  accounts: readonly string[],
): Promise<{ cases: CaseRow[]; openCount: bigint }> {
  const { clearingHouse } = system.contracts;
  const [openCount, ...rows] = await Promise.all([
    clearingHouse.openDeleverageCases(),
    ...accounts.map((account) => clearingHouse.deleverageCaseOf(account)),
  ]);
  const cases = rows.flatMap((row, i): CaseRow[] =>
    row.open
      ? [
          {
            account: accounts[i],
            marketId: row.marketId,
            longCounterparties: row.longCounterparties,
            startedAt: row.startedAt,
            initialShortfall: row.initialShortfall,
            fundPaid: row.fundPaid,
            deleveraged: row.deleveraged,
          },
        ]
      : [],
  );
  return { cases, openCount };
}

/**
 * Deleverage cases opened since `fromBlock` (default: the deployment's start block), each with its Deleveraged
 * steps in chain order. A step belongs to the latest case of its account opened before it. For the check that
 * ADL follows score order: within a case, `steps[].score` must not increase.
 */
export async function readDeleverageCases(system: DeployedSystem, fromBlock?: number): Promise<DeleverageCaseLog[]> {
  const { clearingHouse } = system.contracts;
  const from = fromBlock ?? system.deployment.startBlock;
  const [opened, steps, resolved] = await Promise.all([
    clearingHouse.queryFilter(clearingHouse.filters.DeleverageRequired(), from, "latest"),
    clearingHouse.queryFilter(clearingHouse.filters.Deleveraged(), from, "latest"),
    clearingHouse.queryFilter(clearingHouse.filters.BadDebtResolved(), from, "latest"),
  ]);
  type Tagged = { blockNumber: number; index: number; apply: () => void };
  const cases: DeleverageCaseLog[] = [];
  const current = new Map<string, DeleverageCaseLog>();
  const events: Tagged[] = [
    ...opened.map((log) => ({
      blockNumber: log.blockNumber,
      index: log.index,
      apply: () => {
        const entry: DeleverageCaseLog = {
          account: log.args.account,
          marketId: log.args.marketId,
          openedAtBlock: log.blockNumber,
          shortfall: log.args.shortfall,
          steps: [],
          resolved: false,
        };
        cases.push(entry);
        current.set(log.args.account, entry);
      },
    })),
    ...steps.map((log) => ({
      blockNumber: log.blockNumber,
      index: log.index,
      apply: () => {
        const entry = current.get(log.args.account);
        if (entry === undefined) throw new Error(`Deleveraged without a case: ${log.args.account}`);
        entry.steps.push({
          counterparty: log.args.counterparty,
          size: log.args.size,
          price: log.args.price,
          loss: log.args.loss,
          score: log.args.score,
          blockNumber: log.blockNumber,
          logIndex: log.index,
        });
      },
    })),
    ...resolved.map((log) => ({
      blockNumber: log.blockNumber,
      index: log.index,
      apply: () => {
        const entry = current.get(log.args.account);
        if (entry === undefined) return; // bad debt resolved without a case (fund or socialized at once)
        entry.resolved = true;
        current.delete(log.args.account);
      },
    })),
  ];
  events.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
  for (const event of events) event.apply();
  return cases;
}

/** The loss events since `fromBlock` (default: the deployment's start block), decoded, in chain order. */
export async function readWaterfall(system: DeployedSystem, fromBlock?: number): Promise<WaterfallLogs> {
  const { clearingHouse } = system.contracts;
  const from = fromBlock ?? system.deployment.startBlock;
  const [liquidated, drawn, resolved, socialized] = await Promise.all([
    clearingHouse.queryFilter(clearingHouse.filters.Liquidated(), from, "latest"),
    clearingHouse.queryFilter(clearingHouse.filters.InsuranceFundDrawn(), from, "latest"),
    clearingHouse.queryFilter(clearingHouse.filters.BadDebtResolved(), from, "latest"),
    clearingHouse.queryFilter(clearingHouse.filters.LossSocialized(), from, "latest"),
  ]);
  return {
    liquidated: liquidated.map(({ args }) => ({
      account: args.account,
      liquidator: args.liquidator,
      marketId: args.marketId,
      size: args.size,
      bankrupt: args.bankrupt,
    })),
    fundDrawn: drawn.map(({ args }) => ({ account: args.account, recipient: args.recipient, amount: args.amount })),
    badDebtResolved: resolved.map(({ args }) => ({
      account: args.account,
      marketId: args.marketId,
      shortfall: args.shortfall,
      fundPaid: args.fundPaid,
      deleveraged: args.deleveraged,
      socialized: args.socialized,
    })),
    socialized: socialized.map(({ args }) => ({
      marketId: args.marketId,
      longSide: args.longSide,
      amount: args.amount,
    })),
  };
}

/** The insurance fund as the lens shows it (token units, except pendingFees in 18 decimals). */
export async function readFund(system: DeployedSystem): Promise<{
  totalAssets: bigint;
  availableForDraw: bigint;
  pendingFees: bigint;
  openDeleverageCases: bigint;
}> {
  const state = await system.contracts.lens.fundState();
  return {
    totalAssets: state.totalAssets,
    availableForDraw: state.availableForDraw,
    pendingFees: state.pendingFees,
    openDeleverageCases: state.openDeleverageCases,
  };
}
