import { expect } from "chai";

import { keeperGoalRows } from "../../bench/lib/goals.js";
import { formatInt, markdownTable, renderReport } from "../../bench/lib/markdown.js";
import { sampleKeeper, sampleLatest } from "./sample-results.js";

describe("bench markdown report", function () {
  it("renders a table with alignment and escaped pipes", function () {
    expect(markdownTable(["op", "gas"], [["a|b", "1,000"]], ["left", "right"])).to.equal(
      ["| op | gas |", "| --- | ---: |", "| a\\|b | 1,000 |"].join("\n"),
    );
  });

  it("refuses rows and alignments that do not match the headers", function () {
    expect(() => markdownTable(["a", "b"], [["1"]])).to.throw("row 0 has 1 cells, expected 2");
    expect(() => markdownTable(["a"], [], ["left", "right"])).to.throw("2 alignments for 1 columns");
    expect(() => markdownTable([], [])).to.throw("no columns");
  });

  it("groups thousands whatever the locale", function () {
    expect(formatInt(1_234_567)).to.equal("1,234,567");
    expect(formatInt(999)).to.equal("999");
    expect(formatInt(-1234)).to.equal("-1,234");
  });

  it("puts the goals next to the figures and marks what misses", function () {
    const md = renderReport(sampleLatest(null));
    expect(md).to.contain("| fill: open | user | 263,294 | 263,282 | 263,294 | ≤ 150,000 | misses |");
    expect(md).to.contain("| ADL against one counterparty | keeper | 100,000 | 99,990 | 100,010 | ≤ 120,000 | meets |");
    expect(md).to.contain("| deposit | user | 51,697 | 51,697 | 51,697 | — | — |");
    expect(md).to.contain(
      "| bankrupt liquidation, socialized | 200,000 (1.000×) | 220,000 (1.100×) | yes | **GROWS** |",
    );
    expect(md).to.contain("| withdraw | 100,000 (1.000×) | 700,000 (7.000×) | no | grows |");
    expect(md).to.contain("160 (predicted 150)");
    expect(md).to.contain("- **bankrupt liquidation, socialized grows with the number of other positions**");
    expect(md).to.contain("## Keeper\n\nnot run (no bench/results/keeper.json)");
  });

  it("judges the keeper goals from keeper.json", function () {
    expect(keeperGoalRows(sampleKeeper()).map((r) => [r.measured, r.verdict])).to.deep.equal([
      ["8.00 s, 40 calls", "meets"],
      ["4 (worst)", "misses"],
      ["3 blocks, 4.5 s", "meets"],
    ]);
    const slow = {
      ...sampleKeeper(),
      coldStart: [],
      crash: [{ accounts: 1000, liquidatable: 100, blocks: 3, seconds: 9, handled: 99 }],
    };
    expect(keeperGoalRows(slow).map((r) => r.verdict)).to.deep.equal(["not measured", "misses", "misses"]);
    const md = renderReport(sampleLatest(sampleKeeper()));
    expect(md).to.contain("| 10,000 | 8,000 | 40 | eth_call: 30, eth_getLogs: 10 |");
  });
});
