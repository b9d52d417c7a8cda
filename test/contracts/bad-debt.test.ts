import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  BTC_MARKET,
  ETH_MARKET,
  USD,
  WAD,
  deploySystem,
  ethers,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import {
  expectPosition,
  fill,
  mined,
  nextBlockAt,
  latestTime,
  signedOrder,
  trade,
} from "../../devnet/hardhat/trading.js";
import {
  caseOf,
  ev,
  expectClearingHouseFunds,
  expectCollateral,
  expectFund,
  expectMarket,
  plainMarket,
  quietFunding,
  quietMarkets,
  setFundLimits,
  setPrice,
  stake,
  waterfallEvents,
  waterfallSnapshot,
} from "../../devnet/hardhat/waterfall.js";

// Steps 2 and 3 of the waterfall. ETH (market 0) is an ADL market, BTC (market 1) a socialized one; both have
// maintenance 5%, initial 10%, liquidation discount 1%. Funding is off (index and rate stay 0); trading fees
// stay on (maker 2 bp, taker 5 bp, rounded up; 30% of each fee, rounded down, goes to the insurance-fees pot),
// which gives the pot something to pay first. Amounts are 18-decimal wei unless they say "units" (the
// 6-decimal token); a fund draw is in whole units, so 1 unit = 10^12 wei.

const E = WAD; // 1 ETH / 1 BTC / 1 USD in 18 decimals
const FUND_STAKE = 10_000n * USD;
const FUND_SHARES = FUND_STAKE * 10n ** 6n; // first deposit: assets × 10^decimalsOffset(6)
const HOUR = 3600n;

interface Ctx extends System {
  alice: HardhatEthersSigner; // goes bankrupt
  bob: HardhatEthersSigner; // counterparty
  carol: HardhatEthersSigner; // keeper / liquidator
  dave: HardhatEthersSigner; // insurance-fund staker
  erin: HardhatEthersSigner; // counterparty
  frank: HardhatEthersSigner; // bystander on the bankrupt account's side
}

/** Funding off, fees on, dave stakes 10,000 USD in the fund; deposits in token units per account. */
async function baseFixture(deposits: {
  alice: bigint;
  bob: bigint;
  carol: bigint;
  erin: bigint;
  frank: bigint;
}): Promise<Ctx> {
  const system = await deploySystem();
  await quietMarkets(system, true);
  const [alice, bob, carol, dave, erin, frank] = system.traders;
  const c: Ctx = { ...system, alice, bob, carol, dave, erin, frank };
  await stake(system.fund, dave, FUND_STAKE);
  for (const [signer, amount] of [
    [alice, deposits.alice],
    [bob, deposits.bob],
    [carol, deposits.carol],
    [erin, deposits.erin],
    [frank, deposits.frank],
  ] as const) {
    if (amount !== 0n) await system.clearingHouse.connect(signer).deposit(amount * USD);
  }
  return c;
}

function accountsOf(c: Ctx): string[] {
  return [c.alice.address, c.bob.address, c.carol.address, c.dave.address, c.erin.address, c.frank.address];
}

// ================================================================ a. fully covered by the fund

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

