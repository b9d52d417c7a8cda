// Waterfall, loss policy "haircut" (issue 10): what the fund cannot pay is taken from the other side's profit pro
// rata to profit, positions staying open. Units as in ./support.ts (18-decimal wei unless "units").
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";

import {
  ETH_MARKET,
  LOSS_POLICY_HAIRCUT,
  USD,
  WAD,
  deploySystem,
  ethers,
  marketParams,
  networkHelpers,
} from "../../../devnet/hardhat/fixture.js";
import type { System } from "../../../devnet/hardhat/fixture.js";
import type { MockAggregatorV3 } from "../../../typechain-types/index.js";
import { expectPosition, mined, trade } from "../../../devnet/hardhat/trading.js";
import {
  ev,
  quietFunding,
  quietMarkets,
  setFundLimits,
  setPrice,
  stake,
  waterfallEvents,
} from "../../../devnet/hardhat/waterfall.js";

const E = WAD;
export const SOL_MARKET = 2n;

export interface HaircutCtx extends System {
  solFeed: MockAggregatorV3;
  alice: HardhatEthersSigner; // goes bankrupt, long
  bob: HardhatEthersSigner; // winner: short 10 at 100
  carol: HardhatEthersSigner; // winner: short 6 at 104
  dave: HardhatEthersSigner; // insurance-fund staker
  erin: HardhatEthersSigner; // loser on the same side: short 2 at 70
  frank: HardhatEthersSigner; // hedged: short 4 SOL at 100 here, long 2 ETH
  gina: HardhatEthersSigner; // liquidator, long 2 SOL at 70
}

/**
 * A third market, SOL (id 2), with policy haircut; funding and fees off everywhere. dave stakes 100 USD (the fund
 * may pay all of it). At 100 alice buys 10 SOL from bob and 4 from frank; at 104, 6 from carol: long 20, cost basis
 * 1000 + 400 + 624 = 2024, deposit 250. frank also buys 2 ETH from gina at 2,000 (his hedge). At 70 erin sells 2 SOL
 * to gina (100 in the thin-profit variant); SOL ends at 75.
 */
export async function haircutFixtureWith(erinSize: bigint): Promise<HaircutCtx> {
  const system = await deploySystem();
  await quietMarkets(system, false);
  const solFeed = await ethers.deployContract("MockAggregatorV3", [8, "SOL / USD", 100n * 10n ** 8n]);
  await system.clearingHouse.connect(system.riskManager).listMarket(
    marketParams(await solFeed.getAddress(), {
      lossPolicy: LOSS_POLICY_HAIRCUT,
      maxFundingRate: 0n,
      makerFeeRatio: 0n,
      takerFeeRatio: 0n,
    }),
  );
  const [alice, bob, carol, dave, erin, frank, gina] = system.traders;
  const c: HaircutCtx = { ...system, solFeed, alice, bob, carol, dave, erin, frank, gina };
  await setFundLimits(c, 0n, 1_000_000n * USD);
  await stake(c.fund, dave, 100n * USD);
  for (const [signer, amount] of [
    [alice, 250n],
    [bob, 1_000n],
    [carol, 1_000n],
    [erin, 1_000n],
    [frank, 1_000n],
    [gina, 10_000n],
  ] as const) {
    await mined(c.clearingHouse.connect(signer).deposit(amount * USD));
  }
  const ch = c.clearingHouse;
  const sol = { marketId: SOL_MARKET, isBuy: false };
  await trade(ch, bob, alice, { ...sol, size: 10n * E, limitPrice: 100n * E }, 10n * E);
  await trade(ch, frank, alice, { ...sol, size: 4n * E, limitPrice: 100n * E }, 4n * E);
  await trade(ch, gina, frank, { marketId: ETH_MARKET, isBuy: false, size: 2n * E, limitPrice: 2000n * E }, 2n * E);
  await setPrice(solFeed, 104n * E);
  await trade(ch, carol, alice, { ...sol, size: 6n * E, limitPrice: 104n * E }, 6n * E);
  await setPrice(solFeed, 70n * E);
  await trade(ch, erin, gina, { ...sol, size: erinSize * E, limitPrice: 70n * E }, erinSize * E);
  await setPrice(solFeed, 75n * E);
  return c;
}

