// Waterfall: the part the fund cannot pay socialized over the other side (BTC). Set-up and units: ./support.ts.
import { expect } from "chai";

import { BTC_MARKET, USD, ethers, networkHelpers } from "../../../devnet/hardhat/fixture.js";
import { expectPosition, fill, mined, signedOrder, trade } from "../../../devnet/hardhat/trading.js";
import {
  ev,
  expectClearingHouseFunds,
  expectCollateral,
  expectFund,
  expectMarket,
  plainMarket,
  quietFunding,
  setFundLimits,
  setPrice,
  waterfallEvents,
} from "../../../devnet/hardhat/waterfall.js";
import { E, FUND_SHARES, baseFixture } from "./support.js";
import type { Ctx } from "./support.js";

const BTC_SOCIAL_SIZE = (35n * E) / 100n; // 0.35 BTC
const R_B = 499_790_000_000_000_000_000n; // 604.2 − 104.41
const PER_UNIT_B = 1_427_971_428_571_428_571_429n; // ⌈499.79 × 10^18 / 0.35⌉ per BTC
const OWED_BOB_B = 356_992_857_142_857_142_858n; // ⌈0.25 × 1427.971428571428571429⌉
const OWED_ERIN_B = 142_797_142_857_142_857_143n; // ⌈0.1 × 1427.971428571428571429⌉

/**
 * alice deposits 2,200 and buys 0.25 BTC from bob and 0.1 BTC from erin at 60,000 (maker fees 3 + 1.2; taker
 * fees 7.5 and 3; pot 0.9 + 0.36 + 2.25 + 0.9 = 4.41). The fund keeps a floor of 9,900 of its 10,000: it can
 * pay 100. BTC falls to 52,000.
 */
async function btcSocializedFixture(): Promise<Ctx> {
  const c = await baseFixture({ alice: 2_200n, bob: 100_000n, carol: 100_000n, erin: 100_000n, frank: 0n });
  const btc = { marketId: BTC_MARKET, limitPrice: 60_000n * E };
  await trade(c.clearingHouse, c.alice, c.bob, { ...btc, size: E / 4n }, E / 4n);
  await trade(c.clearingHouse, c.alice, c.erin, { ...btc, size: E / 10n, nonce: 1n }, E / 10n);
  await setFundLimits(c, 9_900n * USD, 1_000_000n * USD);
  await setPrice(c.btcFeed, 52_000n * E);
  return c;
}

