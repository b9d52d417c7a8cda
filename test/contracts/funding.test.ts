import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { MockAggregatorV3 } from "../../typechain-types/index.js";
import { deploySystem, ethers, marketParams, networkHelpers, USD, WAD } from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import {
  blockTime,
  captureState,
  clearingHouseEvents,
  expectOpenInterest,
  latestTime,
  mined,
  nextBlockAt,
  signedOrder,
  trade,
} from "../../devnet/hardhat/trading.js";

const FEED = 10n ** 8n; // one unit of an 8-decimal feed answer
const P2000 = 2000n * WAD;
const P60000 = 60_000n * WAD;
const MAX_RATE = WAD / 100n; // the fixture's maxFundingRate: 1% a day
const PENDING = { blockTag: "pending" };

/** An odd size, so that size × index is never a whole number of wei. */
const S = 1234567890123456789n;

interface Ctx extends System {
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner;
  dave: HardhatEthersSigner;
  feed2: MockAggregatorV3;
  feed3: MockAggregatorV3;
  /** Listing time of market 2; market 3 is listed one second later. */
  t0: bigint;
}

const M2 = 2n; // priced 2000
const M3 = 3n; // priced 60,000

/**
 * The base system plus two markets listed at known times (market 2 at t0, market 3 at t0 + 1) with a
 * two-day oracle heartbeat, so that hours can pass without refreshing the feeds. alice, bob, carol and
 * dave hold 100,000 USD each.
 */
async function fundingFixture(): Promise<Ctx> {
  const system = await deploySystem();
  const { clearingHouse, riskManager, traders } = system;
  const [alice, bob, carol, dave] = traders;
  const feed2 = await ethers.deployContract("MockAggregatorV3", [8, "PERP2 / USD", 2000n * FEED]);
  const feed3 = await ethers.deployContract("MockAggregatorV3", [8, "PERP3 / USD", 60_000n * FEED]);
  const t0 = (await latestTime()) + 100n;
  await nextBlockAt(t0);
  await clearingHouse
    .connect(riskManager)
    .listMarket(marketParams(await feed2.getAddress(), { oracleHeartbeat: 2n * 86_400n }));
  await nextBlockAt(t0 + 1n);
  await clearingHouse
    .connect(riskManager)
    .listMarket(marketParams(await feed3.getAddress(), { oracleHeartbeat: 2n * 86_400n }));
  for (const trader of [alice, bob, carol, dave]) {
    await clearingHouse.connect(trader).deposit(100_000n * USD);
  }
  return { ...system, alice, bob, carol, dave, feed2, feed3, t0 };
}

/** At t0 + 30: alice (maker) buys S at `price` in market 2 from bob (taker). */
async function openAt30(c: Ctx, price: bigint, isBuy = true): Promise<void> {
  await nextBlockAt(c.t0 + 30n);
  await trade(c.clearingHouse, c.alice, c.bob, { marketId: M2, isBuy, size: S, limitPrice: price }, S);
}

