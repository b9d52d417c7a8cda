// Isolated markets (issue 11): a market listed with its own fund and fee pot. Its default walks its own pot, its own
// fund, then its own loss policy, computed by hand to the wei; every shared layer (the shared pot, first-loss
// capital, stakers, members' fund, assessments) is left as it was. The isolation rule's refusals say what was wrong
// and change nothing. Token: 6 decimals (1 unit = 10^12 wei); SOL-USD (market 2) socialized, funding off, maker
// 2 bp, taker 5 bp, 30% of fees to the market's pot.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";

import {
  BTC_MARKET,
  ETH_MARKET,
  LAYER_PARAMS,
  USD,
  WAD,
  deploySystemWithLayers,
  ethers,
  marketParams,
  networkHelpers,
} from "../../../devnet/hardhat/fixture.js";
import type { System } from "../../../devnet/hardhat/fixture.js";
import { listIsolatedSol, sharedLayerBalances } from "../../../devnet/hardhat/isolated.js";
import type { IsolatedMarket } from "../../../devnet/hardhat/isolated.js";
import { fundFirstLoss, joinAsMember, layersOf } from "../../../devnet/hardhat/layers.js";
import { mined, trade } from "../../../devnet/hardhat/trading.js";
import { quietMarkets, setPrice, stake } from "../../../devnet/hardhat/waterfall.js";

const E = WAD;

interface Ctx extends System {
  sol: IsolatedMarket;
  alice: HardhatEthersSigner; // long SOL, goes bankrupt
  bob: HardhatEthersSigner; // short SOL
  carol: HardhatEthersSigner; // liquidator, no other position
  dave: HardhatEthersSigner; // staker of both funds
  erin: HardhatEthersSigner; // clearing member of the shared layers
  gina: HardhatEthersSigner; // long ETH (shared market)
  hank: HardhatEthersSigner; // short ETH
}

/**
 * Shared layers: first loss 100, dave stakes 10,000 in the shared fund, erin joins with 150 (1,000 in the
 * clearing house); gina buys 1 ETH at 2,000 from hank (fees 0.4 + 1: shared pot 0.42). SOL is isolated with its own
 * fund, which dave stakes 300 in. alice deposits 1,100 and buys 100 SOL at 100 from bob (fees 2 + 5: SOL's pot
 * 0.6 + 1.5 = 2.1); SOL falls to 85.
 */
async function isolatedFixture(): Promise<Ctx> {
  const system = await deploySystemWithLayers(LAYER_PARAMS);
  await quietMarkets(system, true);
  const [alice, bob, carol, dave, erin, , gina, hank] = system.traders;
  const sol = await listIsolatedSol(system);
  const c: Ctx = { ...system, sol, alice, bob, carol, dave, erin, gina, hank };
  await fundFirstLoss(system, 100n * USD);
  await stake(system.fund, dave, 10_000n * USD);
  await stake(sol.fund, dave, 300n * USD);
  await joinAsMember(system, erin, 1_000n * USD, 150n * USD);
  for (const [who, amount] of [
    [alice, 1_100n],
    [bob, 100_000n],
    [carol, 100_000n],
    [gina, 10_000n],
    [hank, 10_000n],
  ] as const) {
    await (await system.clearingHouse.connect(who).deposit(amount * USD)).wait();
  }
  await trade(system.clearingHouse, gina, hank, { marketId: ETH_MARKET, size: E, limitPrice: 2_000n * E }, E);
  await trade(
    system.clearingHouse,
    alice,
    bob,
    { marketId: sol.marketId, size: 100n * E, limitPrice: 100n * E },
    100n * E,
  );
  await setPrice(sol.feed, 85n * E);
  return c;
}

