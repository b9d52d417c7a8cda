// Gas of every user and keeper operation, how it grows with the market and the account, and the physical limits,
// on the production build: `npm run bench:gas`. Writes bench/results/gas.json.
import { writeJson } from "./lib/files.js";
import { GAS_RESULTS_FILE } from "./lib/paths.js";
import type { GasResults, OperationFigure, ScalingRow } from "./lib/results.js";
import { runInfo } from "./lib/run-info.js";
import { grows, median, scalePoints, summarize } from "./lib/stats.js";
import { BLOCK_GAS_LIMIT, batchedLiquidations, lensCapacity, liquidationsPerBlock } from "./chain/limits.js";
import { sampleGas, saveState } from "./chain/measure.js";
import { OPERATIONS } from "./chain/operations.js";
import type { Operation } from "./chain/operations.js";
import { OP } from "./lib/operation-names.js";
import { addOtherAccounts, createBench } from "./chain/setup.js";

const RUNS = 5;
const POSITION_COUNTS = [1, 100, 1_000];
/** Partial liquidations per `batch` transaction measured; the two largest give the fit. */
const BATCH_SIZES = [10, 50, 100];
const MARKET_COUNTS = [1, 5, 10];
/** A figure that must stay flat may be this much (as a fraction) above the smallest case. */
const FLAT_TOLERANCE = 0.01;

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const bench = await createBench();

/** samples[operation][scale key] */
const samples = new Map<string, Map<string, number[]>>();
const record = (op: Operation, key: string, values: number[]) => {
  const byKey = samples.get(op.name) ?? new Map<string, number[]>();
  byKey.set(key, values);
  samples.set(op.name, byKey);
  console.log(`${op.name.padEnd(44)} ${key.padEnd(22)} median ${median(values)} (${values.join(", ")})`);
};
const positionsKey = (n: number) => `${n} other positions`;
const marketsKey = (n: number) => `${n} markets`;

for (const count of POSITION_COUNTS) {
  await addOtherAccounts(bench, count - bench.others.length);
  const base = await saveState();
  console.log(`-- ${count} other open positions in the ETH and BTC markets (${elapsed()})`);
  for (const op of OPERATIONS) record(op, positionsKey(count), await sampleGas(bench, op, 1, RUNS, base));
  if (count !== POSITION_COUNTS[0]) continue;
  for (const markets of MARKET_COUNTS.slice(1)) {
    console.log(`-- ${markets} markets held by the account (${elapsed()})`);
    for (const op of OPERATIONS) {
      if (op.marketsNote === null) continue;
      record(op, marketsKey(markets), await sampleGas(bench, op, markets, RUNS, base));
    }
  }
}

const medianAt = (name: string, key: string): number => {
  const values = samples.get(name)?.get(key);
  if (values === undefined) throw new Error(`no samples of ${name} at ${key}`);
  return median(values);
};
const baselineKey = positionsKey(POSITION_COUNTS[0]);
const operations: OperationFigure[] = OPERATIONS.map((op) => ({
  operation: op.name,
  role: op.role,
  ...summarize(samples.get(op.name)?.get(baselineKey) ?? []),
}));

const scalingRows = (
  ops: readonly Operation[],
  ns: number[],
  key: (n: number) => string,
  flat: boolean,
  note: (op: Operation) => string,
): ScalingRow[] =>
  ops.map((op) => {
    // The smallest case of either scale is the baseline: one other position and one market.
    const points = scalePoints(new Map(ns.map((n) => [n, medianAt(op.name, n === ns[0] ? baselineKey : key(n))])));
    const mustStayFlat = flat && op.mustStayFlat;
    return { operation: op.name, note: note(op), mustStayFlat, grows: grows(points, FLAT_TOLERANCE), points };
  });
const positionScaling = scalingRows(OPERATIONS, POSITION_COUNTS, positionsKey, true, () => "");
const marketScaling = scalingRows(
  OPERATIONS.filter((op) => op.marketsNote !== null),
  MARKET_COUNTS,
  marketsKey,
  false,
  (op) => op.marketsNote ?? "",
);
const flags = positionScaling
  .filter((row) => row.mustStayFlat && row.grows)
  .map((row) => {
    const worst = row.points.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    return `${row.operation} grows with the number of other positions: ${worst.ratio.toFixed(3)}× at ${worst.n} (tolerance ${FLAT_TOLERANCE * 100}%)`;
  });
for (const flag of flags) console.log(`FLAG: ${flag}`);

// Limits, with the most other positions in the market.
const partial = operations.find((o) => o.operation === OP.partialLiquidation);
if (partial === undefined) throw new Error("partial liquidation was not measured");
console.log(`-- liquidations in one block (${elapsed()})`);
const largestMarket = await saveState();
const liquidationsBlock = await liquidationsPerBlock(bench, partial.median);
console.log(`   ${liquidationsBlock.included} included, predicted ${liquidationsBlock.predicted}`);
await largestMarket.restore();
console.log(`-- batched liquidations (${elapsed()})`);
const batched = await batchedLiquidations(bench, BATCH_SIZES);
for (const b of batched.batches) console.log(`   ${b.items} in one batch: ${b.gasUsed} gas, ${b.gasPerItem} each`);
console.log(`   ${batched.perItem} per item + ${batched.fixed}: ${batched.perBlock} per block`);
await largestMarket.restore();
console.log(`-- lens capacity (${elapsed()})`);
const lensHealth = await lensCapacity(bench, BLOCK_GAS_LIMIT);
console.log(
  `   ${lensHealth.accountsAtCap} accounts at the call cap, ${lensHealth.accountsAtBudget} at ${BLOCK_GAS_LIMIT}`,
);

const results: GasResults = {
  ...runInfo(),
  buildProfile: "production",
  runs: RUNS,
  operations,
  scaling: { positions: positionScaling, markets: marketScaling },
  limits: { liquidationsPerBlock: liquidationsBlock, batchedLiquidations: batched, lensHealth },
  flags,
};
await writeJson(GAS_RESULTS_FILE, results);
console.log(`wrote ${GAS_RESULTS_FILE} in ${elapsed()}`);
