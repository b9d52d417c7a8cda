import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { BTC_MARKET, ETH_MARKET, USD, WAD, deploySystem, networkHelpers } from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { refreshFeeds } from "../../devnet/hardhat/fund.js";
import { mined, signedOrder, trade } from "../../devnet/hardhat/trading.js";
import type { SignedOrder } from "../../devnet/hardhat/trading.js";
import { inOneBlock, netGain } from "./helpers.js";

/**
 * Finding 3 of issue 9, played by an attacker with three accounts: a1 is short 10 ETH against an honest long
 * (so it receives funding), a2 and a3 trade with each other at the +5% band edge (2,100 on 2,000) to push
 * the premium average up. Each attempt must leave the attacker's accounts, together, no richer than they
 * started, and the honest long paying no more than its fee plus funding at the rule's rate.
 */

const E = WAD;
const DEPOSIT = 10_000n;
const GAS = { gasLimit: 3_000_000n };

interface Ctx extends System {
  honest: HardhatEthersSigner;
  a1: HardhatEthersSigner;
  a2: HardhatEthersSigner;
  a3: HardhatEthersSigner;
  attacker: HardhatEthersSigner[];
}

/**
 * An hour after listing the honest long buys 10 ETH at 2,000 (premium 0) from a1, then another hour passes
 * (a full premium window, the old average's full weight). Every account has 10,000 USD.
 */
async function pinningFixture(): Promise<Ctx> {
  const system = await deploySystem();
  const [honest, a1, a2, a3] = system.traders;
  for (const a of [honest, a1, a2, a3]) await mined(system.clearingHouse.connect(a).deposit(DEPOSIT * USD));
  await networkHelpers.time.increase(3600);
  await refreshFeeds(system.ethFeed, system.btcFeed);
  await trade(system.clearingHouse, honest, a1, { size: 10n * E }, 10n * E);
  await networkHelpers.time.increase(3600);
  await refreshFeeds(system.ethFeed, system.btcFeed);
  return { ...system, honest, a1, a2, a3, attacker: [a1, a2, a3] };
}

let nonce = 100n;
function order(c: Ctx, maker: HardhatEthersSigner, isBuy: boolean, size: bigint, price: bigint, marketId = ETH_MARKET) {
  return signedOrder(c.clearingHouse, maker, { marketId, isBuy, size, limitPrice: price * WAD, nonce: nonce++ });
}

function fill(c: Ctx, taker: HardhatEthersSigner, o: SignedOrder, size: bigint) {
  return () => c.clearingHouse.connect(taker).fillOrder(o.order, o.signature, size, GAS);
}

/** Three days pass; feeds are refreshed so that views price at 2,000. */
async function threeDaysLater(c: Ctx) {
  await networkHelpers.time.increase(3n * 86_400n);
  await refreshFeeds(c.ethFeed, c.btcFeed);
}

/** The honest long's equity: 10,000 less its 4 USD maker fee (2 bp of 20,000) less the funding it owes. */
async function honestFundingPaid(c: Ctx): Promise<bigint> {
  const equity = (await c.clearingHouse.accountHealth(c.honest.address)).equity;
  return DEPOSIT * WAD - 4n * WAD - equity;
}

