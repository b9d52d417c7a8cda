import { expect } from "chai";

import { DEFAULT_SETTINGS } from "../../stress/lib/calibrate.js";
import { parseStressArgs, USAGE } from "../../stress/lib/cli.js";

describe("stress command line", function () {
  it("takes the calibrate stage with its defaults", function () {
    const options = parseStressArgs(["calibrate"]);
    expect(options).to.include({
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
    ).to.deep.equal({ out: "o", data: "d", threshold: 0.9, seed: 12, json: true });
  });

  it("answers --help, and says the later stages are not built", function () {
    expect(parseStressArgs(["--help"])).to.equal("help");
    expect(parseStressArgs(["-h", "calibrate"])).to.equal("help");
    expect(USAGE).to.include("first\nstage only");
    expect(USAGE).to.include("are not built yet");
  });

  it("refuses a bad command line with what was wrong", function () {
    expect(() => parseStressArgs([])).to.throw("expected one stage, got none");
    expect(() => parseStressArgs(["calibrate", "extra"])).to.throw("expected one stage, got calibrate extra");
    expect(() => parseStressArgs(["scenarios"])).to.throw('unknown stage "scenarios"; built so far: calibrate');
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
