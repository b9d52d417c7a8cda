// `npm run stress -- <stage> [options]` (loaded by main.ts once the bindings exist): the stress lab of issue 12 —
// `calibrate` fits the price models, `run` drives paths through the mirror of the loss waterfall and sizes the
// insurance fund.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { DEFAULT_SETTINGS } from "./lib/calibrate.js";
import { chartSpecs, renderSvg } from "./lib/charts.js";
import { parseStressArgs, RUN_DEFAULTS, USAGE, type RunCliOptions } from "./lib/cli.js";
import { engineMarkets, runLab, type LabReport } from "./lib/lab.js";
import { labHtml, labJson, labMarkdown } from "./lib/lab-report.js";
import { parsePathCsv } from "./lib/path-file.js";
import { DEFAULT_POPULATION, parsePopulationCsv } from "./lib/population.js";
import { calibrationJson, calibrationSummary, runCalibrate } from "./lib/run.js";

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}

/** A one-line progress bar on standard error, drawn only on a terminal. */
const progress =
  (what: string) =>
  (done: number, total: number): void => {
    if (!process.stderr.isTTY) return;
    const width = 30;
    const filled = Math.round((width * done) / total);
    process.stderr.write(`\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total} ${what}`);
    if (done === total) process.stderr.write("\n");
  };

async function run(options: RunCliOptions): Promise<void> {
  const population =
    options.population === undefined
      ? undefined
      : parsePopulationCsv(await readText(options.population), options.population, DEFAULT_POPULATION.makerLeverage);
  const pathFile =
    options.path === undefined
      ? undefined
      : {
          name: path.basename(options.path),
          paths: parsePathCsv(await readText(options.path), options.path, engineMarkets()),
        };
  const report = await runLab({
    paths: options.paths,
    seed: options.seed,
    accounts: options.accounts,
    fundUsd: options.fund,
    horizonDays: options.horizonDays,
    latencyBlocks: options.latencyBlocks,
    liquidationBuffer: options.liquidationBuffer,
    chainPaths: options.chainPaths,
    keeperPaths: options.keeperPaths ?? RUN_DEFAULTS.keeperPaths,
    population,
    pathFile,
    policies: options.policies,
    sensitivityPaths: 200,
    targetPerYear: 0.01,
    jointDays: 10_000,
    dataDir: options.data,
    onProgress: progress("paths"),
    onChainProgress: progress("paths on chain"),
    onPolicyProgress: (policy, done, total) => progress(`paths under ${policy}`)(done, total),
  });
  await mkdir(options.out, { recursive: true });
  const files = ["report.md", "report.json", "report.html"].map((f) => path.join(options.out, f));
  await writeFile(files[0], labMarkdown(report));
  await writeFile(files[1], labJson(report));
  const charts = [];
  for (const c of chartSpecs(report)) {
    const svg = await renderSvg(c.spec);
    await writeFile(path.join(options.out, c.file), svg);
    charts.push({ title: c.title, svg });
  }
  await writeFile(files[2], labHtml(report, charts));
  if (options.json) process.stdout.write(labJson(report));
  else {
    const b = report.badDebt;
    console.log(
      [
        `bad debt per path: mean ${b.mean.toFixed(2)} USD, VaR 99% ${b.var99.toFixed(2)}, ES 99% ${b.es99.toFixed(2)}, VaR 99.9% ${b.var999.toFixed(2)}, ES 99.9% ${b.es999.toFixed(2)} USD`,
        `fund depleted on ${(100 * report.probabilityFundDepleted).toFixed(2)}% of paths; recommended fund ${report.fundSizing.recommended.toFixed(2)} USD (target ${report.fundSizing.fundForTarget.toFixed(2)}, Cover-2 ${report.fundSizing.cover2.toFixed(2)})`,
        `wrote ${files.join(", ")}`,
      ].join("\n"),
    );
  }
  checkChain("contract-backed", report.contractBacked, options);
  if (report.contractBackedHaircut !== undefined)
    checkChain("contract-backed under haircut", report.contractBackedHaircut, options);
}

/** Says how a chain check went; a path that disagrees with the engine fails the run (exit code 1). */
function checkChain(what: string, chain: LabReport["contractBacked"], options: RunCliOptions): void {
  if ("skipped" in chain) {
    if (options.chainPaths > 0) console.error(`stress: ${what} paths not run: ${chain.skipped}`);
  } else if (chain.agreed < chain.paths) {
    console.error(
      `stress: ${what}: the engine and the contracts disagree on ${chain.paths - chain.agreed} of ${chain.paths} paths ` +
        `(largest difference ${chain.largestDifference} wei); see "Contract-backed paths" in the report`,
    );
    process.exitCode = 1;
  } else if (!options.json) {
    console.log(
      `${what}: ${chain.agreed} of ${chain.paths} paths agree to the wei (${chain.rows.filter((r) => r.mode === "keeper").length} with the project's keeper, the rest replayed), ${chain.pathsPerSecond.toFixed(3)} paths/s`,
    );
  }
}

try {
  const options = parseStressArgs(process.argv.slice(2));
  if (options === "help") {
    console.log(USAGE);
  } else if (options.stage === "run") {
    await run(options);
  } else {
    const { calibration, files } = await runCalibrate({
      dataDir: options.data,
      outDir: options.out,
      settings: { ...DEFAULT_SETTINGS, thresholdQuantile: options.threshold, checkSeed: options.seed },
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
