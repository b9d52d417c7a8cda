// The goals of issue 15, and whether a figure meets them. Each gas figure is set beside its floor (floors.ts).
import { FLOORS, liquidationsPerBlockAtFloor, type Floor } from "./floors.js";
import { OP } from "./operation-names.js";
import type { GasResults, KeeperResults } from "./results.js";

export type Verdict = "meets" | "misses" | "not measured";

/** Gas ceilings per operation, with the floor each is measured against (issue 15). */
export const GAS_GOALS: ReadonlyMap<string, { goal: number; floor: Floor }> = new Map([
  // The bench's open fill opens the taker's position against a maker already in the market; the goal's "opening
  // both sides" has a floor of its own (FLOORS.fillOpenBoth), written in the report.
  [OP.fillOpen, { goal: 180_000, floor: FLOORS.fillOpenTaker }],
  [OP.fillIncrease, { goal: 140_000, floor: FLOORS.fillChange }],
  [OP.fillReduce, { goal: 140_000, floor: FLOORS.fillChange }],
  [OP.fillClose, { goal: 140_000, floor: FLOORS.fillChange }],
  [OP.partialLiquidation, { goal: 130_000, floor: FLOORS.partialLiquidation }],
  [OP.adl, { goal: 120_000, floor: FLOORS.adlStep }],
  [OP.withdraw, { goal: 90_000, floor: FLOORS.withdraw1 }],
]);

export const GAS_SCALE_GOALS = {
  withdrawTenMarkets: { markets: 10, goal: 200_000, floor: FLOORS.withdraw10 },
  bankruptTenMarkets: { markets: 10, goal: 1_200_000, floor: FLOORS.bankrupt10 },
  liquidationsPerBlock: { blockGas: 30_000_000, atLeast: 220 },
} as const;

export const KEEPER_GOALS = {
  coldStart: { accounts: 10_000, maxMs: 5_000, maxRpcCalls: 30 },
  idle: { maxRpcCallsPerBlock: 3 },
  crashes: [
    { liquidatable: 100, maxBlocks: 2, signers: 1 },
    { liquidatable: 1_000, maxBlocks: 10, signers: undefined },
  ],
} as const;

export function atMost(value: number | undefined, limit: number): Verdict {
  if (value === undefined) return "not measured";
  return value <= limit ? "meets" : "misses";
}

export function atLeast(value: number | undefined, limit: number): Verdict {
  if (value === undefined) return "not measured";
  return value >= limit ? "meets" : "misses";
}

export interface GoalRow {
  goal: string;
  measured: string;
  verdict: Verdict;
}

export interface GasGoalRow extends GoalRow {
  /** The floor's gas, or how many fit a block at the floor. */
  floor: string;
}

const fmt = (n: number): string => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

function scalePoint(gas: GasResults, operation: string, n: number): number | undefined {
  return gas.scaling.markets.find((r) => r.operation === operation)?.points.find((p) => p.n === n)?.gas;
}

/**
 * The goals that are not one operation's median: withdraw with ten markets, the bankrupt account in ten markets
 * (one liquidateAccount; the sum of the ten single liquidate calls, the fund covering, shown beside it), the partial
 * liquidations in a block, the haircut step (measured by `npm run bench:haircut`, not here).
 */