/** alice deposits 620 and sells 3 ETH at 2,000 to bob (fees 1.2 and 3); ETH rises to 2,250. */
async function ethCoveredFixture(): Promise<Ctx> {
  const c = await baseFixture({ alice: 620n, bob: 100_000n, carol: 100_000n, erin: 0n, frank: 0n });
  await trade(c.clearingHouse, c.alice, c.bob, { isBuy: false, size: 3n * E, limitPrice: 2000n * E }, 3n * E);
  await setPrice(c.ethFeed, 2250n * E);
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
      ev("BadDebtResolved", alice.address, BTC_MARKET, deficit, deficit, 0n, 0n, 0n),
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
      ev("BadDebtResolved", alice.address, ETH_MARKET, (1312n * E) / 10n, (1312n * E) / 10n, 0n, 0n, 0n),
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

describe("Bad debt: in an ADL market the deficit alone decides whether a deleverage case opens", function () {
  it("pot + fund exactly the deficit: deficit paid in full, then handed over", async function () {
    const c = await networkHelpers.loadFixture(ethCoveredFixture);
    const { clearingHouse, fund, alice, bob, carol } = c;
    // Deficit 131.2 (see above); pot 1.26; cap the fund at 131.2 − 1.26 = 129.94 USD: available = the deficit.
    await setFundLimits(c, 0n, 129_940_000n);
    expect(await fund.availableForDraw()).to.equal(129_940_000n);
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    // 131.2 is not below 131.2: pot 1.26 + 129,940,000 units, then the hand-over at 2250 (realized −750).
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 2250n * E),
      ev("Drawn", 129_940_000n, 9_870_060_000n), // 10,000,000,000 − 129,940,000
      ev("InsuranceFundDrawn", alice.address, alice.address, (1312n * E) / 10n),
      ev("BadDebtResolved", alice.address, ETH_MARKET, (1312n * E) / 10n, (1312n * E) / 10n, 0n, 0n, 0n),
      ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, -750n * E, 0n),
      ev("PositionChanged", carol.address, ETH_MARKET, -3n * E, -6750n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, -3n * E, 2250n * E, 0n, 0n, true),
    ]);
    await expectCollateral(clearingHouse, alice.address, 0n);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, -3n * E, -6750n * E);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E); // no reward
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, 3n * E, 6000n * E);
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([false, false, 0n, 0n, 0n, 0n, 0n]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
    await expectMarket(clearingHouse, ETH_MARKET, plainMarket(3n * E));
    await expectClearingHouseFunds(c, {
      tokenBalance: 200_749_940_000n, // 200,620 USD deposited + 129.94 drawn
      insuranceFees: 0n,
      protocolFees: (294n * E) / 100n, // 1.2 + 3 − 1.26
    });
    await expectFund(c, { totalAssets: 9_870_060_000n, totalSupply: FUND_SHARES, availableForDraw: 0n });
  });

  it("pot + fund one unit short of the deficit: a case opens, reporting what was available, drawing nothing", async function () {
    const c = await networkHelpers.loadFixture(ethCoveredFixture);
    const { clearingHouse, fund, alice, bob, carol } = c;
    // Cap 129.939999 USD: available 1.26 + 129.939999 = 131.199999 < 131.2.
    await setFundLimits(c, 0n, 129_939_999n);
    const openedAt = (await latestTime()) + 10n;
    await nextBlockAt(openedAt);
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 2250n * E),
      ev("DeleverageRequired", alice.address, ETH_MARKET, (1312n * E) / 10n, 131_199_999n * 10n ** 12n),
    ]);
    // alice is short: the counterparties are long. Nothing paid yet.
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([
      true,
      true,
      ETH_MARKET,
      openedAt,
      (1312n * E) / 10n,
      0n,
      0n,
    ]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(1n);
    // Nothing moved: alice keeps her short and 620 − 1.2 = 618.8; carol gets nothing.
    await expectPosition(clearingHouse, alice.address, ETH_MARKET, -3n * E, -6000n * E);
    await expectCollateral(clearingHouse, alice.address, (6188n * E) / 10n);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 0n, 0n);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, 3n * E, 6000n * E);
    await expectMarket(clearingHouse, ETH_MARKET, { ...plainMarket(3n * E), longDeleverageCases: 1n });
    await expectClearingHouseFunds(c, {
      tokenBalance: 200_620n * USD,
      insuranceFees: (126n * E) / 100n,
      protocolFees: (294n * E) / 100n,
    });
    await expectFund(c, { totalAssets: 10_000n * USD, totalSupply: FUND_SHARES, availableForDraw: 129_939_999n });
  });
});

// ================================================================ b. partly covered, then socialized (BTC)

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
      ev("BadDebtResolved", alice.address, BTC_MARKET, (6042n * E) / 10n, (10_441n * E) / 100n, 0n, R_B, PER_UNIT_B),
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

