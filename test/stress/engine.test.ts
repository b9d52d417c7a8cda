import { expect } from "chai";

import { WAD } from "#sdk";

import {
  availableForDraw,
  emptyOutcome,
  haircutOwed,
  health,
  liquidate,
  openLedger,
  pendingCharges,
  settle,
  sizeRestoringMaintenance,
  type Action,
  type EngineMarket,
  type Ledger,
} from "../../stress/lib/engine.js";
import { stats } from "../../stress/lib/lab.js";
import type { Holding } from "../../stress/lib/population.js";
import {
  DEFAULT_PATH_SETTINGS,
  feedPrice,
  keeperCycle,
  oracleUpdates,
  runPath,
  settleKeeper,
} from "../../stress/lib/scenario.js";

// The deployed risk parameters (sdk/deploy/networks/local.ts): 5% maintenance, 1% discount, 1% fee.
const risk = {
  maintenanceMarginRatio: WAD / 20n,
  liquidationDiscount: WAD / 100n,
  liquidationFeeRatio: WAD / 100n,
  liquidationBuffer: 0n, // the hand-computed figures below restore exactly maintenance
};
const MARKETS: EngineMarket[] = [
  { symbol: "ETH-USD", lossPolicy: "adl", ...risk },
  { symbol: "BTC-USD", lossPolicy: "socialized", ...risk },
];
const E = 10n ** 18n;
const usd = (x: bigint): bigint => x * 1_000_000n;

function hold(account: string, market: Holding["market"], size: bigint, price: bigint, collateralUsd: bigint): Holding {
  return { account, market, size, entryPrice: price * E, collateral: usd(collateralUsd) };
}
const find = (l: Ledger, id: string) => l.accounts.find((a) => a.id === id)!;