export function gasScaleRows(gas: GasResults): GasGoalRow[] {
  const { withdrawTenMarkets: w, bankruptTenMarkets: b, liquidationsPerBlock: l } = GAS_SCALE_GOALS;
  const withdraw10 = scalePoint(gas, OP.withdraw, w.markets);
  const bankrupt10 = scalePoint(gas, OP.bankruptAccount, b.markets);
  const singles10 = scalePoint(gas, OP.bankruptCovered, b.markets);
  const block = gas.limits.liquidationsPerBlock;
  const single = block.blockGasLimit === l.blockGas ? block.included : undefined;
  const batched = gas.limits.batchedLiquidations;
  const inBatches = batched?.blockGasLimit === l.blockGas ? batched.perBlock : undefined;
  const perBlock = inBatches === undefined ? single : Math.max(inBatches, single ?? 0);
  const singleText = single === undefined ? "—" : fmt(single);
  return [
    {
      goal: `withdraw with ${w.markets} markets ≤ ${fmt(w.goal)}`,
      measured: withdraw10 === undefined ? "—" : fmt(withdraw10),
      floor: fmt(w.floor.total),
      verdict: atMost(withdraw10, w.goal),
    },
    {
      goal: `a bankrupt account in ${b.markets} markets, one call, ≤ ${fmt(b.goal)} in total`,
      measured:
        (bankrupt10 === undefined ? "—" : `${fmt(bankrupt10)} in one call`) +
        (singles10 === undefined ? "" : ` (${fmt(singles10)} over ${b.markets} calls)`),
      floor: fmt(b.floor.total),
      verdict: atMost(bankrupt10, b.goal),
    },
    {
      goal: `≥ ${l.atLeast} partial liquidations per ${fmt(l.blockGas)}-gas block`,
      measured: inBatches === undefined ? singleText : `${fmt(inBatches)} batched (${singleText} one per transaction)`,
      floor: `${fmt(liquidationsPerBlockAtFloor(l.blockGas))} at the floor`,
      verdict: atLeast(perBlock, l.atLeast),
    },
    {
      goal: `haircut step ≤ ${fmt(120_000)}`,
      measured: "— (npm run bench:haircut)",
      floor: "—",
      verdict: "not measured",
    },
  ];
}

/** The keeper goals, each with what keeper.json measured for it. */
export function keeperGoalRows(keeper: KeeperResults): GoalRow[] {
  const { coldStart, idle, crashes } = KEEPER_GOALS;
  const cold = keeper.coldStart.find((r) => r.accounts === coldStart.accounts);
  const worstIdle = keeper.idle.length === 0 ? undefined : Math.max(...keeper.idle.map((r) => r.rpcCallsPerBlock));
  const coldVerdict: Verdict =
    cold === undefined
      ? "not measured"
      : cold.ms <= coldStart.maxMs && cold.rpcCalls <= coldStart.maxRpcCalls
        ? "meets"
        : "misses";
  return [
    {
      goal: `${coldStart.accounts.toLocaleString("en-US")} accounts loaded in ≤ ${coldStart.maxMs / 1000} s with ≤ ${coldStart.maxRpcCalls} RPC calls`,
      measured: cold === undefined ? "—" : `${(cold.ms / 1000).toFixed(2)} s, ${cold.rpcCalls} calls`,
      verdict: coldVerdict,
    },
    {
      goal: `≤ ${idle.maxRpcCallsPerBlock} RPC calls per idle block`,
      measured: worstIdle === undefined ? "—" : `${worstIdle} (worst)`,
      verdict: atMost(worstIdle, idle.maxRpcCallsPerBlock),
    },
    ...crashes.map((crash) => {
      const row = keeper.crash.find((r) => r.liquidatable === crash.liquidatable);
      const signers = crash.signers === undefined ? "" : `, ${crash.signers} signer`;
      return {
        goal: `${crash.liquidatable.toLocaleString("en-US")} liquidatable accounts handled within ${crash.maxBlocks} blocks${signers}`,
        measured: row === undefined ? "—" : `${row.blocks} blocks, ${row.seconds} s`,
        verdict: row === undefined ? "not measured" : crashVerdict(row, crash.maxBlocks),
      };
    }),
  ];
}

function crashVerdict(row: KeeperResults["crash"][number], maxBlocks: number): Verdict {
  const allHandled = typeof row.handled === "boolean" ? row.handled : row.handled >= row.liquidatable;
  return allHandled && row.blocks <= maxBlocks ? "meets" : "misses";
}
