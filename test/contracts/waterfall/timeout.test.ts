// Waterfall: socializeAfterTimeout, once a deleverage case has waited its timeout. Set-up and units: ./support.ts.
import { expect } from "chai";

import { ETH_MARKET, USD, networkHelpers } from "../../../devnet/hardhat/fixture.js";
import { expectPosition, mined } from "../../../devnet/hardhat/trading.js";
import {
  caseOf,
  ev,
  expectClearingHouseFunds,
  expectCollateral,
  expectFund,
  expectMarket,
  plainMarket,
  quietFunding,
  setPrice,
  waterfallEvents,
  waterfallSnapshot,
} from "../../../devnet/hardhat/waterfall.js";
import { E, FUND_SHARES, accountsOf, adlCaseFixture } from "./support.js";

const HOUR = 3600n;

describe("Bad debt: partly covered by the fund, then deleveraged (ETH)", function () {
  it("after the timeout, socializeAfterTimeout hands the position over, draws the fund's part then, socializes the rest", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse, fund, alice, bob, carol, erin } = c;
    const readyAt = c.openedAt + HOUR; // default deleverage timeout: one hour
    const accounts = accountsOf(c);
    const before = await waterfallSnapshot(c, accounts);
    await expect(clearingHouse.connect(carol).socializeAfterTimeout(alice.address))
      .to.be.revertedWithCustomError(clearingHouse, "DeleverageTimeoutNotReached")
      .withArgs(alice.address, readyAt);
    expect(await waterfallSnapshot(c, accounts)).to.deep.equal(before);

    await networkHelpers.time.increaseTo(readyAt);
    await setPrice(c.ethFeed, 1700n * E); // a fresh round: the feed's heartbeat is also one hour
    const receipt = await mined(clearingHouse.connect(carol).socializeAfterTimeout(alice.address));
    // carol will take 3 ETH at 1700 = 5100; alice realizes 5100 − 6000 = −900 → collateral 698.8 − 900 = −201.2.
    // That deficit is paid first, while the shorts still hold all they held: pot 1.68, then the fund is asked
    // for ⌈199.52⌉ units and pays the 49 USD of its window (still the window in which the case opened): 50.68.
    // 201.2 − 50.68 = 150.52 over the shorts' OI 4 (bob 2, erin 2): 37.63 per ETH. Then the hand-over.
    // Receipt: 201.2 = fund 50.68 + socialized 150.52.
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("Drawn", 49n * USD, 9_951n * USD), // 10,000 − 49
      ev("InsuranceFundDrawn", alice.address, alice.address, (5068n * E) / 100n),
      ev("LossSocialized", ETH_MARKET, false, (15_052n * E) / 100n, (3763n * E) / 100n),
      ev(
        "BadDebtResolved",
        alice.address,
        ETH_MARKET,
        (2012n * E) / 10n,
        (5068n * E) / 100n,
        0n,
        (15_052n * E) / 100n,
        (3763n * E) / 100n,
        0n,
      ),
      ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, -900n * E, 0n),
      ev("PositionChanged", carol.address, ETH_MARKET, 3n * E, 5100n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, 3n * E, 1700n * E, 0n, 0n, true),
    ]);
    await expectCollateral(clearingHouse, alice.address, 0n);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 3n * E, 5100n * E);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    // The closed case keeps its totals: the 50.68 drawn at resolution, nothing deleveraged.
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([
      false,
      false,
      ETH_MARKET,
      c.openedAt,
      (2012n * E) / 10n,
      (5068n * E) / 100n,
      0n,
    ]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
    await expectMarket(clearingHouse, ETH_MARKET, { ...plainMarket(4n * E), shortSocialLossIndex: (3763n * E) / 100n });
    // Each short owes ⌈2 × 37.63⌉ = 75.26; bob's equity 998 + 600 − 75.26, erin's 9998 + 600 − 75.26.
    for (const [who, collateral, equity] of [
      [bob, 998n * E, (152_274n * E) / 100n],
      [erin, 9_998n * E, (1_052_274n * E) / 100n],
    ] as const) {
      expect((await clearingHouse.positionOf(who.address, ETH_MARKET)).socialLossOwed).to.equal((7526n * E) / 100n);
      const h = await clearingHouse.accountHealth(who.address);
      expect([h.collateral, h.equity]).to.deep.equal([collateral, equity]);
    }
    await expectFund(c, { totalAssets: 9_951n * USD, totalSupply: FUND_SHARES, availableForDraw: 0n });
    await expectClearingHouseFunds(c, {
      tokenBalance: 121_749n * USD,
      insuranceFees: 0n,
      protocolFees: (392n * E) / 100n,
    });

    // The lock is gone: bob withdraws, settling his share on the way.
    const withdrawal = await mined(clearingHouse.connect(bob).withdraw(USD));
    expect(waterfallEvents(clearingHouse, fund, withdrawal)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("SocialLossSettled", bob.address, ETH_MARKET, (7526n * E) / 100n),
      ev("Withdrawn", bob.address, USD),
    ]);
    await expectCollateral(clearingHouse, bob.address, (92_174n * E) / 100n); // 998 − 75.26 − 1
  });
});