describe("stress engine: the loss waterfall mirrored to the wei", function () {
  it("liquidates a solvent account partly, back to maintenance margin (LiquidationLogic._liquidateSolvent)", function () {
    const l = openLedger(
      MARKETS,
      [hold("a", "ETH-USD", E, 2000n, 200n), hold("m", "ETH-USD", -E, 2000n, 100_000n)],
      0n,
    );
    const a = find(l, "a");
    const out = emptyOutcome();
    // At 1850: equity 200 − 150 = 50, maintenance 1850 × 5% = 92.5.
    expect(health(l, a, 1850n * E)).to.deep.equal({ equity: 50n * E, maintenanceMargin: 92_500_000_000_000_000_000n });
    expect(liquidate(l, a, 1850n * E, out)).to.equal(true);
    // q = ⌈42.5e18 · 1e36 / (1850e18 · 0.03e18)⌉ = ⌈0.765765…e18⌉; the rest, 433.33 USD, is above the 10 USD floor.
    // notional q × 1850 = 1,416.666666666666667100; reward ⌊1%⌋ = fee ⌈1%⌉ = 14.166666666666666671.
    // Hand-over notional (long: ⌈q·p⌉ − reward) = 1,402.500000000000000429; cost basis released ⌈2000·q⌉ =
    // 1,531.531531531531532; realized −129.031531531531531571; collateral 200 − 129.03… − 14.16… = 56.80….
    expect(a.size).to.equal(234_234_234_234_234_234n);
    expect(a.openNotional).to.equal(468_468_468_468_468_468_000n);
    expect(a.collateral).to.equal(56_801_801_801_801_801_758n);
    expect(l.insuranceFees).to.equal(14_166_666_666_666_666_671n);
    expect(l.keeper[0].size).to.equal(765_765_765_765_765_766n);
    // Equity 21.666666666666666658 ≥ maintenance ⌈433.3333…2900 × 5%⌉ = 21.666666666666666645: restored.
    expect(health(l, a, 1850n * E)).to.deep.equal({
      equity: 21_666_666_666_666_666_658n,
      maintenanceMargin: 21_666_666_666_666_666_645n,
    });
    expect(out).to.include({ liquidations: 1, bankruptcies: 0, badDebt: 0n });
  });

  it("sizes a buffered liquidation as LiquidationMath does (test/contracts/liquidation-buffer.test.ts, to the wei)", function () {
    // 4 ETH long at 1,800: equity 200, maintenance 360. Buffer 25%: ⌈250 / 76.5⌉ ETH; buffer 0: ⌈160 / 54⌉ ETH.
    const h = { equity: 200n * E, maintenanceMargin: 360n * E };
    const at = (buffer: bigint): bigint =>
      sizeRestoringMaintenance({ ...MARKETS[0], liquidationBuffer: buffer }, 1800n * E, h, 4n * E);
    expect(at(WAD / 4n)).to.equal(3_267_973_856_209_150_327n);
    expect(at(0n)).to.equal(2_962_962_962_962_962_963n);
    // 100% at 1,760 (equity 40, maintenance 352): 4.7159… ETH are needed, so all 4.
    expect(
      sizeRestoringMaintenance(
        { ...MARKETS[0], liquidationBuffer: WAD },
        1760n * E,
        { equity: 40n * E, maintenanceMargin: 352n * E },
        4n * E,
      ),
    ).to.equal(4n * E);
  });

  it("charges a bankrupt account's deficit to the fund, then the other side, before the hand-over (_takeOver)", function () {
    const l = openLedger(
      MARKETS,
      [
        hold("b", "BTC-USD", E, 60_000n, 6_000n),
        hold("c", "BTC-USD", -E / 2n, 60_000n, 10_000n),
        hold("d", "BTC-USD", -E / 2n, 60_000n, 10_000n),
      ],
      usd(1_000n),
    );
    const out = emptyOutcome();
    // At 50,000: equity 6,000 − 10,000 = −4,000; the fund pays its 1,000, the shorts' 1 BTC the other 3,000.
    expect(liquidate(l, find(l, "b"), 50_000n * E, out)).to.equal(true);
    expect(out).to.include({
      badDebt: 4_000n * E,
      fundPaid: 1_000n * E,
      fundDrawn: usd(1_000n),
      socialized: 3_000n * E,
      deleveraged: 0n,
      bankruptcies: 1,
      socializations: 1,
    });
    expect(l.fund).to.equal(0n);
    expect(l.shortSocialLossIndex[1]).to.equal(3_000n * E);
    const b = find(l, "b");
    expect([b.size, b.collateral]).to.deep.equal([0n, 0n]);
    // c owes ⌈0.5 × 3,000⌉ = 1,500: equity 10,000 − 1,500 + 0.5 × 10,000 = 13,500. The keeper took 1 BTC long at 50,000.
    expect(health(l, find(l, "c"), 50_000n * E).equity).to.equal(13_500n * E);
    expect([l.keeper[1].size, l.keeper[1].openNotional]).to.deep.equal([E, 50_000n * E]);
    expect(out.deficits).to.deep.equal([{ account: "b", deficit: 4_000n * E }]);
  });

  it("deleverages the highest-ranked profitable counterparties when the fund is short (autoDeleverage)", function () {
    const l = openLedger(
      MARKETS,
      [
        hold("e", "ETH-USD", E, 2000n, 200n),
        hold("f", "ETH-USD", -(6n * E) / 10n, 2000n, 100n),
        hold("g", "ETH-USD", -(4n * E) / 10n, 2000n, 1_000n),
      ],
      0n,
    );
    const out = emptyOutcome();
    // At 1,700: e's equity 200 − 300 = −100. Scores: f 1.8 × 1020/280 ≈ 6.56, g 0.12 × 680/1120 ≈ 0.07, so f first.
    // f: q = 0.6, gives up ⌊100 × 0.6⌋ = 60 (≤ its 180 profit); e sells 0.6 at 1,020 + 60: realized 1,080 − 1,200.
    // g: q = 0.4, the last part: all of the remaining 40; e ends flat with collateral 0.
    // liquidate only opens the case (nothing moves); the keeper's next cycle runs the ADL steps in score order.
    expect(liquidate(l, find(l, "e"), 1_700n * E, out)).to.equal(true);
    expect([out.badDebt, l.cases.get("e")?.longCounterparties]).to.deep.equal([0n, false]);
    l.prices[0] = 1_700n * E;
    expect(settleKeeper(l, out, 1)).to.equal(true);
    expect(l.cases.size).to.equal(0);
    expect(out.log).to.equal(undefined);
    expect(out).to.include({ badDebt: 100n * E, deleveraged: 100n * E, adlSteps: 2, fundPaid: 0n, socialized: 0n });
    expect([find(l, "e").size, find(l, "e").collateral]).to.deep.equal([0n, 0n]);
    expect([find(l, "f").size, find(l, "f").collateral]).to.deep.equal([0n, 220n * E]);
    expect([find(l, "g").size, find(l, "g").collateral]).to.deep.equal([0n, 1_080n * E]);
    expect(l.longOpenInterest[0]).to.equal(0n);
    expect(l.shortOpenInterest[0]).to.equal(0n);
  });

  it("takes the position over instead when the fund covers an ETH-USD deficit", function () {
    const l = openLedger(
      MARKETS,
      [hold("e", "ETH-USD", E, 2000n, 200n), hold("f", "ETH-USD", -E, 2000n, 1_000n)],
      usd(100n),
    );
    const out = emptyOutcome();
    expect(availableForDraw(l)).to.equal(100n * E);
    liquidate(l, find(l, "e"), 1_700n * E, out);
    expect(out).to.include({
      badDebt: 100n * E,
      fundPaid: 100n * E,
      fundDrawn: usd(100n),
      deleveraged: 0n,
      adlSteps: 0,
    });
    expect(l.keeper[0].size).to.equal(E);
  });

  it("refuses a healthy account (NotLiquidatable)", function () {
    const l = openLedger(MARKETS, [hold("a", "ETH-USD", E, 2000n, 200n), hold("m", "ETH-USD", -E, 2000n, 1_000n)], 0n);
    const out = emptyOutcome();
    expect(liquidate(l, find(l, "a"), 1_900n * E, out)).to.equal(false);
    expect(out.liquidations).to.equal(0);
  });

  it("gives VaR and ES of the bad debt along gap paths (runPath)", function () {
    const l = openLedger(
      MARKETS,
      [
        hold("b", "BTC-USD", E, 60_000n, 6_000n),
        hold("m", "BTC-USD", -E, 60_000n, 100_000n),
        hold("x", "ETH-USD", E, 2000n, 1000n),
        hold("y", "ETH-USD", -E, 2000n, 1000n),
      ],
      usd(1_000_000n),
    );
    const flat = { open: [2000], high: [2000], low: [2000], close: [2000] };
    // Whole drop in one oracle update (gapShare 1), keeper 5 blocks late: deficits 0, 3,000, 6,000, 9,000.
    const losses = [0.1, 0.15, 0.2, 0.25].map((drop) => {
      const p = 60_000 * (1 - drop);
      const { outcome } = runPath(l, [flat, { open: [60_000], high: [60_000], low: [p], close: [p] }], {
        ...DEFAULT_PATH_SETTINGS,
        gapShare: 1,
      });
      return Number(outcome.badDebt / E);
    });
    expect(losses).to.deep.equal([0, 3000, 6000, 9000]);
    // Type-7 quantile: h = 3 × 0.99 = 2.97, VaR = 6,000 + 0.97 × 3,000 = 8,910; ES = mean of {9,000}.
    const s = stats(losses);
    expect([s.var99, s.es99, s.mean, s.probabilityPositive]).to.deep.equal([8910, 9000, 4500, 0.75]);
  });

  it("walks a leg as a gap, then 0.5% steps every stepBlocks blocks (oracleUpdates)", function () {
    const day = { open: [100], high: [100], low: [90], close: [90] };
    const updates = oracleUpdates(day, 0, { ...DEFAULT_PATH_SETTINGS, gapShare: 0.5 });
    // Down day: open → high (no move) → low → close (no move). The leg to 90 is ln(100/90) = 0.10536: a gap of half
    // of it at block 0, then ⌈0.05268 / 0.005⌉ = 11 steps 10 blocks apart.
    expect(updates.map((u) => u.block)).to.deep.equal([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]);
    expect(updates[0].price).to.equal(feedPrice(100 * Math.exp(-0.5 * Math.log(100 / 90))));
    expect(updates[11].price).to.equal(feedPrice(90));
  });

  it("lets keeper latency cost: liquidations land later along the path, at worse prices", function () {
    // A 10x ETH long and its maker; the price gaps a quarter of the way to −20% (to 1,891.50), then slides on in
    // 0.49% steps 10 blocks apart. The gap leaves the long liquidatable but solvent (bankrupt below 1,800).
    const l = openLedger(
      MARKETS,
      [hold("a", "ETH-USD", 10n * E, 2000n, 2_000n), hold("m", "ETH-USD", -10n * E, 2000n, 100_000n)],
      0n,
    );
    const flat = { open: [60_000], high: [60_000], low: [60_000], close: [60_000] };
    const slide = { open: [2000], high: [2000], low: [1600], close: [1600] };
    const badDebt = (latencyBlocks: number): bigint =>
      runPath(l, [slide, flat], { ...DEFAULT_PATH_SETTINGS, gapShare: 0.25, latencyBlocks }).outcome.badDebt;
    // Reacting within a step: liquidated back to maintenance at the gap's price, then at each step.
    expect([badDebt(0), badDebt(5)]).to.deep.equal([0n, 0n]);
    // 100 blocks (ten steps) after the gap the price is ~1,800.6, just above bankruptcy; 200 blocks after, ~1,714.
    expect(badDebt(100)).to.equal(0n);
    expect(badDebt(200) > 0n).to.equal(true);
    expect(badDebt(300) > badDebt(200)).to.equal(true);
  });

  it("orders a keeper cycle by shortfall, largest first, and skips dust (keeperCycle)", function () {
    const l = openLedger(
      MARKETS,
      [
        hold("small", "ETH-USD", E, 2000n, 200n),
        hold("big", "ETH-USD", 5n * E, 2000n, 1_000n),
        hold("m", "ETH-USD", -6n * E, 2000n, 100_000n),
      ],
      0n,
    );
    l.prices[0] = 1850n * E;
    const log: Action[] = [];
    const out = { ...emptyOutcome(), log };
    // Both are at 50 USD per ETH of equity under 92.5 of maintenance; "big" is five times as short.
    expect(keeperCycle(l, out, 1)).to.equal(2);
    expect(log.map((a) => a.account)).to.deep.equal(["big", "small"]);
    // At maintenance now; a price a tenth of a cent lower leaves them short by less than 1 bp of it: dust.
    l.prices[0] = 1849_999n * 10n ** 15n;
    expect(keeperCycle(l, out, 1)).to.equal(0);
    expect(keeperCycle(l, out, 0)).to.equal(2);
  });
});

