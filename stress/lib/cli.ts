// Command line of `npm run stress`: declared with node:util parseArgs and validated in one place.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { DEFAULT_SETTINGS } from "./calibrate.js";
import { LAB_LIQUIDATION_BUFFER, LOSS_POLICIES, type LossPolicy } from "./engine.js";

export const RUN_DEFAULTS = {
  paths: 2000,
  seed: 1,
  accounts: 200,
  fund: 250_000,
  horizonDays: 10,
  latencyBlocks: 5,
  /** Every market's liquidation buffer in percent (LAB_LIQUIDATION_BUFFER): partial liquidations restore 125%. */
  liquidationBufferPercent: Number(LAB_LIQUIDATION_BUFFER / 10n ** 16n),
  chainPaths: 2,
  /** Of the chain paths, how many the project's keeper runs on its own (the rest replay the engine's calls). */
  keeperPaths: 1,
  /** Every policy side by side: the comparison is the point of the table, and it costs one engine run each. */
  policies: LOSS_POLICIES,
} as const;

export const USAGE = `usage: npm run stress -- calibrate [--json] [--out DIR] [--data DIR] [--threshold Q] [--seed N]
       npm run stress -- run [--paths N] [--seed S] [--accounts N] [--fund USD] [--horizon-days D]
                             [--latency-blocks B] [--liquidation-buffer PCT] [--chain-paths N]
                             [--keeper-paths K] [--population FILE]
                             [--path FILE] [--policies LIST] [--json]
                             [--out DIR] [--data DIR]

The stress lab sizes the insurance fund from fat-tailed price paths (issue 12).

  calibrate          fit Student-t, GARCH(1,1)-t and a generalized-Pareto tail to daily BTC-USD and ETH-USD,
                     their dependence and a Kupiec backtest; writes calibration.md and calibration.json
  run                Monte Carlo paths, the replays of 12 March 2020 and 19 May 2021, the 99.9% one-day move
                     (Cover-1, Cover-2) and an optional path file through the off-chain mirror of the loss
                     waterfall, and some of the Monte Carlo paths through the contracts with the project's
                     keeper, compared to the wei; writes report.md, report.json and report.html

  --out DIR          folder for the files (default results/stress)
  --data DIR         folder with btc-usd-daily.csv and eth-usd-daily.csv (default: the shipped stress/data)
  --seed N           seed, 1 to 4294967295 (default ${DEFAULT_SETTINGS.checkSeed} for calibrate, ${RUN_DEFAULTS.seed} for run)
  --json             print the JSON file to standard output instead of the summary
  -h, --help         this text
calibrate:
  --threshold Q      loss quantile of the peaks-over-threshold threshold, 0.8 to 0.98 (default ${DEFAULT_SETTINGS.thresholdQuantile})
run:
  --paths N          Monte Carlo paths, 1 to 1000000 (default ${RUN_DEFAULTS.paths})
  --accounts N       accounts of the generated population, 1 to 100000 (default ${RUN_DEFAULTS.accounts})
  --fund USD         insurance fund in whole USD (default ${RUN_DEFAULTS.fund})
  --horizon-days D   days per path, 1 to 365 (default ${RUN_DEFAULTS.horizonDays})
  --latency-blocks B keeper latency in 12-second blocks, 0 to 7200 (default ${RUN_DEFAULTS.latencyBlocks})
  --liquidation-buffer PCT
                     margin a partial liquidation restores above maintenance, in percent, 0 to 100 (default
                     ${RUN_DEFAULTS.liquidationBufferPercent}; the local deployment's markets have 0, the lab lists its own)
  --chain-paths N    Monte Carlo paths also run on the in-process network, 0 to 10000 (default ${RUN_DEFAULTS.chainPaths});
                     the run fails if one disagrees with the engine to the wei
  --keeper-paths K   of those, the first K run with the project's keeper deciding on its own (default
                     ${RUN_DEFAULTS.keeperPaths}; up to minutes each); the others replay the engine keeper's calls in batches
                     and check after each point that the project's keeper would find nothing left (seconds each)
  --population FILE  CSV account,market,side,size,entry_price,collateral instead of the generated population
  --path FILE        CSV day,market,open,high,low,close: one more scenario, rescaled to the start prices
  --policies LIST    loss policies to run the same Monte Carlo paths under side by side, every market listed under
                     each: a comma-separated subset of ${LOSS_POLICIES.join(",")}, or none (default ${RUN_DEFAULTS.policies.join(",")});
                     with haircut, the chain check also runs on a haircut deployment`;

export const STAGES = ["calibrate", "run"];

/** Validated command line of the calibrate stage. */
export interface CalibrateOptions {
  stage: "calibrate";
  out: string;
  data: string;
  threshold: number;
  seed: number;
  json: boolean;
}

/** Validated command line of the run stage. */
export interface RunCliOptions {
  stage: "run";
  out: string;
  data: string;
  seed: number;
  json: boolean;
  paths: number;
  accounts: number;
  fund: number;
  horizonDays: number;
  latencyBlocks: number;
  /** Every market's liquidation buffer, an 18-decimal fraction. */
  liquidationBuffer: bigint;
  chainPaths: number;
  /** Absent: RUN_DEFAULTS.keeperPaths. */
  keeperPaths?: number;
  population?: string;
  path?: string;
  /** Policies of the side-by-side table, in the order given (empty: none). */
  policies: readonly LossPolicy[];
}