describe("ClearingHouse funding", () => {
  it("the first fill after listing weighs its premium by the short time since listing", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, alice, bob, t0 } = c;
    await nextBlockAt(t0 + 30n);
    const receipt = await trade(clearingHouse, alice, bob, { marketId: M2, size: S, limitPrice: 2020n * WAD }, S);

    // the index accrues first, over 30 s at the old (zero) rate
    expect(clearingHouseEvents(clearingHouse, receipt)[0]).to.deep.equal({
      name: "FundingAccrued",
      args: [M2, 0n, 0n, P2000],
    });
    // premium = (2020 − 2000) / 2000 = 0.01; weight = 30 s / 1 h; ema = ⌊0.01 × 30 / 3600⌋ = 0.000083333333333333
    const state = await clearingHouse.marketState(M2);
    expect(state.premiumEma).to.equal(83333333333333n);
    expect(state.lastPremiumTime).to.equal(t0 + 30n);
    expect(state.fundingIndex).to.equal(0n);
    expect(state.lastFundingTime).to.equal(t0 + 30n);
    expect(await clearingHouse.fundingRate(M2)).to.equal(83333333333333n);
  });

  it("fills in the same block cannot move the premium average twice", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, alice, bob, carol, dave, t0 } = c;
    const first = await signedOrder(clearingHouse, alice, {
      marketId: M2,
      size: S,
      limitPrice: 2020n * WAD,
    });
    const second = await signedOrder(clearingHouse, carol, {
      marketId: M2,
      limitPrice: 2100n * WAD,
    });
    await ethers.provider.send("evm_setAutomine", [false]);
    try {
      const tx1 = await clearingHouse.connect(bob).fillOrder(first.order, first.signature, S);
      const tx2 = await clearingHouse.connect(dave).fillOrder(second.order, second.signature, WAD);
      await nextBlockAt(t0 + 30n);
      await networkHelpers.mine();
      const [r1, r2] = [await tx1.wait(), await tx2.wait()];
      expect(r1?.blockNumber).to.equal(r2?.blockNumber);
    } finally {
      await ethers.provider.send("evm_setAutomine", [true]);
    }
    // only the first fill's premium counts: ⌊0.01 × 30 / 3600⌋
    expect((await clearingHouse.marketState(M2)).premiumEma).to.equal(83333333333333n);
    await expectOpenInterest(clearingHouse, M2, S + WAD);
  });

  it("a dust fill at the band's edge cannot move the premium average against a large open interest", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, carol, dave, t0 } = c;
    await openAt30(c, 2020n * WAD); // open interest S, ema 0.000083333333333333
    // a full window later, 1 wei of size at +5%: weight ⌊3600 × 1 / (1 + S)⌋ = 0
    await nextBlockAt(t0 + 30n + 3600n);
    await trade(clearingHouse, carol, dave, { marketId: M2, size: 1n, limitPrice: 2100n * WAD }, 1n);
    const state = await clearingHouse.marketState(M2);
    expect(state.premiumEma).to.equal(83333333333333n);
    expect(state.lastPremiumTime).to.equal(t0 + 30n + 3600n);
    // a fill as large as the open interest (S + 1 wei) moves it about half way: weight ⌊3600 × S / (2S + 1)⌋ = 1799
    await nextBlockAt(t0 + 30n + 7200n);
    await trade(clearingHouse, carol, dave, { marketId: M2, size: S, limitPrice: 2100n * WAD, nonce: 1n }, S);
    // 0.000083333333333333 + ⌊(0.05 − 0.000083333333333333) × 1799 / 3600⌋ = 0.025027800925925925
    expect((await clearingHouse.marketState(M2)).premiumEma).to.equal(25027800925925925n);
  });

  it("fundingRate clamps the premium average to ±maxFundingRate; the index grows by rate × price × time", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, carol, dave, t0 } = c;
    await openAt30(c, 2020n * WAD); // ema 0.000083333333333333

    // 3700 s later carol buys 1 at 2100 (+5%). The weight is min(3700, 3600) × fill / (fill + OI before):
    // ⌊3600 × 1 / (1 + 1.234567890123456789)⌋ = 1611 s of the 3600 s window, so
    // ema = 0.000083333333333333 + ⌊(0.05 − 0.000083333333333333) × 1611 / 3600⌋ = 0.022421041666666666
    const t2 = t0 + 30n + 3700n;
    await nextBlockAt(t2);
    const r2 = await trade(clearingHouse, carol, dave, { marketId: M2, limitPrice: 2100n * WAD }, WAD);
    // index growth over 3700 s at the old rate: ⌊0.000083333333333333 × 2000 × 3700 / 86400⌋ = 0.007137345679012317
    const index2 = 7137345679012317n;
    expect(clearingHouseEvents(clearingHouse, r2)[0]).to.deep.equal({
      name: "FundingAccrued",
      args: [M2, index2, 83333333333333n, P2000],
    });
    expect((await clearingHouse.marketState(M2)).premiumEma).to.equal(22421041666666666n);
    expect(await clearingHouse.fundingRate(M2)).to.equal(MAX_RATE); // 2.24% clamped to 1%

    // 2 h later carol sells 3 at 1900 (−5%): the 2 h accrue at the clamped +1%: ⌊0.01 × 2000 × 7200 / 86400⌋
    const t3 = t2 + 7200n;
    await nextBlockAt(t3);
    const r3 = await trade(
      clearingHouse,
      carol,
      dave,
      { marketId: M2, isBuy: false, size: 3n * WAD, limitPrice: 1900n * WAD, nonce: 1n },
      3n * WAD,
    );
    const index3 = index2 + 1666666666666666666n; // 1.666666666666666666…
    expect(clearingHouseEvents(clearingHouse, r3)[0]).to.deep.equal({
      name: "FundingAccrued",
      args: [M2, index3, MAX_RATE, P2000],
    });
    // weight ⌊3600 × 3 / (3 + 2.234567890123456789)⌋ = 2063:
    // ema = 0.022421041666666666 + ⌊(−0.05 − 0.022421041666666666) × 2063 / 3600⌋ = −0.019080238599537038
    expect((await clearingHouse.marketState(M2)).premiumEma).to.equal(-19080238599537038n);
    expect(await clearingHouse.fundingRate(M2)).to.equal(-MAX_RATE); // −1.9% clamped to −1%

    // 3000 s later a fill at the oracle: accrues at −1%: −0.01 × 2000 × 3000 / 86400 = −0.6944…,
    // floored toward −∞ to −0.694444444444444445
    const t4 = t3 + 3000n;
    await nextBlockAt(t4);
    const r4 = await trade(clearingHouse, carol, dave, { marketId: M2, nonce: 2n }, WAD);
    const index4 = index3 - 694444444444444445n;
    expect(index4).to.equal(979359567901234538n);
    expect(clearingHouseEvents(clearingHouse, r4)[0]).to.deep.equal({
      name: "FundingAccrued",
      args: [M2, index4, -MAX_RATE, P2000],
    });
    // weight ⌊3000 × 1 / (1 + 3.234567890123456789)⌋ = 708:
    // ema = −0.019080238599537038 + ⌊0.019080238599537038 × 708 / 3600⌋ = −0.015327791674961421:
    // a small fill against a large open interest moves it little, and it stays beyond the clamp
    expect((await clearingHouse.marketState(M2)).premiumEma).to.equal(-15327791674961421n);
    expect(await clearingHouse.fundingRate(M2)).to.equal(-MAX_RATE);
  });

  it("longs pay shorts: views show pending funding, the next touch settles exactly that, rounded against each side", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, alice, bob, t0 } = c;
    await openAt30(c, 2020n * WAD); // alice long S at 2020, bob short; ema 0.000083333333333333
    // S × 2020 = 2493.82713804938271378; fees ⌈× 0.0002⌉ = 0.498765427609876543, ⌈× 0.0005⌉ = 1.246913569024691357
    const aliceCollateral = 99999501234572390123457n;
    const bobCollateral = 99998753086430975308643n;
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(aliceCollateral);
    expect(await clearingHouse.collateralOf(bob.address)).to.equal(bobCollateral);

    const t2 = t0 + 30n + 3000n;
    await nextBlockAt(t2);
    // index = ⌊0.000083333333333333 × 2000 × 3000 / 86400⌋ = 0.005787037037037013
    const index = 5787037037037013n;
    // alice owes ⌈S × index⌉ = 0.007144490104881087; bob receives ⌊S × index⌋ = 0.007144490104881086
    const aliceOwed = 7144490104881087n;
    const bobOwed = -7144490104881086n;
    const state = await clearingHouse.marketState(M2, PENDING);
    expect(state.fundingIndex).to.equal(index);
    expect(state.lastFundingTime).to.equal(t2);
    expect((await clearingHouse.positionOf(alice.address, M2, PENDING)).fundingOwed).to.equal(aliceOwed);
    expect((await clearingHouse.positionOf(bob.address, M2, PENDING)).fundingOwed).to.equal(bobOwed);
    // unrealized at 2000: ∓S × 20 = ∓24.69135780246913578
    const aliceHealth = await clearingHouse.accountHealth(alice.address, PENDING);
    expect(aliceHealth.collateral).to.equal(aliceCollateral);
    expect(aliceHealth.equity).to.equal(aliceCollateral - 24691357802469135780n - aliceOwed);
    const bobHealth = await clearingHouse.accountHealth(bob.address, PENDING);
    expect(bobHealth.equity).to.equal(bobCollateral + 24691357802469135780n - bobOwed);

    // at t2 alice sells 0.5 to bob: both positions are touched in the same block
    await nextBlockAt(t2);
    const receipt = await trade(
      clearingHouse,
      alice,
      bob,
      { marketId: M2, isBuy: false, size: WAD / 2n, limitPrice: P2000, nonce: 1n },
      WAD / 2n,
    );
    expect(await blockTime(receipt)).to.equal(t2);
    const funding = clearingHouseEvents(clearingHouse, receipt).filter(
      (e) => e.name === "FundingAccrued" || e.name === "FundingSettled",
    );
    expect(funding).to.deep.equal([
      { name: "FundingAccrued", args: [M2, index, 83333333333333n, P2000] },
      { name: "FundingSettled", args: [alice.address, M2, aliceOwed] },
      { name: "FundingSettled", args: [bob.address, M2, bobOwed] },
    ]);
    // the payer pays exactly 1 wei more than the receiver gets
    expect(aliceOwed + bobOwed).to.equal(1n);

    // closing 0.5 of a position opened at 2020 at 2000: alice realizes −10, bob +10; fees 0.2 / 0.5
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(
      aliceCollateral - aliceOwed - 10n * WAD - 2n * 10n ** 17n,
    );
    expect(await clearingHouse.collateralOf(bob.address)).to.equal(
      bobCollateral - bobOwed + 10n * WAD - 5n * 10n ** 17n,
    );
    // settled: nothing pending any more at this block
    expect((await clearingHouse.positionOf(alice.address, M2)).fundingOwed).to.equal(0n);
    expect((await clearingHouse.positionOf(bob.address, M2)).fundingOwed).to.equal(0n);
    // the fill at the oracle pulled the average toward 0 with weight ⌊3000 × 0.5 / (0.5 + 1.234567890123456789)⌋ = 864:
    // 0.000083333333333333 + ⌊−0.000083333333333333 × 864 / 3600⌋ = 0.000063333333333333
    expect((await clearingHouse.marketState(M2)).premiumEma).to.equal(63333333333333n);
  });

  it("a negative premium makes shorts pay longs, rounded against each side", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, alice, bob, t0 } = c;
    await openAt30(c, 1980n * WAD, false); // alice short S at 1980, bob long
    // premium −0.01: ema = ⌊−0.01 × 30 / 3600⌋ = −0.000083333333333334 (toward −∞)
    expect(await clearingHouse.fundingRate(M2)).to.equal(-83333333333334n);
    // S × 1980 = 2444.44442244444444222; fees 0.488888884488888889 / 1.222222211222222222
    const aliceCollateral = 100_000n * WAD - 488888884488888889n;
    const bobCollateral = 100_000n * WAD - 1222222211222222222n;

    const t2 = t0 + 30n + 3000n;
    await nextBlockAt(t2);
    // index = ⌊−0.000083333333333334 × 2000 × 3000 / 86400⌋ = −0.005787037037037084
    const index = -5787037037037084n;
    // alice (short) owes ⌈S × 0.005787037037037084⌉; bob (long) is owed only ⌊…⌋
    const aliceOwed = 7144490104881174n;
    const bobOwed = -7144490104881173n;
    expect((await clearingHouse.marketState(M2, PENDING)).fundingIndex).to.equal(index);
    expect((await clearingHouse.positionOf(alice.address, M2, PENDING)).fundingOwed).to.equal(aliceOwed);
    expect((await clearingHouse.positionOf(bob.address, M2, PENDING)).fundingOwed).to.equal(bobOwed);
    // unrealized at 2000: short from 1980 loses S × 20
    expect((await clearingHouse.accountHealth(alice.address, PENDING)).equity).to.equal(
      aliceCollateral - 24691357802469135780n - aliceOwed,
    );

    await nextBlockAt(t2);
    const receipt = await trade(
      clearingHouse,
      alice,
      bob,
      { marketId: M2, size: WAD / 2n, limitPrice: P2000, nonce: 1n },
      WAD / 2n,
    );
    const settled = clearingHouseEvents(clearingHouse, receipt).filter((e) => e.name === "FundingSettled");
    expect(settled).to.deep.equal([
      { name: "FundingSettled", args: [alice.address, M2, aliceOwed] },
      { name: "FundingSettled", args: [bob.address, M2, bobOwed] },
    ]);
    expect(aliceOwed + bobOwed).to.equal(1n);
    // alice buys back 0.5 of a short from 1980 at 2000: realizes −10; fee 0.2. bob: +10, fee 0.5
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(
      aliceCollateral - aliceOwed - 10n * WAD - 2n * 10n ** 17n,
    );
    expect(await clearingHouse.collateralOf(bob.address)).to.equal(
      bobCollateral - bobOwed + 10n * WAD - 5n * 10n ** 17n,
    );
  });

  it("withdraw settles funding in every open market first", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, token, alice, bob, t0 } = c;
    // alice long 1 in market 2 at 2020 (t0 + 30) and long 0.1 in market 3 at 60,600 (t0 + 31): both +1%,
    // both 30 s after their listing: ema = 0.000083333333333333 in each
    await nextBlockAt(t0 + 30n);
    await trade(clearingHouse, alice, bob, { marketId: M2, limitPrice: 2020n * WAD }, WAD);
    await nextBlockAt(t0 + 31n);
    await trade(clearingHouse, alice, bob, { marketId: M3, size: WAD / 10n, limitPrice: 60_600n * WAD }, WAD / 10n);
    // maker fees 2020 × 0.0002 = 0.404 and 6060 × 0.0002 = 1.212
    const collateral = 99_998_384n * 10n ** 15n;
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(collateral);

    const t = t0 + 2000n;
    // market 2: ⌊0.000083333333333333 × 2000 × 1970 / 86400⌋ = 0.003800154320987639, owed by 1: the same
    const index2 = 3800154320987639n;
    const owed2 = 3800154320987639n;
    // market 3: ⌊0.000083333333333333 × 60000 × 1969 / 86400⌋ = 0.113946759259258803, owed ⌈0.1 × that⌉
    const index3 = 113946759259258803n;
    const owed3 = 11394675925925881n;
    const afterFunding = collateral - owed2 - owed3;
    expect(afterFunding).to.equal(99998368805169753086480n);

    await nextBlockAt(t);
    expect((await clearingHouse.positionOf(alice.address, M2, PENDING)).fundingOwed).to.equal(owed2);
    expect((await clearingHouse.positionOf(alice.address, M3, PENDING)).fundingOwed).to.equal(owed3);

    // all the settled collateral is more than what remains once funding is paid: refused, with the settled figure
    const before = await captureState(clearingHouse, token, [alice.address, bob.address], [M2, M3]);
    await expect(clearingHouse.connect(alice).withdraw(collateral / 10n ** 12n))
      .to.be.revertedWithCustomError(clearingHouse, "InsufficientCollateral")
      .withArgs(alice.address, afterFunding, collateral);
    expect(await captureState(clearingHouse, token, [alice.address, bob.address], [M2, M3])).to.deep.equal(before);

    await nextBlockAt(t);
    const tokensBefore = await token.balanceOf(alice.address);
    const receipt = await mined(clearingHouse.connect(alice).withdraw(1000n * USD));
    expect(await blockTime(receipt)).to.equal(t);
    expect(clearingHouseEvents(clearingHouse, receipt)).to.deep.equal([
      { name: "FundingAccrued", args: [M2, index2, 83333333333333n, P2000] },
      { name: "FundingSettled", args: [alice.address, M2, owed2] },
      { name: "FundingAccrued", args: [M3, index3, 83333333333333n, P60000] },
      { name: "FundingSettled", args: [alice.address, M3, owed3] },
      { name: "Withdrawn", args: [alice.address, 1000n * USD] },
    ]);
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(afterFunding - 1000n * WAD);
    expect(await token.balanceOf(alice.address)).to.equal(tokensBefore + 1000n * USD);
    expect((await clearingHouse.positionOf(alice.address, M2)).fundingOwed).to.equal(0n);
    expect((await clearingHouse.positionOf(alice.address, M3)).fundingOwed).to.equal(0n);
    // bob's side was not touched: his funding is still pending (he receives ⌊…⌋)
    expect((await clearingHouse.positionOf(bob.address, M2)).fundingOwed).to.equal(-owed2);
    expect(await clearingHouse.collateralOf(bob.address)).to.equal(before.collateral[1]);
  });

  it("marketState shows the index brought up to the current block at the current oracle price", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, alice, feed2, t0 } = c;
    await openAt30(c, 2020n * WAD);
    const t1 = t0 + 30n;

    await nextBlockAt(t1 + 1000n);
    await networkHelpers.mine();
    // ⌊0.000083333333333333 × 2000 × 1000 / 86400⌋ = 0.001929012345679004
    let state = await clearingHouse.marketState(M2);
    expect(state.fundingIndex).to.equal(1929012345679004n);
    expect(state.lastFundingTime).to.equal(t1 + 1000n);
    expect(state.premiumEma).to.equal(83333333333333n);
    expect(state.lastPremiumTime).to.equal(t1);
    expect(state.longOpenInterest).to.equal(S);
    expect(state.shortOpenInterest).to.equal(S);

    // the oracle moves to 2200; nothing has touched the market since t1, so the whole 2000 s are priced at 2200
    await nextBlockAt(t1 + 1500n);
    await feed2.setAnswer(2200n * FEED);
    await nextBlockAt(t1 + 2000n);
    // ⌊0.000083333333333333 × 2200 × 2000 / 86400⌋ = 0.00424382716049381
    state = await clearingHouse.marketState(M2, PENDING);
    expect(state.fundingIndex).to.equal(4243827160493810n);
    expect(state.lastFundingTime).to.equal(t1 + 2000n);
    // alice (long S) owes ⌈S × 0.00424382716049381⌉
    expect((await clearingHouse.positionOf(alice.address, M2, PENDING)).fundingOwed).to.equal(5239292743579464n);
  });
});
