// `npm run bench:stress`: paths per second of the Monte Carlo through the mirror engine, and of the contract-backed
// paths (the in-process network, stress/lib/chain.ts), written to results/bench/stress.json. A benchmark, not a
// test: the target (issue 12) is 10,000 paths of a 200-account population in at most 5 minutes on the project's
// 2-core machine, ≥ 200 of them also through the contracts with exact agreement. It runs on the production build
// (`hardhat run --build-profile production`: the optimizer, as the deployed bytecode and bench:gas). The goal's
// run is timed as one wall-clock span: the engine's paths in this process while STRESS_BENCH_CHAIN_WORKERS worker
// processes (default: one per core) run the chain paths, the first half of the subset at once and the worst of the
// rest as soon as the engine has ranked them. Of the chain paths, the first STRESS_BENCH_KEEPER_PATHS run with the
// project's keeper deciding on its own, the rest replay the engine keeper's calls in batches (ChainLab.replay).
// STRESS_BENCH_PATHS and STRESS_BENCH_CHAIN_PATHS change the counts.
// The same paths then run with every market under each of STRESS_BENCH_POLICIES (default all three, as
// `stress run --policies`), and STRESS_BENCH_HAIRCUT_CHAIN_PATHS of the haircut run are replayed on a haircut
// deployment. The issue's target (goal.met) is judged on the deployed markets' run alone.
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { calibrate, DEFAULT_SETTINGS, marketModel } from "./lib/calibrate.js";
import { hardhat } from "#sdk";

import { LOSS_POLICIES, openLedger, type EngineMarket, type LossPolicy } from "./lib/engine.js";
import { chainSubset, contractBacked, cpuSecondsSince, engineMarkets, START_PRICES, usd } from "./lib/lab.js";
import { DEFAULT_POPULATION, generatePopulation } from "./lib/population.js";
import { readAssets } from "./lib/run.js";
import { DEFAULT_PATH_SETTINGS, runPath } from "./lib/scenario.js";
import { simulatePath } from "./lib/simulate.js";

const PATHS = Number(process.env.STRESS_BENCH_PATHS ?? 10_000);
const CHAIN_PATHS = Number(process.env.STRESS_BENCH_CHAIN_PATHS ?? 200);
const KEEPER_PATHS = Number(process.env.STRESS_BENCH_KEEPER_PATHS ?? 1);
/** Policies run side by side as `stress run --policies` does (default all three; "none" for none). */
const POLICIES: LossPolicy[] = (process.env.STRESS_BENCH_POLICIES ?? LOSS_POLICIES.join(","))
  .split(",")
  .filter((x) => x !== "none" && x !== "")
  .map((x) => {
    if (!(LOSS_POLICIES as readonly string[]).includes(x))
      throw new Error(`STRESS_BENCH_POLICIES: unknown policy "${x}"`);
    return x as LossPolicy;
  });
/** Haircut paths through a haircut deployment (replayed), when "haircut" is among the policies; default CHAIN_PATHS. */
const HAIRCUT_CHAIN_PATHS = Number(process.env.STRESS_BENCH_HAIRCUT_CHAIN_PATHS ?? CHAIN_PATHS);
/** Worker processes for the chain paths (1: in this process, after the engine). */
const WORKERS = Number(process.env.STRESS_BENCH_CHAIN_WORKERS ?? os.cpus().length);
const OUTPUT = "results/bench/stress.json";
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
const order = markets.map((m) => model.assets.indexOf(m.symbol.slice(0, 3)));
const start = model.assets.map((a) => (a === "BTC" ? 60_000 : 2_000));

/**
 * The Monte Carlo paths through the engine on `m`'s markets: times, bankruptcies and bad debt per path. It yields
 * to the event loop after each path, so that chain workers get their next path while it runs.
 */
async function engineRun(
  label: string,
  m: EngineMarket[],
): Promise<{ simulateMs: number; engineMs: number; bankruptcies: number; badDebt: number[] }> {
  const opened = openLedger(m, holdings, 250_000n * 1_000_000n);
  const r = { simulateMs: 0, engineMs: 0, bankruptcies: 0, badDebt: [] as number[] };
  for (let i = 0; i < PATHS; i++) {
    const t0 = performance.now();
    const drawn = simulatePath(model, { seed: SEED, days: DAYS, startPrices: start }, i);
    const t1 = performance.now();
    const { outcome } = runPath(
      opened,
      order.map((k) => drawn[k]),
      DEFAULT_PATH_SETTINGS,
    );
    r.engineMs += performance.now() - t1;
    r.simulateMs += t1 - t0;
    r.bankruptcies += outcome.bankruptcies;
    r.badDebt.push(usd(outcome.badDebt));
    await new Promise((resolve) => setImmediate(resolve));
    if ((i + 1) % 100 === 0 || i + 1 === PATHS) {
      const sec = (r.simulateMs + r.engineMs) / 1000;
      progress(
        `engine (${label}): ${i + 1}/${PATHS} paths, ${sec.toFixed(0)} s, ${((i + 1) / sec).toFixed(1)} paths/s`,
      );
    }
  }
  if (tty) process.stderr.write("\n");
  return r;
}

