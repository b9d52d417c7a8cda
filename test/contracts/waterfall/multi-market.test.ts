// Waterfall: a bankrupt account with positions in both markets. Set-up and units: ./support.ts.
import { expect } from "chai";

import { BTC_MARKET, ETH_MARKET, USD, ethers, networkHelpers } from "../../../devnet/hardhat/fixture.js";
import { expectPosition, mined, trade } from "../../../devnet/hardhat/trading.js";
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
  waterfallSnapshot,
} from "../../../devnet/hardhat/waterfall.js";
import { E, FUND_SHARES, baseFixture, accountsOf } from "./support.js";
import type { Ctx } from "./support.js";

/**
 * alice deposits 1,100 and buys 2 ETH at 2,000 from bob and 0.1 BTC at 60,000 from erin (maker fees 0.8 + 1.2;
 * taker fees 2 and 3; pot 30% × 7 = 2.1). The fund may pay 100 USD a day. ETH falls to 1,800, BTC to 52,000:
 * alice's equity = 1100 − 2 − 400 − 800 = −102.
 */
async function twoMarketFixture(): Promise<Ctx> {
  const c = await baseFixture({ alice: 1_100n, bob: 100_000n, carol: 100_000n, erin: 100_000n, frank: 0n });
  await setFundLimits(c, 0n, 100n * USD);
  await trade(c.clearingHouse, c.alice, c.bob, { size: 2n * E }, 2n * E);
  await trade(
    c.clearingHouse,
    c.alice,
    c.erin,
    { marketId: BTC_MARKET, size: E / 10n, limitPrice: 60_000n * E, nonce: 1n },
    E / 10n,
  );
  await setPrice(c.ethFeed, 1800n * E);
  await setPrice(c.btcFeed, 52_000n * E);
  return c;
}

describe("Bad debt: a bankrupt account with positions in both markets", function () {
  it("ETH (the smaller) first is handed over without realizing the deficit; BTC last realizes it and socializes the rest", async function () {
    const c = await networkHelpers.loadFixture(twoMarketFixture);
    const { clearingHouse, fund, alice, bob, carol, erin } = c;
    // The fund may pay 64 USD: with the pot's 2.1, 66.1 of the deficit 102.
    await setFundLimits(c, 0n, 64n * USD);
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(-102n * E);
    // oracle − equity / size with the other position at its oracle: ETH 1800 + 102 / 2; BTC 52000 + 102 / 0.1.
    expect(await clearingHouse.bankruptcyPrice(alice.address, ETH_MARKET)).to.equal(1851n * E);
    expect(await clearingHouse.bankruptcyPrice(alice.address, BTC_MARKET)).to.equal(53_020n * E);

    // ETH (notional 3600, below BTC's 5200): not alice's last position, so it is handed over at 1800 (realized
    // 3600 − 4000 = −400) with no reward and nothing drawn.
    const first = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(clearingHouse, fund, first)).to.deep.equal([
      quietFunding(ETH_MARKET, 1800n * E),
      quietFunding(BTC_MARKET, 52_000n * E),
      ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, -400n * E, 0n),
      ev("PositionChanged", carol.address, ETH_MARKET, 2n * E, 3600n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, 2n * E, 1800n * E, 0n, 0n, true),
    ]);
    // alice: collateral 1098 − 400 = 698, equity still 698 − 800 = −102; no receipt yet.
    await expectCollateral(clearingHouse, alice.address, 698n * E);
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(-102n * E);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([BTC_MARKET]);
    expect(await clearingHouse.bankruptcyPrice(alice.address, BTC_MARKET)).to.equal(53_020n * E);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectFund(c, { totalAssets: 10_000n * USD, totalSupply: FUND_SHARES, availableForDraw: 64n * USD });

    // BTC, the last position: it will pass at 52,000 (realized 5200 − 6000 = −800 → collateral −102). Before it
    // does, the pot's 2.1 and the fund's 64 pay 66.1, and 35.9 goes over the shorts' OI 0.1 = 359 per BTC.
    const second = await mined(clearingHouse.connect(carol).liquidate(alice.address, BTC_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(clearingHouse, fund, second)).to.deep.equal([
      quietFunding(BTC_MARKET, 52_000n * E),
      ev("Drawn", 64n * USD, 9_936n * USD),
      ev("InsuranceFundDrawn", alice.address, alice.address, (661n * E) / 10n),
      ev("LossSocialized", BTC_MARKET, false, (359n * E) / 10n, 359n * E),
      ev("BadDebtResolved", alice.address, BTC_MARKET, 102n * E, (661n * E) / 10n, 0n, (359n * E) / 10n, 359n * E, 0n),
      ev("PositionChanged", alice.address, BTC_MARKET, 0n, 0n, -800n * E, 0n),
      ev("PositionChanged", carol.address, BTC_MARKET, E / 10n, 5200n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, BTC_MARKET, E / 10n, 52_000n * E, 0n, 0n, true),
    ]);
    const h = await clearingHouse.accountHealth(alice.address);
    expect([h.collateral, h.equity]).to.deep.equal([0n, 0n]);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 2n * E, 3600n * E);
    await expectPosition(clearingHouse, carol.address, BTC_MARKET, E / 10n, 5200n * E);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, -2n * E, -4000n * E);
    await expectCollateral(clearingHouse, bob.address, 99_998n * E);
    await expectPosition(clearingHouse, erin.address, BTC_MARKET, -E / 10n, -6000n * E);
    await expectCollateral(clearingHouse, erin.address, 99_997n * E);
    expect((await clearingHouse.positionOf(erin.address, BTC_MARKET)).socialLossOwed).to.equal((359n * E) / 10n);
    expect((await clearingHouse.positionOf(bob.address, ETH_MARKET)).socialLossOwed).to.equal(0n);
    await expectMarket(clearingHouse, ETH_MARKET, plainMarket(2n * E));
    await expectMarket(clearingHouse, BTC_MARKET, { ...plainMarket(E / 10n), shortSocialLossIndex: 359n * E });
    // 301,100 deposited + 64 drawn; protocol fees 7 − 2.1 = 4.9.
    await expectClearingHouseFunds(c, {
      tokenBalance: 301_164n * USD,
      insuranceFees: 0n,
      protocolFees: (49n * E) / 10n,
    });
    await expectFund(c, { totalAssets: 9_936n * USD, totalSupply: FUND_SHARES, availableForDraw: 0n });
  });

  it("BTC (the larger) first reverts LargestPositionGoesLast and changes nothing", async function () {
    // The deficit is realized with the last position and charged over the other side of its market, which is at
    // least as large as that position: realizing it with the smallest (a dust market) would let a thin side
    // carry the whole deficit (issue 9, finding 1). BTC's notional 5200 is above ETH's 3600.
    const c = await networkHelpers.loadFixture(twoMarketFixture);
    const { clearingHouse, alice, carol } = c;
    const accounts = accountsOf(c);
    const before = await waterfallSnapshot(c, accounts);
    await expect(clearingHouse.connect(carol).liquidate(alice.address, BTC_MARKET, ethers.MaxUint256))
      .to.be.revertedWithCustomError(clearingHouse, "LargestPositionGoesLast")
      .withArgs(alice.address, BTC_MARKET);
    expect(await waterfallSnapshot(c, accounts)).to.deep.equal(before);
  });
});
