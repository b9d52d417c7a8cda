// The default layers' own rules: joining by the published contribution rule, notice and leaving, the split of
// swept fees, parameter bounds and who may call what. Token: 6 decimals (USD = 10^6 units).
import { expect } from "chai";

import {
  BTC_MARKET,
  LAYER_PARAMS,
  USD,
  WAD,
  deploySystemWithLayers,
  networkHelpers,
} from "../../../devnet/hardhat/fixture.js";
import type { System } from "../../../devnet/hardhat/fixture.js";
import { fundFirstLoss, joinAsMember, layersOf } from "../../../devnet/hardhat/layers.js";
import { mined, trade } from "../../../devnet/hardhat/trading.js";
import { quietMarkets, stake } from "../../../devnet/hardhat/waterfall.js";

const E = WAD;
const DAY = 86_400n;
const PERIOD = BigInt(LAYER_PARAMS.coolingOffPeriod);

/** Fees refill the first loss (50%, up to 150) and pay the members (20%); 100 of first loss; erin joins with 150. */
async function membersFixture(): Promise<System> {
  const system = await deploySystemWithLayers({
    ...LAYER_PARAMS,
    firstLossTarget: 150n * USD,
    refillShare: WAD / 2n,
    memberFeeShare: WAD / 5n,
  });
  await quietMarkets(system, true);
  await fundFirstLoss(system, 100n * USD);
  await stake(system.fund, system.traders[3], 1_000n * USD);
  await joinAsMember(system, system.traders[4], 0n, 150n * USD);
  return system;
}

/** alice and bob deposit 7,000 each; alice (maker) buys 1 BTC at 60,000 from bob. */
async function aliceBuysBtcFromBob(system: System): Promise<void> {
  const [alice, bob] = system.traders;
  await (await system.clearingHouse.connect(alice).deposit(7_000n * USD)).wait();
  await (await system.clearingHouse.connect(bob).deposit(7_000n * USD)).wait();
  await trade(system.clearingHouse, alice, bob, { marketId: BTC_MARKET, size: E, limitPrice: 60_000n * E }, E);
}

