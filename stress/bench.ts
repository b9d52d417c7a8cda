// `npm run bench:stress`: paths per second of the Monte Carlo through the mirror engine, and of the contract-backed
// paths (the in-process network, stress/lib/chain.ts), written to bench/results/stress.json. A benchmark, not a
// test: the target (issue 12) is 10,000 paths of a 200-account population in at most 5 minutes on the project's
// 2-core machine, ≥ 200 of them also through the contracts with exact agreement. Of the chain paths, the first
// STRESS_BENCH_KEEPER_PATHS run with the project's keeper deciding on its own, the rest replay the engine
// keeper's calls in batches (ChainLab.replay). STRESS_BENCH_PATHS and STRESS_BENCH_CHAIN_PATHS change the counts.
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
const CHAIN_PATHS = Number(process.env.STRESS_BENCH_CHAIN_PATHS ?? 200);
const KEEPER_PATHS = Number(process.env.STRESS_BENCH_KEEPER_PATHS ?? 1);
const tty = process.stderr.isTTY;
/** One progress line, rewritten in place on a terminal. */
const progress = (text: string): void => {
  if (tty) process.stderr.write(`\r${text}\x1b[K`);
};
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
  if ((i + 1) % 100 === 0 || i + 1 === PATHS) {
    const s = (simulateMs + engineMs) / 1000;
    progress(`engine: ${i + 1}/${PATHS} paths, ${s.toFixed(0)} s, ${((i + 1) / s).toFixed(1)} paths/s`);
  }
}
if (tty) process.stderr.write("\n");

const totalS = (simulateMs + engineMs) / 1000;
const chainStart = performance.now();
const chain = await contractBacked(
  model,
  markets,
  holdings,
  {
    seed: SEED,
    horizonDays: DAYS,
    fundUsd: 250_000,
    keeperPaths: KEEPER_PATHS,
    onProgress: (done, total) => {
      const s = (performance.now() - chainStart) / 1000;
      progress(`chain: ${done}/${total} paths, ${s.toFixed(0)} s (set-up included), ${(done / s).toFixed(2)} paths/s`);
    },
  },
  DEFAULT_PATH_SETTINGS,
  chainSubset(badDebt, CHAIN_PATHS),
);
if (tty) process.stderr.write("\n");
const replayed = chain.rows.filter((r) => r.mode === "replay").length;
const byMode = chain.secondsByMode ?? { keeper: 0, replay: 0 };
const result = {
  paths: PATHS,
  accounts: holdings.length,
  horizonDays: DAYS,
  latencyBlocks: DEFAULT_PATH_SETTINGS.latencyBlocks,
  seed: SEED,
  seconds: { simulate: simulateMs / 1000, engine: engineMs / 1000, total: totalS },
  pathsPerSecond: {
    engine: PATHS / (engineMs / 1000),
    total: PATHS / totalS,
    contracts: chain.pathsPerSecond,
    contractsReplayed: replayed / byMode.replay,
    contractsWithKeeper: (chain.paths - replayed) / byMode.keeper,
  },
  bankruptcies,
  contractBacked: {
    paths: chain.paths,
    agreed: chain.agreed,
    largestDifferenceWei: chain.largestDifference,
    setupSeconds: chain.setupSeconds,
    seconds: chain.seconds,
    secondsByMode: byMode,
    replayed,
    withKeeper: chain.paths - replayed,
    keeperPoints: chain.rows.reduce((n, r) => n + r.keeperPoints, 0),
    pointsLeftUndone: chain.rows.reduce((n, r) => n + r.pointsLeftUndone, 0),
  },
  targetMet: PATHS >= 10_000 && totalS <= 300,
  /** Issue 12 also asks for ≥ 200 of the paths through the contracts, every one agreeing to the wei. */
  contractTargetMet: chain.paths >= 200 && chain.agreed === chain.paths,
  machine: { cpus: os.cpus().length, node: process.version },
};
await mkdir("bench/results", { recursive: true });
await writeFile("bench/results/stress.json", `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `${PATHS} paths x ${holdings.length} accounts x ${DAYS} days: ${totalS.toFixed(1)} s, ` +
    `${result.pathsPerSecond.total.toFixed(0)} paths/s (engine alone ${result.pathsPerSecond.engine.toFixed(0)} paths/s); ` +
    `${chain.paths} paths on chain (${chain.paths - replayed} with the project's keeper, ${replayed} replayed): ` +
    `${chain.pathsPerSecond.toFixed(3)} paths/s, ${chain.agreed} agree to the wei; ` +
    "wrote bench/results/stress.json",
);
if (chain.agreed < chain.paths) process.exitCode = 1;
