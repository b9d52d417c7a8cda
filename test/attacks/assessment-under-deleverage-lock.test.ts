import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";

import {
  ETH_MARKET,
  LAYER_PARAMS,
  USD,
  WAD,
  deploySystemWithLayers,
  ethers,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt, refreshFeeds, setPrice } from "../../devnet/hardhat/fund.js";
import { joinAsMember, layerEvents, layersOf } from "../../devnet/hardhat/layers.js";
import { mined } from "../../devnet/hardhat/trading.js";
import { quietMarkets } from "../../devnet/hardhat/waterfall.js";

/**
 * The rule for a clearing member who is also an ADL counterparty under a deleverage case's withdrawal lock
 * (docs/DESIGN-NOTES.md, issue 11): its assessment is collected like any member's. The attacker m is short 1 ETH
 * (2,000 in the clearing house) and a member (100 contributed) next to an honest member h (100 contributed,
 * 1,000 collateral, no position). alice (300) is long 1 ETH at 2,000 against m; ETH falls to 1,000: alice's
 * deficit is 700, the layers can pay 200 + 2 × 200 = 600 of it, so ETH-USD (ADL) opens a case and m's side is
 * locked. m tries to take its money out through the clearing house and the members' fund while the case is
 * open; then the keeper's ADL step draws the layers (m and h each assessed their cap, 200) and takes the last
 * 100 from m's profit. No fees, no funding.
 */

const PERIOD = BigInt(LAYER_PARAMS.coolingOffPeriod);
const LAYER_MEMBERS_FUND = 2n;
const LAYER_ASSESSMENTS = 3n;

interface Ctx extends System {
  alice: HardhatEthersSigner;
  m: HardhatEthersSigner;
  h: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
}

async function lockFixture(): Promise<Ctx> {
  const system = await deploySystemWithLayers({ ...LAYER_PARAMS, drawdownFraction: WAD });
  await quietMarkets(system, false);
  const [alice, , keeper, , m, h] = system.traders;
  await joinAsMember(system, m, 2_000n * USD, 100n * USD);
  await joinAsMember(system, h, 1_000n * USD, 100n * USD);
  // m gave notice a period ago: its one-day window to leave is open when the crash comes.
  await mined(layersOf(system).connect(m).requestLeave());
  await networkHelpers.time.increase(PERIOD);
  await refreshFeeds(system.ethFeed, system.btcFeed);
  await depositUsd(system.clearingHouse, 300n, alice);
  await depositUsd(system.clearingHouse, 100_000n, keeper);
  await openAt(system.clearingHouse, alice, m, ETH_MARKET, WAD, 2_000n);
  await setPrice(system.ethFeed, 1_000n);
  return { ...system, alice, m, h, keeper };
}

/** A member's wealth in token units: share of the members' fund, wallet, and equity in the clearing house. */
async function wealth(c: Ctx, who: HardhatEthersSigner): Promise<bigint> {
  const equity = (await c.clearingHouse.accountHealth(who.address)).equity / 10n ** 12n;
  return (await layersOf(c).memberValue(who.address)) + (await c.token.balanceOf(who.address)) + equity;
}

describe("Attack: a locked ADL counterparty who is a clearing member", function () {
  it("gets nothing out during the case; its assessment pays the deficit; each pays its rule share", async function () {
    const c = await networkHelpers.loadFixture(lockFixture);
    const layers = layersOf(c);
    const before = { m: await wealth(c, c.m), h: await wealth(c, c.h) };
    // m: 2,000 + 1,000 profit at 1,000, plus 100 in the fund; h: 1,000 + 100.
    expect(before.m - (await c.token.balanceOf(c.m.address))).to.equal(3_100n * USD);
    expect(before.h - (await c.token.balanceOf(c.h.address))).to.equal(1_100n * USD);

    // Members' fund 200 + assessments min(cap 200, free) × 200 / 100 = 400 each: 600 < 700 → a case, nothing drawn.
    expect(await layers.availableForDraw()).to.equal(600n * USD);
    await expect(c.clearingHouse.connect(c.keeper).liquidate(c.alice.address, ETH_MARKET, ethers.MaxUint256))
      .to.emit(c.clearingHouse, "DeleverageRequired")
      .withArgs(c.alice.address, ETH_MARKET, 700n * WAD, 600n * WAD);

    // m tries every way out while the case is open.
    await expect(c.clearingHouse.connect(c.m).withdraw(1n * USD))
      .to.be.revertedWithCustomError(c.clearingHouse, "WithdrawalLockedByDeleverage")
      .withArgs(c.m.address, ETH_MARKET);
    await expect(layers.connect(c.m).leaveFund()).to.be.revertedWithCustomError(layers, "BadDebtPending");

    // The keeper's ADL step draws the layers first: members' fund 200, then m and h asked ⌈500 × 100 / 200⌉ =
    // 250 each, capped at 2 × 100 = 200, collected from their free collateral (m's too, under the lock); the
    // 100 left is taken from m's profit.
    const step = await mined(
      c.clearingHouse.connect(c.keeper).autoDeleverage(c.alice.address, ETH_MARKET, c.m.address, WAD),
    );
    const events = layerEvents(c, step);
    const pick = (name: string): unknown[][] => events.filter((e) => e.name === name).map((e) => e.args);
    expect(pick("LayerDrawn")).to.deep.equal([
      [LAYER_MEMBERS_FUND, 200n * USD],
      [LAYER_ASSESSMENTS, 400n * USD],
    ]);
    expect(pick("MemberAssessed")).to.deep.equal([
      [c.m.address, 200n * USD, 200n * USD],
      [c.h.address, 200n * USD, 200n * USD],
    ]);
    expect(pick("BadDebtResolved")).to.deep.equal([
      [c.alice.address, ETH_MARKET, 700n * WAD, 600n * WAD, 100n * WAD, 0n, 0n, 0n],
    ]);
    expect(await c.clearingHouse.openDeleverageCases()).to.equal(0n);

    // Rule shares: each member its contribution (100) and its cap (200); m also the ADL's 100, out of its profit
    // of 1,000 on the part it gave back. Σ = 700, the deficit. m ends no richer for having tried.
    const lossM = before.m - (await wealth(c, c.m));
    const lossH = before.h - (await wealth(c, c.h));
    expect([lossM, lossH]).to.deep.equal([400n * USD, 300n * USD]);
    expect(lossM + lossH).to.equal(700n * USD);
    // After the case m's withdrawal lock is gone; it kept more than its initial margin throughout.
    const health = await c.clearingHouse.accountHealth(c.m.address);
    expect(health.equity).to.be.greaterThanOrEqual(health.initialMargin);
    await mined(c.clearingHouse.connect(c.m).withdraw(1n * USD));
  });
});
