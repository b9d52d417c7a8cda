// Waterfall: the pot and the insurance fund cover the whole deficit. Set-up and units: ./support.ts.
import { expect } from "chai";

import { BTC_MARKET, ETH_MARKET, ethers, networkHelpers } from "../../../devnet/hardhat/fixture.js";
import { expectPosition, mined, trade } from "../../../devnet/hardhat/trading.js";
import {
  caseOf,
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
import { E, FUND_SHARES, baseFixture, ethCoveredFixture } from "./support.js";
import type { Ctx } from "./support.js";

const THIRD = 333_333_333_333_333_333n; // 1/3 BTC, rounded down to the wei
const THIRD_AT_60K = 19_999_999_999_999_999_980_000n; // 333333333333333333 × 60000
const THIRD_AT_53K = 17_666_666_666_666_666_649_000n; // 333333333333333333 × 53000

/**
 * alice deposits 2,100 and buys 1/3 BTC at 60,000 from bob (maker fee ⌈19999.99999999999998 × 2 bp⌉ =
 * 3.999999999999999996, bob's taker fee 9.99999999999999999); BTC then falls to 53,000.
 */
async function btcCoveredFixture(): Promise<Ctx> {
  const c = await baseFixture({ alice: 2_100n, bob: 100_000n, carol: 100_000n, erin: 0n, frank: 0n });
  await trade(c.clearingHouse, c.alice, c.bob, { marketId: BTC_MARKET, size: THIRD, limitPrice: 60_000n * E }, THIRD);
  await setPrice(c.btcFeed, 53_000n * E);
  return c;
}

describe("Bad debt: a bankrupt account fully covered by the insurance fund", function () {
  it("socialized market (BTC): pot then fund in whole units before the position moves at the oracle; no reward", async function () {
    const c = await networkHelpers.loadFixture(btcCoveredFixture);
    const { clearingHouse, fund, alice, bob, carol } = c;

    // alice: collateral 2100 − 3.999999999999999996 = 2096.000000000000000004;
    // unrealized at 53,000 = 17666.666666666666649 − 19999.99999999999998 = −2333.333333333333331;
    // equity = −237.333333333333330996.
    const deficit = 237_333_333_333_333_330_996n;
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(-deficit);
    // Bankruptcy price = oracle − equity / size = 53000 + 237.333333333333330996 / 0.333333333333333333
    // = 53000 + ⌈237333333333333330996 × 10^18 / 333333333333333333⌉ wei = 53711.9999999999999937 (rounded up
    // for a long: the protocol's side).
    expect(await clearingHouse.bankruptcyPrice(alice.address, BTC_MARKET)).to.equal(53_711_999_999_999_999_993_700n);
    expect(await clearingHouse.bankruptcyPrice(alice.address, ETH_MARKET)).to.equal(0n); // no position there

    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, BTC_MARKET, ethers.MaxUint256));

    // The deficit is the collateral alice will have once her position has passed at the oracle: she sells 1/3
    // BTC for ⌈1/3 × 53000⌉ = 17666.666666666666649, realizing 17666.666666666666649 − 19999.99999999999998 =
    // −2333.333333333333331 → collateral −237.333333333333330996. It is paid before the position moves.
    // Pot (fees set aside): 30% of 3.999999999999999996 → 1.199999999999999998, of 9.99999999999999999 →
    // 2.999999999999999997; pot = 4.199999999999999995, paid first.
    // Fund: ⌈(237.333333333333330996 − 4.199999999999999995) / 10^-6⌉ = ⌈233.133333333333331001⌉ → 233,133,334
    // units; the excess 233.133334 − 233.133333333333331001 = 0.000000666666668999 goes back to the pot.
    // No reward on a bankrupt account (issue 9, finding 2): the fund pays the deficit and nothing else.
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(BTC_MARKET, 53_000n * E),
      ev("Drawn", 233_133_334n, 9_766_866_666n), // 10,000,000,000 − 233,133,334
      ev("InsuranceFundDrawn", alice.address, alice.address, deficit),
      ev("BadDebtResolved", alice.address, BTC_MARKET, deficit, deficit, 0n, 0n, 0n, 0n),
      ev("PositionChanged", alice.address, BTC_MARKET, 0n, 0n, -2_333_333_333_333_333_331_000n, 0n),
      ev("PositionChanged", carol.address, BTC_MARKET, THIRD, THIRD_AT_53K, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, BTC_MARKET, THIRD, 53_000n * E, 0n, 0n, true),
    ]);

    const h = await clearingHouse.accountHealth(alice.address);
    expect([h.collateral, h.equity, h.maintenanceMargin]).to.deep.equal([0n, 0n, 0n]);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, alice.address, BTC_MARKET, 0n, 0n);
    // carol holds 1/3 BTC at the oracle and got no reward.
    await expectPosition(clearingHouse, carol.address, BTC_MARKET, THIRD, THIRD_AT_53K);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    // bob untouched: 100000 − 9.99999999999999999.
    await expectPosition(clearingHouse, bob.address, BTC_MARKET, -THIRD, -THIRD_AT_60K);
    await expectCollateral(clearingHouse, bob.address, 99_990_000_000_000_000_000_010n);
    await expectMarket(clearingHouse, BTC_MARKET, plainMarket(THIRD));
    // Token balance: 2,100 + 100,000 + 100,000 deposited + 233.133334 drawn; the draw's excess is the pot.
    // Protocol fees: 3.999999999999999996 + 9.99999999999999999 − 4.199999999999999995 = 9.799999999999999991.
    await expectClearingHouseFunds(c, {
      tokenBalance: 202_333_133_334n,
      insuranceFees: 666_666_668_999n,
      protocolFees: 9_799_999_999_999_999_991n,
    });
    await expectFund(c, { totalAssets: 9_766_866_666n, totalSupply: FUND_SHARES, availableForDraw: 9_766_866_666n });
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([false, false, 0n, 0n, 0n, 0n, 0n]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
  });

  it("ADL market (ETH) with a fund holding more than the deficit: handed over like a socialized market, no reward", async function () {
    const c = await networkHelpers.loadFixture(ethCoveredFixture);
    const { clearingHouse, fund, alice, bob, carol } = c;
    // alice (short 3 at 2,000): equity = 620 − 1.2 + 3 × (2000 − 2250) = −131.2. Pot = 30% × (1.2 + 3) = 1.26.
    // The fund's cap, 197.44 USD, would also have paid the old reward 3 × 2250 × 1% = 67.5; it now pays only
    // the deficit.
    await setFundLimits(c, 0n, 197_440_000n);
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal((-1312n * E) / 10n);
    // Short: bankruptcy price = 2250 − 131.2 / 3 = 2206.266666666666666666 (rounded down for a short).
    expect(await clearingHouse.bankruptcyPrice(alice.address, ETH_MARKET)).to.equal(2_206_266_666_666_666_666_666n);

    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    // alice will buy back 3 at 2250 = 6750: realized 6000 − 6750 = −750 → collateral −131.2.
    // Deficit: pot 1.26, then 129.94 USD = 129,940,000 units (no excess), before the hand-over; no reward.
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 2250n * E),
      ev("Drawn", 129_940_000n, 9_870_060_000n),
      ev("InsuranceFundDrawn", alice.address, alice.address, (1312n * E) / 10n),
      ev("BadDebtResolved", alice.address, ETH_MARKET, (1312n * E) / 10n, (1312n * E) / 10n, 0n, 0n, 0n, 0n),
      ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, -750n * E, 0n),
      ev("PositionChanged", carol.address, ETH_MARKET, -3n * E, -6750n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, -3n * E, 2250n * E, 0n, 0n, true),
    ]);

    await expectCollateral(clearingHouse, alice.address, 0n);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, -3n * E, -6750n * E);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, 3n * E, 6000n * E);
    await expectCollateral(clearingHouse, bob.address, 99_997n * E); // 100000 − 3
    await expectMarket(clearingHouse, ETH_MARKET, plainMarket(3n * E));
    // 200,620 deposited + 129.94 drawn; protocol fees 1.2 + 3 − 1.26 = 2.94.
    await expectClearingHouseFunds(c, {
      tokenBalance: 200_749_940_000n,
      insuranceFees: 0n,
      protocolFees: (294n * E) / 100n,
    });
    // 10,000 − 129.94 = 9,870.06; 197.44 − 129.94 = 67.5 of the window's cap is left.
    await expectFund(c, { totalAssets: 9_870_060_000n, totalSupply: FUND_SHARES, availableForDraw: 67_500_000n });
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
  });

  it("a bankrupt liquidation pays no reward whatever the fund holds; a solvent one is paid from the account", async function () {
    // The reward is continuous across the solvency boundary: a solvent account's penalty is scaled down to its
    // equity, so it tends to 0 as equity does, and a bankrupt account's is 0 (issue 9, finding 2).
    const c = await networkHelpers.loadFixture(ethCoveredFixture);
    const { clearingHouse, fund, alice, carol } = c;
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    const events = waterfallEvents(clearingHouse, fund, receipt);
    // One draw, for alice's deficit 131.2 − pot 1.26 = 129.94 USD; none to carol.
    expect(events.filter((e) => e.name === "InsuranceFundDrawn")).to.deep.equal([
      ev("InsuranceFundDrawn", alice.address, alice.address, (1312n * E) / 10n),
    ]);
    expect(events.at(-1)).to.deep.equal(
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, -3n * E, 2250n * E, 0n, 0n, true),
    );
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectFund(c, { totalAssets: 9_870_060_000n, totalSupply: FUND_SHARES, availableForDraw: 9_870_060_000n });
  });
});