describe("Isolated markets: a default walks its own pot, its own fund, then its loss policy", function () {
  it("fees: SOL's insurance share goes to its own pot, the shared pot keeps only the shared markets'", async function () {
    const c = await networkHelpers.loadFixture(isolatedFixture);
    expect(await c.clearingHouse.insuranceFees()).to.equal(420_000_000_000_000_000n); // 30% of 0.4 + 1 (ETH)
    const pool = await c.clearingHouse.isolatedPool(c.sol.marketId);
    expect(pool.fund).to.equal(await c.sol.fund.getAddress());
    expect(pool.fees).to.equal(2_100_000_000_000_000_000n); // 30% of 2 + 5 (SOL)
    expect((await c.clearingHouse.isolatedPool(ETH_MARKET)).fund).to.equal(ethers.ZeroAddress);
    // The lens: one row, SOL's fund of 300 and what it would pay now, the pot's 2.1 + the fund's 300.
    const rows = await c.lens.isolatedFunds();
    expect(rows.map((r) => [r.marketId, r.fund, r.pendingFees, r.size, r.wouldPay])).to.deep.equal([
      [c.sol.marketId, await c.sol.fund.getAddress(), 2_100_000_000_000_000_000n, 300n * USD, 302_100_000n],
    ]);
  });

  it("the deficit of 402 is paid 2.1 by SOL's pot, 300 by SOL's fund, 99.9 socialized over SOL's shorts; shared layers untouched", async function () {
    const c = await networkHelpers.loadFixture(isolatedFixture);
    const { clearingHouse, alice, bob, carol, sol } = c;
    const before = await sharedLayerBalances(c, c.erin.address);

    // alice: collateral 1,100 − 2 = 1,098; 100 SOL bought at 100 are worth 8,500: equity 1,098 − 1,500 = −402.
    const deficit = 402n * E;
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(-deficit);
    // What SOL's own resources could pay now: its pot 2.1 + its fund's 300. The shared layers are not counted.
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, sol.marketId, ethers.MaxUint256));

    // The pot pays 2.1; SOL's fund is asked ⌈399.9 / 10^-6⌉ = 399,900,000 units and pays its whole 300 (no floor);
    // 99.9 is left: socialized over the shorts' 100 SOL, ⌈99.9 / 100⌉ = 0.999 per unit, which bob owes.
    const paid = 302_100_000_000_000_000_000n;
    const socialized = 99_900_000_000_000_000_000n;
    const perUnit = 999_000_000_000_000_000n;
    expect(paid + socialized).to.equal(deficit);
    await expect(receipt)
      .to.emit(clearingHouse, "BadDebtResolved")
      .withArgs(alice.address, sol.marketId, deficit, paid, 0n, socialized, perUnit, 0n);
    await expect(receipt)
      .to.emit(sol.fund, "Drawn")
      .withArgs(300n * USD, 0n);
    await expect(receipt).to.emit(clearingHouse, "LossSocialized").withArgs(sol.marketId, false, socialized, perUnit);
    await expect(receipt).not.to.emit(layersOf(c), "LayerDrawn");
    await expect(receipt).not.to.emit(c.fund, "Drawn");

    expect((await clearingHouse.isolatedPool(sol.marketId)).fees).to.equal(0n);
    expect(await sol.fund.totalAssets()).to.equal(0n);
    expect(await c.token.balanceOf(await sol.fund.getAddress())).to.equal(0n);
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(0n);
    expect((await clearingHouse.positionOf(bob.address, sol.marketId)).socialLossOwed).to.equal(socialized);
    expect((await clearingHouse.positionOf(carol.address, sol.marketId)).size).to.equal(100n * E);
    // Every shared layer, to the wei: pot 0.42, first loss 100, stakers 10,000, members' fund 150, nothing
    // assessed, no default recorded, erin's collateral and cap as they were.
    expect(await sharedLayerBalances(c, c.erin.address)).to.deep.equal(before);
  });

  it("the isolated pot is swept to the market's own fund only; the shared sweep never takes it", async function () {
    const c = await networkHelpers.loadFixture(isolatedFixture);
    const { clearingHouse, sol } = c;
    // The shared sweep takes the shared pot's 0.42 (420,000 units, to the layers) and leaves SOL's 2.1 alone.
    await expect(clearingHouse.sweepInsuranceFees()).to.emit(clearingHouse, "InsuranceFeesSwept").withArgs(420_000n);
    expect((await clearingHouse.isolatedPool(sol.marketId)).fees).to.equal(2_100_000_000_000_000_000n);
    // SOL's sweep sends its 2.1 (2,100,000 units) to SOL's own fund, nowhere else.
    const layersBalance = await c.token.balanceOf(await layersOf(c).getAddress());
    await expect(clearingHouse.sweepIsolatedFees(sol.marketId))
      .to.emit(clearingHouse, "IsolatedFeesSwept")
      .withArgs(sol.marketId, 2_100_000n);
    expect(await c.token.balanceOf(await sol.fund.getAddress())).to.equal(302_100_000n);
    expect(await c.token.balanceOf(await layersOf(c).getAddress())).to.equal(layersBalance);
    expect((await clearingHouse.isolatedPool(sol.marketId)).fees).to.equal(0n);
  });
});

