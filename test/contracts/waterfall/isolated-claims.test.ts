// Claims per pool (issue 11): an isolated market's loss events are claims on its own pool only, repaid from its own
// fee sweeps and from repayClaims naming it; the shared pool's claims from the shared sweep. Worked by hand to the
// wei. Token: 6 decimals (1 unit = 10^12 wei); BTC-USD (market 1) shared and socialized, SOL-USD (market 2) isolated
// and socialized, both funds empty (nobody staked); funding off, maker 2 bp, taker 5 bp, 30% of fees to the market's
// pot (the shared pot for ETH and BTC, SOL's own for SOL).
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
} from "../../../devnet/hardhat/fixture.js";
import type { System } from "../../../devnet/hardhat/fixture.js";
import { listIsolatedSol } from "../../../devnet/hardhat/isolated.js";
import type { IsolatedMarket } from "../../../devnet/hardhat/isolated.js";
import { mined, trade } from "../../../devnet/hardhat/trading.js";
import { claimEvents, ev, quietMarkets, setPrice } from "../../../devnet/hardhat/waterfall.js";
import { SHARED_CLAIMS_POOL, claimsPoolOf } from "../../../sdk/constants.js";

const E = WAD;
const SOCIALIZED = 2n;

interface Ctx extends System {
  sol: IsolatedMarket;
  solPool: bigint;
  alice: HardhatEthersSigner; // long SOL, goes bankrupt
  bob: HardhatEthersSigner; // short SOL: pays SOL's socialization
  carol: HardhatEthersSigner; // liquidates alice (SOL only)
  dave: HardhatEthersSigner; // trades SOL later (SOL's fees)
  erin: HardhatEthersSigner; // trades SOL later
  frank: HardhatEthersSigner; // liquidates gina (BTC), sells ETH later (shared fees)
  gina: HardhatEthersSigner; // long BTC, goes bankrupt
  hank: HardhatEthersSigner; // short BTC: pays BTC's socialization
}

// SOL: alice buys 100 SOL at 100 from bob (fees 2 + 5, SOL's pot 2.1); at 85 her equity is 1,098 − 1,500 = −402.
// SOL's pot pays 2.1, its empty fund nothing: 399.9 socialized over bob's 100 SOL, 3.999 per unit.
const SOL_TAKEN = 399_900_000_000_000_000_000n;
// BTC: gina deposits 701.2 and buys 0.1 BTC at 60,000 from hank (fees 1.2 + 3, shared pot 0.36 + 0.9 = 1.26); at
// 52,000 her equity is 700 − 800 = −100. The shared pot pays 1.26, the shared fund nothing: 98.74 socialized over
// hank's 0.1 BTC, 987.4 per unit.
const BTC_TAKEN = 98_740_000_000_000_000_000n;

async function poolsFixture(): Promise<Ctx> {
  const system = await deploySystem();
  await quietMarkets(system, true);
  const [alice, bob, carol, dave, erin, frank, gina, hank] = system.traders;
  const sol = await listIsolatedSol(system);
  const solPool = claimsPoolOf(sol.marketId, true);
  const c: Ctx = { ...system, sol, solPool, alice, bob, carol, dave, erin, frank, gina, hank };
  for (const [who, units] of [
    [alice, 1_100n * USD],
    [bob, 100_000n * USD],
    [carol, 100_000n * USD],
    [dave, 10_000n * USD],
    [erin, 10_000n * USD],
    [frank, 100_000n * USD],
    [gina, 701_200_000n],
    [hank, 10_000n * USD],
  ] as const) {
    await mined(system.clearingHouse.connect(who).deposit(units));
  }
  const ch = system.clearingHouse;
  await trade(ch, alice, bob, { marketId: sol.marketId, size: 100n * E, limitPrice: 100n * E, nonce: 1n }, 100n * E);
  await trade(ch, gina, hank, { marketId: BTC_MARKET, size: E / 10n, limitPrice: 60_000n * E, nonce: 2n }, E / 10n);
  return c;
}