describe("Bad debt: partly covered by the fund, the rest socialized (BTC)", function () {
  it("charges the remainder to the other side's index, shows it before settlement, settles it on touch", async function () {
    const c = await networkHelpers.loadFixture(btcSocializedFixture);
    const { clearingHouse, fund, alice, bob, carol, erin } = c;
    // alice: 2200 − 4.2 + 0.35 × (52000 − 60000) = −604.2.
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal((-6042n * E) / 10n);
    expect(await fund.availableForDraw()).to.equal(100n * USD);

    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, BTC_MARKET, ethers.MaxUint256));
    // Pot 4.41 + fund 100 (down to its floor) = 104.41; R = 604.2 − 104.41 = 499.79 over the shorts' OI 0.35
    // (carol, flat before, is not on that side): ⌈499.79 / 0.35⌉ = 1427.971428571428571429 per BTC. All of it
    // before the hand-over; no reward.
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(BTC_MARKET, 52_000n * E),
      ev("Drawn", 100n * USD, 9_900n * USD),
      ev("InsuranceFundDrawn", alice.address, alice.address, (10_441n * E) / 100n),
      ev("LossSocialized", BTC_MARKET, false, R_B, PER_UNIT_B),
      ev(
        "BadDebtResolved",
        alice.address,
        BTC_MARKET,
        (6042n * E) / 10n,
        (10_441n * E) / 100n,
        0n,
        R_B,
        PER_UNIT_B,
        0n,
      ),
      ev("PositionChanged", alice.address, BTC_MARKET, 0n, 0n, -2800n * E, 0n),
      ev("PositionChanged", carol.address, BTC_MARKET, BTC_SOCIAL_SIZE, 18_200n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, BTC_MARKET, BTC_SOCIAL_SIZE, 52_000n * E, 0n, 0n, true),
    ]);

    // alice: −604.2 + 104.41 + 499.79 = 0.
    const h = await clearingHouse.accountHealth(alice.address);
    expect([h.collateral, h.equity]).to.deep.equal([0n, 0n]);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, carol.address, BTC_MARKET, BTC_SOCIAL_SIZE, 18_200n * E);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectMarket(clearingHouse, BTC_MARKET, {
      ...plainMarket(BTC_SOCIAL_SIZE),
      shortSocialLossIndex: PER_UNIT_B,
    });
    // 302,200 deposited + 100 drawn; pot spent; protocol fees 4.2 + 7.5 + 3 − 4.41 = 10.29.
    await expectClearingHouseFunds(c, {
      tokenBalance: 302_300n * USD,
      insuranceFees: 0n,
      protocolFees: (1029n * E) / 100n,
    });
    await expectFund(c, { totalAssets: 9_900n * USD, totalSupply: FUND_SHARES, availableForDraw: 0n });

    // Before settlement the charge is visible but collateral is untouched.
    // bob: collateral 100000 − 7.5 = 99992.5; unrealized 0.25 × 8000 = 2000; owes 356.992857142857142858.
    // erin: collateral 100000 − 3 = 99997; unrealized 0.1 × 8000 = 800; owes 142.797142857142857143.
    expect(OWED_BOB_B + OWED_ERIN_B).to.equal(R_B + 1n); // the side pays R, plus one wei of rounding up
    expect((await clearingHouse.positionOf(bob.address, BTC_MARKET)).socialLossOwed).to.equal(OWED_BOB_B);
    expect((await clearingHouse.positionOf(erin.address, BTC_MARKET)).socialLossOwed).to.equal(OWED_ERIN_B);
    expect((await clearingHouse.positionOf(carol.address, BTC_MARKET)).socialLossOwed).to.equal(0n);
    const bobHealth = await clearingHouse.accountHealth(bob.address);
    expect([bobHealth.collateral, bobHealth.equity]).to.deep.equal([
      99_992_500_000_000_000_000_000n,
      101_635_507_142_857_142_857_142n, // 99992.5 + 2000 − 356.992857142857142858
    ]);
    const erinHealth = await clearingHouse.accountHealth(erin.address);
    expect([erinHealth.collateral, erinHealth.equity]).to.deep.equal([
      99_997n * E,
      100_654_202_857_142_857_142_857n, // 99997 + 800 − 142.797142857142857143
    ]);

    // bob settles by withdrawing 1 USD.
    const withdrawal = await mined(clearingHouse.connect(bob).withdraw(USD));
    expect(waterfallEvents(clearingHouse, fund, withdrawal)).to.deep.equal([
      quietFunding(BTC_MARKET, 52_000n * E),
      ev("SocialLossSettled", bob.address, BTC_MARKET, OWED_BOB_B),
      ev("Withdrawn", bob.address, USD),
    ]);
    await expectCollateral(clearingHouse, bob.address, 99_634_507_142_857_142_857_142n); // 99992.5 − 356.99… − 1
    expect((await clearingHouse.positionOf(bob.address, BTC_MARKET)).socialLossOwed).to.equal(0n);

    // erin settles through a fill: she buys back 0.05 BTC at 52,000 from carol (notional 2600; erin's maker fee
    // 0.52, 30% = 0.156 to the pot; carol's taker fee 1.3, 30% = 0.39).
    const order = await signedOrder(clearingHouse, erin, {
      marketId: BTC_MARKET,
      size: E / 20n,
      limitPrice: 52_000n * E,
    });
    const fillReceipt = await mined(fill(clearingHouse, carol, order, E / 20n));
    // erin closes half her short (cost −6000 → −3000): realized 3000 − 2600 = 400.
    // carol sells 0.05 of 0.35 (cost 18200 → 15600) at 2600: realized 0.
    expect(waterfallEvents(clearingHouse, fund, fillReceipt)).to.deep.equal([
      quietFunding(BTC_MARKET, 52_000n * E),
      ev("FeesCollected", BTC_MARKET, (52n * E) / 100n, (156n * E) / 1000n),
      ev("SocialLossSettled", erin.address, BTC_MARKET, OWED_ERIN_B),
      ev("PositionChanged", erin.address, BTC_MARKET, -E / 20n, -3000n * E, 400n * E, (52n * E) / 100n),
      ev("FeesCollected", BTC_MARKET, (13n * E) / 10n, (39n * E) / 100n),
      ev("PositionChanged", carol.address, BTC_MARKET, (3n * E) / 10n, 15_600n * E, 0n, (13n * E) / 10n),
      ev("OrderFilled", order.hash, erin.address, carol.address, BTC_MARKET, true, E / 20n, 52_000n * E),
    ]);
    // erin: 99997 − 142.797142857142857143 + 400 − 0.52
    await expectCollateral(clearingHouse, erin.address, 100_253_682_857_142_857_142_857n);
    await expectCollateral(clearingHouse, carol.address, 99_998_700_000_000_000_000_000n); // 100000 − 1.3
    expect((await clearingHouse.positionOf(erin.address, BTC_MARKET)).socialLossOwed).to.equal(0n);
    await expectPosition(clearingHouse, bob.address, BTC_MARKET, -E / 4n, -15_000n * E);
    await expectMarket(clearingHouse, BTC_MARKET, {
      ...plainMarket((3n * E) / 10n),
      shortSocialLossIndex: PER_UNIT_B,
    });
    await expectClearingHouseFunds(c, {
      tokenBalance: 302_299n * USD,
      insuranceFees: (546n * E) / 1000n, // 0.156 + 0.39
      protocolFees: (1029n * E) / 100n + (1274n * E) / 1000n, // + 0.364 + 0.91
    });
  });
});
