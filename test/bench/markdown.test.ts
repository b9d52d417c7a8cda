import { expect } from "chai";

import { FLOORS } from "../../bench/lib/floors.js";
import { gasScaleRows, keeperGoalRows } from "../../bench/lib/goals.js";
import { formatInt, markdownTable, renderReport } from "../../bench/lib/markdown.js";
import { sampleGas, sampleKeeper, sampleLatest } from "./sample-results.js";

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
    const open = formatInt(FLOORS.fillOpenTaker.total);
    const adl = formatInt(FLOORS.adlStep.total);
    expect(md).to.contain(`| fill: open | user | 263,294 | 263,282 | 263,294 | ≤ 180,000 | ${open} | misses |`);
    expect(md).to.contain(
      `| ADL against one counterparty | keeper | 100,000 | 99,990 | 100,010 | ≤ 120,000 | ${adl} | meets |`,
    );
    expect(md).to.contain("| deposit | user | 51,697 | 51,697 | 51,697 | — | — | — |");
    // Every floor is itemized, and the peers are cited with their source.
    expect(md).to.contain(
      `- **partial liquidation: ${formatInt(FLOORS.partialLiquidation.total)}** = transaction base 21,000`,
    );
    expect(md).to.contain("gmx-io/gmx-synthetics, contracts/adl/AdlUtils.sol");
    expect(md).to.contain("SIP-356");
    expect(md).to.contain(
      "| bankrupt liquidation, socialized | 200,000 (1.000×) | 220,000 (1.100×) | yes | **GROWS** |",
    );
    expect(md).to.contain("| withdraw | 100,000 (1.000×) | 700,000 (7.000×) | no | grows |");
    expect(md).to.contain("160 (predicted 150)");
    expect(md).to.contain("- **bankrupt liquidation, socialized grows with the number of other positions**");
    expect(md).to.contain("## Keeper\n\nnot run (no bench/results/keeper.json)");
  });

  it("judges the keeper goals of issue 15 from keeper.json", function () {
    expect(keeperGoalRows(sampleKeeper()).map((r) => [r.goal, r.measured, r.verdict])).to.deep.equal([
      ["10,000 accounts loaded in ≤ 5 s with ≤ 30 RPC calls", "8.00 s, 40 calls", "misses"],
      ["≤ 3 RPC calls per idle block", "4 (worst)", "misses"],
      ["100 liquidatable accounts handled within 2 blocks, 1 signer", "3 blocks, 4.5 s", "misses"],
      ["1,000 liquidatable accounts handled within 10 blocks", "9 blocks, 30 s", "meets"],
    ]);
    const fast = {
      ...sampleKeeper(),
      coldStart: [{ accounts: 10_000, ms: 5_000, rpcCalls: 30, rpcByMethod: {} }],
      idle: [{ accounts: 10_000, blocks: 50, rpcCallsPerBlock: 3 }],
      crash: [
        { accounts: 1000, liquidatable: 100, blocks: 2, seconds: 2, handled: 100 },
        // Within the blocks but one account left: a miss.
        { accounts: 10_000, liquidatable: 1000, blocks: 8, seconds: 9, handled: 999 },
      ],
    };
    expect(keeperGoalRows(fast).map((r) => r.verdict)).to.deep.equal(["meets", "meets", "meets", "misses"]);
    const none = { ...sampleKeeper(), coldStart: [], idle: [], crash: [] };
    expect(keeperGoalRows(none).map((r) => r.verdict)).to.deep.equal([
      "not measured",
      "not measured",
      "not measured",
      "not measured",
    ]);
    const md = renderReport(sampleLatest(sampleKeeper()));
    expect(md).to.contain("| 10,000 | 8,000 | 40 | eth_call: 30, eth_getLogs: 10 |");
  });

  it("judges withdraw with ten markets, the ten-market bankruptcy and liquidations per block against their floors", function () {
    const rows = gasScaleRows(sampleGas());
    expect(rows.map((r) => [r.measured, r.floor, r.verdict])).to.deep.equal([
      ["700,000", formatInt(FLOORS.withdraw10.total), "misses"],
      ["—", formatInt(FLOORS.bankrupt10.total), "not measured"],
      ["160", `${formatInt(Math.floor(30_000_000 / FLOORS.partialLiquidation.total))} at the floor`, "misses"],
      ["— (npm run bench:haircut)", "—", "not measured"],
    ]);
    const gas = sampleGas();
    gas.scaling.markets.push({
      operation: "bankrupt liquidation, covered by the fund",
      note: "sum of the N liquidations; the last realizes the deficit",
      mustStayFlat: true,
      grows: true,
      points: [
        { n: 1, gas: 100_000, ratio: 1 },
        { n: 10, gas: 900_000, ratio: 9 },
      ],
    });
    gas.scaling.markets[0].points[1].gas = 190_000;
    gas.limits.liquidationsPerBlock.included = 220;
    // The ten single calls alone do not count: the goal is one call.
    expect(gasScaleRows(gas)[1].verdict).to.equal("not measured");
    expect(gasScaleRows(gas)[1].measured).to.equal("— (900,000 over 10 calls)");
    gas.scaling.markets.push({
      operation: "bankrupt account, every market in one call",
      note: "one liquidateAccount for all N markets; the largest realizes the deficit",
      mustStayFlat: true,
      grows: true,
      points: [
        { n: 1, gas: 100_000, ratio: 1 },
        { n: 10, gas: 1_200_000, ratio: 12 },
      ],
    });
    // At the goal: meets (one gas more misses).
    expect(
      gasScaleRows(gas)
        .map((r) => [r.measured, r.verdict])
        .slice(0, 3),
    ).to.deep.equal([
      ["190,000", "meets"],
      ["1,200,000 in one call (900,000 over 10 calls)", "meets"],
      ["220", "meets"],
    ]);
    gas.scaling.markets[gas.scaling.markets.length - 1].points[1].gas = 1_200_001;
    expect(gasScaleRows(gas)[1].verdict).to.equal("misses");

    // Batched, the block figure is the better of the two ways of sending.
    gas.limits.liquidationsPerBlock.included = 118;
    gas.limits.batchedLiquidations = {
      blockGasLimit: 30_000_000,
      callGasCap: 16_777_216,
      batches: [
        { items: 50, gasUsed: 5_313_875, gasPerItem: 106_278 },
        { items: 100, gasUsed: 10_475_668, gasPerItem: 104_757 },
      ],
      fixed: 152_068,
      perItem: 103_236,
      itemsPerTransaction: 161,
      perBlock: 287,
    };
    expect([gasScaleRows(gas)[2].measured, gasScaleRows(gas)[2].verdict]).to.deep.equal([
      "287 batched (118 one per transaction)",
      "meets",
    ]);
    delete gas.limits.batchedLiquidations;
    // A block of another size is not the goal's: not measured.
    gas.limits.liquidationsPerBlock.blockGasLimit = 60_000_000;
    expect(gasScaleRows(gas)[2].verdict).to.equal("not measured");
  });
});