/** SOL's default (event 0, SOL's pool), then BTC's (event 1, the shared pool); bob and hank settle their shares. */
async function defaultsFixture(): Promise<Ctx> {
  const c = await networkHelpers.loadFixture(poolsFixture);
  const ch = c.clearingHouse;
  await setPrice(c.sol.feed, 85n * E);
  const solDefault = await mined(ch.connect(c.carol).liquidate(c.alice.address, c.sol.marketId, ethers.MaxUint256));
  await expect(solDefault)
    .to.emit(ch, "BadDebtResolved")
    .withArgs(
      c.alice.address,
      c.sol.marketId,
      402n * E,
      2_100_000_000_000_000_000n,
      0n,
      SOL_TAKEN,
      3_999n * 10n ** 15n,
      0n,
    );
  expect(claimEvents(ch, solDefault)).to.deep.equal([
    ev("LossEventRecorded", 0n, c.sol.marketId, SOCIALIZED, false, SOL_TAKEN),
  ]);
  await setPrice(c.btcFeed, 52_000n * E);
  const btcDefault = await mined(ch.connect(c.frank).liquidate(c.gina.address, BTC_MARKET, ethers.MaxUint256));
  await expect(btcDefault)
    .to.emit(ch, "BadDebtResolved")
    .withArgs(
      c.gina.address,
      BTC_MARKET,
      100n * E,
      1_260_000_000_000_000_000n,
      0n,
      BTC_TAKEN,
      987_400n * 10n ** 15n,
      0n,
    );
  expect(claimEvents(ch, btcDefault)).to.deep.equal([
    ev("LossEventRecorded", 1n, BTC_MARKET, SOCIALIZED, false, BTC_TAKEN),
  ]);
  // Settling (a withdrawal of one unit) writes each payer's record: bob paid all of SOL's 399.9, hank all of 98.74.
  expect(claimEvents(ch, await mined(ch.connect(c.bob).withdraw(1n)))).to.deep.equal([
    ev("ClaimRecorded", c.bob.address, 0n, SOCIALIZED, c.sol.marketId, SOL_TAKEN),
  ]);
  expect(claimEvents(ch, await mined(ch.connect(c.hank).withdraw(1n)))).to.deep.equal([
    ev("ClaimRecorded", c.hank.address, 0n, SOCIALIZED, BTC_MARKET, BTC_TAKEN),
  ]);
  return c;
}