const uptime = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
const loadBefore = uptime();
// The goal's run: the engine here, the chain paths in the workers at the same time.
const chainStart = performance.now();
const cpuStart = process.cpuUsage();
const half = Math.ceil(Math.min(CHAIN_PATHS, PATHS) / 2);
let engineDone: (badDebt: readonly number[]) => void = () => undefined;
const ranked = new Promise<readonly number[]>((resolve) => {
  engineDone = resolve;
});
const chainRun = contractBacked(
  model,
  markets,
  holdings,
  {
    seed: SEED,
    horizonDays: DAYS,
    fundUsd: 250_000,
    keeperPaths: KEEPER_PATHS,
    workers: WORKERS,
    later: ranked.then((bad) => chainSubset(bad, CHAIN_PATHS).slice(half)),
    onProgress: (done, total) => {
      const sec = (performance.now() - chainStart) / 1000;
      progress(`chain: ${done}/${total} paths, ${sec.toFixed(0)} s (set-up included)`);
    },
  },
  DEFAULT_PATH_SETTINGS,
  Array.from({ length: half }, (_, i) => i),
);
// An error in the chain run is reported when it is awaited, not as an unhandled rejection while the engine runs.
chainRun.catch(() => undefined);
const { simulateMs, engineMs, bankruptcies, badDebt } = await engineRun("deployed", markets);
const engineWallS = (performance.now() - chainStart) / 1000;
engineDone(badDebt);
const chain = await chainRun;
const goalWallS = (performance.now() - chainStart) / 1000;
const parentCpuS = cpuSecondsSince(cpuStart);
const loadAfter = uptime();
if (tty) process.stderr.write("\n");
// The side-by-side runs of `stress run --policies`: the same paths with every market under each policy.
const byPolicy: ({ policy: LossPolicy } & Awaited<ReturnType<typeof engineRun>>)[] = [];
for (const policy of POLICIES)
  byPolicy.push({ policy, ...(await engineRun(policy, engineMarkets(hardhat, undefined, policy))) });
const haircutRun = byPolicy.find((r) => r.policy === "haircut");
const totalS = (simulateMs + engineMs) / 1000;
if (tty) process.stderr.write("\n");
const haircutStart = performance.now();
const haircutChain =
  haircutRun === undefined || HAIRCUT_CHAIN_PATHS === 0
    ? undefined
    : await contractBacked(
        model,
        engineMarkets(hardhat, undefined, "haircut"),
        holdings,
        {
          seed: SEED,
          horizonDays: DAYS,
          fundUsd: 250_000,
          keeperPaths: 0,
          workers: WORKERS,
          onProgress: (done, total) => {
            const sec = (performance.now() - haircutStart) / 1000;
            progress(`chain, haircut: ${done}/${total} paths, ${sec.toFixed(0)} s (set-up included)`);
          },
        },
        DEFAULT_PATH_SETTINGS,
        chainSubset(haircutRun.badDebt, HAIRCUT_CHAIN_PATHS),
      );