// ================================================================ c, d. partly covered, then deleveraged (ETH)

const LOSS_1 = 100_346_666_666_666_666_666n; // ⌊150.52 × 2 / 3⌋
const LOSS_2 = 50_173_333_333_333_333_334n; // 150.52 − LOSS_1: the last part takes the rest
const SCORE_BOB = 1_279_154_052_786_423_910n;
const SCORE_ERIN = 19_252_765_442_690_349n;

interface CaseCtx extends Ctx {
  openedAt: bigint;
}

/**
 * alice deposits 700 and buys 2 ETH from bob (deposit 1,000) and 1 ETH from erin (deposit 10,000); frank
 * (10,000) buys 1 ETH from erin, all at 2,000 with alice and frank as makers. Fees: alice 0.8 + 0.4, frank 0.4,
 * bob 2, erin 1 + 1; pot 30% × 5.6 = 1.68. The fund may pay 49 USD a day; its unstake cooldown is a minute and
 * dave has asked to unstake half his shares and confirmed after the cooldown. ETH falls to 1,700.
 */
async function adlSetupFixture(): Promise<Ctx> {
  const c = await baseFixture({ alice: 700n, bob: 1_000n, carol: 100_000n, erin: 10_000n, frank: 10_000n });
  await setFundLimits(c, 0n, 49n * USD, 60n);
  await c.fund.connect(c.dave).requestUnstake(FUND_SHARES / 2n);
  await networkHelpers.time.increase(60);
  await c.fund.connect(c.dave).confirmUnstake();
  await trade(c.clearingHouse, c.alice, c.bob, { size: 2n * E }, 2n * E);
  await trade(c.clearingHouse, c.alice, c.erin, { size: E, nonce: 1n }, E);
  await trade(c.clearingHouse, c.frank, c.erin, { size: E }, E);
  await setPrice(c.ethFeed, 1700n * E);
  return c;
}

/** adlSetupFixture, then carol's liquidate opens alice's deleverage case at `openedAt`. */
async function adlCaseFixture(): Promise<CaseCtx> {
  const c = await adlSetupFixture();
  const openedAt = (await latestTime()) + 10n;
  await nextBlockAt(openedAt);
  await c.clearingHouse.connect(c.carol).liquidate(c.alice.address, ETH_MARKET, ethers.MaxUint256);
  return { ...c, openedAt };
}

