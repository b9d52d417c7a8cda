// Flattens a result file into named figures and compares two of them: `npm run bench:compare -- a.json b.json`.
import { asObject } from "./json-shape.js";
import { parseGasResults, parseKeeperResults, parseLatestResults } from "./results.js";
import type { GasResults, KeeperResults } from "./results.js";

export interface ResultFigures {
  gas: GasResults | null;
  keeper: KeeperResults | null;
}

/** Accepts latest.json, gas.json or keeper.json, recognised by their top-level fields. */
export function parseAnyResults(value: unknown, source: string): ResultFigures {
  const obj = asObject(value, { source, path: "" });
  if ("gas" in obj) return parseLatestResults(value, source);
  if ("operations" in obj) return { gas: parseGasResults(value, source), keeper: null };
  if ("coldStart" in obj) return { gas: null, keeper: parseKeeperResults(value, source) };
  throw new Error(`${source}: not a benchmark result (expected latest.json, gas.json or keeper.json fields)`);
}

/** Every number worth comparing, by a stable name. */
export function figuresOf(results: ResultFigures): Map<string, number> {
  const out = new Map<string, number>();
  const { gas, keeper } = results;
  if (gas !== null) {
    for (const o of gas.operations) out.set(`gas ${o.operation}`, o.median);
    for (const [scale, rows] of [
      ["other positions", gas.scaling.positions],
      ["markets", gas.scaling.markets],
    ] as const) {
      for (const row of rows) for (const p of row.points) out.set(`gas ${row.operation} @ ${p.n} ${scale}`, p.gas);
    }
    const block = gas.limits.liquidationsPerBlock;
    out.set(`${block.operation}s per ${block.blockGasLimit}-gas block`, block.included);
    const batched = gas.limits.batchedLiquidations;
    if (batched !== undefined) {
      out.set(`${block.operation}s per ${batched.blockGasLimit}-gas block, batched`, batched.perBlock);
      out.set(`gas per batched ${block.operation}`, batched.perItem);
    }
    const lens = gas.limits.lensHealth;
    out.set(`lens accounts per ${lens.callGasCap}-gas call`, lens.accountsAtCap);
    out.set(`lens accounts per ${lens.budget}-gas call`, lens.accountsAtBudget);
  }
  if (keeper !== null) {
    for (const r of keeper.coldStart) {
      out.set(`keeper cold start ms @ ${r.accounts} accounts`, r.ms);
      out.set(`keeper cold start RPC calls @ ${r.accounts} accounts`, r.rpcCalls);
    }
    for (const r of keeper.idle)
      out.set(`keeper idle RPC calls per block @ ${r.accounts} accounts`, r.rpcCallsPerBlock);
    for (const r of keeper.crash) {
      const at = `@ ${r.accounts} accounts, ${r.liquidatable} liquidatable`;
      out.set(`keeper crash blocks ${at}`, r.blocks);
      out.set(`keeper crash seconds ${at}`, r.seconds);
    }
  }
  return out;
}

export interface Comparison {
  figure: string;
  a: number | undefined;
  b: number | undefined;
  /** b / a; undefined when either side is missing or a is 0. */
  ratio: number | undefined;
}

/** One row per figure in either file, in a's order then b's new ones. */
export function compareFigures(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): Comparison[] {
  const names = [...new Set([...a.keys(), ...b.keys()])];
  return names.map((figure) => {
    const x = a.get(figure);
    const y = b.get(figure);
    const ratio = x === undefined || y === undefined || x === 0 ? undefined : y / x;
    return { figure, a: x, b: y, ratio };
  });
}

/** Plain-text lines: figure, a, b, b/a. */
export function formatComparison(rows: readonly Comparison[]): string[] {
  const width = Math.max(6, ...rows.map((r) => r.figure.length));
  const num = (v: number | undefined) => (v === undefined ? "—" : String(v)).padStart(12);
  return [
    `${"figure".padEnd(width)} ${"a".padStart(12)} ${"b".padStart(12)}      b/a`,
    ...rows.map(
      (r) =>
        `${r.figure.padEnd(width)} ${num(r.a)} ${num(r.b)} ${(r.ratio === undefined ? "—" : r.ratio.toFixed(3)).padStart(8)}`,
    ),
  ];
}