if (tty && haircutChain !== undefined) process.stderr.write("\n");
const policySeconds = byPolicy.reduce((a, r) => a + (r.simulateMs + r.engineMs) / 1000, 0);
const replayed = chain.rows.filter((r) => r.mode === "replay").length;
const byMode = chain.secondsByMode ?? { keeper: 0, replay: 0 };
const chainCpuS = chain.cpuSeconds ?? 0;
const result = {
  paths: PATHS,
  accounts: holdings.length,
  horizonDays: DAYS,
  latencyBlocks: DEFAULT_PATH_SETTINGS.latencyBlocks,
  /** Every market's liquidation buffer (18 decimals), in the engine and on chain: the lab's default. */
  liquidationBuffer: markets[0].liquidationBuffer.toString(),
  seed: SEED,
  build: "production (optimizer, runs 200)",
  chainWorkers: WORKERS,
  /** Load average (1, 5, 15 min) before and after the goal's run: the machine is shared. */
  load: { before: loadBefore, after: loadAfter },
  /** The goal's run: engine paths here and chain paths in the workers at once, set-up included. */
  goal: {
    wallSeconds: goalWallS,
    engineWallSeconds: engineWallS,
    /** CPU seconds: this process (the engine, the simulation) and the chain workers (EDR included). */
    cpuSeconds: { engine: parentCpuS, chain: chainCpuS },
    enginePaths: PATHS,
    chainPaths: chain.paths,
    chainAgreed: chain.agreed,
    met: PATHS >= 10_000 && chain.paths >= 200 && chain.agreed === chain.paths && goalWallS <= 300,
  },
  seconds: { simulate: simulateMs / 1000, engine: engineMs / 1000, total: totalS },
  pathsPerSecond: {
    engine: PATHS / (engineMs / 1000),
    /** Engine paths with their simulation, on this process's share of the cores. */
    total: PATHS / totalS,
    /** Chain paths over the wall time from the workers' first path to the last (set-up left out). */
    contracts: chain.pathsPerSecond,
    /** Chain paths per CPU second of the workers: what one core does alone. */
    contractsPerCpuSecond: chain.paths / chainCpuS,
    contractsReplayed: replayed / byMode.replay,
    contractsWithKeeper: (chain.paths - replayed) / byMode.keeper,
    /** Each policy's side-by-side run (simulation included). */
    policies: Object.fromEntries(byPolicy.map((r) => [r.policy, PATHS / ((r.simulateMs + r.engineMs) / 1000)])),
    /** A `stress run` Monte Carlo with the side-by-side runs on: the deployed markets and every policy, per path. */
    withPolicies: PATHS / (totalS + policySeconds),
  },
  bankruptcies,
  contractBacked: {
    paths: chain.paths,
    agreed: chain.agreed,
    largestDifferenceWei: chain.largestDifference,
    setupSeconds: chain.setupSeconds,
    seconds: chain.seconds,
    /** Chain seconds per path, summed over the workers (each path's own time, the others' share of the CPU in it). */
    secondsByMode: byMode,
    cpuSecondsPerPath: chainCpuS / chain.paths,
    replayed,
    withKeeper: chain.paths - replayed,
    keeperPoints: chain.rows.reduce((n, r) => n + r.keeperPoints, 0),
    pointsLeftUndone: chain.rows.reduce((n, r) => n + r.pointsLeftUndone, 0),
  },
  /** The haircut deployment's chain check (replays): seconds per path and agreement. */
  contractBackedHaircut:
    haircutChain === undefined
      ? null
      : {
          paths: haircutChain.paths,
          agreed: haircutChain.agreed,
          largestDifferenceWei: haircutChain.largestDifference,
          setupSeconds: haircutChain.setupSeconds,
          seconds: haircutChain.seconds,
          secondsPerPath: haircutChain.seconds / haircutChain.paths,
          cpuSecondsPerPath: (haircutChain.cpuSeconds ?? 0) / haircutChain.paths,
        },
  machine: { cpus: os.cpus().length, node: process.version },
};
await mkdir(path.dirname(OUTPUT), { recursive: true });
await writeFile(OUTPUT, `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `goal run (load ${loadBefore} → ${loadAfter}): ${PATHS} engine paths x ${holdings.length} accounts x ${DAYS} days ` +
    `and ${chain.paths} chain paths (${chain.paths - replayed} with the project's keeper, ${replayed} replayed; ` +
    `${WORKERS} workers) in ${goalWallS.toFixed(0)} s wall: 5-minute goal ${result.goal.met ? "met" : "not met"}; ` +
    `engine ${result.pathsPerSecond.total.toFixed(0)} paths/s (alone ${result.pathsPerSecond.engine.toFixed(0)}); ` +
    `chain ${chain.pathsPerSecond.toFixed(2)} paths/s, ${result.contractBacked.cpuSecondsPerPath.toFixed(2)} CPU s per path, ` +
    `${chain.agreed} of ${chain.paths} agree to the wei; wrote ${OUTPUT}`,
);
if (haircutChain !== undefined)
  console.log(
    `side by side (${POLICIES.join(", ")}): ${result.pathsPerSecond.withPolicies.toFixed(1)} paths/s with every policy on; ` +
      `haircut on chain: ${haircutChain.agreed} of ${haircutChain.paths} agree to the wei, ` +
      `${(haircutChain.seconds / haircutChain.paths).toFixed(1)} s per path`,
  );
if (chain.agreed < chain.paths || (haircutChain !== undefined && haircutChain.agreed < haircutChain.paths))
  process.exitCode = 1;
