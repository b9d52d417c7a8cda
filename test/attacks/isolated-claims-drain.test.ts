import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";

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
import { listIsolatedSol } from "../../devnet/hardhat/isolated.js";
import type { IsolatedMarket } from "../../devnet/hardhat/isolated.js";
import { mined, trade } from "../../devnet/hardhat/trading.js";
import { quietMarkets, setPrice } from "../../devnet/hardhat/waterfall.js";
import { expectNoGain, extraSigners, fundWallets, wealth } from "./support.js";

/**
 * Getting repaid from the shared pool's fees through an isolated market's loss (issue 11, claims per pool). SOL is
 * listed isolated with a fund nobody staked in. The attacker plays three accounts: m1 (1,100) buys 100 SOL at 100
 * from its own m2 (100,000); SOL falls to 85 and its keeper m3 (flat) liquidates m1: SOL's pot pays 2.1 and 399.9
 * is socialized over m2, the only SOL short, which becomes a claim of 399.9. Right after, an honest shared default:
 * gina (long 0.1 BTC at 60,000) goes bankrupt at 52,000 and 98.74 is socialized over hank's short: hank's claim.
 * Honest ETH traders then pay 140 of fees, 42 of them to the shared pot, and the attacker sweeps it and claims for m2
 * at once. Under one global queue the attacker's event came first, so the whole 42 went to m2 and hank got nothing;
 * per pool, the shared sweep repays the shared pool only: hank gets 42 (⌊0.1 × 42 / 0.1⌋), m2 nothing.
 * Fees: maker 2 bp, taker 5 bp, 30% to the market's pot; funding off; both funds empty.
 */

interface Ctx extends System {
  sol: IsolatedMarket;
  m: HardhatEthersSigner[]; // m[0..2] = m1..m3
  erin: HardhatEthersSigner;
  frank: HardhatEthersSigner;
  gina: HardhatEthersSigner;
  hank: HardhatEthersSigner;
  /** The attacker's wealth after its deposits, before any trade. */
  start: bigint;
}

const E = WAD;
const HANK_PAID = 98_740_000_000_000_000_000n; // 0.1 BTC × 987.4
const SHARED_FEES = 42n * E; // 30% of (40 + 100)

async function drainFixture(): Promise<Ctx> {
  const system = await deploySystem();
  await quietMarkets(system, true);
  const [, , , , erin, frank, gina, hank] = system.traders;
  const sol = await listIsolatedSol(system);
  const m = await extraSigners(3);
  await fundWallets(system, 200_000n, ...m);
  const ch = system.clearingHouse;
  for (const [i, dollars] of [1_100n, 100_000n, 50_000n].entries())
    await mined(ch.connect(m[i]).deposit(dollars * USD));
  for (const [who, units] of [
    [erin, 100_000n * USD],
    [frank, 100_000n * USD],
    [gina, 701_200_000n],
    [hank, 10_000n * USD],
  ] as const) {
    await mined(ch.connect(who).deposit(units));
  }
  const start = await wealth(system, m);
  // m1 buys 100 SOL at 100 from m2 (fees 2 + 5: SOL's pot 2.1); gina buys 0.1 BTC at 60,000 from hank.
  await trade(ch, m[0], m[1], { marketId: sol.marketId, size: 100n * E, limitPrice: 100n * E, nonce: 1n }, 100n * E);
  await trade(ch, gina, hank, { marketId: BTC_MARKET, size: E / 10n, limitPrice: 60_000n * E, nonce: 2n }, E / 10n);
  return { ...system, sol, m, erin, frank, gina, hank, start };
}

describe("Attack: get an isolated market's loss repaid from the shared pool's fees", function () {
  it("the attacker's SOL claim gets nothing from the shared sweep, the honest BTC claimant all of it; the attacker ends 4.9 poorer", async function () {
    const c = await networkHelpers.loadFixture(drainFixture);
    const ch = c.clearingHouse;
    const [m1, m2, m3] = c.m;

    // 1. The attacker's isolated loss: SOL at 85, m1's equity 1,098 − 1,500 = −402; m3 liquidates it. SOL's pot
    // pays 2.1, 399.9 is socialized over m2 (its loss event comes first of all).
    await setPrice(c.sol.feed, 85n * E);
    await expect(ch.connect(m3).liquidate(m1.address, c.sol.marketId, ethers.MaxUint256))
      .to.emit(ch, "LossSocialized")
      .withArgs(c.sol.marketId, false, 399_900n * 10n ** 15n, 3_999n * 10n ** 15n);
    await mined(ch.connect(m2).withdraw(1n)); // settles: m2's claim record of 399.9

    // 2. An honest shared default: BTC at 52,000, gina's equity 700 − 800 = −100; the shared pot pays 1.26, 98.74 is
    // socialized over hank's 0.1 BTC. hank settles: his claim of 98.74.
    await setPrice(c.btcFeed, 52_000n * E);
    await expect(ch.connect(c.frank).liquidate(c.gina.address, BTC_MARKET, ethers.MaxUint256))
      .to.emit(ch, "LossSocialized")
      .withArgs(BTC_MARKET, false, HANK_PAID, 987_400n * 10n ** 15n);
    await mined(ch.connect(c.hank).withdraw(1n));
    expect((await ch.claimsOf(c.hank.address)).paid).to.equal(HANK_PAID);
    expect((await ch.claimsOf(m2.address)).paid).to.equal(399_900n * 10n ** 15n);

    // 3. Honest ETH trading: frank sells 100 ETH at 2,000 to erin (fees 40 + 100): the shared pot gets 42.
    await trade(
      ch,
      c.frank,
      c.erin,
      { marketId: ETH_MARKET, isBuy: false, size: 100n * E, limitPrice: 2_000n * E, nonce: 3n },
      100n * E,
    );
    expect(await ch.insuranceFees()).to.equal(SHARED_FEES);

    // 4. The attacker sweeps the shared pot and claims for m2 in the next blocks, before anyone else.
    await mined(ch.connect(m3).sweepInsuranceFees());
    await mined(ch.connect(m3).claimRepayment(m2.address, 10n));
    await mined(ch.connect(m3).claimRepayment(m2.address, 10n));

    // The attacker: m1 lost its 1,100; m2 gained 1,500 less its fee 5 and the 399.9 charged; m3 holds 100 SOL taken
    // at the oracle. Net: −7 of fees + the 2.1 of them that SOL's pot paid back = −4.9, and no claim repaid.
    const end = await wealth(c, c.m);
    expectNoGain("isolated claims drain", c.start, end);
    expect(end - c.start).to.equal(-4_900_000_000_000_000_000n);
    expect((await ch.claimsOf(m2.address)).repaid).to.equal(0n);

    // The honest shared claimant is repaid exactly his rule share of the shared inflow: ⌊0.1 × 42 / 0.1⌋ = 42, all
    // of it (he is the shared pool's only payer).
    await mined(ch.connect(c.hank).claimRepayment(c.hank.address, 10n));
    expect(await ch.claimsOf(c.hank.address)).to.deep.equal([HANK_PAID, SHARED_FEES, 0n, 1n]);
  });
});
