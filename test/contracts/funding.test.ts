import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { MockAggregatorV3 } from "../../typechain-types/index.js";
import { deploySystem, ethers, marketParams, networkHelpers, USD, WAD } from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import {
  blockTime,
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

/**
 * At t0 + 30 alice (maker) buys S at the oracle price in market 2 from bob: the first open interest, whose
 * premium counts for nothing. At t0 + 60 carol (maker) trades 2 with dave at `price` (buying unless
 * `carolSells`): 2 of open interest added at a premium, the block's sample.
 */
async function baseAndSample(c: Ctx, price: bigint, carolSells = false): Promise<void> {
  await nextBlockAt(c.t0 + 30n);
  await trade(c.clearingHouse, c.alice, c.bob, { marketId: M2, size: S, limitPrice: P2000 }, S);
  await nextBlockAt(c.t0 + 60n);
  const fields = { marketId: M2, isBuy: !carolSells, size: 2n * WAD, limitPrice: price };
  await trade(c.clearingHouse, c.carol, c.dave, fields, 2n * WAD);
}

/** At `at`, carol buys 0.001 at the oracle from dave: a fill that takes the pending sample in. */
async function touchAt(c: Ctx, at: bigint, nonce: bigint) {
  await nextBlockAt(at);
  return trade(
    c.clearingHouse,
    c.carol,
    c.dave,
    { marketId: M2, size: WAD / 1000n, limitPrice: P2000, nonce },
    WAD / 1000n,
  );
}

/** t0 + 60 + 1800: the sample of +1% on 2 added to a base of S, held 1800 s, is taken in. */
const COMMIT = 1860n;

describe("ClearingHouse funding", () => {
  it("the first fill of an empty market sets no rate, even held a full window", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, alice, bob, t0 } = c;
    await nextBlockAt(t0 + 30n);
    await trade(clearingHouse, alice, bob, { marketId: M2, size: S, limitPrice: 2100n * WAD }, S);
    expect(await clearingHouse.fundingRate(M2)).to.equal(0n);
    const pending = await clearingHouse.marketState(M2);
    // The sample: premium 5% on S added to a base of 0; ⌊0.05 × S⌋ = 0.061728394506172839.
    expect(pending.pendingPremiumTime).to.equal(t0 + 30n);
    expect(pending.pendingBaseOpenInterest).to.equal(0n);
    expect(pending.pendingOpenInterestAdded).to.equal(S);
    expect(pending.pendingPremium).to.equal(61728394506172839n);
    const r = await touchAt(c, t0 + 30n + 3600n, 0n);
    // Taken in with held = min(added, still open, base 0) = 0: no weight.
    expect(clearingHouseEvents(clearingHouse, r)[0]).to.deep.equal({
      name: "FundingAccrued",
      args: [M2, 0n, 0n, P2000],
    });
    const state = await clearingHouse.marketState(M2);
    expect(state.premiumEma).to.equal(0n);
    expect(state.lastPremiumTime).to.equal(t0 + 30n + 3600n);
    expect(await clearingHouse.fundingRate(M2)).to.equal(0n);
  });

  it("a round trip in one block adds no held open interest and cannot move the average", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, alice, bob, carol, dave, t0 } = c;
    await nextBlockAt(t0 + 30n);
    await trade(clearingHouse, alice, bob, { marketId: M2, size: S, limitPrice: P2000 }, S);
    const open = await signedOrder(clearingHouse, carol, { marketId: M2, size: WAD, limitPrice: 2100n * WAD });
    const close = await signedOrder(clearingHouse, carol, {
      marketId: M2,
      isBuy: false,
      size: WAD,
      limitPrice: 2100n * WAD,
      nonce: 1n,
    });
    await ethers.provider.send("evm_setAutomine", [false]);
    try {
      const tx1 = await clearingHouse
        .connect(dave)
        .fillOrder(open.order, open.signature, WAD, { gasLimit: 2_000_000n });
      const tx2 = await clearingHouse
        .connect(dave)
        .fillOrder(close.order, close.signature, WAD, { gasLimit: 2_000_000n });
      await nextBlockAt(t0 + 60n);
      await networkHelpers.mine();
      const [r1, r2] = [await tx1.wait(), await tx2.wait()];
      expect(r1?.blockNumber).to.equal(r2?.blockNumber);
    } finally {
      await ethers.provider.send("evm_setAutomine", [true]);
    }
    // The block's sample: 1 added at +5% on a base of S (the close added nothing); open interest is back at S.
    const pending = await clearingHouse.marketState(M2);
    expect(pending.pendingBaseOpenInterest).to.equal(S);
    expect(pending.pendingOpenInterestAdded).to.equal(WAD);
    expect(pending.pendingPremium).to.equal(WAD / 20n);
    await expectOpenInterest(clearingHouse, M2, S);
    // A full window later it is taken in: nothing of it is still open, so the average stays 0.
    await touchAt(c, t0 + 60n + 3600n, 2n);
    expect((await clearingHouse.marketState(M2)).premiumEma).to.equal(0n);
  });

  it("held open interest moves the average by time held × held / (held + base), at most halfway", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, t0 } = c;
    await baseAndSample(c, 2020n * WAD);
    // Nothing is taken in before a later block's fill.
    expect(await clearingHouse.fundingRate(M2)).to.equal(0n);
    const r = await touchAt(c, t0 + COMMIT, 1n);
    // The index accrues first at the old average (0); then the sample: premium (2020 − 2000) / 2000 = 1%,
    // held min(2, 2, S) = S of base S for 1800 s: weight ⌊1800 × S / 2S⌋ = 900, ema = 1% × 900 / 3600 = 0.25%.
    expect(clearingHouseEvents(clearingHouse, r)[0]).to.deep.equal({
      name: "FundingAccrued",
      args: [M2, 0n, 0n, P2000],
    });
    const state = await clearingHouse.marketState(M2);
    expect(state.premiumEma).to.equal(WAD / 400n);
    expect(state.lastPremiumTime).to.equal(t0 + COMMIT);
    expect(await clearingHouse.fundingRate(M2)).to.equal(WAD / 400n);
  });

  it("longs pay shorts along the falling average: views show it, the next touch settles exactly that", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, alice, bob, t0 } = c;
    await baseAndSample(c, 2020n * WAD);
    await touchAt(c, t0 + COMMIT, 1n);
    const t = t0 + COMMIT + 600n;
    await nextBlockAt(t);
    // 600 s on, the average has fallen by 1% × 600 / 3600: 0.0025 − ⌊0.001666…⌋ = 0.000833333333333334.
    // ∫ rate = 0.25% × 600 − 1% × 600² / 7200 = 1 rate·s → index ⌊1 × 2000 / 86400⌋ = 0.023148148148148148.
    const index = 23148148148148148n;
    // alice (long S) owes ⌈S × index⌉ = 0.028577960419524463; bob (short S) receives ⌊…⌋, 1 wei less.
    const aliceOwed = 28577960419524463n;
    const bobOwed = -28577960419524462n;
    expect((await clearingHouse.marketState(M2, PENDING)).fundingIndex).to.equal(index);
    expect((await clearingHouse.positionOf(alice.address, M2, PENDING)).fundingOwed).to.equal(aliceOwed);
    expect((await clearingHouse.positionOf(bob.address, M2, PENDING)).fundingOwed).to.equal(bobOwed);
    const collateral = await clearingHouse.collateralOf(alice.address);
    const receipt = await mined(clearingHouse.connect(alice).withdraw(USD));
    expect(await blockTime(receipt)).to.equal(t);
    expect(clearingHouseEvents(clearingHouse, receipt)).to.deep.equal([
      { name: "FundingAccrued", args: [M2, index, 833333333333334n, P2000] },
      { name: "FundingSettled", args: [alice.address, M2, aliceOwed] },
      { name: "Withdrawn", args: [alice.address, USD] },
    ]);
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(collateral - aliceOwed - WAD);
    expect(aliceOwed + bobOwed).to.equal(1n);
  });

  it("a negative premium makes shorts pay longs, rounded against each side", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, alice, bob, t0 } = c;
    await baseAndSample(c, 1980n * WAD, true);
    await touchAt(c, t0 + COMMIT, 1n);
    expect(await clearingHouse.fundingRate(M2)).to.equal(-(WAD / 400n));
    await nextBlockAt(t0 + COMMIT + 600n);
    await networkHelpers.mine();
    // The mirror image, rounded toward −∞: index −0.023148148148148149; bob (short S) owes ⌈…⌉ =
    // 0.028577960419524464, alice (long S) receives 0.028577960419524463.
    expect((await clearingHouse.marketState(M2)).fundingIndex).to.equal(-23148148148148149n);
    expect(await clearingHouse.fundingRate(M2)).to.equal(-833333333333334n);
    expect((await clearingHouse.positionOf(bob.address, M2)).fundingOwed).to.equal(28577960419524464n);
    expect((await clearingHouse.positionOf(alice.address, M2)).fundingOwed).to.equal(-28577960419524463n);
  });

  it("without fills the average decays to zero; the index is priced at the current oracle price", async () => {
    const c = await networkHelpers.loadFixture(fundingFixture);
    const { clearingHouse, feed2, t0 } = c;
    await baseAndSample(c, 2020n * WAD);
    await touchAt(c, t0 + COMMIT, 1n);
    // 0.25% falls by 1% an hour: zero after 900 s.
    await nextBlockAt(t0 + COMMIT + 900n);
    await networkHelpers.mine();
    expect(await clearingHouse.fundingRate(M2)).to.equal(0n);
    // The oracle moves to 2200; nothing touched the market since the commit, so the whole growth is priced at
    // 2200: ∫ = 0.25%² × 3600 / (2 × 1%) = 1.125 rate·s → ⌊1.125 × 2200 / 86400⌋ = 0.028645833333333333.
    await nextBlockAt(t0 + COMMIT + 1500n);
    await feed2.setAnswer(2200n * FEED);
    await nextBlockAt(t0 + COMMIT + 1800n);
    await networkHelpers.mine();
    const state = await clearingHouse.marketState(M2);
    expect(state.fundingIndex).to.equal(28645833333333333n);
    expect(state.lastFundingTime).to.equal(t0 + COMMIT + 1800n);
    expect(state.premiumEma).to.equal(WAD / 400n); // as set; the fall is computed from lastPremiumTime
    expect(state.lastPremiumTime).to.equal(t0 + COMMIT);
    // A day later still the same index: the average is gone.
    await nextBlockAt(t0 + COMMIT + 86_400n);
    await networkHelpers.mine();
    expect((await clearingHouse.marketState(M2)).fundingIndex).to.equal(28645833333333333n);
  });
});
