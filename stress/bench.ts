// `npm run bench:stress`: paths per second of the Monte Carlo through the mirror engine, and of the contract-backed
// paths (the in-process network with the project's keeper, stress/lib/chain.ts), written to
// bench/results/stress.json. A benchmark, not a test: the target (issue 12) is 10,000 paths of a 200-account
// population in at most 5 minutes on the project's 2-core machine, ≥ 200 of them also through the contracts.
// STRESS_BENCH_PATHS and STRESS_BENCH_CHAIN_PATHS change the counts.
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { fileURLToPath } from "node:url";

import { calibrate, DEFAULT_SETTINGS, marketModel } from "./lib/calibrate.js";
import { openLedger } from "./lib/engine.js";
import { chainSubset, contractBacked, engineMarkets, START_PRICES, usd } from "./lib/lab.js";
import { DEFAULT_POPULATION, generatePopulation } from "./lib/population.js";
import { readAssets } from "./lib/run.js";
import { DEFAULT_PATH_SETTINGS, runPath } from "./lib/scenario.js";
import { simulatePath } from "./lib/simulate.js";

const PATHS = Number(process.env.STRESS_BENCH_PATHS ?? 10_000);
const CHAIN_PATHS = Number(process.env.STRESS_BENCH_CHAIN_PATHS ?? 4);
const DAYS = 10;
const SEED = 1;

const assets = await readAssets(fileURLToPath(new URL("./data/", import.meta.url)));
const calibration = calibrate(assets, { ...DEFAULT_SETTINGS, checkDays: 100 });
const model = marketModel([assets[0], assets[1]], calibration, "garch-t");
const markets = engineMarkets();
const holdings = generatePopulation(DEFAULT_POPULATION, START_PRICES);
const ledger = openLedger(markets, holdings, 250_000n * 1_000_000n);
const order = markets.map((m) => model.assets.indexOf(m.symbol.slice(0, 3)));
const start = model.assets.map((a) => (a === "BTC" ? 60_000 : 2_000));

let simulateMs = 0;
let engineMs = 0;
let bankruptcies = 0;
const badDebt: number[] = [];
for (let i = 0; i < PATHS; i++) {
  const t0 = performance.now();
  const drawn = simulatePath(model, { seed: SEED, days: DAYS, startPrices: start }, i);
  const t1 = performance.now();
  const { outcome } = runPath(
    ledger,
    order.map((k) => drawn[k]),
    DEFAULT_PATH_SETTINGS,
  );
  engineMs += performance.now() - t1;
  simulateMs += t1 - t0;
  bankruptcies += outcome.bankruptcies;
  badDebt.push(usd(outcome.badDebt));
  if (process.stderr.isTTY && (i + 1) % 500 === 0) process.stderr.write(`\r${i + 1}/${PATHS} paths`);
}
if (process.stderr.isTTY) process.stderr.write("\n");

const totalS = (simulateMs + engineMs) / 1000;
const chain = await contractBacked(
  model,
  markets,
  holdings,
  {
    seed: SEED,
    horizonDays: DAYS,
    fundUsd: 250_000,
    onProgress: (done, total) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} paths on chain`);
    },
  },
  DEFAULT_PATH_SETTINGS,
  chainSubset(badDebt, CHAIN_PATHS),
);
if (process.stderr.isTTY) process.stderr.write("\n");
const result = {
  paths: PATHS,
  accounts: holdings.length,
  horizonDays: DAYS,
  latencyBlocks: DEFAULT_PATH_SETTINGS.latencyBlocks,
  seed: SEED,
  seconds: { simulate: simulateMs / 1000, engine: engineMs / 1000, total: totalS },
  pathsPerSecond: { engine: PATHS / (engineMs / 1000), total: PATHS / totalS, contracts: chain.pathsPerSecond },
  bankruptcies,
  contractBacked: {
    paths: chain.paths,
    agreed: chain.agreed,
    largestDifferenceWei: chain.largestDifference,
    setupSeconds: chain.setupSeconds,
    seconds: chain.seconds,
    keeperPoints: chain.rows.reduce((n, r) => n + r.keeperPoints, 0),
  },
  targetMet: PATHS >= 10_000 && totalS <= 300,
  /** Issue 12 also asks for ≥ 200 of the paths through the contracts, agreeing, within the same 5 minutes. */
  contractTargetMet: chain.paths >= 200 && chain.agreed === chain.paths && totalS + chain.seconds <= 300,
  machine: { cpus: os.cpus().length, node: process.version },
};
await mkdir("bench/results", { recursive: true });
await writeFile("bench/results/stress.json", `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `${PATHS} paths x ${holdings.length} accounts x ${DAYS} days: ${totalS.toFixed(1)} s, ` +
    `${result.pathsPerSecond.total.toFixed(0)} paths/s (engine alone ${result.pathsPerSecond.engine.toFixed(0)} paths/s); ` +
    `${chain.paths} paths on chain with the keeper: ${chain.pathsPerSecond.toFixed(3)} paths/s, ${chain.agreed} agree to the wei; ` +
    "wrote bench/results/stress.json",
);
if (chain.agreed < chain.paths) process.exitCode = 1;
