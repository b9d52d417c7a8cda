// Isolated markets backed by their own DefaultLayers (issue 11): SOL's default walks SOL's pot, SOL's first loss,
// SOL's stakers, SOL's members' fund, SOL's member assessments (one member pays its pro-rata share in full, the other
// only part of it) and then SOL's loss policy, computed by hand to the wei; the shared pot, the shared layers and the
// shared members are left as they were. The lens row of SOL's layers against their availableForDraw. Token: 6
// decimals (1 unit = 10^12 wei); SOL-USD socialized, funding off, maker 2 bp, taker 5 bp, 30% of fees to the pot.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import type { ContractTransactionReceipt } from "ethers";

import type { IDefaultLayers } from "../../../typechain-types/insurance/DefaultLayers.js";
import {
  ETH_MARKET,
  LAYER_PARAMS,
  USD,
  WAD,
  deploySystemWithLayers,
  networkHelpers,
} from "../../../devnet/hardhat/fixture.js";
import type { System } from "../../../devnet/hardhat/fixture.js";
import { listIsolatedSolWithLayers, sharedLayerBalances } from "../../../devnet/hardhat/isolated.js";
import type { IsolatedLayersMarket } from "../../../devnet/hardhat/isolated.js";
import { fundFirstLoss, joinAsMember, layersOf } from "../../../devnet/hardhat/layers.js";
import { mined, trade } from "../../../devnet/hardhat/trading.js";
import { quietMarkets, setPrice, stake } from "../../../devnet/hardhat/waterfall.js";

const E = WAD;
const U = 10n ** 12n; // one token unit in 18 decimals

/** SOL's own layers: no refill, no fee share, 10 USD minimum contribution, assessments up to 2×, no trigger. */
const SOL_LAYERS: IDefaultLayers.ParamsStruct = {
  firstLossTarget: 0n,
  refillShare: 0n,
  memberFeeShare: 0n,
  minContribution: 10n * USD,
  contributionRatio: 0n,
  assessmentMultiple: 2n * WAD,
  coolingOffPeriod: 28n * 86_400n,
  drawdownFraction: WAD,
  drawdownWindow: 8n * 3_600n,
};

interface Ctx extends System {
  sol: IsolatedLayersMarket;
  alice: HardhatEthersSigner; // long SOL, goes bankrupt
  bob: HardhatEthersSigner; // short SOL
  carol: HardhatEthersSigner; // liquidator, no other position
  dave: HardhatEthersSigner; // staker of the shared fund and of SOL's stakers' vault
  erin: HardhatEthersSigner; // clearing member of the shared layers
  fiona: HardhatEthersSigner; // clearing member of SOL's layers, 500 of collateral
  ivy: HardhatEthersSigner; // clearing member of SOL's layers, 50 of collateral
  gina: HardhatEthersSigner; // long ETH (shared market)
  hank: HardhatEthersSigner; // short ETH
}

/**
 * Shared: first loss 100, dave stakes 10,000, erin joins with 150 (1,000 in the clearing house); gina buys 1 ETH at
 * 2,000 from hank (shared pot 0.42). SOL's layers: the treasury puts 50 in SOL's first loss, dave stakes 100 in SOL's
 * stakers' vault, fiona joins with 60 (500 in the clearing house), ivy with 40 (50 in the clearing house); members'
 * fund 100. alice deposits 1,100 and buys 100 SOL at 100 from bob (fees 2 + 5: SOL's pot 2.1); SOL falls to 85.
 */
async function layersFixture(): Promise<Ctx> {
  const system = await deploySystemWithLayers(LAYER_PARAMS);
  await quietMarkets(system, true);
  const [alice, bob, carol, dave, erin, fiona, gina, hank] = system.traders;
  const ivy = system.traders[8];
  const sol = await listIsolatedSolWithLayers(system, SOL_LAYERS);
  const c: Ctx = { ...system, sol, alice, bob, carol, dave, erin, fiona, ivy, gina, hank };
  await fundFirstLoss(system, 100n * USD);
  await stake(system.fund, dave, 10_000n * USD);
  await joinAsMember(system, erin, 1_000n * USD, 150n * USD);

  const { token, clearingHouse, treasury } = system;
  await (await token.mint(treasury.address, 50n * USD)).wait();
  await (await token.connect(treasury).approve(await sol.layers.getAddress(), 50n * USD)).wait();
  await (await sol.layers.connect(treasury).fundFirstLoss(50n * USD)).wait();
  await stake(sol.stakers, dave, 100n * USD);
  await (await clearingHouse.connect(fiona).deposit(500n * USD)).wait();
  await (await sol.layers.connect(fiona).join(60n * USD)).wait();
  await (await token.mint(ivy.address, 90n * USD)).wait();
  await (await token.connect(ivy).approve(await clearingHouse.getAddress(), 50n * USD)).wait();
  await (await token.connect(ivy).approve(await sol.layers.getAddress(), 40n * USD)).wait();
  await (await clearingHouse.connect(ivy).deposit(50n * USD)).wait();
  await (await sol.layers.connect(ivy).join(40n * USD)).wait();

  for (const [who, amount] of [
    [alice, 1_100n],
    [bob, 100_000n],
    [carol, 100_000n],
    [gina, 10_000n],
    [hank, 10_000n],
  ] as const) {
    await (await clearingHouse.connect(who).deposit(amount * USD)).wait();
  }
  await trade(clearingHouse, gina, hank, { marketId: ETH_MARKET, size: E, limitPrice: 2_000n * E }, E);
  await trade(clearingHouse, alice, bob, { marketId: sol.marketId, size: 100n * E, limitPrice: 100n * E }, 100n * E);
  await setPrice(sol.feed, 85n * E);
  return c;
}

