// Monte Carlo paths through the real contracts with the project's keeper (stress/lib/chain.ts) against the engine,
// to the wei: a small seeded population with no insurance fund, an ordinary path and one that takes every branch of
// the waterfall (the fees set aside, ADL in ETH-USD, socialization in BTC-USD). Slow (tens of seconds per path on
// a loaded machine): a differential test, not a benchmark.
import { expect } from "chai";
import { fileURLToPath } from "node:url";

import { calibrate, DEFAULT_SETTINGS, marketModel } from "../../stress/lib/calibrate.js";
import { chainSubset, contractBacked, engineMarkets, START_PRICES, type ContractReport } from "../../stress/lib/lab.js";
import { DEFAULT_POPULATION, generatePopulation } from "../../stress/lib/population.js";
import { readAssets } from "../../stress/lib/run.js";
import { DEFAULT_PATH_SETTINGS } from "../../stress/lib/scenario.js";

const SEED = 6;
const HOLDINGS = generatePopulation({ ...DEFAULT_POPULATION, accounts: 16, seed: SEED }, START_PRICES);
/** Path 0 is ordinary; path 27 of seed 6 (3 days) reaches the fees set aside, ADL and socialization. */
const PATHS = [0, 27];
const OPTIONS = { seed: SEED, horizonDays: 3, fundUsd: 0 };

async function model() {
  const assets = await readAssets(fileURLToPath(new URL("../../stress/data/", import.meta.url)));
  return marketModel([assets[0], assets[1]], calibrate(assets, { ...DEFAULT_SETTINGS, checkDays: 100 }), "garch-t");
}

/** Both paths agree to the wei, every equity included, and the agreement is not on zeros: path 27 took the branches. */
function expectAgreementOnEveryBranch(report: ContractReport): void {
  for (const row of report.rows) {
    expect(row.chain, `path ${row.path}`).to.deep.equal(row.engine);
    expect(row.equitiesDiffering, `path ${row.path}`).to.equal(0);
  }
  expect([report.agreed, report.largestDifference]).to.deep.equal([2, "0"]);
  // The agreement is not on zeros: the branches were taken on chain.
  const worst = report.rows[1].chain;
  expect([worst.fundPaid, worst.deleveraged, worst.socialized].map((x) => BigInt(x) > 0n)).to.deep.equal([
    true,
    true,
    true,
  ]);
}