describe("Attack: funding pinned by a round trip (issue 9, finding 3)", () => {
  it("a same-block round trip at the band edge moves no funding: the attacker only pays fees", async () => {
    const c = await networkHelpers.loadFixture(pinningFixture);
    const buy = await order(c, c.a3, false, 5n * E, 2100n); // a3 sells 5 at 2,100; a2 takes it (buys)
    const sellBack = await order(c, c.a3, true, 5n * E, 2100n); // a3 buys 5 back at 2,100 from a2
    await inOneBlock([fill(c, c.a2, buy, 5n * E), fill(c, c.a2, sellBack, 5n * E)]);
    // The attacker touches the market in the next block, so that a pending sample would be taken in now.
    const dust = await order(c, c.a3, false, 10n ** 12n, 2000n);
    await mined(fill(c, c.a2, dust, 10n ** 12n)());
    expect(await c.clearingHouse.fundingRate(ETH_MARKET)).to.equal(0n);

    await threeDaysLater(c);
    expect(await honestFundingPaid(c)).to.equal(0n);
    // Fees: a2 and a3 trade 10,500 twice (5 + 2 bp each time) = 14.70, a1's 10 taker fee, dust.
    const gain = await netGain(c.clearingHouse, c.attacker, DEPOSIT * WAD);
    expect(gain <= 0n, `attacker gained ${gain}`).to.equal(true);
  });

  it("opening in one block and closing in the next moves funding by the time held only (12 s of an hour)", async () => {
    const c = await networkHelpers.loadFixture(pinningFixture);
    for (let i = 0; i < 5; i++) await mined(fill(c, c.a2, await order(c, c.a3, false, E, 2100n), E)());
    for (let i = 0; i < 5; i++) await mined(fill(c, c.a2, await order(c, c.a3, true, E, 2100n), E)());
    await mined(fill(c, c.a2, await order(c, c.a3, false, 10n ** 12n, 2000n), 10n ** 12n)());
    await threeDaysLater(c);
    const gain = await netGain(c.clearingHouse, c.attacker, DEPOSIT * WAD);
    expect(gain <= 0n, `attacker gained ${gain}`).to.equal(true);
    // Whatever the honest long paid, the attacker collected it and more was spent on fees.
    expect(await honestFundingPaid(c)).to.be.lessThan(1n * WAD);
  });

  it("holding the round trip a full hour sets the rate for a decaying hour only; the fees exceed the take", async () => {
    const c = await networkHelpers.loadFixture(pinningFixture);
    await mined(fill(c, c.a2, await order(c, c.a3, false, 5n * E, 2100n), 5n * E)());
    await networkHelpers.time.increase(3600);
    await refreshFeeds(c.ethFeed, c.btcFeed);
    // The close takes the sample in first: held 5 of base 10 for a full hour, weight 3,600 × 5 / 15 = 1,200 s,
    // average 0 + 5% × 1,200 / 3,600 = 1.666…%, stored at the 1% clamp. The close adds no open interest.
    await mined(fill(c, c.a2, await order(c, c.a3, true, 5n * E, 2100n), 5n * E)());
    expect(await c.clearingHouse.fundingRate(ETH_MARKET)).to.equal(WAD / 100n);
    expect((await c.clearingHouse.marketState(ETH_MARKET)).premiumEma).to.equal(WAD / 100n);
    // Without fills it falls to zero within the hour.
    await networkHelpers.time.increase(3600);
    await refreshFeeds(c.ethFeed, c.btcFeed);
    expect(await c.clearingHouse.fundingRate(ETH_MARKET)).to.equal(0n);

    await threeDaysLater(c);
    // ∫ rate dt = 1% × 3,600 s / 2: index 0.01 × 1,800 × 2,000 / 86,400 = 0.416666666666666666 per ETH;
    // the long owes ⌈10 × 0.416666666666666666⌉ = 4.16666666666666666 USD, a1 receives ⌊…⌋ the same.
    expect(await honestFundingPaid(c)).to.equal(4_166_666_666_666_666_660n);
    // The round trip cost a2 and a3 10,500 × 7 bp × 2 = 14.70 in fees: 4.17 earned for 14.70 spent.
    const gain = await netGain(c.clearingHouse, c.attacker, DEPOSIT * WAD);
    expect(gain <= 0n, `attacker gained ${gain}`).to.equal(true);
  });

  it("states the cost of moving funding by ~0.1%/day: 0.588 USD of fees earns 0.039 USD from 10 ETH", async () => {
    const c = await networkHelpers.loadFixture(pinningFixture);
    // 0.2 ETH at +5% held an hour against a base of 10: weight ⌊3,600 × 0.2 / 10.2⌋ = 70 s, average
    // ⌊5% × 70 / 3,600⌋ = 0.000972222222222222 (0.0972% a day).
    await mined(fill(c, c.a2, await order(c, c.a3, false, E / 5n, 2100n), E / 5n)());
    await networkHelpers.time.increase(3600);
    await refreshFeeds(c.ethFeed, c.btcFeed);
    await mined(fill(c, c.a2, await order(c, c.a3, true, E / 5n, 2100n), E / 5n)());
    expect((await c.clearingHouse.marketState(ETH_MARKET)).premiumEma).to.equal(972_222_222_222_222n);
    await threeDaysLater(c);
    // Gone after 972,222,222,222,222 × 3,600 / 10^16 = 350 s. Index growth (e·3,600)² × 2,000 /
    // (2 × 3,600 × 1% × 86,400) = 0.003938400205761315; the long owes ⌈10 × that⌉ = 0.03938400205761315 USD.
    const earned = await honestFundingPaid(c);
    expect(earned).to.equal(39_384_002_057_613_150n);
    // Cost: 420 USD of notional opened and closed, 7 bp each time: 0.588 USD.
    const cost = (2n * 420n * WAD * 7n) / 10_000n;
    expect(cost).to.equal(588n * 10n ** 15n);
    expect(cost / earned).to.equal(14n); // the pin costs ~15× what it earns
  });

  it("a dust fill at the band edge held for hours cannot move the average", async () => {
    const c = await networkHelpers.loadFixture(pinningFixture);
    await mined(fill(c, c.a2, await order(c, c.a3, false, 10n ** 12n, 2100n), 10n ** 12n)());
    await networkHelpers.time.increase(3 * 3600);
    await refreshFeeds(c.ethFeed, c.btcFeed);
    await mined(fill(c, c.a2, await order(c, c.a3, false, 10n ** 12n, 2100n), 10n ** 12n)());
    // Weight ⌊3,600 × 10^12 / (10^12 + 10^19)⌋ = 0.
    expect(await c.clearingHouse.fundingRate(ETH_MARKET)).to.equal(0n);
    await threeDaysLater(c);
    expect(await honestFundingPaid(c)).to.equal(0n);
  });

  it("the first fill of an empty market cannot set the rate, even held for an hour", async () => {
    const c = await networkHelpers.loadFixture(pinningFixture);
    // BTC has no open interest: a2 buys 0.1 BTC at 63,000 (+5%) from a3 and holds it an hour.
    await mined(fill(c, c.a2, await order(c, c.a3, false, E / 10n, 63_000n, BTC_MARKET), E / 10n)());
    expect(await c.clearingHouse.fundingRate(BTC_MARKET)).to.equal(0n);
    await networkHelpers.time.increase(3600);
    await refreshFeeds(c.ethFeed, c.btcFeed);
    await mined(fill(c, c.a2, await order(c, c.a3, false, 10n ** 12n, 60_000n, BTC_MARKET), 10n ** 12n)());
    expect(await c.clearingHouse.fundingRate(BTC_MARKET)).to.equal(0n);
  });
});