/** The events SOL's layers emitted in a transaction, in log order, as [name, ...args]. */
function solLayerEvents(c: Ctx, receipt: ContractTransactionReceipt): unknown[][] {
  const address = c.sol.layers.target;
  if (typeof address !== "string") throw new Error("unresolved address");
  return receipt.logs
    .filter((log) => log.address.toLowerCase() === address.toLowerCase())
    .map((log) => {
      const parsed = c.sol.layers.interface.parseLog(log);
      if (parsed === null) throw new Error("unknown log of SOL's layers");
      const args: unknown[] = parsed.args.toArray();
      return [parsed.name, ...args];
    });
}

describe("Isolated markets with their own default layers", function () {
  it("the lens row of SOL's layers: size = their tokens (first loss + members' fund) + their stakers' vault's, wouldPay = the pot's units + their availableForDraw", async function () {
    const c = await networkHelpers.loadFixture(layersFixture);
    // availableForDraw: first loss 50 + stakers 100 + members' fund 100 + assessable min(⌊120 × 100 / 60⌋,
    // ⌊min(80, 50) × 100 / 40⌋) = min(200, 125) = 125: 375. The lens adds the pot's 2.1 (2,100,000 whole units).
    expect(await c.sol.layers.availableForDraw()).to.equal(375n * USD);
    const rows = await c.lens.isolatedFunds();
    expect(rows.map((r) => [r.marketId, r.fund, r.pendingFees, r.size, r.wouldPay])).to.deep.equal([
      [c.sol.marketId, await c.sol.layers.getAddress(), 2_100_000_000_000_000_000n, 250n * USD, 377_100_000n],
    ]);
    // The size is first loss 50 + members' fund 100 in the layers, plus the stakers' 100 in their own vault.
    expect(await c.token.balanceOf(await c.sol.layers.getAddress())).to.equal(150n * USD);
    expect(await c.token.balanceOf(await c.sol.stakers.getAddress())).to.equal(100n * USD);
  });

  it("the deficit of 402: SOL's pot 2.1, first loss 50, stakers 100, members' fund 100, assessments 139.94, 9.96 socialized; shared layers untouched", async function () {
    const c = await networkHelpers.loadFixture(layersFixture);
    const { clearingHouse, alice, bob, carol, fiona, ivy, sol } = c;
    const shared = await sharedLayerBalances(c, c.erin.address);
    const sharedLayersTokens = await c.token.balanceOf(await layersOf(c).getAddress());

    // alice: collateral 1,100 − 2 = 1,098; 100 SOL bought at 100 are worth 8,500: equity 1,098 − 1,500 = −402.
    const deficit = 402n * E;
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(-deficit);
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, sol.marketId, 2n ** 256n - 1n));

    // SOL's pot pays its 2.1; SOL's layers are asked ⌈399.9 / 10^-6⌉ = 399,900,000 units: first loss 50, stakers
    // 100 (their whole vault, no floor), members' fund 100; 149.9 is left for the assessments:
    //   fiona: ⌈149.9 × 60 / 100⌉ = 89.94 (cap 2 × 60 = 120, free 500): 89.94 collected;
    //   ivy:   ⌈149.9 × 40 / 100⌉ = 59.96, and 149.9 − 89.94 = 59.96 left (cap 80): free collateral 50, so 50
    //          collected and 9.96 uncollected, which is not asked of fiona.
    // The layers pay 50 + 100 + 100 + 139.94 = 389.94; with the pot 392.04. 9.96 is socialized over bob's 100 SOL:
    // 0.0996 per SOL.
    const layersPaid = 389_940_000n;
    const fundPaid = 2_100_000_000_000_000_000n + layersPaid * U;
    const socialized = 9_960_000_000_000_000_000n;
    expect(fundPaid + socialized).to.equal(deficit);
    expect(solLayerEvents(c, receipt)).to.deep.equal([
      ["LayerDrawn", 0n, 50n * USD],
      ["LayerDrawn", 1n, 100n * USD],
      ["LayerDrawn", 2n, 100n * USD],
      ["MemberAssessed", fiona.address, 89_940_000n, 89_940_000n],
      ["MemberAssessed", ivy.address, 59_960_000n, 50n * USD],
      ["AssessmentUncollected", ivy.address, 9_960_000n],
      ["LayerDrawn", 3n, 139_940_000n],
    ]);
    await expect(receipt)
      .to.emit(clearingHouse, "BadDebtResolved")
      .withArgs(alice.address, sol.marketId, deficit, fundPaid, 0n, socialized, 99_600_000_000_000_000n, 0n);
    await expect(receipt).to.emit(clearingHouse, "AssessmentCollected").withArgs(fiona.address, 89_940_000n);
    await expect(receipt)
      .to.emit(clearingHouse, "AssessmentCollected")
      .withArgs(ivy.address, 50n * USD);
    await expect(receipt)
      .to.emit(sol.stakers, "Drawn")
      .withArgs(100n * USD, 0n);
    // Nothing of the shared side moved: no layer event, no draw on the shared stakers.
    await expect(receipt).not.to.emit(layersOf(c), "LayerDrawn");
    await expect(receipt).not.to.emit(layersOf(c), "MemberAssessed");
    await expect(receipt).not.to.emit(c.fund, "Drawn");

    // SOL's layers and vault are empty, the members paid their collected shares, to the wei.
    expect((await clearingHouse.isolatedPool(sol.marketId)).fees).to.equal(0n);
    expect(await sol.layers.firstLoss()).to.equal(0n);
    expect(await sol.layers.firstLossPaid()).to.equal(50n * USD);
    expect(await sol.layers.memberAssets()).to.equal(0n);
    expect(await sol.layers.assessedTotal()).to.equal(139_940_000n);
    expect(await sol.stakers.totalAssets()).to.equal(0n);
    expect(await c.token.balanceOf(await sol.layers.getAddress())).to.equal(0n);
    expect(await c.token.balanceOf(await sol.stakers.getAddress())).to.equal(0n);
    expect(await clearingHouse.collateralOf(fiona.address)).to.equal(500n * E - 89_940_000n * U);
    expect(await clearingHouse.collateralOf(ivy.address)).to.equal(0n);
    expect(await sol.layers.assessmentCapLeft(fiona.address)).to.equal(30_060_000n); // 120 − 89.94
    expect(await sol.layers.assessmentCapLeft(ivy.address)).to.equal(30n * USD); // 80 − 50
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(0n);
    expect((await clearingHouse.positionOf(bob.address, sol.marketId)).socialLossOwed).to.equal(socialized);
    // The shared pot 0.42, first loss 100, stakers 10,000, members' fund 150, erin's collateral and cap, the window.
    expect(await sharedLayerBalances(c, c.erin.address)).to.deep.equal(shared);
    expect(await c.token.balanceOf(await layersOf(c).getAddress())).to.equal(sharedLayersTokens);

    // The lens after: no pot, no tokens, nothing more to pay (ivy has no free collateral: assessable 0).
    expect(await sol.layers.availableForDraw()).to.equal(0n);
    const rows = await c.lens.isolatedFunds();
    expect(rows.map((r) => [r.pendingFees, r.size, r.wouldPay])).to.deep.equal([[0n, 0n, 0n]]);
  });

  it("SOL's sweep feeds SOL's layers only (their stakers' vault, as their income), never the shared ones", async function () {
    const c = await networkHelpers.loadFixture(layersFixture);
    const shared = await sharedLayerBalances(c, c.erin.address);
    await expect(c.clearingHouse.sweepIsolatedFees(c.sol.marketId))
      .to.emit(c.clearingHouse, "IsolatedFeesSwept")
      .withArgs(c.sol.marketId, 2_100_000n);
    // With no refill and no members' fee share, the whole 2.1 is the stakers' income; the layers keep 150.
    expect(await c.token.balanceOf(await c.sol.stakers.getAddress())).to.equal(102_100_000n);
    expect(await c.token.balanceOf(await c.sol.layers.getAddress())).to.equal(150n * USD);
    // The shared pot (0.42) is not the sweep's: everything shared as before.
    expect(await sharedLayerBalances(c, c.erin.address)).to.deep.equal(shared);
  });
});
