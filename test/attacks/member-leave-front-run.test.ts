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
import { depositUsd, openAt, refreshFeeds, setPrice } from "../../devnet/hardhat/fund.js";
import { joinAsMember, layersOf } from "../../devnet/hardhat/layers.js";
import { mined } from "../../devnet/hardhat/trading.js";
import { quietMarkets } from "../../devnet/hardhat/waterfall.js";

/**
 * The staker's front-run (issue 9, finding 4), played by a clearing member with two accounts (x1, x2: 100
 * each in the members' fund, 1,000 in the clearing house) next to an honest member (200, 1,000). Nobody has
 * staked and there is no first-loss capital, so a default goes straight to the members. A crash shows on chain
 * (BTC 60,000 → 53,000) before a keeper liquidates alice (1 BTC on 6,100: deficit 900, no fees). The members
 * owe it pro rata to contributions 1 : 1 : 2, i.e. the attacker 450 and the honest member 450, whatever the
 * attacker tries.
 */

const PERIOD = BigInt(LAYER_PARAMS.coolingOffPeriod);
const DAY = 86_400n;

interface Ctx extends System {
  honest: HardhatEthersSigner;
  x1: HardhatEthersSigner;
  x2: HardhatEthersSigner;
  alice: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
}

async function membersFixture(): Promise<Ctx> {
  // Trigger off: with 400 in the funded layers a 30% trigger would hand all but 120 to the loss policy.
  const system = await deploySystemWithLayers({ ...LAYER_PARAMS, drawdownFraction: WAD });
  await quietMarkets(system, false);
  const [alice, bob, keeper, , x1, x2, honest] = system.traders;
  await joinAsMember(system, honest, 1_000n * USD, 200n * USD);
  await joinAsMember(system, x1, 1_000n * USD, 100n * USD);
  await joinAsMember(system, x2, 1_000n * USD, 100n * USD);
  // x2 gives notice now and keeps it "armed" for later.
  await mined(layersOf(system).connect(x2).requestLeave());
  await networkHelpers.time.increase(PERIOD + DAY);
  await refreshFeeds(system.ethFeed, system.btcFeed);
  await mined(system.clearingHouse.connect(alice).deposit(6_100n * USD));
  await depositUsd(system.clearingHouse, 100_000n, bob, keeper);
  await openAt(system.clearingHouse, alice, bob, BTC_MARKET, WAD, 60_000n);
  await setPrice(system.btcFeed, 53_000n);
  return { ...system, honest, x1, x2, alice, keeper };
}

/** What a member holds: its share of the members' fund, its tokens and its clearing-house collateral (units). */
async function wealth(c: Ctx, member: HardhatEthersSigner): Promise<bigint> {
  const layers = layersOf(c);
  const collateral = (await c.clearingHouse.collateralOf(member.address)) / 10n ** 12n;
  return (await layers.memberValue(member.address)) + (await c.token.balanceOf(member.address)) + collateral;
}

describe("Attack: a clearing member leaves the default fund ahead of a loss it can see coming", function () {
  it("notice and leave at once, a matured notice kept armed, a leave between two defaults: none gets out", async function () {
    const c = await networkHelpers.loadFixture(membersFixture);
    const layers = layersOf(c);
    const before = { x1: await wealth(c, c.x1), x2: await wealth(c, c.x2), honest: await wealth(c, c.honest) };

    // 1. x1 sees the crash and gives notice, then tries to leave at once.
    const notice = await mined(layers.connect(c.x1).requestLeave());
    const leaveAt = BigInt((await notice.getBlock()).timestamp) + PERIOD;
    await expect(layers.connect(c.x1).leaveFund())
      .to.be.revertedWithCustomError(layers, "NoticeNotElapsed")
      .withArgs(c.x1.address, leaveAt);
    // 2. x2's notice matured a period ago; its one-day window has closed, so it is no option kept armed.
    await expect(layers.connect(c.x2).leaveFund()).to.be.revertedWithCustomError(layers, "NoticeLapsed");

    // The keeper liquidates: the members' fund pays 400, then assessments of 500, pro rata 1 : 1 : 2.
    await mined(c.clearingHouse.connect(c.keeper).liquidate(c.alice.address, BTC_MARKET, ethers.MaxUint256));
    expect(await layers.memberAssets()).to.equal(0n);
    expect(await layers.assessedTotal()).to.equal(500n * USD);

    // 3. x1's notice ends, but a default drew on the layers within the cooling-off period before it.
    await networkHelpers.time.setNextBlockTimestamp(leaveAt);
    await expect(layers.connect(c.x1).leaveFund()).to.be.revertedWithCustomError(layers, "CoolingOff");

    // The attacker bore exactly its pro-rata half of the 900 (100 + 125 per account), no less; the honest
    // member exactly its half (200 + 250), no more.
    const lossX1 = before.x1 - (await wealth(c, c.x1));
    const lossX2 = before.x2 - (await wealth(c, c.x2));
    const lossHonest = before.honest - (await wealth(c, c.honest));
    expect([lossX1, lossX2, lossHonest]).to.deep.equal([225n * USD, 225n * USD, 450n * USD]);
    expect(lossX1 + lossX2 + lossHonest).to.equal(900n * USD);
  });
});
