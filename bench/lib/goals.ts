// The goals of issue 6, and whether a figure meets them.
import { OP } from "./operation-names.js";
import type { KeeperResults } from "./results.js";

export type Verdict = "meets" | "misses" | "not measured";

/** Gas ceilings per operation. */
export const GAS_GOALS: ReadonlyMap<string, number> = new Map([
  [OP.fillOpen, 150_000],
  [OP.fillIncrease, 150_000],
  [OP.fillReduce, 150_000],
  [OP.fillClose, 150_000],
  [OP.partialLiquidation, 150_000],
  [OP.adl, 120_000],
]);

export const KEEPER_GOALS = {
  coldStart: { accounts: 10_000, maxMs: 10_000, maxRpcCalls: 50 },
  idle: { maxRpcCallsPerBlock: 3 },
  crash: { liquidatable: 100, maxBlocks: 3 },
} as const;

export function atMost(value: number | undefined, limit: number): Verdict {
  if (value === undefined) return "not measured";
  return value <= limit ? "meets" : "misses";
}

export interface KeeperGoalRow {
  goal: string;
  measured: string;
  verdict: Verdict;
}

/** The keeper goals, each with what keeper.json measured for it. */
export function keeperGoalRows(keeper: KeeperResults): KeeperGoalRow[] {
  const { coldStart, idle, crash } = KEEPER_GOALS;
  const cold = keeper.coldStart.find((r) => r.accounts === coldStart.accounts);
  const worstIdle = keeper.idle.length === 0 ? undefined : Math.max(...keeper.idle.map((r) => r.rpcCallsPerBlock));
  const crashRow = keeper.crash.find((r) => r.liquidatable === crash.liquidatable);
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
    {
      goal: `${crash.liquidatable} liquidatable accounts handled within ${crash.maxBlocks} blocks`,
      measured: crashRow === undefined ? "—" : `${crashRow.blocks} blocks, ${crashRow.seconds} s`,
      verdict: crashRow === undefined ? "not measured" : crashVerdict(crashRow, crash.maxBlocks),
    },
  ];
}

function crashVerdict(row: KeeperResults["crash"][number], maxBlocks: number): Verdict {
  const allHandled = typeof row.handled === "boolean" ? row.handled : row.handled >= row.liquidatable;
  return allHandled && row.blocks <= maxBlocks ? "meets" : "misses";
}
