// Waterfall: auto-deleveraging the counterparties of an open case in score order. Set-up and units: ./support.ts.
import { expect } from "chai";

import { ETH_MARKET, USD, ethers, networkHelpers } from "../../../devnet/hardhat/fixture.js";
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
  waterfallEvents,
} from "../../../devnet/hardhat/waterfall.js";
import { E, FUND_SHARES, SCORE_BOB, SCORE_ERIN, adlCaseFixture } from "./support.js";

const LOSS_1 = 100_346_666_666_666_666_666n; // ⌊150.52 × 2 / 3⌋
const LOSS_2 = 50_173_333_333_333_333_334n; // 150.52 − LOSS_1: the last part takes the rest

describe("Bad debt: partly covered by the fund, then deleveraged (ETH)", function () {
  it("deleverages the two counterparties of the first entry bucket; the case closes with its receipt", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse, fund, alice, bob, carol, dave, erin, frank } = c;

    // bob first (he and erin share the first bucket: either may go). The fund's part of the deficit 201.2 is what it can pay now: the pot's 1.68 and
    // the 49 USD left in its window, 50.68; it is kept for the end, so that the fund pays nothing while alice
    // still holds a position (issue 9, finding 7). bob takes back 2 of alice's 3 ETH and gives up his share of
    // the rest, ⌊(201.2 − 50.68) × 2/3⌋ = 100.346666666666666666, against the oracle: alice sells at
    // (2 × 1700 + 100.3466…) / 2.
    const first = await mined(
      clearingHouse.connect(carol).autoDeleverage(alice.address, ETH_MARKET, bob.address, 2n * E),
    );
    const notional1 = 3400n * E + LOSS_1; // 3500.346666666666666666
    // alice: realized 3500.346666666666666666 − 4000 = −499.653333333333333334; bob: +499.653333333333333334.
    expect(waterfallEvents(clearingHouse, fund, first)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("PositionChanged", alice.address, ETH_MARKET, E, 2000n * E, notional1 - 4000n * E, 0n),
      ev("PositionChanged", bob.address, ETH_MARKET, 0n, 0n, 4000n * E - notional1, 0n),
      // price = ⌊3500.346666666666666666 / 2⌋ = 1750.173333333333333333
      ev(
        "Deleveraged",
        alice.address,
        bob.address,
        ETH_MARKET,
        2n * E,
        1_750_173_333_333_333_333_333n,
        LOSS_1,
        SCORE_BOB,
      ),
    ]);
    // alice: 698.8 − 499.653333333333333334 = 199.146666666666666666; equity 199.14666… − 1 × (2000 − 1700) =
    // −100.853333333333333334 = −(50.68 + LOSS_2): the fund's part is still owed.
    await expectCollateral(clearingHouse, alice.address, 199_146_666_666_666_666_666n);
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(-((5068n * E) / 100n + LOSS_2));
    await expectCollateral(clearingHouse, bob.address, 1_497_653_333_333_333_333_334n); // 998 + 499.65…
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, 0n, 0n);
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([
      true,
      false,
      ETH_MARKET,
      c.openedAt,
      (2012n * E) / 10n,
      0n,
      LOSS_1,
    ]);
    await expectMarket(clearingHouse, ETH_MARKET, { ...plainMarket(2n * E), shortDeleverageCases: 1n });
    // Nothing drawn yet: the pot keeps its 1.68 and the fund its 49 for the window.
    await expectClearingHouseFunds(c, {
      tokenBalance: 121_700n * USD,
      insuranceFees: (168n * E) / 100n,
      protocolFees: (392n * E) / 100n,
    });
    await expectFund(c, { totalAssets: 10_000n * USD, totalSupply: FUND_SHARES, availableForDraw: 49n * USD });
    // erin's rank has not moved.
    expect((await clearingHouse.adlRank(erin.address, ETH_MARKET)).score).to.equal(SCORE_ERIN);

    // erin second: she asks for 2 but only alice's last 1 ETH is left; the last part takes all but the fund's
    // part, 100.853333333333333334 − 50.68 = 50.173333…. alice is then flat at −50.68 and the fund pays it:
    // pot 1.68, then 49 units.
    const second = await mined(
      clearingHouse.connect(carol).autoDeleverage(alice.address, ETH_MARKET, erin.address, 2n * E),
    );
    const notional2 = 1700n * E + LOSS_2; // 1750.173333333333333334
    // erin closes 1 of 2 (cost −4000 → −2000): realized 2000 − 1750.173333333333333334 = 249.826666666666666666.
    expect(waterfallEvents(clearingHouse, fund, second)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, notional2 - 2000n * E, 0n),
      ev("PositionChanged", erin.address, ETH_MARKET, -E, -2000n * E, 2000n * E - notional2, 0n),
      ev("Deleveraged", alice.address, erin.address, ETH_MARKET, E, notional2, LOSS_2, SCORE_ERIN),
      ev("Drawn", 49n * USD, 9_951n * USD), // 10,000 − 49
      ev("InsuranceFundDrawn", alice.address, alice.address, (5068n * E) / 100n),
      // shortfall 201.2 = fund 50.68 + deleveraged 150.52
      ev(
        "BadDebtResolved",
        alice.address,
        ETH_MARKET,
        (2012n * E) / 10n,
        (5068n * E) / 100n,
        (15_052n * E) / 100n,
        0n,
        0n,
        0n,
      ),
    ]);
    expect(LOSS_1 + LOSS_2).to.equal((15_052n * E) / 100n);

    // alice: 199.146666666666666666 − 249.826666666666666666 + 50.68 = 0, nothing open.
    const h = await clearingHouse.accountHealth(alice.address);
    expect([h.collateral, h.equity]).to.deep.equal([0n, 0n]);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectCollateral(clearingHouse, erin.address, 10_247_826_666_666_666_666_666n); // 9998 + 249.82…
    await expectPosition(clearingHouse, erin.address, ETH_MARKET, -E, -2000n * E);
    await expectPosition(clearingHouse, frank.address, ETH_MARKET, E, 2000n * E);
    await expectCollateral(clearingHouse, frank.address, (99_996n * E) / 10n);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 0n, 0n);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([
      false,
      false,
      ETH_MARKET,
      c.openedAt,
      (2012n * E) / 10n,
      (5068n * E) / 100n,
      (15_052n * E) / 100n,
    ]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
    await expectMarket(clearingHouse, ETH_MARKET, plainMarket(E));
    await expectClearingHouseFunds(c, {
      tokenBalance: 121_749n * USD,
      insuranceFees: 0n,
      protocolFees: (392n * E) / 100n,
    });

    // Closed: erin (still short) withdraws; dave unstakes min(value at request, value now) =
    // min(⌊5×10^15 × (10^10 + 1) / (10^16 + 10^6)⌋ = 5,000,000,000, ⌊5×10^15 × (9,951,000,000 + 1) / (10^16 + 10^6)⌋
    // = 4,975,500,000) units.
    const withdrawal = await mined(clearingHouse.connect(erin).withdraw(USD));
    expect(waterfallEvents(clearingHouse, fund, withdrawal)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("Withdrawn", erin.address, USD),
    ]);
    await networkHelpers.time.increase(3600); // the exit exposure after confirming
    const unstake = await mined(fund.connect(dave).unstake());
    expect(waterfallEvents(clearingHouse, fund, unstake)).to.deep.equal([
      ev("Transfer", await fund.getAddress(), ethers.ZeroAddress, FUND_SHARES / 2n),
      ev("Unstaked", dave.address, FUND_SHARES / 2n, 4_975_500_000n),
    ]);
    await expectFund(c, { totalAssets: 4_975_500_000n, totalSupply: FUND_SHARES / 2n, availableForDraw: 0n });
    await expectClearingHouseFunds(c, {
      tokenBalance: 121_748n * USD,
      insuranceFees: 0n,
      protocolFees: (392n * E) / 100n,
    });
  });
});
