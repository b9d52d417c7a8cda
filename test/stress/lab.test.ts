import { expect } from "chai";
import { fileURLToPath } from "node:url";

import {
  engineMarkets,
  fundForTarget,
  perPathTarget,
  runLab,
  stats,
  tailMean,
  type RunOptions,
} from "../../stress/lib/lab.js";
import { calibrate, DEFAULT_SETTINGS } from "../../stress/lib/calibrate.js";
import { labJson, labMarkdown } from "../../stress/lib/lab-report.js";
import { readAssets } from "../../stress/lib/run.js";
import { parsePathCsv, PATH_HEADER } from "../../stress/lib/path-file.js";
import { expectNear } from "./near.js";

describe("stress run stage", function () {
  it("sizes the fund on a known distribution: the smallest F with P(loss > F) ≤ p", function () {
    const losses = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, shuffled order
    expect(fundForTarget(losses, 0.05)).to.equal(95); // five losses (96..100) above it
    expect(fundForTarget(losses, 0)).to.equal(100);
    expect(fundForTarget(losses, 0.999)).to.equal(1);
    expect(fundForTarget([0, 0, 0, 5], 0.25)).to.equal(0);
    expect(() => fundForTarget(losses, 1)).to.throw("target probability 1 is not in [0, 1)");
    // 1%/year over 10 days: 1 − 0.99^(10/365).
    expectNear(perPathTarget(0.01, 10), 2.7531e-4, 1e-8);
  });

  it("takes ES as the mean of the worst n(1 − level) paths, also when most paths tie at zero", function () {
    const losses = [...new Array<number>(995).fill(0), 10, 20, 30, 40, 50];
    const s = stats(losses);
    expect(s.var99).to.equal(0);
    expect(s.es99).to.equal(150 / 10); // the worst 10 paths: five zeros and 10..50
    expect(s.es999).to.equal(50);
    expect(tailMean([1, 2, 3, 4], 0.5)).to.equal(3.5);
    expect(s.probabilityPositive).to.equal(0.005);
  });

  it("reads a path file, rescaled to the deployment's start prices", function () {
    const markets = engineMarkets();
    const paths = parsePathCsv(`${PATH_HEADER}\n1,ETH-USD,100,110,50,60\n1,BTC-USD,10,10,9,9.5\n`, "p.csv", markets);
    expect(paths[0]).to.deep.equal({ open: [2000], high: [2200], low: [1000], close: [1200] });
    expect(paths[1]).to.deep.equal({ open: [60_000], high: [60_000], low: [54_000], close: [57_000] });
    const bad =
      (body: string): (() => unknown) =>
      () =>
        parsePathCsv(`${PATH_HEADER}\n${body}`, "p.csv", markets);
    expect(bad("1,ETH-USD,100,110,50,60\n2,BTC-USD,1,1,1,1")).to.throw('p.csv:3: day "2" should be 1 for BTC-USD');
    expect(bad("1,ETH-USD,100,90,50,60")).to.throw("p.csv:2: low must be ≤ open, close ≤ high");
    expect(bad("1,ETH-USD,100,x,50,60")).to.throw("p.csv:2: prices must be positive numbers");
    expect(bad("1,ETH-USD,100,110,50,60")).to.throw("p.csv: every market needs at least one day");
  });

  it("writes the same report.json twice for a tiny seeded run", async function () {
    this.timeout(60_000);
    const options: RunOptions = {
      paths: 8,
      seed: 3,
      accounts: 20,
      fundUsd: 1000,
      horizonDays: 2,
      latencyBlocks: 5,
      sensitivityPaths: 2,
      chainPaths: 0,
      targetPerYear: 0.01,
      jointDays: 200,
      dataDir: fileURLToPath(new URL("../../stress/data/", import.meta.url)),
    };
    const first = await runLab(options);
    const second = await runLab(options);
    expect(labJson(second)).to.equal(labJson(first));
    expect(first.rows).to.have.length(8);
    expect(first.scenarios.map((s) => s.name)).to.deep.equal([
      "replay 2020-03-12",
      "replay 2021-05-19",
      "99.9% move down, one gap",
      "99.9% move up, one gap",
    ]);
    const md = labMarkdown(first);
    expect(md).to.include("Recommended:");
    // Kupiec's backtest of the model that drives the paths, per asset, as the calibration computed it.
    const calibration = calibrate(await readAssets(options.dataDir), { ...DEFAULT_SETTINGS, checkDays: 100 });
    expect(first.backtest.map((b) => [b.asset, b.model, b.exceedances, b.pValue])).to.deep.equal(
      calibration.assets.map((a) => {
        const garch = a.backtest.find((b) => b.model === "GARCH-t")!;
        return [a.asset, "GARCH-t", garch.exceedances, garch.pValue];
      }),
    );
    expect(md).to.include("## Backtest of the sizing model").and.to.include("Kupiec LR");
    // Every parameter of the sensitivity table, latency and gap share swept, each row with both fund sizes.
    const swept = (p: string): string[] => first.sensitivity.filter((x) => x.parameter === p).map((x) => x.value);
    expect(swept("keeper latency")).to.deep.equal([
      "0 blocks",
      "5 blocks (default)",
      "25 blocks",
      "100 blocks",
      "300 blocks",
    ]);
    expect(swept("gap share")).to.deep.equal(["0%", "10%", "25% (default)", "50%", "100%"]);
    expect(first.sensitivity.every((x) => x.fund999 >= x.fund99)).to.equal(true);
    expect(md).to.include("## Model simplifications").and.to.include("No funding payments");
    expect(first.contractBacked).to.deep.equal({ skipped: "--chain-paths 0" });
    // Wall time of contract-backed paths stays out of report.json, so that a seeded run writes the same bytes.
    const timed = {
      paths: 1,
      agreed: 1,
      largestDifference: "0",
      setupSeconds: 3,
      seconds: 2,
      pathsPerSecond: 0.5,
      rows: [],
    };
    const json = JSON.parse(labJson({ ...first, contractBacked: timed })) as { contractBacked: object };
    expect(json.contractBacked).to.deep.equal({ paths: 1, agreed: 1, largestDifference: "0", rows: [] });
    expect(labMarkdown({ ...first, contractBacked: timed })).to.include("0.500 paths/s on chain");
  });
});
