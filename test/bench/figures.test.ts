import { expect } from "chai";

import { compareFigures, figuresOf, formatComparison, parseAnyResults } from "../../bench/lib/figures.js";
import { parseLatestResults } from "../../bench/lib/results.js";
import { sampleGas, sampleKeeper, sampleLatest } from "./sample-results.js";

describe("bench compare", function () {
  it("gives b/a per figure and leaves a figure missing on one side without a ratio", function () {
    const a = new Map([
      ["x", 100],
      ["y", 200],
      ["zero", 0],
    ]);
    const b = new Map([
      ["x", 150],
      ["zero", 5],
      ["z", 3],
    ]);
    expect(compareFigures(a, b)).to.deep.equal([
      { figure: "x", a: 100, b: 150, ratio: 1.5 },
      { figure: "y", a: 200, b: undefined, ratio: undefined },
      { figure: "zero", a: 0, b: 5, ratio: undefined },
      { figure: "z", a: undefined, b: 3, ratio: undefined },
    ]);
  });

  it("prints one line per figure with the ratio to three places", function () {
    const lines = formatComparison([
      { figure: "gas deposit", a: 100, b: 150, ratio: 1.5 },
      { figure: "gas stake", a: 7, b: undefined, ratio: undefined },
    ]);
    expect(lines).to.deep.equal([
      "figure                 a            b      b/a",
      "gas deposit          100          150    1.500",
      "gas stake              7            —        —",
    ]);
  });

  it("names the figures of a latest.json, gas and keeper", function () {
    const figures = figuresOf(parseAnyResults(sampleLatest(sampleKeeper()), "latest.json"));
    expect(figures.get("gas fill: open")).to.equal(263_294);
    expect(figures.get("gas bankrupt liquidation, socialized @ 1000 other positions")).to.equal(220_000);
    expect(figures.get("gas withdraw @ 10 markets")).to.equal(700_000);
    expect(figures.get("partial liquidations per 30000000-gas block")).to.equal(160);
    expect(figures.get("lens accounts per 30000000-gas call")).to.equal(1400);
    expect(figures.get("keeper cold start RPC calls @ 10000 accounts")).to.equal(40);
    expect(figures.get("keeper crash blocks @ 1000 accounts, 100 liquidatable")).to.equal(3);
  });

  it("reads gas.json and keeper.json on their own", function () {
    expect(parseAnyResults(sampleGas(), "gas.json").keeper).to.equal(null);
    expect(parseAnyResults(sampleKeeper(), "keeper.json").gas).to.equal(null);
  });

  it("names the file and the path of what is malformed", function () {
    const gas = sampleGas() as unknown as { operations: { median: unknown }[] };
    gas.operations[0].median = "263294";
    expect(() => parseAnyResults(gas, "a.json")).to.throw(
      'a.json: operations[0].median must be a finite number, got "263294"',
    );
    const latest = { ...sampleLatest(null), keeper: { commit: "x" } };
    expect(() => parseLatestResults(latest, "b.json")).to.throw("b.json: keeper.date must be a string, got nothing");
    expect(() => parseAnyResults({ hello: 1 }, "c.json")).to.throw("c.json: not a benchmark result");
    expect(() => parseAnyResults("text", "d.json")).to.throw("d.json: (top level) must be an object");
  });
});