/**
 * Policy "haircut" in the engine: the worked example of test/contracts/waterfall/haircut.test.ts, on the engine's
 * ETH-USD market listed as haircut at the same prices (the engine does not care what the asset is). Fees off.
 */
describe("stress engine: loss policy haircut (HaircutLib) to the wei", function () {
  const HAIRCUT_MARKETS: EngineMarket[] = [
    { symbol: "ETH-USD", lossPolicy: "haircut", ...risk },
    { symbol: "BTC-USD", lossPolicy: "socialized", ...risk },
  ];
  // alice is long 20 with cost basis 1000 + 400 + 624 = 2,024 (entry 101.2) and 250 of collateral; bob short 10 at
  // 100, frank short 4 at 100, carol short 6 at 104, erin short 2 at 70 (gina, long 2 at 70, is her other side).
  const worked = (): Holding[] => [
    { ...hold("alice", "ETH-USD", 20n * E, 0n, 250n), entryPrice: 1012n * 10n ** 17n },
    hold("bob", "ETH-USD", -10n * E, 100n, 1_000n),
    hold("frank", "ETH-USD", -4n * E, 100n, 1_000n),
    hold("carol", "ETH-USD", -6n * E, 104n, 1_000n),
    hold("erin", "ETH-USD", -2n * E, 70n, 1_000n),
    hold("gina", "ETH-USD", 2n * E, 70n, 10_000n),
  ];
  // f = ⌈174 / 524⌉ at 18 decimals: 174/524 = 0.332061068702290076335…, rounded up.
  const F = 332_061_068_702_290_077n;

  it("charges what the fund cannot pay to the winners, pro rata to profit, and each pays ⌈f·p⌉ when settled", function () {
    const l = openLedger(HAIRCUT_MARKETS, worked(), usd(100n));
    const out = emptyOutcome();
    // At 75: alice's equity 250 + 20 × 75 − 2,024 = −274. The fund pays 100; the winners' profit at 75 is
    // bob 1000 − 750 = 250, carol 624 − 450 = 174, frank 400 − 300 = 100 (erin, short at 70, loses 10: not a winner),
    // G = 524; H = 174 is taken at f.
    l.prices[0] = 75n * E;
    expect(liquidate(l, find(l, "alice"), 75n * E, out)).to.equal(true);
    expect(out).to.include({
      badDebt: 274n * E,
      fundPaid: 100n * E,
      fundDrawn: usd(100n),
      haircut: 174n * E,
      socialized: 0n,
      deleveraged: 0n,
      haircuts: 1,
      socializations: 0,
    });
    // The charge's bucket ⌊256·log2(75·10^18)⌋ = 16902 (computed to 80 digits); f·P = 75f exactly.
    expect(l.haircut[0][1].charges).to.deep.equal([{ bucket: 16902, rate: F, priceRate: 75n * F }]);
    expect([find(l, "alice").size, find(l, "alice").collateral]).to.deep.equal([0n, 0n]);
    // Owed: |N|·f − |size|·75f, rounded up: bob 250f, carol 174f, frank 100f; erin and the longs nothing.
    const owed = (id: string): bigint => haircutOwed(l, find(l, id));
    expect(["bob", "carol", "frank", "erin", "gina"].map(owed)).to.deep.equal([250n * F, 174n * F, 100n * F, 0n, 0n]);
    // The equity the keeper reads includes it: bob 1,000 + 250 − 250f.
    expect(health(l, find(l, "bob"), 75n * E).equity).to.equal(1_250n * E - 250n * F);
    // Settled in the order frank, bob, carol: 524f is 348 wei above 174, and the side's debt caps the last payer.
    const paid = ["frank", "bob", "carol"].map((id) => {
      const a = find(l, id);
      const before = a.collateral;
      settle(l, a);
      return before - a.collateral;
    });
    expect(524n * F - 174n * E).to.equal(348n);
    expect(paid).to.deep.equal([100n * F, 250n * F, 174n * F - 348n]);
    expect(l.haircut[0][1].debt).to.equal(0n);
    expect(["bob", "carol", "frank"].map(owed)).to.deep.equal([0n, 0n, 0n]);
  });

  it("takes the thin winners' profit at f = 1 and socializes the rest over the side", function () {
    // At 70 bob and frank bought back, and carol 5 of her 6, from erin: erin short 21 at 70, carol short 1 at 104.
    const rows = worked().filter((h) => h.account !== "bob" && h.account !== "frank");
    const l = openLedger(
      HAIRCUT_MARKETS,
      rows.map((h) =>
        h.account === "erin" ? { ...h, size: -21n * E } : h.account === "carol" ? { ...h, size: -E } : h,
      ),
      usd(100n),
    );
    const out = emptyOutcome();
    l.prices[0] = 75n * E;
    liquidate(l, find(l, "alice"), 75n * E, out);
    // Deficit 274, fund 100; carol's 104 − 75 = 29 is the only profit: taken whole (f = 1); 145 socialized over the
    // 22 shorts at ⌈145/22⌉ = 6.590909090909090910 per unit.
    expect(out).to.include({ badDebt: 274n * E, fundPaid: 100n * E, haircut: 29n * E, socialized: 145n * E });
    expect(l.haircut[0][1].charges[0].rate).to.equal(E);
    expect(l.shortSocialLossIndex[0]).to.equal(6_590_909_090_909_090_910n);
    expect(haircutOwed(l, find(l, "carol"))).to.equal(29n * E);
    expect(pendingCharges(l, find(l, "carol"))).to.equal(29n * E + 6_590_909_090_909_090_910n);
    expect(pendingCharges(l, find(l, "erin"))).to.equal(21n * 6_590_909_090_909_090_910n);
  });

  it("charges the liquidator's own winning position and settles it when it trades (the keeper on the charged side)", function () {
    // The keeper first takes a short over from a liquidated short at 104 (entry 104, a winner at 75), then alice goes.
    const l = openLedger(HAIRCUT_MARKETS, worked(), usd(100n));
    const k = l.keeper[0];
    const carol = find(l, "carol");
    // Hand carol's short to the keeper as a hand-over at 104 would: same size and notional, collateral untouched.
    Object.assign(k, { size: carol.size, openNotional: carol.openNotional });
    Object.assign(carol, { size: 0n, openNotional: 0n });
    const out = emptyOutcome();
    l.prices[0] = 75n * E;
    liquidate(l, find(l, "alice"), 75n * E, out);
    // Same winners' profit (the keeper's 6 at 104 in carol's place), so the same f; the keeper then takes alice's
    // long 20 over, which settles its share 174f first and leaves it long 14 (a side never charged: snapshot 0).
    expect(l.haircut[0][1].charges[0].rate).to.equal(F);
    expect(k.size).to.equal(14n * E);
    expect([k.haircutCharges, k.haircutRate, k.haircutPrice]).to.deep.equal([0, 0n, 0n]);
    expect(l.haircut[0][1].debt).to.equal(174n * E - 174n * F);
  });
});