export type Options = CalibrateOptions | RunCliOptions;

function integer(text: string | undefined, fallback: number, flag: string, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new Error(`--${flag} "${text}" is not an integer from ${min} to ${max}`);
  }
  return value;
}

/** `--liquidation-buffer`: a percent from 0 to 100 with at most 16 decimals, as an exact 18-decimal fraction. */
function bufferPercent(text: string | undefined): bigint {
  if (text === undefined) return LAB_LIQUIDATION_BUFFER;
  const match = /^(\d{1,3})(?:\.(\d{1,16}))?$/.exec(text);
  const value = match === null ? -1n : BigInt(match[1]) * 10n ** 16n + BigInt((match[2] ?? "").padEnd(16, "0"));
  if (value < 0n || value > 10n ** 18n)
    throw new Error(`--liquidation-buffer "${text}" is not a percent from 0 to 100 (at most 16 decimals)`);
  return value;
}

/** `--policies`: "none", or distinct names from LOSS_POLICIES separated by commas. */
function policyList(text: string): LossPolicy[] {
  if (text.trim() === "none") return [];
  const names = text.split(",").map((x) => x.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (!(LOSS_POLICIES as readonly string[]).includes(name))
      throw new Error(`--policies "${text}": "${name}" is not one of ${LOSS_POLICIES.join(", ")} (or none alone)`);
    if (seen.has(name)) throw new Error(`--policies "${text}": "${name}" is listed twice`);
    seen.add(name);
  }
  return names as LossPolicy[];
}

/**
 * Parses and validates the command line once: a stage name and its flags, or "help". Throws an error
 * that says which argument was wrong; nothing has run yet when it does.
 */
export function parseStressArgs(argv: string[]): Options | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string", default: "results/stress" },
      data: { type: "string", default: fileURLToPath(new URL("../data/", import.meta.url)) },
      threshold: { type: "string" },
      seed: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      paths: { type: "string" },
      accounts: { type: "string" },
      fund: { type: "string" },
      "horizon-days": { type: "string" },
      "latency-blocks": { type: "string" },
      "liquidation-buffer": { type: "string" },
      "chain-paths": { type: "string" },
      "keeper-paths": { type: "string" },
      population: { type: "string" },
      path: { type: "string" },
      policies: { type: "string" },
    },
  });
  if (values.help) return "help";
  if (positionals.length !== 1)
    throw new Error(`expected one stage, got ${positionals.length === 0 ? "none" : positionals.join(" ")}`);
  const [stage] = positionals;
  if (!STAGES.includes(stage)) throw new Error(`unknown stage "${stage}"; one of: ${STAGES.join(", ")}`);
  if (values.out.trim() === "") throw new Error("--out is empty");
  const runOnly = [
    "paths",
    "accounts",
    "fund",
    "horizon-days",
    "latency-blocks",
    "liquidation-buffer",
    "chain-paths",
    "keeper-paths",
    "population",
    "path",
    "policies",
  ] as const;
  if (stage === "calibrate") {
    const misplaced = runOnly.find((k) => values[k] !== undefined);
    if (misplaced !== undefined) throw new Error(`--${misplaced} belongs to the run stage`);
    const text = values.threshold ?? String(DEFAULT_SETTINGS.thresholdQuantile);
    const threshold = Number(text);
    if (text.trim() === "" || !(threshold >= 0.8 && threshold <= 0.98)) {
      throw new Error(`--threshold "${text}" is not a number from 0.8 to 0.98`);
    }
    const seed = integer(values.seed, DEFAULT_SETTINGS.checkSeed, "seed", 1, 2 ** 32 - 1);
    return { stage: "calibrate", out: values.out, data: values.data, threshold, seed, json: values.json };
  }
  if (values.threshold !== undefined) throw new Error("--threshold belongs to the calibrate stage");
  const options: RunCliOptions = {
    stage: "run",
    out: values.out,
    data: values.data,
    json: values.json,
    seed: integer(values.seed, RUN_DEFAULTS.seed, "seed", 1, 2 ** 32 - 1),
    paths: integer(values.paths, RUN_DEFAULTS.paths, "paths", 1, 1_000_000),
    accounts: integer(values.accounts, RUN_DEFAULTS.accounts, "accounts", 1, 100_000),
    fund: integer(values.fund, RUN_DEFAULTS.fund, "fund", 0, 10 ** 12),
    horizonDays: integer(values["horizon-days"], RUN_DEFAULTS.horizonDays, "horizon-days", 1, 365),
    latencyBlocks: integer(values["latency-blocks"], RUN_DEFAULTS.latencyBlocks, "latency-blocks", 0, 7200),
    liquidationBuffer: bufferPercent(values["liquidation-buffer"]),
    chainPaths: integer(values["chain-paths"], RUN_DEFAULTS.chainPaths, "chain-paths", 0, 10_000),
    policies: values.policies === undefined ? RUN_DEFAULTS.policies : policyList(values.policies),
  };
  if (values["keeper-paths"] !== undefined)
    options.keeperPaths = integer(values["keeper-paths"], RUN_DEFAULTS.keeperPaths, "keeper-paths", 0, 10_000);
  if (values.population !== undefined) options.population = values.population;
  if (values.path !== undefined) options.path = values.path;
  return options;
}