// At 75: alice's equity 250 + 20 × 75 − 2024 = −274. The short side holds bob 10 (basis 1000), frank 4 (400),
// carol 6 (624) and erin 2 (140): open interest 22, Σ basis 2164, net profit 2164 − 22 × 75 = 514. Profits: bob
// 1000 − 750 = 250, carol 624 − 450 = 174, frank 400 − 300 = 100, erin 140 − 150 = −10 (a loser).
// The fund pays 100 (all it has); the haircut takes the other 174 at the fraction f = ⌈174 / 514 × 10^18⌉.
const F = 338_521_400_778_210_117n;
const SHORTFALL = 274n * E;
const FUND_PAID = 100n * E;
const HAIRCUT = 174n * E;
const BOB_OWES = 250n * F; // 84.630350194552529250: f × 250, exact (the price index is 75 f, an integer)
const CAROL_OWES = 174n * F; // 58.902723735408560358
const FRANK_AT_RATE = 100n * F; // 33.852140077821011700, more than is left when he settles last
const FRANK_PAYS = HAIRCUT - BOB_OWES - CAROL_OWES; // 30.466926070038910392: the rest of the side's debt

describe("Bad debt: haircut of the other side's profit (SOL, policy haircut)", function () {
  it("takes exactly the shortfall beyond the fund from the winners' profit, pro rata, positions staying open", async function () {
    const c = await networkHelpers.loadFixture(haircutFixture);
    const { clearingHouse: ch, fund, alice, bob, carol, erin, frank, gina } = c;
    expect((await ch.accountHealth(alice.address)).equity).to.equal(-SHORTFALL);

    const receipt = await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(ch, fund, receipt)).to.deep.equal([
      quietFunding(SOL_MARKET, 75n * E),
      ev("Drawn", 100n * USD, 0n),
      ev("InsuranceFundDrawn", alice.address, alice.address, FUND_PAID),
      ev("ProfitHaircut", SOL_MARKET, false, HAIRCUT, 514n * E, F),
      // shortfall 274 = fund 100 + haircut 174; nothing deleveraged, nothing socialized
      ev("BadDebtResolved", alice.address, SOL_MARKET, SHORTFALL, FUND_PAID, 0n, 0n, 0n, HAIRCUT),
      // alice's 20 pass to gina at the oracle: ⌈20 × 75⌉ = 1500, realizing 1500 − 2024 = −524
      ev("PositionChanged", alice.address, SOL_MARKET, 0n, 0n, -524n * E, 0n),
      ev("PositionChanged", gina.address, SOL_MARKET, 22n * E, 1640n * E, 0n, 0n),
      ev("Liquidated", alice.address, gina.address, SOL_MARKET, 20n * E, 75n * E, 0n, 0n, true),
    ]);
    const a = await ch.accountHealth(alice.address);
    expect([a.collateral, a.equity]).to.deep.equal([0n, 0n]); // 250 − 524 + 100 + 174

    // Nobody's position moved: the hedge (short SOL here, long ETH) is whole.
    await expectPosition(ch, bob.address, SOL_MARKET, -10n * E, -1000n * E);
    await expectPosition(ch, carol.address, SOL_MARKET, -6n * E, -624n * E);
    await expectPosition(ch, erin.address, SOL_MARKET, -2n * E, -140n * E);
    await expectPosition(ch, frank.address, SOL_MARKET, -4n * E, -400n * E);
    await expectPosition(ch, frank.address, ETH_MARKET, 2n * E, 4000n * E);

    // What each owes shows at once (capped by the side's debt of 174): f × profit for each winner, 0 for erin.
    expect(await ch.haircutOwed(bob.address, SOL_MARKET)).to.equal(BOB_OWES);
    expect(await ch.haircutOwed(carol.address, SOL_MARKET)).to.equal(CAROL_OWES);
    expect(await ch.haircutOwed(frank.address, SOL_MARKET)).to.equal(FRANK_AT_RATE);
    expect(await ch.haircutOwed(erin.address, SOL_MARKET)).to.equal(0n);
    expect((await ch.accountHealth(bob.address)).equity).to.equal(1000n * E + 250n * E - BOB_OWES);
    expect((await ch.accountHealth(erin.address)).equity).to.equal(1000n * E - 10n * E); // its loss only
    const side = await ch.haircutSide(SOL_MARKET, false);
    expect([side.debt, side.rateIndex, side.priceIndex, side.costBasis]).to.deep.equal([
      HAIRCUT,
      F,
      75n * F,
      2164n * E,
    ]);

    // Settlement as they touch their accounts: bob, then carol, at the fraction f; frank last pays what is left,
    // so that the side gives up exactly 174 (erin's loss keeps the net profit below the winners' 524: see
    // DESIGN-NOTES, "Issue 10"). Nobody pays more than f × its profit, nor from its deposit.
    const settleBob = await mined(ch.connect(bob).withdraw(1n * USD));
    expect(waterfallEvents(ch, fund, settleBob)).to.deep.include(
      ev("ProfitHaircutSettled", bob.address, SOL_MARKET, BOB_OWES),
    );
    await mined(ch.connect(carol).withdraw(1n * USD));
    await mined(ch.connect(erin).withdraw(1n * USD));
    const settleFrank = await mined(ch.connect(frank).withdraw(1n * USD));
    expect(waterfallEvents(ch, fund, settleFrank)).to.deep.include(
      ev("ProfitHaircutSettled", frank.address, SOL_MARKET, FRANK_PAYS),
    );
    expect(BOB_OWES + CAROL_OWES + FRANK_PAYS).to.equal(HAIRCUT);
    expect(await ch.collateralOf(bob.address)).to.equal(999n * E - BOB_OWES);
    expect(await ch.collateralOf(carol.address)).to.equal(999n * E - CAROL_OWES);
    expect(await ch.collateralOf(erin.address)).to.equal(999n * E);
    expect(await ch.collateralOf(frank.address)).to.equal(999n * E - FRANK_PAYS);
    expect((await ch.haircutSide(SOL_MARKET, false)).debt).to.equal(0n);
    for (const s of [bob, carol, erin, frank]) expect(await ch.haircutOwed(s.address, SOL_MARKET)).to.equal(0n);
    // Still open after settling.
    await expectPosition(ch, frank.address, SOL_MARKET, -4n * E, -400n * E);
    await expectPosition(ch, frank.address, ETH_MARKET, 2n * E, 4000n * E);
  });

  it("takes no more than the side's net profit; the rest is socialized, and the receipt says so", async function () {
    const c = await networkHelpers.loadFixture(thinProfitFixture);
    const { clearingHouse: ch, fund, alice, bob, carol, gina } = c;
    // erin is short 100 at 70 (gina long 100): the shorts' basis is 1000 + 400 + 624 + 7000 = 9024 on 120, worth
    // 9000 at 75, a net profit of 24. The fund pays 100; the haircut takes 24 at f = 1; 150 is socialized over the
    // 120 shorts, 1.25 per unit.
    const receipt = await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    const events = waterfallEvents(ch, fund, receipt);
    expect(events).to.deep.include(ev("ProfitHaircut", SOL_MARKET, false, 24n * E, 24n * E, E));
    expect(events).to.deep.include(ev("LossSocialized", SOL_MARKET, false, 150n * E, (125n * E) / 100n));
    expect(events).to.deep.include(
      ev("BadDebtResolved", alice.address, SOL_MARKET, SHORTFALL, FUND_PAID, 0n, 150n * E, (125n * E) / 100n, 24n * E),
    );
    // bob settles first and pays the side's whole debt of 24 (≤ f × 250), plus 10 × 1.25 socialized; carol then
    // owes no haircut, only her 6 × 1.25.
    expect(await ch.haircutOwed(bob.address, SOL_MARKET)).to.equal(24n * E);
    await mined(ch.connect(bob).withdraw(1n * USD));
    expect(await ch.collateralOf(bob.address)).to.equal(999n * E - 24n * E - (125n * E) / 10n);
    expect(await ch.haircutOwed(carol.address, SOL_MARKET)).to.equal(0n);
    await mined(ch.connect(carol).withdraw(1n * USD));
    expect(await ch.collateralOf(carol.address)).to.equal(999n * E - (75n * E) / 10n);
  });
});

function thinProfitFixture(): Promise<HaircutCtx> {
  return haircutFixtureWith(100n);
}

/** The worked example: erin is short 2. */
export function haircutFixture(): Promise<HaircutCtx> {
  return haircutFixtureWith(2n);
}
