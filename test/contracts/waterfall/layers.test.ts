// The default layers (issue 11): fees set aside → first-loss capital → stakers → members' fund → capped
// assessments → the market's loss policy, walked by one default and computed by hand to the wei. BTC (market 1)
// is socialized, funding off, fees on (maker 2 bp, taker 5 bp, 30% to the pot). Token: 6 decimals, so 1 unit =
// 10^12 wei and the layers, which work in units, are asked ⌈(deficit − pot) / 10^12⌉.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import type { ContractTransactionReceipt } from "ethers";

import {
  BTC_MARKET,
  ETH_MARKET,
  LAYER_PARAMS,
  USD,
  WAD,
  deploySystemWithLayers,
  ethers,
  networkHelpers,
} from "../../../devnet/hardhat/fixture.js";
import type { System } from "../../../devnet/hardhat/fixture.js";
import { fundFirstLoss, joinAsMember, layerEvents, layersOf } from "../../../devnet/hardhat/layers.js";
import { blockTime, mined, trade } from "../../../devnet/hardhat/trading.js";
import { ev, quietFunding, quietMarkets, setFundLimits, setPrice, stake } from "../../../devnet/hardhat/waterfall.js";

const E = WAD;
const U = 10n ** 12n; // one token unit in wei
const FIRST_LOSS = 100n * USD;
const STAKE = 10_000n * USD;
const STAKERS_CAP = 200n * USD; // the stakers' fund pays at most this a day
const LAYER_FIRST_LOSS = 0n;
const LAYER_STAKERS = 1n;
const LAYER_MEMBERS_FUND = 2n;
const LAYER_ASSESSMENTS = 3n;

interface Ctx extends System {
  alice: HardhatEthersSigner; // goes bankrupt
  bob: HardhatEthersSigner; // short counterparty
  carol: HardhatEthersSigner; // liquidator
  dave: HardhatEthersSigner; // staker
  erin: HardhatEthersSigner; // member: contributes 150, 1,000 collateral
  frank: HardhatEthersSigner; // member: contributes 50, only 60 collateral
  gina: HardhatEthersSigner; // second bankrupt account
}

/**
 * Treasury first-loss 100; dave stakes 10,000 (the fund pays ≤ 200 a day); erin joins with 150 (1,000 in the
 * clearing house), frank with 50 (60 in it). alice deposits 6,100 and buys 1 BTC at 60,000 from bob (alice's
 * maker fee 12, bob's taker fee 30; pot 3.6 + 9 = 12.6); BTC falls to 53,000.
 */
async function walkFixture(): Promise<Ctx> {
  const system = await deploySystemWithLayers(LAYER_PARAMS);
  await quietMarkets(system, true);
  const [alice, bob, carol, dave, erin, frank, gina] = system.traders;
  const c: Ctx = { ...system, alice, bob, carol, dave, erin, frank, gina };
  await fundFirstLoss(system, FIRST_LOSS);
  await stake(system.fund, dave, STAKE);
  await setFundLimits(system, 0n, STAKERS_CAP);
  await joinAsMember(system, erin, 1_000n * USD, 150n * USD);
  await joinAsMember(system, frank, 60n * USD, 50n * USD);
  for (const [who, amount] of [
    [alice, 6_100n],
    [bob, 100_000n],
    [carol, 100_000n],
  ] as const) {
    await (await system.clearingHouse.connect(who).deposit(amount * USD)).wait();
  }
  await trade(system.clearingHouse, alice, bob, { marketId: BTC_MARKET, size: E, limitPrice: 60_000n * E }, E);
  await setPrice(system.btcFeed, 53_000n * E);
  return c;
}

/**
 * After alice's default: gina deposits 5,400 and buys 1 BTC at 53,000 from bob (gina's fee 10.6, bob's 26.5: pot
 * 3.18 + 7.95 = 11.13); BTC falls to 45,000 (deficit 5,400 − 10.6 − 8,000 = 2,610.6) and carol liquidates her.
 */
async function ginaDefaults(c: Ctx): Promise<ContractTransactionReceipt> {
  await (await c.clearingHouse.connect(c.gina).deposit(5_400n * USD)).wait();
  await trade(c.clearingHouse, c.gina, c.bob, { marketId: BTC_MARKET, size: E, limitPrice: 53_000n * E }, E);
  await setPrice(c.btcFeed, 45_000n * E);
  return mined(c.clearingHouse.connect(c.carol).liquidate(c.gina.address, BTC_MARKET, ethers.MaxUint256));
}

