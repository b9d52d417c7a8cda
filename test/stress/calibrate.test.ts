import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";

import { calibrate, DEFAULT_SETTINGS, marketModel, type Calibration } from "../../stress/lib/calibrate.js";
import { readAssets, runCalibrate } from "../../stress/lib/run.js";
import { simulatePaths } from "../../stress/lib/simulate.js";
import { expectNear } from "./near.js";

const run = promisify(execFile);

/** Defaults with a short simulated check, to keep the tests quick. */
const TINY = { ...DEFAULT_SETTINGS, checkDays: 2000 };

/** The header and the 2019 rows of a shipped price file: a year both assets have. */
async function slice2019(file: string): Promise<string> {
  const lines = (await readFile(path.join("stress/data", file), "utf8")).split("\n");
  return [lines[0], ...lines.filter((l) => l.startsWith("2019-"))].join("\n") + "\n";
}

describe("stress calibrate", function () {
  this.timeout(30_000);
  let dir: string;
  let data: string;

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "stress-calibrate-"));
    data = path.join(dir, "data");
    await mkdir(data);
    for (const file of ["btc-usd-daily.csv", "eth-usd-daily.csv"])
      await writeFile(path.join(data, file), await slice2019(file));
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the same calibration.json and calibration.md twice from the same data", async function () {
    const a = await runCalibrate({ dataDir: data, outDir: path.join(dir, "a"), settings: TINY });
    const b = await runCalibrate({ dataDir: data, outDir: path.join(dir, "b"), settings: TINY });
    for (const name of ["calibration.json", "calibration.md"]) {
      const first = await readFile(path.join(dir, "a", name), "utf8");
      expect(first).to.equal(await readFile(path.join(dir, "b", name), "utf8"));
    }
    const json = JSON.parse(await readFile(path.join(dir, "a", "calibration.json"), "utf8")) as Calibration;
    expect(json.schema).to.equal("backstop-stress-calibration/1");
    expect(json.assets.map((x) => [x.asset, x.source.firstDate, x.source.lastDate, x.returns.count])).to.deep.equal([
      ["BTC", "2019-01-01", "2019-12-31", 364],
      ["ETH", "2019-01-01", "2019-12-31", 364],
    ]);
    expect(json.dependence?.pairs).to.equal(364);
    expect(a.calibration.assets[0].tail.exceedances).to.equal(b.calibration.assets[0].tail.exceedances);
    const md = await readFile(path.join(dir, "a", "calibration.md"), "utf8");
    expect(md).to.include("not built yet");
    expect(md).to.include("## Backtest of the one-day VaR 99%");
    expect(md).to.include("too few losses");
  });

  it("backtests every model over the days it forecast, with Kupiec's test of the count", async function () {
    const c = calibrate(await readAssets(data), TINY);
    for (const asset of c.assets) {
      expect(asset.backtest.map((b) => b.model)).to.deep.equal(["normal", "Student-t", "GPD tail", "GARCH-t"]);
      for (const b of asset.backtest) {
        expect(b.observations).to.equal(364);
        expectNear(b.expected, 3.64, 1e-9);
        expect(b.pValue).to.be.within(0, 1);
      }
      // 364 losses leave 36 and 27 above the 90% and 92.5% quantiles, under 20 above 95% and 97.5%.
      expect(asset.tailStability.map((t) => [t.thresholdQuantile, t.exceedances])).to.deep.equal([
        [0.9, 37],
        [0.925, 28],
      ]);
      // The rows are ordered by level, and the tail fits give more loss farther out.
      const [r99, r995, r999] = asset.risk;
      expect(r99.studentTVaR).to.be.below(r995.studentTVaR);
      expect(r995.studentTVaR).to.be.below(r999.studentTVaR);
      expect(r99.empiricalES).to.be.at.least(r99.empiricalVaR);
    }
    expect(() => calibrate([], DEFAULT_SETTINGS)).to.throw("calibrate: no assets");
    const inputs = await readAssets(data);
    expect(() => calibrate(inputs, { ...DEFAULT_SETTINGS, thresholdQuantile: 1 })).to.throw(
      "threshold quantile 1 is not in (0, 1)",
    );
  });

  it("builds a market model the simulator runs", async function () {
    const inputs = await readAssets(data);
    const c = calibrate(inputs, TINY);
    const model = marketModel([inputs[0], inputs[1]], c, "garch-t");
    expect(model.intraday).to.have.length(364);
    const paths = simulatePaths(model, { seed: 1, days: 3, startPrices: [7_000, 130] }, 2);
    expect(paths).to.have.length(2);
    expect(paths[0][1].close).to.have.length(3);
  });

  it("checks the simulated joint model against the days both assets have", async function () {
    const inputs = await readAssets(data);
    const c = calibrate(inputs, TINY);
    const check = c.check;
    expect(check?.days).to.equal(2000);
    expect(check?.historicalDays).to.equal(364);
    expect(check?.rows.map((r) => r.measure)).to.deep.equal([
      "BTC one-day VaR 99%",
      "BTC days falling more than 10% from the open",
      "BTC days falling more than 20% from the open",
      "ETH one-day VaR 99%",
      "ETH days falling more than 10% from the open",
      "ETH days falling more than 20% from the open",
      "both falling more than 10% from the open on the same day",
      "both falling more than 20% from the open on the same day",
    ]);
    // BTC's largest fall from the open in 2019 was 19.4% (2019-06-27); 10% was passed on 5 of 364 days.
    expect(check?.rows[2].historical).to.equal(0);
    expect(check?.rows[1].historical).to.equal(5 / 364);
    expect(check?.rows[0].simulated).to.be.within(0.02, 0.2);
    expect(() => calibrate(inputs, { ...TINY, checkDays: 5 })).to.throw("check days 5 is not an integer ≥ 100");
  });

  it("names a missing price file", async function () {
    let message = "";
    await readAssets(path.join(dir, "absent")).catch((error: Error) => (message = error.message));
    expect(message).to.equal(`cannot read ${path.join(dir, "absent", "btc-usd-daily.csv")}: ENOENT`);
  });

  it("runs from the command line: JSON on standard output, the same as the file; a bad flag exits 1", async function () {
    const cli = (args: string[]) => run(process.execPath, ["--import", "tsx", "stress/main.ts", ...args]);
    const out = path.join(dir, "cli");
    const json = await cli(["calibrate", "--json", "--data", data, "--out", out, "--seed", "7"]);
    expect(json.stdout).to.equal(await readFile(path.join(out, "calibration.json"), "utf8"));
    expect((JSON.parse(json.stdout) as Calibration).check?.seed).to.equal(7);
    let failure = { stderr: "", code: 0 };
    await cli(["calibrate", "--threshold", "2"]).catch((error: { stderr: string; code: number }) => (failure = error));
    expect(failure.code).to.equal(1);
    expect(failure.stderr).to.include('stress: --threshold "2" is not a number from 0.8 to 0.98');
    expect(failure.stderr).to.include("usage: npm run stress -- calibrate");
  });
});
