import { expect } from "chai";
import { fileURLToPath } from "node:url";

import { hardhat, WAD } from "#sdk";

import { chartSpecs } from "../../stress/lib/charts.js";
import { openLedger } from "../../stress/lib/engine.js";
import { DEFAULT_POPULATION, generatePopulation } from "../../stress/lib/population.js";
import { DEFAULT_PATH_SETTINGS, runPath } from "../../stress/lib/scenario.js";
import {
  engineMarkets,
  fundForTarget,
  labModel,
  monteCarloPath,
  perPathTarget,
  runLab,
  START_PRICES,
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
      policies: ["haircut", "adl"],
      dataDir: fileURLToPath(new URL("../../stress/data/", import.meta.url)),
    };
    const first = await runLab(options);
    const second = await runLab(options);
    expect(labJson(second)).to.equal(labJson(first));
    expect(first.rows).to.have.length(8);
    expect(first.policies.map((p) => [p.policy, p.paths])).to.deep.equal([
      ["haircut", 8],
      ["adl", 8],
    ]);
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
    expect(swept("liquidation buffer")).to.deep.equal(["0%", "10%", "25% (default)", "100%"]);
    expect(first.settings.markets.map((m) => m.liquidationBuffer)).to.deep.equal([String(WAD / 4n), String(WAD / 4n)]);
    expect(md).to.include("liquidation buffer 25.00% above maintenance");
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
    const json = JSON.parse(labJson({ ...first, contractBacked: timed, contractBackedHaircut: timed })) as {
      contractBacked: object;
      contractBackedHaircut: object;
    };
    expect(json.contractBacked).to.deep.equal({ paths: 1, agreed: 1, largestDifference: "0", rows: [] });
    expect(json.contractBackedHaircut).to.deep.equal(json.contractBacked);
    expect(labMarkdown({ ...first, contractBacked: timed })).to.include("0.500 paths/s on chain");
  });

  it("puts the loss policies side by side with figures from the runs themselves", async function () {
    this.timeout(120_000);
    // 30 accounts, a keeper 300 blocks late and no fund: seed 2 reaches the loss policies on 2 of 12 paths.
    const options: RunOptions = {
      paths: 12,
      seed: 2,
      accounts: 30,
      fundUsd: 0,
      horizonDays: 2,
      latencyBlocks: 300,
      sensitivityPaths: 1,
      chainPaths: 0,
      targetPerYear: 0.01,
      jointDays: 200,
      policies: ["adl", "socialized", "haircut"],
      dataDir: fileURLToPath(new URL("../../stress/data/", import.meta.url)),
    };
    const report = await runLab(options);
    // The same paths again, path by path through the engine under each policy, outside runLab.
    const { model } = await labModel(options.dataDir);
    const holdings = generatePopulation({ ...DEFAULT_POPULATION, accounts: 30, seed: 2 }, START_PRICES);
    const settings = { ...DEFAULT_PATH_SETTINGS, latencyBlocks: 300 };
    const md = labMarkdown(report);
    for (const [k, policy] of (["adl", "socialized", "haircut"] as const).entries()) {
      const markets = engineMarkets(hardhat, undefined, policy);
      const start = openLedger(markets, holdings, 0n);
      const outcomes = Array.from(
        { length: 12 },
        (_, i) => runPath(start, monteCarloPath(model, markets, options, i), settings).outcome,
      );
      const taken = outcomes.map((o) => o.deleveraged + o.socialized + o.haircut);
      const over = outcomes.map((o, i) => taken[i] - (o.badDebt - o.fundPaid));
      const row = report.policies[k];
      expect(row.policy).to.equal(policy);
      expect(row.takenExact).to.deep.equal(taken.map(String));
      expect(row.overshootWei).to.equal(over.reduce((a, b) => a + b, 0n).toString());
      expect(row.adlPositions).to.equal(outcomes.reduce((n, o) => n + o.adlCounterparties.length, 0));
      const hit = taken.filter((t) => t > 0n).length;
      expect(hit).to.equal(2);
      expect(row.probabilityHit).to.equal(hit / 12);
      const mean = taken.reduce((a, b) => a + b, 0n) / 12n;
      expect(Math.abs(row.taken.mean - Number(mean) / 1e18)).to.be.below(1e-6);
      // ES 99% of 12 paths is the worst path: the largest amount taken.
      const largest = taken.reduce((m, t) => (t > m ? t : m), 0n);
      expect(Math.abs(row.taken.es99 - Number(largest) / 1e18)).to.be.below(1e-6);
      // The row as the report prints it.
      const usd = (x: number): string =>
        `${x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} USD`;
      expect(md).to.include(
        `| ${policy} | ${((100 * hit) / 12).toFixed(2)}% | ${usd(row.taken.mean)} | ${usd(row.taken.var99)} | ${usd(row.taken.es99)} |`,
      );
    }
    // Only ADL cuts positions; the haircut and socialization leave every position open.
    const [adl, socialized, haircut] = report.policies;
    expect(adl.adlPositions).to.be.greaterThan(0);
    expect([socialized.adlPositions, haircut.adlPositions]).to.deep.equal([0, 0]);
    expect(adl.adlLowLeverage).to.be.at.most(adl.adlPositions);
    expect(md).to.include("## Loss policies side by side");
    expect(chartSpecs(report).map((c) => c.file)).to.include("policies.svg");
    const none = { ...report, policies: [] };
    expect(labMarkdown(none)).to.not.include("## Loss policies side by side");
    expect(chartSpecs(none).map((c) => c.file)).to.not.include("policies.svg");
  });
});