describe("stress: Monte Carlo paths through the contracts with the project's keeper", function () {
  this.timeout(900_000);

  it("agrees with the engine to the wei on seeded paths that take every waterfall branch", async function () {
    const report = await contractBacked(
      await model(),
      engineMarkets(),
      HOLDINGS,
      OPTIONS,
      DEFAULT_PATH_SETTINGS,
      PATHS,
    );
    expect(report.rows.map((r) => r.path)).to.deep.equal(PATHS);
    expectAgreementOnEveryBranch(report);
    expect(report.rows.every((r) => r.keeperPoints > 0)).to.equal(true);
  });

  it("fails when the engine is one wei off in the liquidation fee", async function () {
    const wrong = engineMarkets().map((m) => ({ ...m, liquidationFeeRatio: m.liquidationFeeRatio + 1n }));
    const report = await contractBacked(await model(), wrong, HOLDINGS, OPTIONS, DEFAULT_PATH_SETTINGS, [PATHS[1]]);
    expect(report.agreed).to.equal(0);
    expect(BigInt(report.largestDifference) > 0n).to.equal(true);
    expect(report.rows[0].chain).to.not.deep.equal(report.rows[0].engine);
  });

  it("replays the engine's calls through the batching forwarder, to the wei and with nothing left undone", async function () {
    const report = await contractBacked(
      await model(),
      engineMarkets(),
      HOLDINGS,
      { ...OPTIONS, keeperPaths: 0 },
      DEFAULT_PATH_SETTINGS,
      PATHS,
    );
    expect(report.rows.map((r) => [r.path, r.mode, r.pointsLeftUndone])).to.deep.equal([
      [0, "replay", 0],
      [27, "replay", 0],
    ]);
    expectAgreementOnEveryBranch(report);
  });

  it("replays the same paths on a deployment listing both markets under haircut, to the wei", async function () {
    const markets = engineMarkets(undefined, undefined, "haircut");
    const report = await contractBacked(
      await model(),
      markets,
      HOLDINGS,
      { ...OPTIONS, keeperPaths: 0 },
      DEFAULT_PATH_SETTINGS,
      PATHS,
    );
    for (const row of report.rows) {
      expect(row.chain, `path ${row.path}`).to.deep.equal(row.engine);
      expect([row.equitiesDiffering, row.pointsLeftUndone], `path ${row.path}`).to.deep.equal([0, 0]);
    }
    // Path 27 charges the winners (and no ADL happens under the haircut): the agreement is not on zeros.
    const worst = report.rows[1].chain;
    expect([BigInt(worst.haircut) > 0n, worst.deleveraged]).to.deep.equal([true, "0"]);
  });

  it("a replay disagrees when the engine is one wei off in the liquidation fee", async function () {
    const wrong = engineMarkets().map((m) => ({ ...m, liquidationFeeRatio: m.liquidationFeeRatio + 1n }));
    const report = await contractBacked(
      await model(),
      wrong,
      HOLDINGS,
      { ...OPTIONS, keeperPaths: 0 },
      DEFAULT_PATH_SETTINGS,
      [PATHS[1]],
    );
    expect(report.agreed).to.equal(0);
    expect(report.rows[0].chain).to.not.deep.equal(report.rows[0].engine);
  });

  it("a replay finds what the engine's keeper left undone when its maintenance margin is too low", async function () {
    // At 4.5% instead of 5% the engine lets accounts go that the contracts find liquidatable: after some points the
    // chain holds accounts the project's keeper would still liquidate, and the path does not agree.
    const lax = engineMarkets().map((m) => ({ ...m, maintenanceMarginRatio: (m.maintenanceMarginRatio * 9n) / 10n }));
    const options = { ...OPTIONS, keeperPaths: 0 };
    const report = await contractBacked(await model(), lax, HOLDINGS, options, DEFAULT_PATH_SETTINGS, [PATHS[1]]);
    expect(report.rows[0].pointsLeftUndone).to.be.greaterThan(0);
    expect(report.agreed).to.equal(0);
  });

  it("gives the same rows with the paths split over 2 worker processes as in one process", async function () {
    // Path 27 takes every branch; 0 is ordinary. The second worker's path comes from `later`, as in bench:stress.
    const m = await model();
    const options = { ...OPTIONS, keeperPaths: 1 };
    const one = await contractBacked(m, engineMarkets(), HOLDINGS, options, DEFAULT_PATH_SETTINGS, PATHS);
    const two = await contractBacked(
      m,
      engineMarkets(),
      HOLDINGS,
      { ...options, workers: 2, later: Promise.resolve([PATHS[1]]) },
      DEFAULT_PATH_SETTINGS,
      [PATHS[0]],
    );
    expect(two.rows).to.deep.equal(one.rows);
    expect(two.rows.map((r) => [r.path, r.mode])).to.deep.equal([
      [0, "keeper"],
      [27, "replay"],
    ]);
    expectAgreementOnEveryBranch(two);
  });

  it("reports a worker's failure as the run's error, naming the worker", async function () {
    // A population that cannot open on chain (two entry prices in one market) fails in the worker's set-up.
    const [first, ...rest] = HOLDINGS;
    const broken = [{ ...first, entryPrice: first.entryPrice + 1n }, ...rest];
    let error: unknown;
    try {
      await contractBacked(
        await model(),
        engineMarkets(),
        broken,
        { ...OPTIONS, workers: 2 },
        DEFAULT_PATH_SETTINGS,
        PATHS,
      );
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/chain worker \d: the population cannot open on chain/);
  });

  it("picks the first half of the subset and the worst of the rest", function () {
    expect(chainSubset([5, 0, 9, 1, 9, 3], 4)).to.deep.equal([0, 1, 2, 4]);
    expect(chainSubset([5, 0, 9], 5)).to.deep.equal([0, 1, 2]);
    expect(chainSubset([5, 0, 9], 0)).to.deep.equal([]);
  });
});