describe("Isolated markets: refusals", function () {
  it("an account in SOL may open no other market, nor an account in ETH open SOL (IsolatedMarketConflict)", async function () {
    const c = await networkHelpers.loadFixture(isolatedFixture);
    const { clearingHouse, alice, gina, hank, carol, sol } = c;
    await expect(
      trade(clearingHouse, alice, carol, { marketId: ETH_MARKET, size: E / 10n, limitPrice: 2_000n * E }, E / 10n),
    )
      .to.be.revertedWithCustomError(clearingHouse, "IsolatedMarketConflict")
      .withArgs(alice.address, ETH_MARKET, sol.marketId);
    await setPrice(sol.feed, 100n * E);
    await expect(trade(clearingHouse, gina, carol, { marketId: sol.marketId, size: E, limitPrice: 100n * E }, E))
      .to.be.revertedWithCustomError(clearingHouse, "IsolatedMarketConflict")
      .withArgs(gina.address, sol.marketId, ETH_MARKET);
    // Nothing moved: gina holds her ETH only, carol nothing, SOL's open interest is alice's 100.
    expect(await clearingHouse.openMarketsOf(gina.address)).to.deep.equal([ETH_MARKET]);
    expect(await clearingHouse.openMarketsOf(carol.address)).to.deep.equal([]);
    expect((await clearingHouse.marketState(sol.marketId)).longOpenInterest).to.equal(100n * E);
    // A trader may add to its isolated position, and reduce it; hank (ETH) may trade BTC (both shared).
    await trade(clearingHouse, alice, c.bob, { marketId: sol.marketId, size: E, limitPrice: 100n * E }, E);
    await trade(
      clearingHouse,
      hank,
      carol,
      { marketId: BTC_MARKET, size: E / 100n, limitPrice: 60_000n * E },
      E / 100n,
    );
  });

  it("a liquidator holding another market cannot take an isolated position over", async function () {
    const c = await networkHelpers.loadFixture(isolatedFixture);
    const { clearingHouse, alice, gina, sol } = c;
    await expect(clearingHouse.connect(gina).liquidate(alice.address, sol.marketId, ethers.MaxUint256))
      .to.be.revertedWithCustomError(clearingHouse, "IsolatedMarketConflict")
      .withArgs(gina.address, sol.marketId, ETH_MARKET);
    expect((await clearingHouse.positionOf(alice.address, sol.marketId)).size).to.equal(100n * E);
  });

  it("listing: a fund already in use (shared or another market's), the zero address, no role", async function () {
    const c = await networkHelpers.loadFixture(isolatedFixture);
    const { clearingHouse, riskManager, sol, alice } = c;
    const params = marketParams(await sol.feed.getAddress());
    const count = await clearingHouse.marketCount();
    const shared = await clearingHouse.insuranceFund();
    await expect(clearingHouse.connect(riskManager).listIsolatedMarket(params, shared))
      .to.be.revertedWithCustomError(clearingHouse, "FundAlreadyInUse")
      .withArgs(shared);
    const own = await sol.fund.getAddress();
    await expect(clearingHouse.connect(riskManager).listIsolatedMarket(params, own))
      .to.be.revertedWithCustomError(clearingHouse, "FundAlreadyInUse")
      .withArgs(own);
    await expect(clearingHouse.connect(riskManager).listIsolatedMarket(params, ethers.ZeroAddress))
      .to.be.revertedWithCustomError(clearingHouse, "InvalidAddress")
      .withArgs(ethers.ZeroAddress);
    await expect(clearingHouse.connect(alice).listIsolatedMarket(params, alice.address)).to.be.revertedWithCustomError(
      clearingHouse,
      "AccessControlUnauthorizedAccount",
    );
    expect(await clearingHouse.marketCount()).to.equal(count);
  });

  it("sweeping a shared market's pot as isolated, or an isolated pot under one unit", async function () {
    const c = await networkHelpers.loadFixture(isolatedFixture);
    const { clearingHouse, sol } = c;
    await expect(clearingHouse.sweepIsolatedFees(ETH_MARKET))
      .to.be.revertedWithCustomError(clearingHouse, "NotIsolatedMarket")
      .withArgs(ETH_MARKET);
    await clearingHouse.sweepIsolatedFees(sol.marketId);
    await expect(clearingHouse.sweepIsolatedFees(sol.marketId)).to.be.revertedWithCustomError(
      clearingHouse,
      "ZeroAmount",
    );
  });

  it("an isolated market's fund cannot collect assessments unless it is connected; a stranger is refused", async function () {
    const c = await networkHelpers.loadFixture(isolatedFixture);
    await expect(c.clearingHouse.connect(c.alice).collectAssessment(c.erin.address, 1n))
      .to.be.revertedWithCustomError(c.clearingHouse, "NotInsuranceFund")
      .withArgs(c.alice.address);
  });
});