describe("Bad debt: partly covered by the fund, then deleveraged (ETH)", function () {
  it("liquidate opens a deleverage case without drawing the fund or moving the position", async function () {
    const c = await networkHelpers.loadFixture(adlSetupFixture);
    const { clearingHouse, fund, alice, bob, carol, erin, frank } = c;
    // alice: 700 − 1.2 + 3 × (1700 − 2000) = −201.2. Available: pot 1.68 + fund 49 = 50.68 < 201.2, so a case
    // opens. Its event reports the 50.68 that could have been paid; nothing is drawn until an ADL step.
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal((-2012n * E) / 10n);
    const openedAt = (await latestTime()) + 10n;
    await nextBlockAt(openedAt);
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("DeleverageRequired", alice.address, ETH_MARKET, (2012n * E) / 10n, (5068n * E) / 100n),
    ]);
    // alice long → counterparties short; fundPaid starts at 0.
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([
      true,
      false,
      ETH_MARKET,
      openedAt,
      (2012n * E) / 10n,
      0n,
      0n,
    ]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(1n);
    // Not moved and not paid: collateral 700 − 1.2 = 698.8; equity 698.8 − 900 = −201.2.
    await expectPosition(clearingHouse, alice.address, ETH_MARKET, 3n * E, 6000n * E);
    await expectCollateral(clearingHouse, alice.address, (6988n * E) / 10n);
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal((-2012n * E) / 10n);
    // Bankruptcy price: 1700 − ⌊−201.2 / 3⌋ = 1700 + 67.066666666666666667 (rounded up for a long).
    expect(await clearingHouse.bankruptcyPrice(alice.address, ETH_MARKET)).to.equal(1_767_066_666_666_666_666_667n);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 0n, 0n);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, -2n * E, -4000n * E);
    await expectPosition(clearingHouse, erin.address, ETH_MARKET, -2n * E, -4000n * E);
    await expectPosition(clearingHouse, frank.address, ETH_MARKET, E, 2000n * E);
    await expectMarket(clearingHouse, ETH_MARKET, { ...plainMarket(4n * E), shortDeleverageCases: 1n });
    // 121,700 deposited, nothing drawn; the pot keeps its 1.68; protocol fees 5.6 − 1.68 = 3.92.
    await expectClearingHouseFunds(c, {
      tokenBalance: 121_700n * USD,
      insuranceFees: (168n * E) / 100n,
      protocolFees: (392n * E) / 100n,
    });
    await expectFund(c, { totalAssets: 10_000n * USD, totalSupply: FUND_SHARES, availableForDraw: 49n * USD });

    // The ADL queue: score = pnl / collateral × notional / equity (each step rounded down).
    // bob: ⌊600/998⌋ = 0.601202404809619238; × 3400 / 1598 → 1.27915405278642391.
    // erin: ⌊600/9998⌋ = 0.060012002400480096; × 3400 / 10598 → 0.019252765442690349. bob goes first.
    const bobRank = await clearingHouse.adlRank(bob.address, ETH_MARKET);
    expect([...bobRank]).to.deep.equal([SCORE_BOB, 600n * E, 998n * E, 3400n * E, 1598n * E]);
    const erinRank = await clearingHouse.adlRank(erin.address, ETH_MARKET);
    expect([...erinRank]).to.deep.equal([SCORE_ERIN, 600n * E, 9998n * E, 3400n * E, 10_598n * E]);
    // frank is long and losing 300: no score (collateral 10000 − 0.4, equity 9999.6 − 300).
    const frankRank = await clearingHouse.adlRank(frank.address, ETH_MARKET);
    expect([...frankRank]).to.deep.equal([0n, -300n * E, (99_996n * E) / 10n, 1700n * E, (96_996n * E) / 10n]);
  });

  it("while the case is open: counterparties' side cannot withdraw, the fund cannot unstake, liquidate waits", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse, fund, alice, bob, carol, dave, erin, frank } = c;
    await networkHelpers.time.increase(60); // dave's cooldown is over
    await setPrice(c.ethFeed, 1700n * E);
    const accounts = accountsOf(c);
    const before = await waterfallSnapshot(c, accounts);

    await expect(clearingHouse.connect(bob).withdraw(USD))
      .to.be.revertedWithCustomError(clearingHouse, "WithdrawalLockedByDeleverage")
      .withArgs(bob.address, ETH_MARKET);
    await expect(clearingHouse.connect(erin).withdraw(USD))
      .to.be.revertedWithCustomError(clearingHouse, "WithdrawalLockedByDeleverage")
      .withArgs(erin.address, ETH_MARKET);
    await expect(fund.connect(dave).unstake()).to.be.revertedWithCustomError(fund, "BadDebtPending");
    await expect(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, E))
      .to.be.revertedWithCustomError(clearingHouse, "DeleverageInProgress")
      .withArgs(alice.address, ETH_MARKET);
    // frank is long, on alice's side: not a counterparty.
    await expect(clearingHouse.connect(carol).autoDeleverage(alice.address, ETH_MARKET, frank.address, E))
      .to.be.revertedWithCustomError(clearingHouse, "CounterpartyWrongSide")
      .withArgs(frank.address, E);
    expect(await waterfallSnapshot(c, accounts)).to.deep.equal(before);

    // frank's own withdrawal is not locked: 9999.6 − 1.
    const receipt = await mined(clearingHouse.connect(frank).withdraw(USD));
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("Withdrawn", frank.address, USD),
    ]);
    await expectCollateral(clearingHouse, frank.address, (99_986n * E) / 10n);
  });

  it("an account that recovers above maintenance margin: liquidate closes its case and stops without reverting", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse, fund, alice, bob, carol, frank } = c;
    // frank tops alice up by 1000 USD: collateral 698.8 + 1000 = 1698.8, equity 1698.8 − 900 = 798.8,
    // above maintenance 3 × 1700 × 5% = 255: healthy again.
    await mined(clearingHouse.connect(frank).depositFor(alice.address, 1000n * USD));
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal((7988n * E) / 10n);

    // liquidate only closes the case: an all-zero receipt, no position change, no revert.
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("BadDebtResolved", alice.address, ETH_MARKET, 0n, 0n, 0n, 0n, 0n),
    ]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
    await expectPosition(clearingHouse, alice.address, ETH_MARKET, 3n * E, 6000n * E);
    await expectCollateral(clearingHouse, alice.address, (16_988n * E) / 10n);
    // A second call is an ordinary healthy-account liquidation: NotLiquidatable(798.8, 255).
    await expect(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256))
      .to.be.revertedWithCustomError(clearingHouse, "NotLiquidatable")
      .withArgs(alice.address, (7988n * E) / 10n, 255n * E);
    // The shorts' withdrawal lock is gone with the case: bob can withdraw.
    await mined(clearingHouse.connect(bob).withdraw(USD));
  });

  it("an account that recovers by a deposit before any ADL step gets nothing from the fund; liquidate closes its case", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse, fund, alice, bob, carol, dave, frank } = c;
    // frank tops alice up by 300 USD: collateral 698.8 + 300 = 998.8 exactly (the deposit and nothing else),
    // equity 998.8 − 900 = 98.8: solvent, but below maintenance 3 × 1700 × 5% = 255.
    const deposit = await mined(clearingHouse.connect(frank).depositFor(alice.address, 300n * USD));
    expect(waterfallEvents(clearingHouse, fund, deposit)).to.deep.equal([
      ev("Deposited", alice.address, frank.address, 300n * USD),
    ]);
    await expectCollateral(clearingHouse, alice.address, (9988n * E) / 10n);
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal((988n * E) / 10n);
    await expect(clearingHouse.connect(carol).autoDeleverage(alice.address, ETH_MARKET, bob.address, E))
      .to.be.revertedWithCustomError(clearingHouse, "NotBankrupt")
      .withArgs(alice.address, (988n * E) / 10n);
    // The case is still open and nothing has been paid toward it.
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([
      true,
      false,
      ETH_MARKET,
      c.openedAt,
      (2012n * E) / 10n,
      0n,
      0n,
    ]);

    // liquidate closes the case with an all-zero receipt (fund 0, deleveraged 0, socialized 0), then liquidates
    // alice as a solvent account. Gap 255 − 98.8 = 156.2 needs ⌈156.2 / (1700 × 3%)⌉ > 3 ETH: all 3 go.
    // Reward and fee (51 + 51) would exceed equity 98.8: they split it, 98.8 × 1% / 2% = 49.4 each.
    // alice sells 3 at 5100 − 49.4 = 5050.6: realized 5050.6 − 6000 = −949.4, fee 49.4 → 998.8 − 998.8 = 0.
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("BadDebtResolved", alice.address, ETH_MARKET, 0n, 0n, 0n, 0n, 0n),
      ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, (-9494n * E) / 10n, (494n * E) / 10n),
      ev("PositionChanged", carol.address, ETH_MARKET, 3n * E, (50_506n * E) / 10n, 0n, 0n),
      ev(
        "Liquidated",
        alice.address,
        carol.address,
        ETH_MARKET,
        3n * E,
        1700n * E,
        (494n * E) / 10n,
        (494n * E) / 10n,
        false,
      ),
    ]);
    await expectCollateral(clearingHouse, alice.address, 0n);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 3n * E, (50_506n * E) / 10n);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([
      false,
      false,
      ETH_MARKET,
      c.openedAt,
      (2012n * E) / 10n,
      0n,
      0n,
    ]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
    await expectMarket(clearingHouse, ETH_MARKET, plainMarket(4n * E));
    // The fund paid nothing: 10,000 USD, 49 still available. The pot took the fee: 1.68 + 49.4 = 51.08.
    // 121,700 + 300 deposited.
    await expectFund(c, { totalAssets: 10_000n * USD, totalSupply: FUND_SHARES, availableForDraw: 49n * USD });
    await expectClearingHouseFunds(c, {
      tokenBalance: 122_000n * USD,
      insuranceFees: (5108n * E) / 100n,
      protocolFees: (392n * E) / 100n,
    });

    // The shorts' lock and the fund's unstake wait are over: dave's half is worth its full value at request,
    // ⌊5×10^15 × (10^10 + 1) / (10^16 + 10^6)⌋ = 5,000,000,000 units, then and now.
    await mined(clearingHouse.connect(bob).withdraw(USD));
    await expectCollateral(clearingHouse, bob.address, 997n * E); // 1000 − 2 − 1
    await networkHelpers.time.increase(3600); // the exit exposure after confirming
    const unstake = await mined(fund.connect(dave).unstake());
    expect(waterfallEvents(clearingHouse, fund, unstake)).to.deep.equal([
      ev("Transfer", await fund.getAddress(), ethers.ZeroAddress, FUND_SHARES / 2n),
      ev("Unstaked", dave.address, FUND_SHARES / 2n, 5_000_000_000n),
    ]);
  });

  it("when the fund, refilled since the case opened, covers the whole deficit, the caller takes the position over", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse, fund, alice, bob, carol } = c;
    // The fund may now pay 1,000 USD a day: pot 1.68 + 199.52 USD (199,520,000 token units, exact) cover the
    // 201.2 deficit; the pot is empty afterwards. An account whose deficit the fund paid keeps no position
    // (issue 9, finding 7): the caller, carol, takes alice's 3 ETH at the oracle as in a liquidation, and bob
    // (the named counterparty) is not touched.
    await setFundLimits(c, 0n, 1_000n * USD, 60n);
    const receipt = await mined(clearingHouse.connect(carol).autoDeleverage(alice.address, ETH_MARKET, bob.address, E));
    // alice sells 3 at ⌈3 × 1700⌉ = 5100: realized 5100 − 6000 = −900; collateral 698.8 + 201.2 − 900 = 0.
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("Drawn", 19_952n * (USD / 100n), 980_048n * (USD / 100n)),
      ev("InsuranceFundDrawn", alice.address, alice.address, (2012n * E) / 10n),
      ev("BadDebtResolved", alice.address, ETH_MARKET, (2012n * E) / 10n, (2012n * E) / 10n, 0n, 0n, 0n),
      ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, -900n * E, 0n),
      ev("PositionChanged", carol.address, ETH_MARKET, 3n * E, 5100n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, 3n * E, 1700n * E, 0n, 0n, true),
    ]);
    await expectPosition(clearingHouse, alice.address, ETH_MARKET, 0n, 0n);
    await expectCollateral(clearingHouse, alice.address, 0n);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 3n * E, 5100n * E);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, -2n * E, -4000n * E);
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
    expect(await clearingHouse.insuranceFees()).to.equal(0n);
    // A price recovery is now carol's, not alice's.
    await setPrice(c.ethFeed, 2000n * E);
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(0n);
  });

  it("deleverages the two counterparties in score order; the case closes with its receipt", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse, fund, alice, bob, carol, dave, erin, frank } = c;

    // bob first (higher score). The fund's part of the deficit 201.2 is what it can pay now: the pot's 1.68 and
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

// ================================================================ e. a bankrupt account in both markets

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
      ev("BadDebtResolved", alice.address, BTC_MARKET, 102n * E, (661n * E) / 10n, 0n, (359n * E) / 10n, 359n * E),
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
