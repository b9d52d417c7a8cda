// Command line of `npm run stress`: declared with node:util parseArgs and validated in one place.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { DEFAULT_SETTINGS } from "./calibrate.js";

export const USAGE = `usage: npm run stress -- calibrate [--json] [--out DIR] [--data DIR] [--threshold Q] [--seed N]

The stress lab sizes the insurance fund from fat-tailed price paths (issue 12). This is its first
stage only: 'calibrate' fits Student-t, GARCH(1,1)-t and a generalized-Pareto loss tail to daily
BTC-USD and ETH-USD prices, measures their dependence (correlations, tail dependence, t copula),
computes one-day VaR and expected shortfall, backtests the VaR 99% with Kupiec's test, and
checks the seeded joint simulator against history. The scenario, trader-population and
fund-sizing stages (paths through the contracts, Cover-2, the fund size) are not built yet.

  calibrate          fit on the price files and write calibration.md and calibration.json
  --out DIR          folder for the two files (default results/stress)
  --data DIR         folder with btc-usd-daily.csv and eth-usd-daily.csv (default: the shipped stress/data)
  --threshold Q      loss quantile of the peaks-over-threshold threshold, 0.8 to 0.98 (default ${DEFAULT_SETTINGS.thresholdQuantile})
  --seed N           seed of the simulated model check, 1 to 4294967295 (default ${DEFAULT_SETTINGS.checkSeed})
  --json             print calibration.json to standard output instead of the summary
  -h, --help         this text`;

export const STAGES = ["calibrate"];

/** Validated command line of the calibrate stage. */
export interface Options {
  out: string;
  data: string;
  threshold: number;
  seed: number;
  json: boolean;
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
      threshold: { type: "string", default: String(DEFAULT_SETTINGS.thresholdQuantile) },
      seed: { type: "string", default: String(DEFAULT_SETTINGS.checkSeed) },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  if (positionals.length !== 1)
    throw new Error(`expected one stage, got ${positionals.length === 0 ? "none" : positionals.join(" ")}`);
  const [stage] = positionals;
  if (!STAGES.includes(stage)) throw new Error(`unknown stage "${stage}"; built so far: ${STAGES.join(", ")}`);
  const threshold = Number(values.threshold);
  if (values.threshold.trim() === "" || !(threshold >= 0.8 && threshold <= 0.98)) {
    throw new Error(`--threshold "${values.threshold}" is not a number from 0.8 to 0.98`);
  }
  const seed = Number(values.seed);
  if (!/^\d+$/.test(values.seed) || seed < 1 || seed > 2 ** 32 - 1) {
    throw new Error(`--seed "${values.seed}" is not an integer from 1 to 4294967295`);
  }
  if (values.out.trim() === "") throw new Error("--out is empty");
  return { out: values.out, data: values.data, threshold, seed, json: values.json };
}
