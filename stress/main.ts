// `npm run stress -- <stage> [options]`: the stress lab of issue 12. Only its first stage,
// `calibrate`, is built; scenarios, the trader population and fund sizing come next.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { DEFAULT_SETTINGS } from "./lib/calibrate.js";
import { calibrationJson, calibrationSummary, runCalibrate } from "./lib/run.js";

const USAGE = `usage: npm run stress -- calibrate [--json] [--out DIR] [--data DIR] [--threshold Q]

The stress lab sizes the insurance fund from fat-tailed price paths (issue 12). This is its first
stage only: 'calibrate' fits Student-t, GARCH(1,1)-t and a generalized-Pareto loss tail to daily
BTC-USD and ETH-USD prices, measures their dependence (correlations, tail dependence, t copula),
computes one-day VaR and expected shortfall and backtests the VaR 99% with Kupiec's test.
The scenario, trader-population and fund-sizing stages are not built yet.

  calibrate          fit on the price files and write calibration.md and calibration.json
  --out DIR          folder for the two files (default results/stress)
  --data DIR         folder with btc-usd-daily.csv and eth-usd-daily.csv (default: the shipped stress/data)
  --threshold Q      loss quantile of the peaks-over-threshold threshold, 0.8 to 0.98 (default ${DEFAULT_SETTINGS.thresholdQuantile})
  --json             print calibration.json to standard output instead of the summary
  -h, --help         this text`;

const STAGES = ["calibrate"];

/** Validated command line. */
interface Options {
  out: string;
  data: string;
  threshold: number;
  json: boolean;
}

function parse(argv: string[]): Options | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string", default: "results/stress" },
      data: { type: "string", default: fileURLToPath(new URL("./data/", import.meta.url)) },
      threshold: { type: "string", default: String(DEFAULT_SETTINGS.thresholdQuantile) },
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
  if (values.out.trim() === "") throw new Error("--out is empty");
  return { out: values.out, data: values.data, threshold, json: values.json };
}

try {
  const options = parse(process.argv.slice(2));
  if (options === "help") {
    console.log(USAGE);
  } else {
    const { calibration, files } = await runCalibrate({
      dataDir: options.data,
      outDir: options.out,
      settings: { ...DEFAULT_SETTINGS, thresholdQuantile: options.threshold },
    });
    if (options.json) {
      process.stdout.write(calibrationJson(calibration));
    } else {
      console.log([...calibrationSummary(calibration), `wrote ${files.join(" and ")}`].join("\n"));
    }
  }
} catch (error) {
  console.error(`stress: ${(error as Error).message}\n\n${USAGE}`);
  process.exitCode = 1;
}
