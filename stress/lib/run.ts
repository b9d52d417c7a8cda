// The calibrate stage as a run: read the price files, calibrate, write calibration.md and .json.
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import {
  calibrate,
  DEFAULT_SETTINGS,
  type AssetInput,
  type Calibration,
  type CalibrationSettings,
} from "./calibrate.js";
import { parseOhlcCsv } from "./data.js";
import { calibrationMarkdown } from "./report.js";

/** The shipped price files, in the order the dependence fit pairs them. */
export const ASSET_FILES: readonly { asset: string; file: string }[] = [
  { asset: "BTC", file: "btc-usd-daily.csv" },
  { asset: "ETH", file: "eth-usd-daily.csv" },
];

export interface CalibrateRun {
  dataDir: string;
  outDir: string;
  settings?: CalibrationSettings;
}

/** Reads the price files of {@link ASSET_FILES} from `dataDir`, with each file's SHA-256. */
export async function readAssets(dataDir: string): Promise<AssetInput[]> {
  // One file after the other, so that a missing folder is always reported by its first file (Promise.all would
  // reject with whichever read fails first, which varies from run to run).
  const inputs: AssetInput[] = [];
  for (const { asset, file } of ASSET_FILES) {
    const where = path.join(dataDir, file);
    let text: string;
    try {
      text = await readFile(where, "utf8");
    } catch (error) {
      throw new Error(`cannot read ${where}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        cause: error,
      });
    }
    inputs.push({
      asset,
      source: { file, sha256: createHash("sha256").update(text).digest("hex") },
      series: parseOhlcCsv(text, file),
    });
  }
  return inputs;
}

/** The JSON form: two-space indented, NaN (a standard error not available) written as null. */
export function calibrationJson(c: Calibration): string {
  return `${JSON.stringify(c, null, 2)}\n`;
}

/** Calibrates on the files in `dataDir` and writes calibration.md and calibration.json to `outDir`. */
export async function runCalibrate(run: CalibrateRun): Promise<{ calibration: Calibration; files: string[] }> {
  const calibration = calibrate(await readAssets(run.dataDir), run.settings ?? DEFAULT_SETTINGS);
  await mkdir(run.outDir, { recursive: true });
  const md = path.join(run.outDir, "calibration.md");
  const json = path.join(run.outDir, "calibration.json");
  await writeFile(md, calibrationMarkdown(calibration));
  await writeFile(json, calibrationJson(calibration));
  return { calibration, files: [md, json] };
}

/** A few lines for the terminal: the fitted parameters next to the published ones, and the backtest. */
export function calibrationSummary(c: Calibration): string[] {
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  const xi = c.published.find((p) => p.parameter.startsWith("GPD shape"));
  const lines: string[] = [];
  for (const a of c.assets) {
    const g = a.garchT;
    lines.push(
      `${a.asset} ${a.source.firstDate}..${a.source.lastDate}, ${a.returns.count} daily returns`,
      `  Student-t      mu ${a.studentT.mu.toPrecision(3)}  sigma ${a.studentT.sigma.toPrecision(4)}  nu ${a.studentT.nu.toFixed(3)}`,
      `  GARCH(1,1)-t   omega ${g.omega.toPrecision(3)}  alpha ${g.alpha.toFixed(4)}  beta ${g.beta.toFixed(4)}  alpha+beta ${g.persistence.toFixed(6)}${g.integrated ? " (integrated)" : ""}  nu ${g.nu.toFixed(3)}`,
      `  GPD loss tail  u ${pct(a.tail.threshold)} (q ${a.tail.thresholdQuantile})  xi ${a.tail.xi.toFixed(3)}  beta ${a.tail.beta.toPrecision(4)}` +
        (xi === undefined ? "" : `  published xi ${xi.low}-${xi.high}`),
    );
    for (const r of a.risk) {
      lines.push(
        `  VaR ${pct(r.level)}: empirical ${pct(r.empiricalVaR)}  t ${pct(r.studentTVaR)}  GPD ${r.gpdVaR === null ? "n/a" : pct(r.gpdVaR)}` +
          `   ES: empirical ${pct(r.empiricalES)}  t ${pct(r.studentTES)}  GPD ${r.gpdES === null ? "n/a" : pct(r.gpdES)}`,
      );
    }
    for (const b of a.backtest) {
      lines.push(
        `  backtest VaR ${pct(c.settings.backtestLevel)} ${b.model}: ${b.exceedances} exceedances in ${b.observations} days (expected ${b.expected.toFixed(1)}), Kupiec LR ${b.lr.toFixed(2)}, p ${b.pValue.toFixed(4)}`,
      );
    }
  }
  const d = c.dependence;
  if (d !== null) {
    lines.push(
      `${d.assets.join("/")} ${d.from}..${d.to}, ${d.pairs} days: Pearson ${d.pearson.toFixed(3)}  Spearman ${d.spearman.toFixed(3)}  Kendall ${d.kendall.toFixed(3)}`,
      `  lower-tail dependence ${d.lowerTail.map((t) => `q ${t.q}: ${t.empirical.toFixed(3)}`).join("  ")}`,
      `  t copula rho ${d.tCopula.rho.toFixed(3)}  nu ${d.tCopula.nu.toFixed(2)}  tail dependence ${d.tCopula.tailDependence.toFixed(3)}`,
    );
  }
  if (c.check !== null) {
    lines.push(
      `simulated check (${c.check.days} days, seed ${c.check.seed}) against ${c.check.historicalDays} historical days:`,
    );
    for (const r of c.check.rows)
      lines.push(`  ${r.measure}: history ${pct(r.historical)}, simulated ${pct(r.simulated)}`);
  }
  return lines;
}
