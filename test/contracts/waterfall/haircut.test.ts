// Waterfall, loss policy "haircut" (issue 10): what the fund cannot pay is taken from the other side's profit pro
// rata to profit, positions staying open. Units as in ./support.ts (18-decimal wei unless "units").
import { expect } from "chai";

import { ETH_MARKET, USD, ethers, networkHelpers } from "../../../devnet/hardhat/fixture.js";
import { expectPosition, mined } from "../../../devnet/hardhat/trading.js";
import { ev, quietFunding, waterfallEvents } from "../../../devnet/hardhat/waterfall.js";
import {
  BOB_OWES,
  CAROL_OWES,
  E,
  F,
  FRANK_OWES,
  FUND_PAID,
  HAIRCUT,
  ROUNDING,
  SHORTFALL,
  SOL_MARKET,
  haircutFixture,
  WINNERS_PROFIT,
  thinProfitFixture,
} from "./haircut-support.js";

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
      ev("ProfitHaircut", SOL_MARKET, false, HAIRCUT, WINNERS_PROFIT, F),
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

    // What each owes shows at once: f × profit for each winner, 0 for erin, the loser.
    expect(await ch.haircutOwed(bob.address, SOL_MARKET)).to.equal(BOB_OWES);
    expect(await ch.haircutOwed(carol.address, SOL_MARKET)).to.equal(CAROL_OWES);
    expect(await ch.haircutOwed(frank.address, SOL_MARKET)).to.equal(FRANK_OWES);
    expect(await ch.haircutOwed(erin.address, SOL_MARKET)).to.equal(0n);
    // The lens reads them in one call.
    expect(
      await c.lens.haircutsOwed(SOL_MARKET, [bob.address, carol.address, erin.address, frank.address]),
    ).to.deep.equal([BOB_OWES, CAROL_OWES, 0n, FRANK_OWES]);
    expect((await ch.accountHealth(bob.address)).equity).to.equal(1000n * E + 250n * E - BOB_OWES);
    expect((await ch.accountHealth(erin.address)).equity).to.equal(1000n * E - 10n * E); // its loss only
    const side = await ch.haircutSide(SOL_MARKET, false);
    expect([side.debt, side.rateIndex, side.priceIndex, side.charges, side.costBasis]).to.deep.equal([
      HAIRCUT,
      F,
      75n * F,
      1n,
      2164n * E,
    ]);

    // Settlement as they touch their accounts, frank first this time: each pays f × its profit whatever the order;
    // carol, last, pays the rest of the side's debt, 348 wei (the rounding up of f) less than f × 174. Nobody pays
    // more than f × its profit, nor from its deposit; erin pays nothing.
    const settleFrank = await mined(ch.connect(frank).withdraw(1n * USD));
    expect(waterfallEvents(ch, fund, settleFrank)).to.deep.include(
      ev("ProfitHaircutSettled", frank.address, SOL_MARKET, FRANK_OWES),
    );
    const settleBob = await mined(ch.connect(bob).withdraw(1n * USD));
    expect(waterfallEvents(ch, fund, settleBob)).to.deep.include(
      ev("ProfitHaircutSettled", bob.address, SOL_MARKET, BOB_OWES),
    );
    await mined(ch.connect(erin).withdraw(1n * USD));
    const settleCarol = await mined(ch.connect(carol).withdraw(1n * USD));
    expect(waterfallEvents(ch, fund, settleCarol)).to.deep.include(
      ev("ProfitHaircutSettled", carol.address, SOL_MARKET, CAROL_OWES - ROUNDING),
    );
    expect(ROUNDING).to.equal(348n);
    expect(BOB_OWES + CAROL_OWES - ROUNDING + FRANK_OWES).to.equal(HAIRCUT);
    expect(await ch.collateralOf(bob.address)).to.equal(999n * E - BOB_OWES);
    expect(await ch.collateralOf(carol.address)).to.equal(999n * E - CAROL_OWES + ROUNDING);
    expect(await ch.collateralOf(erin.address)).to.equal(999n * E);
    expect(await ch.collateralOf(frank.address)).to.equal(999n * E - FRANK_OWES);
    expect((await ch.haircutSide(SOL_MARKET, false)).debt).to.equal(0n);
    for (const s of [bob, carol, erin, frank]) expect(await ch.haircutOwed(s.address, SOL_MARKET)).to.equal(0n);
    // Still open after settling.
    await expectPosition(ch, frank.address, SOL_MARKET, -4n * E, -400n * E);
    await expectPosition(ch, frank.address, ETH_MARKET, 2n * E, 4000n * E);
  });

  it("takes no more than the winners' profit, a loser's position counting for nothing; the rest is socialized", async function () {
    const c = await networkHelpers.loadFixture(thinProfitFixture);
    const { clearingHouse: ch, fund, alice, carol, erin, gina } = c;
    // Shorts at 75: carol 1 at 104 (profit 29), erin 21 at 70 (a loss of 105, which does not offset carol's profit).
    // The fund pays 100; the haircut takes carol's 29 at f = 1; 145 is socialized over the 22 shorts,
    // ⌈145 / 22⌉ = 6.590909090909090910 per unit.
    const perUnit = 6_590_909_090_909_090_910n;
    const receipt = await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    const events = waterfallEvents(ch, fund, receipt);
    expect(events).to.deep.include(ev("ProfitHaircut", SOL_MARKET, false, 29n * E, 29n * E, E));
    expect(events).to.deep.include(ev("LossSocialized", SOL_MARKET, false, 145n * E, perUnit));
    expect(events).to.deep.include(
      ev("BadDebtResolved", alice.address, SOL_MARKET, SHORTFALL, FUND_PAID, 0n, 145n * E, perUnit, 29n * E),
    );
    expect(await ch.haircutOwed(carol.address, SOL_MARKET)).to.equal(29n * E);
    expect(await ch.haircutOwed(erin.address, SOL_MARKET)).to.equal(0n);
    // carol realized 5 × 34 = 170 at 70; she gives up her 29 and 1 × perUnit; erin only her 21 × perUnit.
    await mined(ch.connect(carol).withdraw(1n * USD));
    expect(await ch.collateralOf(carol.address)).to.equal(1170n * E - 1n * E - 29n * E - perUnit);
    await mined(ch.connect(erin).withdraw(1n * USD));
    expect(await ch.collateralOf(erin.address)).to.equal(999n * E - 21n * perUnit); // she opened at 70: nothing realized
  });
});