/**
 * The second variant of finding 3: the attacker's round trip shares its block with an honest fill that adds open
 * interest and keeps it. The block's net rise (the honest fill) is held; which fills' interest stayed is not
 * known, so the sample is the premium closest to zero that the held part can have (FundingMath.heldPremium).
 * honest2 buys from honest3; the attacker's a2 and a3 trade at the band's edge. On the code of stop 17 the first
 * case set the rate to 0.3709%/day an hour later.
 */
describe("Attack: a round trip beside an honest fill in the same block (issue 9, finding 3)", () => {
  async function besideFixture() {
    const c = await pinningFixture();
    const [, , , , honest2, honest3, a4] = c.traders;
    for (const a of [honest2, honest3, a4]) await mined(c.clearingHouse.connect(a).deposit(DEPOSIT * USD));
    return { ...c, honest2, honest3, a4 };
  }
  type Beside = Awaited<ReturnType<typeof besideFixture>>;

  /** In one block: honest2 buys `honestSize` at `honestPrice` from honest3, then the attacker's `sends`. */
  async function block(c: Beside, honestSize: bigint, honestPrice: bigint, sends: (() => Promise<unknown>)[]) {
    const honest = await order(c, c.honest3, false, honestSize, honestPrice);
    await inOneBlock([fill(c, c.honest2, honest, honestSize), ...(sends as Parameters<typeof inOneBlock>[0])]);
  }

  /** An hour later a dust fill at the oracle takes the block in; returns the stored average. */
  async function takenInAnHourLater(c: Beside): Promise<bigint> {
    await networkHelpers.time.increase(3600);
    await refreshFeeds(c.ethFeed, c.btcFeed);
    await mined(fill(c, c.a2, await order(c, c.a3, false, 10n ** 12n, 2000n), 10n ** 12n)());
    return (await c.clearingHouse.marketState(ETH_MARKET)).premiumEma;
  }

  /** a2 buys `size` from a3 at `price`, then sells it back at the same price. */
  async function roundTrip(c: Beside, size: bigint, price: bigint) {
    const there = await order(c, c.a3, false, size, price);
    const back = await order(c, c.a3, true, size, price);
    return [fill(c, c.a2, there, size), fill(c, c.a2, back, size)];
  }

  it("honest 1 ETH at the oracle, 5 ETH round trip at +4.9%: the rate stays 0 and nobody pays funding", async () => {
    const c = await networkHelpers.loadFixture(besideFixture);
    await block(c, E, 2000n, await roundTrip(c, 5n * E, 2098n));
    // Held 1 (open interest 10 → 11) of 6 added; Σ premium × size 5 × 4.9% = 0.245, premium range [0, 4.9%]:
    // the held part's sum lies in [max(0.245 − 5 × 4.9%, 0), min(0.245 − 0, 1 × 4.9%)] = [0, 0.049] ∋ 0.
    expect(await takenInAnHourLater(c)).to.equal(0n);
    expect(await c.clearingHouse.fundingRate(ETH_MARKET)).to.equal(0n);
    await threeDaysLater(c);
    expect(await honestFundingPaid(c)).to.equal(0n);
    const gain = await netGain(c.clearingHouse, c.attacker, DEPOSIT * WAD);
    expect(gain <= 0n, `attacker gained ${gain}`).to.equal(true);
  });

  it("honest 1 ETH at +1%: the round trip at +4.9% leaves the average where the honest fill alone puts it", async () => {
    const c = await networkHelpers.loadFixture(besideFixture);
    await block(c, E, 2020n, await roundTrip(c, 5n * E, 2098n));
    // Sum 1% + 0.245 = 0.255, range [1%, 4.9%], held 1, gone 5: [max(0.255 − 0.245, 0.01), min(0.255 − 0.05,
    // 0.049)] = [0.01, 0.049]; closest to zero 0.01, the honest fill's 1%. Weight ⌊3,600 × 1 / 11⌋ = 327 s:
    // average ⌊1% × 327 / 3,600⌋ = 0.000908333333333333, the same as without the round trip.
    expect(await takenInAnHourLater(c)).to.equal(908_333_333_333_333n);
  });

  it("rolling an older position into a fresh account at +4.9% beside the honest fill moves nothing", async () => {
    const c = await networkHelpers.loadFixture(besideFixture);
    // The attacker's standing pair, an hour old: a2 long 5, a3 short 5 at the oracle (open interest 15).
    await mined(fill(c, c.a2, await order(c, c.a3, false, 5n * E, 2000n), 5n * E)());
    await networkHelpers.time.increase(3600);
    await refreshFeeds(c.ethFeed, c.btcFeed);
    // In the honest block: a4 buys 5 from a3 at 2,098 (+5 open interest at +4.9%), a2 sells its 5 to a3 at the
    // oracle (−5): a4 now holds the pair's long, bought "at +4.9%" from its own owner.
    const toA4 = await order(c, c.a3, false, 5n * E, 2098n);
    const closeA2 = await order(c, c.a3, true, 5n * E, 2000n);
    await block(c, E, 2000n, [fill(c, c.a4, toA4, 5n * E), fill(c, c.a2, closeA2, 5n * E)]);
    expect((await c.clearingHouse.positionOf(c.a4.address, ETH_MARKET)).size).to.equal(5n * E);
    expect(await takenInAnHourLater(c)).to.equal(0n);
    await threeDaysLater(c);
    expect(await honestFundingPaid(c)).to.equal(0n);
    const gain = await netGain(c.clearingHouse, [...c.attacker, c.a4], DEPOSIT * WAD);
    expect(gain <= 0n, `attacker gained ${gain}`).to.equal(true);
  });

  it("a round trip at the opposite edge can cancel the honest block's sample but never turn the rate negative", async () => {
    const c = await networkHelpers.loadFixture(besideFixture);
    await block(c, E, 2020n, await roundTrip(c, 5n * E, 1902n));
    // Sum 1% − 0.245 = −0.235, range [−4.9%, 1%], held 1, gone 5: [max(−0.235 − 0.05, −0.049), min(−0.235 +
    // 0.245, 0.01)] = [−0.049, 0.01] ∋ 0. The block counts as no premium: toward no funding, not past it.
    expect(await takenInAnHourLater(c)).to.equal(0n);
  });
});