describe("Claims per pool: an isolated market's claims are repaid from its own pool only", function () {
  it("each loss event counts in its own pool: SOL's 399.9 in pool 1 + 2, BTC's 98.74 in the shared pool", async function () {
    const c = await defaultsFixture();
    const ch = c.clearingHouse;
    expect(c.solPool).to.equal(3n);
    // Both pots were used up by the defaults.
    expect(await ch.insuranceFees()).to.equal(0n);
    expect((await ch.isolatedPool(c.sol.marketId)).fees).to.equal(0n);
    // Per pool: issued, inflow, events. BTC's event is the shared pool's first (its start is 0, not 399.9).
    expect(await ch.claimsTotals(SHARED_CLAIMS_POOL)).to.deep.equal([BTC_TAKEN, 0n, 1n]);
    expect(await ch.claimsTotals(c.solPool)).to.deep.equal([SOL_TAKEN, 0n, 1n]);
    expect(await ch.claimsTotals(ETH_MARKET + 1n)).to.deep.equal([0n, 0n, 0n]); // names no pool: all zero
    expect((await c.lens.claimsPools()).map((p) => [p.pool, p.issued, p.inflow, p.events])).to.deep.equal([
      [0n, BTC_TAKEN, 0n, 1n],
      [c.solPool, SOL_TAKEN, 0n, 1n],
    ]);
  });

  it("a shared sweep repays only the shared claims, an isolated sweep only its own; the other pool to the wei unchanged", async function () {
    const c = await defaultsFixture();
    const ch = c.clearingHouse;

    // Shared fees: frank sells 1 ETH at 2,000 to hank (fees 0.4 + 1): the shared pot 0.12 + 0.3 = 0.42.
    await trade(
      ch,
      c.frank,
      c.hank,
      { marketId: ETH_MARKET, isBuy: false, size: E, limitPrice: 2_000n * E, nonce: 3n },
      E,
    );
    expect(await ch.insuranceFees()).to.equal(420_000_000_000_000_000n);
    // The shared sweep gives all 0.42 to the shared pool (98.74 owed): nothing to the fund. On the old single
    // queue, it went to event 0 — SOL's — first.
    const fundBefore = await c.token.balanceOf(await c.fund.getAddress());
    const sharedSweep = await mined(ch.sweepInsuranceFees());
    expect(claimEvents(ch, sharedSweep)).to.deep.equal([
      ev("ClaimsFunded", SHARED_CLAIMS_POOL, 420_000_000_000_000_000n, 420_000_000_000_000_000n),
    ]);
    expect(await c.token.balanceOf(await c.fund.getAddress())).to.equal(fundBefore);
    expect(await ch.claimsTotals(SHARED_CLAIMS_POOL)).to.deep.equal([BTC_TAKEN, 420_000_000_000_000_000n, 1n]);
    expect(await ch.claimsTotals(c.solPool)).to.deep.equal([SOL_TAKEN, 0n, 1n]);
    // hank: ⌊0.1 × 0.42 / 0.1⌋ = 0.42; bob (SOL's pool): nothing.
    expect(claimEvents(ch, await mined(ch.claimRepayment(c.hank.address, 5n)))).to.deep.equal([
      ev("ClaimRepaid", c.hank.address, 0n, 420_000_000_000_000_000n),
    ]);
    expect(await ch.claimsOf(c.bob.address)).to.deep.equal([SOL_TAKEN, 0n, 0n, 1n]);
    expect(claimEvents(ch, await mined(ch.claimRepayment(c.bob.address, 5n)))).to.deep.equal([]);

    // SOL's fees: dave buys 10 SOL at 85 from erin (fees 0.17 + 0.425): SOL's pot 0.051 + 0.1275 = 0.1785.
    await trade(
      ch,
      c.dave,
      c.erin,
      { marketId: c.sol.marketId, size: 10n * E, limitPrice: 85n * E, nonce: 4n },
      10n * E,
    );
    expect((await ch.isolatedPool(c.sol.marketId)).fees).to.equal(178_500_000_000_000_000n);
    expect(await ch.insuranceFees()).to.equal(0n);
    // SOL's sweep gives its 0.1785 to SOL's pool (399.9 owed); under one unit is left, so nothing goes to SOL's fund
    // and no IsolatedFeesSwept.
    const solFundBefore = await c.token.balanceOf(await c.sol.fund.getAddress());
    const solSweep = await mined(ch.sweepIsolatedFees(c.sol.marketId));
    expect(claimEvents(ch, solSweep)).to.deep.equal([
      ev("ClaimsFunded", c.solPool, 178_500_000_000_000_000n, 178_500_000_000_000_000n),
    ]);
    await expect(solSweep).not.to.emit(ch, "IsolatedFeesSwept");
    expect(await c.token.balanceOf(await c.sol.fund.getAddress())).to.equal(solFundBefore);
    expect((await ch.isolatedPool(c.sol.marketId)).fees).to.equal(0n);
    // The shared pool is as the shared sweep left it, to the wei.
    expect(await ch.claimsTotals(SHARED_CLAIMS_POOL)).to.deep.equal([BTC_TAKEN, 420_000_000_000_000_000n, 1n]);
    expect(await ch.claimsTotals(c.solPool)).to.deep.equal([SOL_TAKEN, 178_500_000_000_000_000n, 1n]);
    // bob: ⌊100 × 0.1785 / 100⌋ = 0.1785; hank gets nothing more.
    expect(claimEvents(ch, await mined(ch.claimRepayment(c.bob.address, 5n)))).to.deep.equal([
      ev("ClaimRepaid", c.bob.address, 0n, 178_500_000_000_000_000n),
    ]);
    expect(claimEvents(ch, await mined(ch.claimRepayment(c.hank.address, 5n)))).to.deep.equal([]);
    expect(await ch.claimsOf(c.hank.address)).to.deep.equal([BTC_TAKEN, 420_000_000_000_000_000n, 0n, 1n]);

    // A treasury pays 300 units into SOL's pool: bob 300 more; the shared pool untouched.
    const treasury = c.dave;
    expect(claimEvents(ch, await mined(ch.connect(treasury).repayClaims(c.solPool, 300n * USD)))).to.deep.equal([
      ev("ClaimsFunded", c.solPool, 300n * E, 300n * E + 178_500_000_000_000_000n),
    ]);
    expect(await ch.claimsTotals(SHARED_CLAIMS_POOL)).to.deep.equal([BTC_TAKEN, 420_000_000_000_000_000n, 1n]);
    expect((await ch.claimsOf(c.bob.address)).repayable).to.equal(300n * E);
    expect((await ch.claimsOf(c.hank.address)).repayable).to.equal(0n);
  });

  it("a bad pool, or more than the pool owes, is refused with what was wrong and changes nothing", async function () {
    const c = await defaultsFixture();
    const ch = c.clearingHouse;
    const count = await ch.marketCount();
    const state = async (): Promise<unknown[]> => [
      await ch.claimsTotals(SHARED_CLAIMS_POOL),
      await ch.claimsTotals(c.solPool),
      await c.token.balanceOf(c.dave.address),
      await c.token.balanceOf(await ch.getAddress()),
    ];
    const before = await state();
    // ETH is a shared market: it has no pool of its own (its events are the shared pool's).
    await expect(ch.connect(c.dave).repayClaims(ETH_MARKET + 1n, USD))
      .to.be.revertedWithCustomError(ch, "NotIsolatedMarket")
      .withArgs(ETH_MARKET);
    // Pool 1 + 3 names market 3, which is not listed.
    await expect(ch.connect(c.dave).repayClaims(count + 1n, USD))
      .to.be.revertedWithCustomError(ch, "UnknownMarket")
      .withArgs(count);
    await expect(ch.connect(c.dave).repayClaims(ethers.MaxUint256, USD))
      .to.be.revertedWithCustomError(ch, "UnknownMarket")
      .withArgs(ethers.MaxUint256 - 1n);
    // SOL's pool owes 399.9: 400 units are refused, naming the pool; so is 98.75 into the shared pool (98.74 owed).
    await expect(ch.connect(c.dave).repayClaims(c.solPool, 400n * USD))
      .to.be.revertedWithCustomError(ch, "ClaimsRepaymentExceedsOutstanding")
      .withArgs(c.solPool, 400n * E, SOL_TAKEN);
    await expect(ch.connect(c.dave).repayClaims(SHARED_CLAIMS_POOL, 98_750_000n))
      .to.be.revertedWithCustomError(ch, "ClaimsRepaymentExceedsOutstanding")
      .withArgs(SHARED_CLAIMS_POOL, 98_750_000_000_000_000_000n, BTC_TAKEN);
    await expect(ch.connect(c.dave).repayClaims(c.solPool, 0n)).to.be.revertedWithCustomError(ch, "ZeroAmount");
    expect(await state()).to.deep.equal(before);
  });
});
