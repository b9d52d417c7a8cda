import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { ETH_MARKET, USD, WAD, deploySystem, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { blockTime, expectPosition, mined, trade } from "../../devnet/hardhat/trading.js";
import {
  ev,
  expectClearingHouseFunds,
  expectCollateral,
  expectFund,
  expectMarket,
  plainMarket,
  quietFunding,
  quietMarkets,
  setPrice,
  stake,
  waterfallEvents,
  waterfallSnapshot,
} from "../../devnet/hardhat/waterfall.js";

// Step 1 of the waterfall in the ETH market: maintenance 5%, initial 10%, liquidation discount 1% (the
// liquidator's reward) and liquidation fee 1% (to the insurance-fees pot). Funding and trading fees are off,
// so every figure below is liquidation arithmetic. All amounts are 18-decimal wei unless they say "units"
// (the 6-decimal token).

const E = WAD; // 1 ETH, 1 USD in 18 decimals
const FUND_STAKE = 10_000n * USD;
const FUND_SHARES = FUND_STAKE * 10n ** 6n; // first deposit: shares = assets × 10^decimalsOffset(6)

interface Ctx extends System {
  alice: HardhatEthersSigner; // the account liquidated
  bob: HardhatEthersSigner; // its counterparty
  carol: HardhatEthersSigner; // the liquidator
  dave: HardhatEthersSigner; // insurance-fund staker
}

/**
 * alice deposits 1,000 USD and buys 4 ETH at 2,000 from bob (notional 8,000; initial margin 800);
 * bob and carol deposit 100,000 each; dave stakes 10,000 in the fund.
 */
async function openFixture(): Promise<Ctx> {
  const system = await deploySystem();
  await quietMarkets(system, false);
  const [alice, bob, carol, dave] = system.traders;
  await system.clearingHouse.connect(alice).deposit(1_000n * USD);
  await system.clearingHouse.connect(bob).deposit(100_000n * USD);
  await system.clearingHouse.connect(carol).deposit(100_000n * USD);
  await stake(system.fund, dave, FUND_STAKE);
  await trade(system.clearingHouse, alice, bob, { size: 4n * E, limitPrice: 2000n * E }, 4n * E);
  return { ...system, alice, bob, carol, dave };
}

// ---------------------------------------------------------------- the partial liquidation at 1,800
// equity = 1000 + 4 × (1800 − 2000) = 200; maintenance = 4 × 1800 × 5% = 360.
// Each ETH closed lowers maintenance by 1800 × 5% and equity by 1800 × (1% + 1%): the gap closes at
// 1800 × 3% = 54 per ETH, so q = ⌈160 / 54⌉ = ⌈2.962962…⌉ ETH, rounded up to the wei.
const Q1 = 2_962_962_962_962_962_963n;
const NOTIONAL_1 = 5_333_333_333_333_333_333_400n; // q × 1800 (exact: 2962962962962962963 × 1800)
const REWARD_1 = 53_333_333_333_333_333_334n; // ⌊5333.3333…3400 × 1%⌋
const FEE_1 = REWARD_1; // same ratio
const HANDOVER_1 = NOTIONAL_1 - REWARD_1; // 5280.000000000000000066: carol buys at the oracle less the discount
const CLOSED_COST_1 = 5_925_925_925_925_925_926_000n; // ⌈8000 × q / 4⌉ = 2000 × q
const REALIZED_1 = HANDOVER_1 - CLOSED_COST_1; // −645.925925925925925934
const COLLATERAL_1 = 1000n * E + REALIZED_1 - FEE_1; // 300.740740740740740732
const SIZE_1 = 4n * E - Q1; // 1.037037037037037037
const COST_1 = 8000n * E - CLOSED_COST_1; // 2074.074074074074074000

/** openFixture, then the price falls to 1,800 and carol liquidates as much as she may. */
async function partialFixture(): Promise<Ctx> {
  const c = await openFixture();
  await setPrice(c.ethFeed, 1800n * E);
  await c.clearingHouse.connect(c.carol).liquidate(c.alice.address, ETH_MARKET, ethers.MaxUint256);
  return c;
}

describe("Liquidation of a solvent account (step 1 of the waterfall)", function () {
  it("partially liquidates exactly the size that restores maintenance margin", async function () {
    const c = await networkHelpers.loadFixture(openFixture);
    const { clearingHouse, alice, bob, carol } = c;
    await setPrice(c.ethFeed, 1800n * E);

    const before = await clearingHouse.accountHealth(alice.address);
    expect([before.equity, before.maintenanceMargin]).to.deep.equal([200n * E, 360n * E]);

    // carol asks for everything (MaxUint256); the contract gives her only q.
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));

    expect(Q1).to.equal(4n * E - SIZE_1); // q and the remainder add up to the old position
    expect(REALIZED_1).to.equal(-645_925_925_925_925_925_934n);
    expect(COLLATERAL_1).to.equal(300_740_740_740_740_740_732n);
    expect(waterfallEvents(clearingHouse, c.fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1800n * E),
      ev("PositionChanged", alice.address, ETH_MARKET, SIZE_1, COST_1, REALIZED_1, FEE_1),
      ev("PositionChanged", carol.address, ETH_MARKET, Q1, HANDOVER_1, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, Q1, 1800n * E, REWARD_1, FEE_1, false),
    ]);

    // alice: equity = 300.740740740740740732 + (1.037037037037037037 × 1800 = 1866.6666666666666666)
    //   − 2074.074074074074074 = 93.333333333333333332 = 200 − reward − fee;
    // maintenance = 1866.6666666666666666 × 5% = 93.33333333333333333 ≤ equity; initial = 186.66666666666666666.
    const after = await clearingHouse.accountHealth(alice.address);
    expect([
      after.collateral,
      after.equity,
      after.initialMargin,
      after.maintenanceMargin,
      after.freeCollateral,
    ]).to.deep.equal([
      COLLATERAL_1,
      93_333_333_333_333_333_332n,
      186_666_666_666_666_666_660n,
      93_333_333_333_333_333_330n,
      0n,
    ]);
    await expectPosition(clearingHouse, alice.address, ETH_MARKET, SIZE_1, COST_1);
    // carol holds q at 5280.000000000000000066: unrealized = 5333.3333…3400 − 5280.0…0066 = the reward.
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, Q1, HANDOVER_1);
    expect((await clearingHouse.positionOf(carol.address, ETH_MARKET)).unrealizedPnl).to.equal(REWARD_1);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    // bob is untouched.
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, -4n * E, -8000n * E);
    await expectCollateral(clearingHouse, bob.address, 100_000n * E);
    // long OI = 1.037037037037037037 (alice) + 2.962962962962962963 (carol) = 4 = bob's short.
    await expectMarket(clearingHouse, ETH_MARKET, plainMarket(4n * E));
    // The fee waits in the pot; no token moved: 1,000 + 100,000 + 100,000 deposited.
    await expectClearingHouseFunds(c, { tokenBalance: 201_000n * USD, insuranceFees: FEE_1, protocolFees: 0n });
    await expectFund(c, { totalAssets: FUND_STAKE, totalSupply: FUND_SHARES, availableForDraw: FUND_STAKE });
  });

  it("refuses an account above maintenance margin and changes nothing", async function () {
    const c = await networkHelpers.loadFixture(openFixture);
    const { clearingHouse, alice, carol } = c;
    // At 1,850: equity = 1000 + 4 × (−150) = 400; maintenance = 4 × 1850 × 5% = 370.
    await setPrice(c.ethFeed, 1850n * E);
    const accounts = [alice.address, c.bob.address, carol.address];
    const before = await waterfallSnapshot(c, accounts);
    await expect(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, E))
      .to.be.revertedWithCustomError(clearingHouse, "NotLiquidatable")
      .withArgs(alice.address, 400n * E, 370n * E);
    expect(await waterfallSnapshot(c, accounts)).to.deep.equal(before);
  });

  it("refuses a second liquidation once equity is back at maintenance margin", async function () {
    const c = await networkHelpers.loadFixture(partialFixture);
    const { clearingHouse, alice, carol } = c;
    const accounts = [alice.address, c.bob.address, carol.address];
    const before = await waterfallSnapshot(c, accounts);
    // Same price: equity 93.333333333333333332 ≥ maintenance 93.33333333333333333.
    await expect(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256))
      .to.be.revertedWithCustomError(clearingHouse, "NotLiquidatable")
      .withArgs(alice.address, 93_333_333_333_333_333_332n, 93_333_333_333_333_333_330n);
    expect(await waterfallSnapshot(c, accounts)).to.deep.equal(before);
  });

  it("closes the whole rest when what would remain is dust (under 10 USD of notional)", async function () {
    const c = await networkHelpers.loadFixture(partialFixture);
    const { clearingHouse, alice, carol } = c;
    await setPrice(c.ethFeed, 1745n * E);
    // notional = 1.037037037037037037 × 1745 = 1809.629629629629629565
    // equity = 300.740740740740740732 + 1809.629629629629629565 − 2074.074074074074074 = 36.296296296296296297
    // maintenance = ⌈1809.629629629629629565 × 5%⌉ = 90.481481481481481479
    // restoring size = ⌈(90.481481481481481479 − 36.296296296296296297) / (1745 × 3%)⌉ = 1.035056068484912802 ETH:
    // less than the position, but the rest 0.001980968552124235 × 1745 = 3.456790123456790075 USD < 10 → all.
    const health = await clearingHouse.accountHealth(alice.address);
    expect([health.equity, health.maintenanceMargin]).to.deep.equal([
      36_296_296_296_296_296_297n,
      90_481_481_481_481_481_479n,
    ]);
    const notional = 1_809_629_629_629_629_629_565n;
    const reward = 18_096_296_296_296_296_295n; // ⌊notional × 1%⌋, paid to carol: rounded down
    // The fee is charged to alice, so it rounds up (issue 9): ⌈18.09629629629629629565⌉ = 18.096296296296296296.
    const fee = reward + 1n;
    // reward + fee = 36.192592592592592591 ≤ equity: no scaling.
    const handover = notional - reward; // 1791.53333333333333327
    const realized = handover - COST_1; // −282.54074074074074073
    expect(realized).to.equal(-282_540_740_740_740_740_730n);

    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    const carolCost = HANDOVER_1 + handover; // 5280.000000000000000066 + 1791.53333333333333327
    expect(carolCost).to.equal(7_071_533_333_333_333_333_336n);
    expect(waterfallEvents(clearingHouse, c.fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1745n * E),
      ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, realized, fee),
      ev("PositionChanged", carol.address, ETH_MARKET, 4n * E, carolCost, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, SIZE_1, 1745n * E, reward, fee, false),
    ]);

    // alice: 300.740740740740740732 − 282.54074074074074073 − 18.096296296296296296 = 0.103703703703703706
    // (= equity − reward − fee = 36.296296296296296297 − 36.192592592592592591), and nothing left open.
    const collateral = 103_703_703_703_703_706n;
    const after = await clearingHouse.accountHealth(alice.address);
    expect([after.collateral, after.equity, after.initialMargin, after.maintenanceMargin]).to.deep.equal([
      collateral,
      collateral,
      0n,
      0n,
    ]);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, alice.address, ETH_MARKET, 0n, 0n);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 4n * E, carolCost);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectPosition(clearingHouse, c.bob.address, ETH_MARKET, -4n * E, -8000n * E);
    await expectMarket(clearingHouse, ETH_MARKET, plainMarket(4n * E));
    // pot = 53.333333333333333334 + 18.096296296296296296
    await expectClearingHouseFunds(c, {
      tokenBalance: 201_000n * USD,
      insuranceFees: 71_429_629_629_629_629_630n,
      protocolFees: 0n,
    });
    await expectFund(c, { totalAssets: FUND_STAKE, totalSupply: FUND_SHARES, availableForDraw: FUND_STAKE });
  });

  it("scales reward and fee down when they would exceed equity, leaving exactly zero", async function () {
    const c = await networkHelpers.loadFixture(partialFixture);
    const { clearingHouse, alice, carol } = c;
    await setPrice(c.ethFeed, 1720n * E);
    // notional = 1.037037037037037037 × 1720 = 1783.70370370370370364
    // equity = 300.740740740740740732 + 1783.70370370370370364 − 2074.074074074074074 = 10.370370370370370372
    // maintenance = 1783.70370370370370364 × 5% = 89.185185185185185182
    // restoring size = ⌈(89.185185185185185182 − 10.370370370370370372) / (1720 × 3%)⌉ = 1.527418891759977032 ETH
    // > the position → all of it. reward + fee at 1% + 1% = 35.674… > equity → scaled in the ratio 1 : 1:
    // reward = ⌊10.370370370370370372 × 1% / 2%⌋ = 5.185185185185185186, fee = equity − reward = the same.
    const health = await clearingHouse.accountHealth(alice.address);
    expect([health.equity, health.maintenanceMargin]).to.deep.equal([
      10_370_370_370_370_370_372n,
      89_185_185_185_185_185_182n,
    ]);
    const reward = 5_185_185_185_185_185_186n;
    const fee = 5_185_185_185_185_185_186n;
    const handover = 1_783_703_703_703_703_703_640n - reward; // 1778.518518518518518454
    const realized = handover - COST_1; // −295.555555555555555546
    expect(realized).to.equal(-295_555_555_555_555_555_546n);
    // collateral after = 300.740740740740740732 − 295.555555555555555546 − 5.185185185185185186 = 0
    expect(COLLATERAL_1 + realized - fee).to.equal(0n);

    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    const carolCost = HANDOVER_1 + handover; // 5280.000000000000000066 + 1778.518518518518518454
    expect(carolCost).to.equal(7_058_518_518_518_518_518_520n);
    expect(waterfallEvents(clearingHouse, c.fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1720n * E),
      ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, realized, fee),
      ev("PositionChanged", carol.address, ETH_MARKET, 4n * E, carolCost, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, SIZE_1, 1720n * E, reward, fee, false),
    ]);

    const after = await clearingHouse.accountHealth(alice.address);
    expect([after.collateral, after.equity, after.maintenanceMargin]).to.deep.equal([0n, 0n, 0n]);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 4n * E, carolCost);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectMarket(clearingHouse, ETH_MARKET, plainMarket(4n * E));
    // pot = 53.333333333333333334 + 5.185185185185185186
    await expectClearingHouseFunds(c, {
      tokenBalance: 201_000n * USD,
      insuranceFees: 58_518_518_518_518_518_520n,
      protocolFees: 0n,
    });
  });

  it("gives a liquidator asking for less than the maximum exactly what it asked", async function () {
    const c = await networkHelpers.loadFixture(openFixture);
    const { clearingHouse, alice, carol } = c;
    await setPrice(c.ethFeed, 1800n * E);
    // carol asks for 1 ETH (the maximum is 2.962962962962962963): notional 1800, reward = fee = 18;
    // she buys at 1800 − 18 = 1782; alice closes a quarter of her 8,000 cost: realized 1782 − 2000 = −218.
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, E));
    expect(waterfallEvents(clearingHouse, c.fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1800n * E),
      ev("PositionChanged", alice.address, ETH_MARKET, 3n * E, 6000n * E, -218n * E, 18n * E),
      ev("PositionChanged", carol.address, ETH_MARKET, E, 1782n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, E, 1800n * E, 18n * E, 18n * E, false),
    ]);
    // alice: collateral 1000 − 218 − 18 = 764; equity 764 + 3 × 1800 − 6000 = 164 < maintenance 270: still open
    // to liquidation.
    const after = await clearingHouse.accountHealth(alice.address);
    expect([after.collateral, after.equity, after.maintenanceMargin]).to.deep.equal([764n * E, 164n * E, 270n * E]);
    await expectPosition(clearingHouse, alice.address, ETH_MARKET, 3n * E, 6000n * E);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, E, 1782n * E);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectMarket(clearingHouse, ETH_MARKET, plainMarket(4n * E));
    await expectClearingHouseFunds(c, { tokenBalance: 201_000n * USD, insuranceFees: 18n * E, protocolFees: 0n });
  });

  it("sweepInsuranceFees moves whole token units of the pot to the fund, which streams them into the share price", async function () {
    const c = await networkHelpers.loadFixture(partialFixture);
    const { clearingHouse, fund, bob, dave } = c;
    // Before: 10,000 USD for 10^16 shares. One USD of shares (10^12) is worth
    // ⌊10^12 × (10^10 + 1) / (10^16 + 10^6)⌋ = 10^6 units; dave's 10^16 shares are worth 10^10 units.
    const oneUsdOfShares = 10n ** 12n;
    expect(await fund.convertToAssets(oneUsdOfShares)).to.equal(USD);
    expect(await fund.previewRedeem(FUND_SHARES)).to.equal(FUND_STAKE);

    // Pot 53.333333333333333334 → 53,333,333 units (53.333333 USD) leave; 0.000000333333333334 stays.
    const receipt = await mined(clearingHouse.connect(bob).sweepInsuranceFees());
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([ev("InsuranceFeesSwept", 53_333_333n)]);
    await expectClearingHouseFunds(c, {
      tokenBalance: 201_000n * USD - 53_333_333n,
      insuranceFees: 333_333_333_334n,
      protocolFees: 0n,
    });
    // The swept units are income: the sweep starts their 7-day stream (it syncs the fund), so at its block they
    // count for nobody yet (53,333,333 × 604,800 / 604,800 locked), but draws may use them.
    await expectFund(c, {
      totalAssets: FUND_STAKE,
      totalSupply: FUND_SHARES,
      availableForDraw: FUND_STAKE + 53_333_333n,
      tokenBalance: FUND_STAKE + 53_333_333n,
    });
    const start = await blockTime(receipt);
    expect(await fund.streamStart()).to.equal(start);
    expect(await fund.streamAmount()).to.equal(53_333_333n);
    // Half way through the 7-day stream: ⌈53,333,333 × 302,400 / 604,800⌉ = 26,666,667 units still locked.
    await networkHelpers.time.increaseTo(start + 302_400n);
    expect(await fund.totalAssets()).to.equal(FUND_STAKE + 53_333_333n - 26_666_667n);
    await networkHelpers.time.increaseTo(start + 604_800n);
    expect(await fund.totalAssets()).to.equal(FUND_STAKE + 53_333_333n);
    // After:    expect(await fund.convertToAssets(oneUsdOfShares)).to.equal(1_005_333n);
    expect(await fund.previewRedeem(FUND_SHARES)).to.equal(10_053_333_332n);
    expect(await fund.balanceOf(dave.address)).to.equal(FUND_SHARES);
  });

  it("sweepInsuranceFees refuses a pot under one token unit and changes nothing", async function () {
    const c = await networkHelpers.loadFixture(partialFixture);
    const { clearingHouse, bob } = c;
    await clearingHouse.connect(bob).sweepInsuranceFees();
    // 0.000000333333333334 USD left: ⌊333333333334 / 10^12⌋ = 0 units.
    const accounts = [c.alice.address, bob.address, c.carol.address];
    const before = await waterfallSnapshot(c, accounts);
    await expect(clearingHouse.connect(bob).sweepInsuranceFees()).to.be.revertedWithCustomError(
      clearingHouse,
      "ZeroAmount",
    );
    expect(await waterfallSnapshot(c, accounts)).to.deep.equal(before);
    expect(before.state.insuranceFees).to.equal(333_333_333_334n);
  });
});
