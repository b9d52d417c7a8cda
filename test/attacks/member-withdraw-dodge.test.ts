import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";

import {
  BTC_MARKET,
  LAYER_PARAMS,
  USD,
  WAD,
  deploySystemWithLayers,
  ethers,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt, setPrice } from "../../devnet/hardhat/fund.js";
import { joinAsMember, layersOf, memberWealth } from "../../devnet/hardhat/layers.js";
import { mined } from "../../devnet/hardhat/trading.js";
import { quietMarkets } from "../../devnet/hardhat/waterfall.js";

/**
 * The member dodge (issue 11): a clearing member who sees a default coming withdraws its clearing-house collateral
 * so that its assessment finds nothing to take. Played by an attacker with two member accounts (x1, x2: 100 each in
 * the members' fund, 1,000 in the clearing house) next to an honest member (200, 1,000). k = 2, so each may still
 * be assessed 2 × its contribution this period: x1 and x2 200 each, the honest member 400. Nobody has staked, there
 * is no first-loss capital and the trigger is off, so alice's deficit of 900 (1 BTC bought at 60,000 on 6,100; BTC
 * at 53,000; no fees) takes the members' fund (400) and then 500 of assessments, pro rata 2 : 1 : 1 in register
 * order: the honest member ⌈500 × 200 / 400⌉ = 250, x1 125, x2 125.
 * The rule: a member's withdrawal must leave free collateral ≥ what it may still be assessed (k × contribution
 * − collected this period) until it has left the fund.
 */

interface Ctx extends System {
  honest: HardhatEthersSigner;
  x1: HardhatEthersSigner;
  x2: HardhatEthersSigner;
  alice: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
}

const U = 10n ** 12n; // one token unit in 18-decimal wei

async function dodgeFixture(): Promise<Ctx> {
  const system = await deploySystemWithLayers({ ...LAYER_PARAMS, drawdownFraction: WAD });
  await quietMarkets(system, false);
  const [alice, bob, keeper, , x1, x2, honest] = system.traders;
  await joinAsMember(system, honest, 1_000n * USD, 200n * USD);
  await joinAsMember(system, x1, 1_000n * USD, 100n * USD);
  await joinAsMember(system, x2, 1_000n * USD, 100n * USD);
  await mined(system.clearingHouse.connect(alice).deposit(6_100n * USD));
  await depositUsd(system.clearingHouse, 100_000n, bob, keeper);
  await openAt(system.clearingHouse, alice, bob, BTC_MARKET, WAD, 60_000n);
  await setPrice(system.btcFeed, 53_000n);
  return { ...system, honest, x1, x2, alice, keeper };
}

const wealth = memberWealth;

describe("Attack: a clearing member withdraws its collateral before a default it sees coming", function () {
  it("withdrawing all, giving notice and withdrawing, a second account: each pays its full share", async function () {
    const c = await networkHelpers.loadFixture(dodgeFixture);
    const { clearingHouse, x1, x2, honest } = c;
    const layers = layersOf(c);
    const before = { x1: await wealth(c, x1), x2: await wealth(c, x2), honest: await wealth(c, honest) };
    // alice is bankrupt on chain: anyone can see the default coming.
    expect((await clearingHouse.accountHealth(c.alice.address)).equity).to.equal(-900n * WAD);

    // 1. x1 tries to take everything out: refused, it must keep its 200 of assessment capacity.
    await expect(clearingHouse.connect(x1).withdraw(1_000n * USD))
      .to.be.revertedWithCustomError(clearingHouse, "AssessmentReserveRequired")
      .withArgs(x1.address, 0n, 200n * WAD);
    // 2. x2 gives notice and tries again: a member stays liable until it has left, and it cannot leave yet.
    await mined(layers.connect(x2).requestLeave());
    await expect(clearingHouse.connect(x2).withdraw(1_000n * USD))
      .to.be.revertedWithCustomError(clearingHouse, "AssessmentReserveRequired")
      .withArgs(x2.address, 0n, 200n * WAD);
    await expect(layers.connect(x2).leaveFund()).to.be.revertedWithCustomError(layers, "NoticeNotElapsed");
    // 3. Each takes out what lies above its reserve, and not one unit more.
    await mined(clearingHouse.connect(x1).withdraw(800n * USD));
    await mined(clearingHouse.connect(x2).withdraw(800n * USD));
    await expect(clearingHouse.connect(x1).withdraw(1n))
      .to.be.revertedWithCustomError(clearingHouse, "AssessmentReserveRequired")
      .withArgs(x1.address, 200n * WAD - U, 200n * WAD);
    expect(await clearingHouse.collateralOf(x1.address)).to.equal(200n * WAD);

    // The keeper liquidates: members' fund 400, then 500 assessed, every share collected in full.
    const receipt = await mined(
      c.clearingHouse.connect(c.keeper).liquidate(c.alice.address, BTC_MARKET, ethers.MaxUint256),
    );
    await expect(receipt)
      .to.emit(layers, "MemberAssessed")
      .withArgs(honest.address, 250n * USD, 250n * USD);
    await expect(receipt)
      .to.emit(layers, "MemberAssessed")
      .withArgs(x1.address, 125n * USD, 125n * USD);
    await expect(receipt)
      .to.emit(layers, "MemberAssessed")
      .withArgs(x2.address, 125n * USD, 125n * USD);
    await expect(receipt).not.to.emit(layers, "AssessmentUncollected");
    await expect(receipt)
      .to.emit(clearingHouse, "BadDebtResolved")
      .withArgs(c.alice.address, BTC_MARKET, 900n * WAD, 900n * WAD, 0n, 0n, 0n, 0n);
    expect(await layers.assessedTotal()).to.equal(500n * USD);

    // The attacker bore its full pro-rata half (100 + 125 per account); the honest member its half, no more.
    const lossX1 = before.x1 - (await wealth(c, x1));
    const lossX2 = before.x2 - (await wealth(c, x2));
    const lossHonest = before.honest - (await wealth(c, honest));
    expect([lossX1, lossX2, lossHonest]).to.deep.equal([225n * USD, 225n * USD, 450n * USD]);

    // After the draw, the reserve is what is left of the cap this period: x1 may be asked 200 − 125 = 75 more and
    // holds exactly 75, so it can withdraw nothing; the honest member keeps 400 − 250 = 150 of its 750.
    expect(await layers.assessmentCapLeft(x1.address)).to.equal(75n * USD);
    await expect(clearingHouse.connect(x1).withdraw(1n)).to.be.revertedWithCustomError(
      clearingHouse,
      "AssessmentReserveRequired",
    );
    await mined(clearingHouse.connect(honest).withdraw(600n * USD));
    await expect(clearingHouse.connect(honest).withdraw(1n))
      .to.be.revertedWithCustomError(clearingHouse, "AssessmentReserveRequired")
      .withArgs(honest.address, 150n * WAD - U, 150n * WAD);
  });

  it("a member that has left withdraws freely; an account that never joined is not held", async function () {
    const c = await networkHelpers.loadFixture(dodgeFixture);
    const layers = layersOf(c);
    const period = BigInt(LAYER_PARAMS.coolingOffPeriod);
    await mined(layers.connect(c.x1).requestLeave());
    await networkHelpers.time.increase(period);
    await mined(layers.connect(c.x1).leaveFund());
    await mined(c.clearingHouse.connect(c.x1).withdraw(1_000n * USD));
    expect(await c.clearingHouse.collateralOf(c.x1.address)).to.equal(0n);
    await mined(c.clearingHouse.connect(c.keeper).withdraw(100_000n * USD));
  });
});