describe("Default layers: a default walks every layer in order", function () {
  it("what the layers could pay now: each funded layer, plus assessments every member can pay in full", async function () {
    const c = await networkHelpers.loadFixture(walkFixture);
    const layers = layersOf(c);
    // Assessments: erin may pay min(cap 2 × 150, free 1,000) = 300, i.e. a draw of 300 × 200 / 150 = 400 in
    // full; frank min(2 × 50, free 60) = 60, i.e. 60 × 200 / 50 = 240. The smaller, 240, is what every member
    // covers in full. Funded: 100 + 200 (the stakers' daily cap) + 200. Trigger: 30% of 100 + 10,000 + 200 =
    // 3,090 is not binding.
    expect(await layers.availableForDraw()).to.equal(100n * USD + 200n * USD + 200n * USD + 240n * USD);
    expect(await layers.requiredContribution(c.alice.address)).to.equal(530n * USD); // 10% of IM 10% × 53,000
    expect(await layers.requiredContribution(c.dave.address)).to.equal(50n * USD); // the minimum
  });

  it("pot → first loss → stakers → members' fund → assessments (one uncollectable) → socialized, to the wei", async function () {
    const c = await networkHelpers.loadFixture(walkFixture);
    const { clearingHouse, fund, token, alice, bob, carol, erin, frank } = c;
    const layers = layersOf(c);

    // alice: collateral 6,100 − 12 = 6,088; selling 1 BTC at 53,000 realizes −7,000 → deficit 912.
    const deficit = 912n * E;
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(-deficit);

    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, BTC_MARKET, ethers.MaxUint256));

    // The pot pays 12.6; the layers are asked ⌈(912 − 12.6) / 10^-6⌉ = 899,400,000 units:
    //   first loss 100 → 799.4 left; stakers 200 (their daily cap) → 599.4; members' fund 150 + 50 = 200 → 399.4;
    //   assessments, pro rata to contributions 150 : 50 of 399.4: erin ⌈399.4 × 150 / 200⌉ = 299.55 (cap 300,
    //   free 1,000: collected), frank ⌈399.4 × 50 / 200⌉ = 99.85 (cap 100, free 60: 60 collected, 39.85 not).
    // Paid by the layers: 100 + 200 + 200 + 299.55 + 60 = 859.55; with the pot 872.15. The 39.85 frank could not
    // pay falls to BTC's policy: socialized over the shorts (bob's 1 BTC), ⌈39.85 / 1⌉ per unit.
    const paid = 872_150_000n * U;
    const socialized = 39_850_000n * U;
    expect(paid + socialized).to.equal(deficit);
    expect(layerEvents(c, receipt)).to.deep.equal([
      quietFunding(BTC_MARKET, 53_000n * E),
      ev("LayerDrawn", LAYER_FIRST_LOSS, 100n * USD),
      ev("Drawn", 200n * USD, 9_800n * USD),
      ev("LayerDrawn", LAYER_STAKERS, 200n * USD),
      ev("LayerDrawn", LAYER_MEMBERS_FUND, 200n * USD),
      ev("AssessmentCollected", erin.address, 299_550_000n),
      ev("MemberAssessed", erin.address, 299_550_000n, 299_550_000n),
      ev("AssessmentCollected", frank.address, 60n * USD),
      ev("MemberAssessed", frank.address, 99_850_000n, 60n * USD),
      ev("AssessmentUncollected", frank.address, 39_850_000n),
      ev("LayerDrawn", LAYER_ASSESSMENTS, 359_550_000n),
      ev("InsuranceFundDrawn", alice.address, alice.address, paid),
      ev("LossSocialized", BTC_MARKET, false, socialized, socialized),
      ev("BadDebtResolved", alice.address, BTC_MARKET, deficit, paid, 0n, socialized, socialized, 0n),
      ev("PositionChanged", alice.address, BTC_MARKET, 0n, 0n, -7_000n * E, 0n),
      ev("PositionChanged", carol.address, BTC_MARKET, E, 53_000n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, BTC_MARKET, E, 53_000n * E, 0n, 0n, true),
    ]);

    // Every layer above the loss policy is exhausted (or capped): first loss 0, stakers at their window cap,
    // members' fund 0, erin's cap 300 − 299.55 = 0.45 left, frank has no free collateral left.
    expect(await layers.firstLoss()).to.equal(0n);
    expect(await layers.firstLossPaid()).to.equal(FIRST_LOSS);
    expect(await fund.availableForDraw()).to.equal(0n);
    expect(await fund.totalAssets()).to.equal(9_800n * USD);
    expect(await layers.memberAssets()).to.equal(0n);
    expect(await layers.memberValue(erin.address)).to.equal(0n);
    expect(await layers.assessedTotal()).to.equal(359_550_000n);
    expect(await layers.assessmentCapLeft(erin.address)).to.equal(450_000n);
    expect(await layers.assessmentCapLeft(frank.address)).to.equal(40n * USD);
    expect(await layers.lastDefaultAt()).to.equal(await blockTime(receipt));
    expect(await layers.availableForDraw()).to.equal(0n);

    expect(await clearingHouse.collateralOf(erin.address)).to.equal(700_450_000n * U); // 1,000 − 299.55
    expect(await clearingHouse.collateralOf(frank.address)).to.equal(0n);
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(0n);
    expect(await clearingHouse.insuranceFees()).to.equal(0n);
    // bob: 100,000 − 30 fee + 7,000 unrealized − 39.85 socialized.
    expect((await clearingHouse.accountHealth(bob.address)).equity).to.equal(106_930_150_000n * U);
    // Tokens: the layers hold nothing; the clearing house took in 6,100 + 2 × 100,000 + 1,000 + 60 in
    // deposits, sent out 359.55 of assessments and received the layers' 859.55.
    expect(await token.balanceOf(await layers.getAddress())).to.equal(0n);
    expect(await token.balanceOf(await clearingHouse.getAddress())).to.equal(207_660n * USD);
  });

  it("assessments never pass k × contribution in a period across defaults; the cap comes back after it", async function () {
    const c = await networkHelpers.loadFixture(walkFixture);
    const { clearingHouse, carol, erin, frank, gina } = c;
    const layers = layersOf(c);
    await mined(clearingHouse.connect(carol).liquidate(c.alice.address, BTC_MARKET, ethers.MaxUint256));
    // Trigger off, so that only the caps limit this second default.
    await (await layers.setParams({ ...LAYER_PARAMS, drawdownFraction: WAD })).wait();

    const receipt = await ginaDefaults(c);

    // Layers asked 2,610.6 − 11.13 = 2,599.47: first loss, the members' fund are empty and the stakers' window cap
    // is used up. erin's share ⌈2,599.47 × 3/4⌉ = 1,949.6025 is capped at 0.45 (2 × 150 − 299.55); frank's
    // ⌈2,599.47 / 4⌉ = 649.8675 at 40 (2 × 50 − 60), none of which his empty collateral pays.
    const events = layerEvents(c, receipt).filter((e) =>
      ["LayerDrawn", "MemberAssessed", "AssessmentUncollected", "BadDebtResolved"].includes(e.name),
    );
    const deficit = 2_610_600_000n * U;
    const paid = 11_130_000n * U + 450_000n * U;
    expect(events).to.deep.equal([
      ev("MemberAssessed", erin.address, 450_000n, 450_000n),
      ev("MemberAssessed", frank.address, 40n * USD, 0n),
      ev("AssessmentUncollected", frank.address, 40n * USD),
      ev("LayerDrawn", LAYER_ASSESSMENTS, 450_000n),
      // Socialized over the shorts, bob's 2 BTC: ⌈2,599.02 / 2⌉ = 1,299.51 per unit.
      ev("BadDebtResolved", gina.address, BTC_MARKET, deficit, paid, 0n, deficit - paid, 1_299_510_000n * U, 0n),
    ]);
    // erin has paid exactly 2 × her contribution this period; frank 60 of his 100.
    expect(await clearingHouse.collateralOf(erin.address)).to.equal(700n * E);
    expect(await layers.assessmentCapLeft(erin.address)).to.equal(0n);
    expect((await layers.memberOf(erin.address)).assessed).to.equal(300n * USD);

    // One cooling-off period after her first assessment the cap is whole again.
    await networkHelpers.time.increase(LAYER_PARAMS.coolingOffPeriod);
    expect(await layers.assessmentCapLeft(erin.address)).to.equal(300n * USD);
    expect(await layers.assessmentCapLeft(frank.address)).to.equal(100n * USD);
  });

  it("the drawdown trigger: within the window the layers stop at 30% of their total and the rest goes to the policy", async function () {
    const c = await networkHelpers.loadFixture(walkFixture);
    const { clearingHouse, carol, alice } = c;
    const layers = layersOf(c);
    // Stakers' cap lifted, so that only the trigger limits: funded total 100 + 10,000 + 200 = 10,300; 30% of it
    // is 3,090. A first draw of 899.4 opens the window; the trigger does not fire.
    await setFundLimits(c, 0n, 1_000_000n * USD);
    expect(await layers.availableForDraw()).to.equal(3_090n * USD);
    const first = await mined(clearingHouse.connect(carol).liquidate(alice.address, BTC_MARKET, ethers.MaxUint256));
    expect(layerEvents(c, first).filter((e) => e.name === "DrawdownTriggered")).to.deep.equal([]);
    // first loss 100, stakers 799.4
    expect(await layers.drawdown()).to.deep.equal([await blockTime(first), 10_300n * USD, 899_400_000n]);
    expect(await layers.availableForDraw()).to.equal(3_090n * USD - 899_400_000n);

    // gina's default asks 2,599.47 within the same window; only 3,090 − 899.4 = 2,190.6 is left before the
    // trigger. The stakers pay it; the 408.87 refused is socialized, though the stakers still hold 7,010.
    const second = await ginaDefaults(c);
    const start = await blockTime(first);
    const deficit = 2_610_600_000n * U;
    const paid = 11_130_000n * U + 2_190_600_000n * U;
    expect(
      layerEvents(c, second).filter((e) => ["DrawdownTriggered", "LayerDrawn", "BadDebtResolved"].includes(e.name)),
    ).to.deep.equal([
      ev("DrawdownTriggered", 10_300n * USD, 899_400_000n, start, 408_870_000n),
      ev("LayerDrawn", LAYER_STAKERS, 2_190_600_000n),
      ev("BadDebtResolved", c.gina.address, BTC_MARKET, deficit, paid, 0n, 408_870_000n * U, 204_435_000n * U, 0n),
    ]);
    expect(await c.fund.totalAssets()).to.equal(7_010_000_000n);
    expect(await layers.memberAssets()).to.equal(200n * USD);
    expect(await layers.availableForDraw()).to.equal(0n);

    // After the window, a new one starts from what is left: 30% of 7,010 + 200 = 2,163.
    await networkHelpers.time.increase(LAYER_PARAMS.drawdownWindow);
    expect(await layers.availableForDraw()).to.equal(2_163n * USD);
  });

  it("a member whose health cannot be read (a stale feed) pays nothing and stops nothing: its share falls through", async function () {
    const c = await networkHelpers.loadFixture(walkFixture);
    const { clearingHouse, erin, frank, gina } = c;
    // frank buys 0.01 ETH at 2,000 from gina (frank's fee 0.004, gina's 0.01: the pot grows by 0.0012 + 0.003).
    await (await clearingHouse.connect(gina).deposit(100n * USD)).wait();
    // frank (60 in, reserve 2 × 50) tops up first: a member below its assessment reserve may not add risk.
    await (await clearingHouse.connect(frank).deposit(100n * USD)).wait();
    await trade(clearingHouse, frank, gina, { marketId: ETH_MARKET, size: E / 100n, limitPrice: 2_000n * E }, E / 100n);
    // Two hours on, only BTC is published again: ETH's feed is stale and frank's health reverts.
    await networkHelpers.time.increase(7_200);
    await setPrice(c.btcFeed, 53_000n * E);
    await expect(clearingHouse.accountHealth(frank.address)).to.revert(ethers);

    const receipt = await mined(
      clearingHouse.connect(c.carol).liquidate(c.alice.address, BTC_MARKET, ethers.MaxUint256),
    );
    // Pot 12.6042 → layers asked 912 − 12.6042 = 899.3958; after 100 + 200 + 200, 399.3958 is assessed:
    // erin ⌈399.3958 × 3/4⌉ = 299.546850, frank ⌈399.3958 / 4⌉ = 99.848950, of which nothing is collected.
    expect(
      layerEvents(c, receipt).filter((e) => ["MemberAssessed", "AssessmentUncollected"].includes(e.name)),
    ).to.deep.equal([
      ev("MemberAssessed", erin.address, 299_546_850n, 299_546_850n),
      ev("MemberAssessed", frank.address, 99_848_950n, 0n),
      ev("AssessmentUncollected", frank.address, 99_848_950n),
    ]);
    expect(await layersOf(c).assessmentCapLeft(frank.address)).to.equal(100n * USD);
  });
});
