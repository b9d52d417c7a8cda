// Markdown rendering of bench/results/latest.json into bench/results/latest.md.
import { FLOORS, PEERS, type Floor } from "./floors.js";
import { GAS_GOALS, atMost, gasScaleRows, keeperGoalRows } from "./goals.js";
import type { GasResults, KeeperResults, LatestResults, ScalingRow } from "./results.js";

export type Align = "left" | "right";

function escapeCell(cell: string): string {
  return cell.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** A GitHub-flavoured markdown table; every row must have one cell per header. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly Align[],
): string {
  if (headers.length === 0) throw new Error("markdownTable: no columns");
  if (align !== undefined && align.length !== headers.length) {
    throw new Error(`markdownTable: ${align.length} alignments for ${headers.length} columns`);
  }
  rows.forEach((row, i) => {
    if (row.length !== headers.length) {
      throw new Error(`markdownTable: row ${i} has ${row.length} cells, expected ${headers.length}`);
    }
  });
  const line = (cells: readonly string[]) => `| ${cells.map(escapeCell).join(" | ")} |`;
  const rule = headers.map((_, i) => ((align?.[i] ?? "left") === "right" ? "---:" : "---"));
  return [line(headers), line(rule), ...rows.map(line)].join("\n");
}

/** 1234567 → "1,234,567" (locale-independent). */
export function formatInt(value: number): string {
  const sign = value < 0 ? "-" : "";
  return sign + String(Math.round(Math.abs(value))).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export function formatRatio(value: number): string {
  return `${value.toFixed(3)}×`;
}

function goalCells(operation: string, median: number): [string, string, string] {
  const goal = GAS_GOALS.get(operation);
  if (goal === undefined) return ["—", "—", "—"];
  return [`≤ ${formatInt(goal.goal)}`, formatInt(goal.floor.total), atMost(median, goal.goal)];
}

/** One floor's items: what is read or written, how many, at what price. */
function floorLines(floor: Floor): string[] {
  return [
    `- **${floor.operation}: ${formatInt(floor.total)}** = ` +
      floor.items.map((i) => `${i.what} ${i.count === 1 ? "" : `${i.count} × `}${formatInt(i.each)}`).join(" + "),
  ];
}

function goalsSection(gas: GasResults): string[] {
  return [
    `## Issue 15's other gas goals`,
    "",
    markdownTable(
      ["goal", "measured", "floor", "status"],
      gasScaleRows(gas).map((r) => [r.goal, r.measured, r.floor, r.verdict]),
      ["left", "right", "right", "left"],
    ),
    "",
    `## Floors`,
    "",
    "What each operation cannot avoid under the current storage layout: a cold SLOAD (2,100) per slot it must read, " +
      "a cold SSTORE per slot it must change (22,100 from zero, 5,000 otherwise), a cold account (2,600) per " +
      "contract it calls, the transaction base (21,000) and its calldata (EIP-2028, the bench's arguments). " +
      "Refunds, memory, hashing and events are left out. The gap between a figure and its floor is what packing " +
      "and fewer reads can win; a goal below its floor needs a change of layout.",
    "",
    ...Object.values(FLOORS).flatMap(floorLines),
    "",
    `## Peers`,
    "",
    markdownTable(
      ["peer", "figure", "source"],
      PEERS.map((p) => [p.peer, p.figure, p.source]),
    ),
    "",
  ];
}

function scalingTable(rows: readonly ScalingRow[], label: (n: number) => string): string {
  const ns = [...new Set(rows.flatMap((r) => r.points.map((p) => p.n)))].sort((a, b) => a - b);
  const headers = ["operation", ...ns.map(label), "must stay flat", "verdict"];
  const body = rows.map((row) => [
    row.note ? `${row.operation} (${row.note})` : row.operation,
    ...ns.map((n) => {
      const p = row.points.find((q) => q.n === n);
      return p === undefined ? "—" : `${formatInt(p.gas)} (${formatRatio(p.ratio)})`;
    }),
    row.mustStayFlat ? "yes" : "no",
    row.mustStayFlat ? (row.grows ? "**GROWS**" : "flat") : row.grows ? "grows" : "flat",
  ]);
  return markdownTable(headers, body, ["left", ...ns.map((): Align => "right"), "left", "left"]);
}

function gasSection(gas: GasResults): string[] {
  const ops = markdownTable(
    ["operation", "role", "median gas", "min", "max", "goal", "floor", "status"],
    gas.operations.map((o) => [
      o.operation,
      o.role,
      formatInt(o.median),
      formatInt(o.min),
      formatInt(o.max),
      ...goalCells(o.operation, o.median),
    ]),
    ["left", "left", "right", "right", "right", "right", "right", "left"],
  );
  const block = gas.limits.liquidationsPerBlock;
  const batched = gas.limits.batchedLiquidations;
  const lens = gas.limits.lensHealth;
  return [
    `## Gas per operation`,
    "",
    `Build profile \`${gas.buildProfile}\`, in-process network; median of ${gas.runs} runs, each from the same state with` +
      ` a different account; one other open position in the market and one market held by the account.` +
      ` Commit \`${gas.commit}\`, ${gas.date}, ${gas.machine}.`,
    "",
    ops,
    "",
    `## Cost as the market grows: other open positions in the market`,
    "",
    "Gas (ratio to the smallest case). Liquidation, socialization and ADL must not grow with the number of other positions.",
    "",
    scalingTable(gas.scaling.positions, (n) => `${formatInt(n)} other`),
    "",
    `## Cost as the account grows: markets held by the account`,
    "",
    scalingTable(gas.scaling.markets, (n) => `${n} market${n === 1 ? "" : "s"}`),
    "",
    `## Physical limits`,
    "",
    markdownTable(
      ["limit", "figure", "how"],
      [
        [
          `${block.operation}s in one ${formatInt(block.blockGasLimit)}-gas block`,
          `${formatInt(block.included)} (predicted ${formatInt(block.predicted)})`,
          `${formatInt(block.gasEach)} gas each; ${formatInt(block.sent)} sent with automine off, one block mined: ` +
            `${formatInt(block.included)} included, ${formatInt(block.blockGasUsed)} gas used, ` +
            `${formatInt(block.blockGasUsed / block.included)} on average ` +
            `(per-transaction gas limit ${formatInt(block.txGasLimit)})`,
        ],
        ...(batched === undefined
          ? []
          : [
              [
                `${block.operation}s in one ${formatInt(batched.blockGasLimit)}-gas block, batched`,
                `${formatInt(batched.perBlock)} (${formatInt(batched.itemsPerTransaction)} per transaction)`,
                `one keeper's \`batch\` of n liquidations of distinct accounts in one market: ` +
                  batched.batches
                    .map((b) => `n = ${b.items}: ${formatInt(b.gasUsed)} gas, ${formatInt(b.gasPerItem)} each`)
                    .join("; ") +
                  `; fit through the two largest ${formatInt(batched.fixed)} + ${formatInt(batched.perItem)} × n, ` +
                  `transactions of at most ${formatInt(batched.callGasCap)} gas packed into the block`,
              ],
            ]),
        [
          `accounts whose health BackstopLens.healthOf reads in one call of ${formatInt(lens.callGasCap)} gas`,
          formatInt(lens.accountsAtCap),
          `measured: ${formatInt(lens.gasAtCap)} gas; accounts with ${lens.positionsPerAccount} open positions each` +
            ` (${formatInt(lens.callGasCap)} is the node's per-call cap, EIP-7825)`,
        ],
        [
          `accounts whose health BackstopLens.healthOf reads in one call of ${formatInt(lens.budget)} gas`,
          formatInt(lens.accountsAtBudget),
          lens.budgetVerified
            ? "measured"
            : `extrapolated from the measured curve (${lens.curve.map((c) => `${formatInt(c.accounts)}: ${formatInt(c.gas)}`).join(", ")})`,
        ],
      ],
    ),
    "",
    `## Flags`,
    "",
    gas.flags.length === 0 ? "None: nothing that must stay flat grows." : gas.flags.map((f) => `- **${f}**`).join("\n"),
    "",
  ];
}

function keeperSection(keeper: KeeperResults | null): string[] {
  if (keeper === null) return ["## Keeper", "", "not run (no bench/results/keeper.json)", ""];
  return [
    "## Keeper",
    "",
    `Commit \`${keeper.commit}\`, ${keeper.date}, ${keeper.machine}.`,
    "",
    markdownTable(
      ["goal", "measured", "status"],
      keeperGoalRows(keeper).map((r) => [r.goal, r.measured, r.verdict]),
    ),
    "",
    "Cold start",
    "",
    markdownTable(
      ["accounts", "ms", "RPC calls", "by method"],
      keeper.coldStart.map((r) => [
        formatInt(r.accounts),
        formatInt(r.ms),
        formatInt(r.rpcCalls),
        Object.entries(r.rpcByMethod)
          .map(([method, calls]) => `${method}: ${calls}`)
          .join(", "),
      ]),
      ["right", "right", "right", "left"],
    ),
    "",
    "Idle",
    "",
    markdownTable(
      ["accounts", "blocks", "RPC calls per block"],
      keeper.idle.map((r) => [formatInt(r.accounts), formatInt(r.blocks), String(r.rpcCallsPerBlock)]),
      ["right", "right", "right"],
    ),
    "",
    "Crash",
    "",
    markdownTable(
      ["accounts", "liquidatable", "blocks", "seconds", "handled"],
      keeper.crash.map((r) => [
        formatInt(r.accounts),
        formatInt(r.liquidatable),
        formatInt(r.blocks),
        String(r.seconds),
        String(r.handled),
      ]),
      ["right", "right", "right", "right", "right"],
    ),
    "",
  ];
}

/** The whole of latest.md. */
export function renderReport(latest: LatestResults): string {
  return [
    `# Backstop benchmarks`,
    "",
    `Report of commit \`${latest.commit}\`, ${latest.date}.`,
    "",
    ...gasSection(latest.gas),
    ...goalsSection(latest.gas),
    ...keeperSection(latest.keeper),
  ].join("\n");
}
