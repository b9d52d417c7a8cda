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
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { listIsolatedSol, sharedLayerBalances } from "../../devnet/hardhat/isolated.js";
import type { IsolatedMarket } from "../../devnet/hardhat/isolated.js";
import { fundFirstLoss, joinAsMember, layersOf } from "../../devnet/hardhat/layers.js";
import { mined, trade } from "../../devnet/hardhat/trading.js";
import { quietMarkets, setPrice, stake } from "../../devnet/hardhat/waterfall.js";
import { expectNoGain, extraSigners, fundWallets, wealth } from "./support.js";

/**
 * Draining the shared layers through an isolated market (issue 11). SOL is listed isolated with a fund nobody has
 * staked in; a second isolated market (OTHER, also at 100) has a fund of 1,000 (gina's). The shared layers hold
 * first loss 100, dave's 10,000 of stakes and erin's 150 in the members' fund. The attacker plays five accounts:
 * m1 (1,100) buys 100 SOL at 100 at ~9x from its own m2 (100,000); SOL falls to 85, so m1 owes 402 that SOL's empty
 * fund cannot pay. The attacker wants that deficit paid by anyone but its own m2, the only SOL short: it tries to
 * blend m1 into a shared market (BTC) or into OTHER so that the deficit would be a mixed account's, and to have its
 * accounts m3 (holding ETH, shared) and m5 (holding OTHER) take m1's position over, so that the bankrupt position
 * would land beside another market's; m4 (flat) is its keeper. Honest parties: hank (short ETH against m3), bob
 * (short OTHER against m5), gina (OTHER's staker), dave and erin (shared layers).
 * Fees: maker 2 bp, taker 5 bp, 30% to the market's pot; funding off.
 */

interface Ctx extends System {
  sol: IsolatedMarket;
  other: IsolatedMarket;
  m: HardhatEthersSigner[]; // m[0..4] = m1..m5
  bob: HardhatEthersSigner;
  dave: HardhatEthersSigner;
  erin: HardhatEthersSigner;
  gina: HardhatEthersSigner;
  hank: HardhatEthersSigner;
  /** The attacker's wealth after its deposits, before any trade. */
  start: bigint;
}

const E = WAD;
const DEPOSITS = [1_100n, 100_000n, 10_000n, 50_000n, 10_000n];

async function drainFixture(): Promise<Ctx> {
  const system = await deploySystemWithLayers(LAYER_PARAMS);
  await quietMarkets(system, true);
  const [, bob, , dave, erin, , gina, hank] = system.traders;
  const sol = await listIsolatedSol(system);
  const other = await listIsolatedSol(system);
  await fundFirstLoss(system, 100n * USD);
  await stake(system.fund, dave, 10_000n * USD);
  await joinAsMember(system, erin, 1_000n * USD, 150n * USD);
  await stake(other.fund, gina, 1_000n * USD);
  const m = await extraSigners(5);
  await fundWallets(system, 200_000n, ...m);
  for (const [i, dollars] of DEPOSITS.entries()) await mined(system.clearingHouse.connect(m[i]).deposit(dollars * USD));
  for (const honest of [hank, bob]) await mined(system.clearingHouse.connect(honest).deposit(10_000n * USD));
  const start = await wealth(system, m);

  const { clearingHouse } = system;
  // m3 buys 1 ETH at 2,000 from hank (m3's maker fee 0.4); m5 buys 10 OTHER at 100 from bob (0.2).
  await trade(clearingHouse, m[2], hank, { marketId: ETH_MARKET, size: E, limitPrice: 2_000n * E }, E);
  await trade(clearingHouse, m[4], bob, { marketId: other.marketId, size: 10n * E, limitPrice: 100n * E }, 10n * E);
  // m1 buys 100 SOL at 100 from m2: fees 2 + 5, SOL's pot 2.1.
  await trade(clearingHouse, m[0], m[1], { marketId: sol.marketId, size: 100n * E, limitPrice: 100n * E }, 100n * E);
  return { ...system, sol, other, m, bob, dave, erin, gina, hank, start };
}