describe("Default layers: members, income and administration", function () {
  it("a new member pays at least the published rule; a short contribution is refused and changes nothing", async function () {
    const system = await networkHelpers.loadFixture(membersFixture);
    const layers = layersOf(system);
    const [alice, bob] = system.traders;
    // alice holds 1 BTC at 60,000 (initial margin 6,000): she must bring 10% of it, 600.
    await aliceBuysBtcFromBob(system);
    expect(await layers.requiredContribution(alice.address)).to.equal(600n * USD);
    await expect(layers.connect(alice).join(599n * USD))
      .to.be.revertedWithCustomError(layers, "ContributionTooSmall")
      .withArgs(alice.address, 599n * USD, 600n * USD);
    await expect(layers.connect(bob).join(0n)).to.be.revertedWithCustomError(layers, "ZeroAmount");
    expect(await layers.members()).to.deep.equal([system.traders[4].address]);

    // Joining at the rule: ⌊600e6 × (S + 10^6) / (A + 1)⌋ shares, where the first member's 150 bought
    // S = ⌊150e6 × (0 + 10^6) / (0 + 1)⌋ = 1.5e14 and A = 150e6.
    await (await layers.connect(alice).join(600n * USD)).wait();
    const firstShares = 150n * USD * 10n ** 6n;
    expect((await layers.memberOf(system.traders[4].address)).shares).to.equal(firstShares);
    expect((await layers.memberOf(alice.address)).shares).to.equal(
      (600n * USD * (firstShares + 10n ** 6n)) / (150n * USD + 1n),
    );
    expect(await layers.totalContribution()).to.equal(750n * USD);
    // A member may add any amount.
    await (await layers.connect(alice).join(1n)).wait();
    expect((await layers.memberOf(alice.address)).contribution).to.equal(600n * USD + 1n);
  });

  it("leaving: notice, then a one-day window; too early or lapsed is refused; the share of the fund is paid", async function () {
    const system = await networkHelpers.loadFixture(membersFixture);
    const layers = layersOf(system);
    const erin = system.traders[4];
    await expect(layers.connect(system.traders[0]).requestLeave())
      .to.be.revertedWithCustomError(layers, "NotMember")
      .withArgs(system.traders[0].address);
    await expect(layers.connect(erin).leaveFund()).to.be.revertedWithCustomError(layers, "NoNotice");

    const requested = await mined(layers.connect(erin).requestLeave());
    const leaveAt = BigInt((await requested.getBlock()).timestamp) + PERIOD;
    await expect(layers.connect(erin).requestLeave())
      .to.be.revertedWithCustomError(layers, "NoticeAlreadyGiven")
      .withArgs(erin.address, leaveAt);
    await networkHelpers.time.setNextBlockTimestamp(leaveAt - 1n);
    await expect(layers.connect(erin).leaveFund())
      .to.be.revertedWithCustomError(layers, "NoticeNotElapsed")
      .withArgs(erin.address, leaveAt);

    // The window closes a day after the notice ends: the notice lapses and must be given again.
    await networkHelpers.time.setNextBlockTimestamp(leaveAt + DAY);
    await expect(layers.connect(erin).leaveFund())
      .to.be.revertedWithCustomError(layers, "NoticeLapsed")
      .withArgs(erin.address, leaveAt + DAY);
    const again = await mined(layers.connect(erin).requestLeave());
    await networkHelpers.time.setNextBlockTimestamp(BigInt((await again.getBlock()).timestamp) + PERIOD);
    const balanceBefore = await system.token.balanceOf(erin.address);
    // Her 1.5e14 shares are worth ⌊1.5e14 × (150e6 + 1) / (1.5e14 + 10^6)⌋ = 150e6: all she put in.
    const value = (150n * USD * 10n ** 6n * (150n * USD + 1n)) / (150n * USD * 10n ** 6n + 10n ** 6n);
    expect(value).to.equal(150n * USD);
    await expect(layers.connect(erin).leaveFund()).to.emit(layers, "MemberLeft").withArgs(erin.address, value);
    expect((await system.token.balanceOf(erin.address)) - balanceBefore).to.equal(value);
    expect(await layers.members()).to.deep.equal([]);
    expect(await layers.memberAssets()).to.equal(0n);
    expect(await layers.totalContribution()).to.equal(0n);
  });

  it("swept fees: 50% refills the first loss up to its target, 20% to the members, the rest to the stakers", async function () {
    const system = await networkHelpers.loadFixture(membersFixture);
    const layers = layersOf(system);
    // Fees 12 (maker) + 30 (taker); 30% of them, 12.6, is set aside and swept to the layers.
    await aliceBuysBtcFromBob(system);
    const fundBefore = await system.token.balanceOf(await system.fund.getAddress());
    // 12.6: members 20% = 2.52; first loss 50% = 6.3 (target 150 − 100 = 50 not reached); stakers 3.78.
    await expect(system.clearingHouse.sweepInsuranceFees())
      .to.emit(layers, "IncomeSplit")
      .withArgs(6_300_000n, 2_520_000n, 3_780_000n);
    expect(await layers.firstLoss()).to.equal(106_300_000n);
    expect(await layers.firstLossRefilled()).to.equal(6_300_000n);
    expect(await layers.firstLossFunded()).to.equal(100n * USD);
    expect(await layers.memberAssets()).to.equal(152_520_000n);
    expect((await system.token.balanceOf(await system.fund.getAddress())) - fundBefore).to.equal(3_780_000n);
    expect(await system.token.balanceOf(await layers.getAddress())).to.equal(106_300_000n + 152_520_000n);
    // Nothing new: nothing moves.
    await expect(layers.syncIncome()).not.to.emit(layers, "IncomeSplit");
  });

  it("only the clearing house draws, only the fund collects assessments; parameters stay inside their bounds", async function () {
    const system = await networkHelpers.loadFixture(membersFixture);
    const layers = layersOf(system);
    const [alice] = system.traders;
    await expect(layers.connect(alice).draw(1n))
      .to.be.revertedWithCustomError(layers, "OnlyClearingHouse")
      .withArgs(alice.address);
    await expect(system.clearingHouse.connect(alice).collectAssessment(system.traders[4].address, 1n))
      .to.be.revertedWithCustomError(system.clearingHouse, "NotInsuranceFund")
      .withArgs(alice.address);
    await expect(layers.connect(alice).fundFirstLoss(0n)).to.be.revertedWithCustomError(layers, "ZeroAmount");
    await expect(layers.connect(alice).setParams(LAYER_PARAMS)).to.be.revertedWithCustomError(
      layers,
      "AccessControlUnauthorizedAccount",
    );
    await expect(layers.connectStakers(await system.fund.getAddress()))
      .to.be.revertedWithCustomError(layers, "StakersAlreadyConnected")
      .withArgs(await system.fund.getAddress());
    const bad: [keyof typeof LAYER_PARAMS, bigint, bigint, bigint][] = [
      ["assessmentMultiple", 3n * WAD + 1n, 0n, 3n * WAD],
      ["coolingOffPeriod", DAY - 1n, DAY, 90n * DAY],
      ["drawdownFraction", WAD / 20n - 1n, WAD / 20n, WAD],
      ["drawdownWindow", 7n * DAY + 1n, 3600n, 7n * DAY],
      ["memberFeeShare", WAD / 2n + 1n, 0n, WAD / 2n],
      ["minContribution", 0n, 1n, 2n ** 128n - 1n],
    ];
    for (const [name, value, min, max] of bad) {
      await expect(layers.setParams({ ...LAYER_PARAMS, [name]: value }))
        .to.be.revertedWithCustomError(layers, "LayerParamOutOfBounds")
        .withArgs(name, value, min, max);
    }
    // Nothing changed: the fixture's parameters stand.
    expect((await layers.parameters()).slice(0, 3)).to.deep.equal([150n * USD, WAD / 2n, WAD / 5n]);
  });

  it("stakers behind the layers still unstake (the fund asks the layers for open deleverage cases)", async function () {
    const system = await networkHelpers.loadFixture(membersFixture);
    const dave = system.traders[3];
    const shares = await system.fund.balanceOf(dave.address);
    await (await system.fund.connect(dave).requestUnstake(shares)).wait();
    await networkHelpers.time.increase(86_400);
    await (await system.fund.connect(dave).confirmUnstake()).wait();
    await networkHelpers.time.increase(3_600);
    const before = await system.token.balanceOf(dave.address);
    await (await system.fund.connect(dave).unstake()).wait();
    expect((await system.token.balanceOf(dave.address)) - before).to.equal(1_000n * USD);
  });
});
