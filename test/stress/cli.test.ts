import { expect } from "chai";

import { DEFAULT_SETTINGS } from "../../stress/lib/calibrate.js";
import { parseStressArgs, USAGE } from "../../stress/lib/cli.js";

describe("stress command line", function () {
  it("takes the calibrate stage with its defaults", function () {
    const options = parseStressArgs(["calibrate"]);
    expect(options).to.include({
      stage: "calibrate",
      out: "results/stress",
      threshold: DEFAULT_SETTINGS.thresholdQuantile,
      seed: DEFAULT_SETTINGS.checkSeed,
      json: false,
    });
    expect(options === "help" ? "" : options.data).to.match(/stress\/data\/$/);
  });

  it("takes every flag", function () {
    expect(
      parseStressArgs(["calibrate", "--json", "--out", "o", "--data", "d", "--threshold", "0.9", "--seed", "12"]),
    ).to.deep.equal({ stage: "calibrate", out: "o", data: "d", threshold: 0.9, seed: 12, json: true });
  });

  it("answers --help, naming both stages", function () {
    expect(parseStressArgs(["--help"])).to.equal("help");
    expect(parseStressArgs(["-h", "calibrate"])).to.equal("help");
    expect(USAGE).to.include("npm run stress -- run [--paths N]");
  });

  it("takes the run stage with its defaults and every flag", function () {
    expect(parseStressArgs(["run"])).to.include({
      stage: "run",
      paths: 2000,
      seed: 1,
      accounts: 200,
      fund: 250_000,
      chainPaths: 2,
    });
    expect(
      parseStressArgs([
        "run",
        "--paths",
        "10",
        "--seed",
        "4",
        "--accounts",
        "30",
        "--fund",
        "0",
        "--horizon-days",
        "3",
        "--latency-blocks",
        "0",
        "--liquidation-buffer",
        "12.5",
        "--chain-paths",
        "0",
        "--population",
        "p.csv",
        "--path",
        "x.csv",
        "--policies",
        "haircut,adl",
        "--json",
        "--out",
        "o",
        "--data",
        "d",
      ]),
    ).to.deep.equal({
      stage: "run",
      out: "o",
      data: "d",
      json: true,
      seed: 4,
      paths: 10,
      accounts: 30,
      fund: 0,
      horizonDays: 3,
      latencyBlocks: 0,
      liquidationBuffer: 125_000_000_000_000_000n,
      chainPaths: 0,
      population: "p.csv",
      path: "x.csv",
      policies: ["haircut", "adl"],
    });
  });

  it("takes --policies as a list of distinct loss policies, all three by default, or none", function () {
    const policies = (argv: string[]): unknown => {
      const o = parseStressArgs(["run", ...argv]);
      return o !== "help" && o.stage === "run" ? o.policies : undefined;
    };
    expect(policies([])).to.deep.equal(["adl", "socialized", "haircut"]);
    expect(policies(["--policies", "socialized"])).to.deep.equal(["socialized"]);
    expect(policies(["--policies", "haircut, socialized"])).to.deep.equal(["haircut", "socialized"]);
    expect(policies(["--policies", "none"])).to.deep.equal([]);
    expect(() => parseStressArgs(["run", "--policies", "adl,vmgh"])).to.throw(
      '--policies "adl,vmgh": "vmgh" is not one of adl, socialized, haircut (or none alone)',
    );
    expect(() => parseStressArgs(["run", "--policies", "adl,adl"])).to.throw('"adl" is listed twice');
    expect(() => parseStressArgs(["run", "--policies", "adl,none"])).to.throw('"none" is not one of');
    expect(() => parseStressArgs(["run", "--policies", ""])).to.throw('"" is not one of');
    expect(() => parseStressArgs(["calibrate", "--policies", "adl"])).to.throw("--policies belongs to the run stage");
    expect(USAGE).to.include("--policies LIST");
  });

  it("refuses run flags that are out of range or on the wrong stage", function () {
    expect(() => parseStressArgs(["run", "--paths", "0"])).to.throw('--paths "0" is not an integer from 1 to 1000000');
    expect(() => parseStressArgs(["run", "--fund", "1.5"])).to.throw('--fund "1.5" is not an integer');
    expect(() => parseStressArgs(["run", "--horizon-days", "400"])).to.throw('--horizon-days "400"');
    expect(() => parseStressArgs(["run", "--threshold", "0.9"])).to.throw("--threshold belongs to the calibrate stage");
    expect(() => parseStressArgs(["calibrate", "--paths", "5"])).to.throw("--paths belongs to the run stage");
    expect(() => parseStressArgs(["run", "--chain-paths", "20000"])).to.throw(
      '--chain-paths "20000" is not an integer from 0 to 10000',
    );
    expect(() => parseStressArgs(["calibrate", "--chain-paths", "5"])).to.throw(
      "--chain-paths belongs to the run stage",
    );
  });

  it("takes --liquidation-buffer as an exact percent from 0 to 100, 25% by default", function () {
    const buffer = (argv: string[]): unknown => {
      const o = parseStressArgs(["run", ...argv]);
      return o !== "help" && o.stage === "run" ? o.liquidationBuffer : undefined;
    };
    expect(buffer([])).to.equal(250_000_000_000_000_000n);
    expect(buffer(["--liquidation-buffer", "0"])).to.equal(0n);
    expect(buffer(["--liquidation-buffer", "100"])).to.equal(10n ** 18n);
    expect(buffer(["--liquidation-buffer", "0.0000000000000001"])).to.equal(1n);
    for (const bad of ["100.01", "25%", "1e1", "", "0.00000000000000001"])
      expect(() => parseStressArgs(["run", "--liquidation-buffer", bad])).to.throw(
        `--liquidation-buffer "${bad}" is not a percent from 0 to 100 (at most 16 decimals)`,
      );
    expect(() => parseStressArgs(["calibrate", "--liquidation-buffer", "5"])).to.throw(
      "--liquidation-buffer belongs to the run stage",
    );
    expect(USAGE).to.include("--liquidation-buffer PCT");
  });

  it("takes --keeper-paths only when given, within 0 to 10000 and on the run stage", function () {
    expect(parseStressArgs(["run"])).to.not.have.property("keeperPaths");
    expect(parseStressArgs(["run", "--chain-paths", "20", "--keeper-paths", "0"])).to.include({
      chainPaths: 20,
      keeperPaths: 0,
    });
    expect(() => parseStressArgs(["run", "--keeper-paths", "10001"])).to.throw(
      '--keeper-paths "10001" is not an integer from 0 to 10000',
    );
    expect(() => parseStressArgs(["calibrate", "--keeper-paths", "1"])).to.throw(
      "--keeper-paths belongs to the run stage",
    );
    expect(USAGE).to.include("--keeper-paths K");
  });

  it("refuses a bad command line with what was wrong", function () {
    expect(() => parseStressArgs([])).to.throw("expected one stage, got none");
    expect(() => parseStressArgs(["calibrate", "extra"])).to.throw("expected one stage, got calibrate extra");
    expect(() => parseStressArgs(["scenarios"])).to.throw('unknown stage "scenarios"; one of: calibrate, run');
    expect(() => parseStressArgs(["calibrate", "--threshold", "0.5"])).to.throw(
      '--threshold "0.5" is not a number from 0.8 to 0.98',
    );
    expect(() => parseStressArgs(["calibrate", "--threshold", "x"])).to.throw('--threshold "x" is not a number');
    expect(() => parseStressArgs(["calibrate", "--seed", "0"])).to.throw(
      '--seed "0" is not an integer from 1 to 4294967295',
    );
    expect(() => parseStressArgs(["calibrate", "--seed", "1.5"])).to.throw('--seed "1.5" is not an integer');
    expect(() => parseStressArgs(["calibrate", "--out", " "])).to.throw("--out is empty");
    expect(() => parseStressArgs(["calibrate", "--days", "3"])).to.throw("Unknown option '--days'");
  });
});