describe("Attack: make the shared layers or another market's fund pay an isolated market's default", function () {
  it("every way to blend the bankrupt SOL account with another market is refused; SOL's pot and its loss policy pay; the attacker ends 5.5 poorer", async function () {
    const c = await networkHelpers.loadFixture(drainFixture);
    const { clearingHouse, sol, other, m } = c;
    const [m1, m2, m3, m4, m5] = m;
    const shared = await sharedLayerBalances(c, c.erin.address);
    const otherFund = await c.token.balanceOf(await other.fund.getAddress());

    // 1. Before the fall, m1 tries to add a shared market and the other isolated market to its account.
    await expect(
      trade(clearingHouse, m1, m4, { marketId: BTC_MARKET, size: E / 100n, limitPrice: 60_000n * E }, E / 100n),
    )
      .to.be.revertedWithCustomError(clearingHouse, "IsolatedMarketConflict")
      .withArgs(m1.address, BTC_MARKET, sol.marketId);
    await expect(trade(clearingHouse, m1, m4, { marketId: other.marketId, size: E, limitPrice: 100n * E }, E))
      .to.be.revertedWithCustomError(clearingHouse, "IsolatedMarketConflict")
      .withArgs(m1.address, other.marketId, sol.marketId);

    // 2. SOL falls to 85: m1's equity is 1,098 − 1,500 = −402. Its accounts holding ETH and OTHER try to take the
    // bankrupt position over: refused, and m1 keeps its position.
    await setPrice(sol.feed, 85n * E);
    expect((await clearingHouse.accountHealth(m1.address)).equity).to.equal(-402n * E);
    await expect(clearingHouse.connect(m3).liquidate(m1.address, sol.marketId, ethers.MaxUint256))
      .to.be.revertedWithCustomError(clearingHouse, "IsolatedMarketConflict")
      .withArgs(m3.address, sol.marketId, ETH_MARKET);
    await expect(clearingHouse.connect(m5).liquidate(m1.address, sol.marketId, ethers.MaxUint256))
      .to.be.revertedWithCustomError(clearingHouse, "IsolatedMarketConflict")
      .withArgs(m5.address, sol.marketId, other.marketId);
    expect((await clearingHouse.positionOf(m1.address, sol.marketId)).size).to.equal(100n * E);
    expect(await clearingHouse.openMarketsOf(m1.address)).to.deep.equal([sol.marketId]);

    // 3. Its flat keeper m4 liquidates: SOL's pot pays 2.1, SOL's empty fund nothing, and 399.9 is socialized over
    // SOL's only short, the attacker's own m2 (3.999 per SOL).
    const receipt = await mined(clearingHouse.connect(m4).liquidate(m1.address, sol.marketId, ethers.MaxUint256));
    await expect(receipt)
      .to.emit(clearingHouse, "BadDebtResolved")
      .withArgs(
        m1.address,
        sol.marketId,
        402n * E,
        2_100_000_000_000_000_000n,
        0n,
        399_900_000_000_000_000_000n,
        3_999_000_000_000_000_000n,
        0n,
      );
    await expect(receipt).not.to.emit(layersOf(c), "LayerDrawn");
    await expect(receipt).not.to.emit(c.fund, "Drawn");
    await expect(receipt).not.to.emit(other.fund, "Drawn");

    // Nobody else paid: the shared layers and erin as they were, OTHER's fund still gina's 1,000, hank and bob hold
    // their deposits less their taker fees (1 and 0.5) at unchanged prices.
    expect(await sharedLayerBalances(c, c.erin.address)).to.deep.equal(shared);
    expect(await c.token.balanceOf(await other.fund.getAddress())).to.equal(otherFund);
    expect((await clearingHouse.accountHealth(c.hank.address)).equity).to.equal(9_999n * E);
    expect((await clearingHouse.accountHealth(c.bob.address)).equity).to.equal(9_999_500_000_000_000_000_000n);
    expect((await clearingHouse.positionOf(m2.address, sol.marketId)).socialLossOwed).to.equal(399_900n * 10n ** 15n);

    // The attacker: m1 lost its 1,100; m2 gained 1,500 less its fee 5 and the 399.9 charged; m3 and m5 paid their
    // maker fees 0.4 and 0.2; m4 holds 100 SOL taken at the oracle (no reward on a bankrupt account). Net: −7.6 of
    // fees + the 2.1 of them that SOL's pot paid back = −5.5.
    const end = await wealth(c, m);
    expect(end - c.start).to.equal(-5_500_000_000_000_000_000n);
    expectNoGain("isolated fund drain", c.start, end);
  });
});
