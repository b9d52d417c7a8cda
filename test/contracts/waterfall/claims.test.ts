// Repayable claims (issue 10, step 4): what ADL, a haircut or a socialization took from traders is repaid from later
// inflows (swept insurance fees first, then repayClaims), in order of loss event and pro rata within one. Worked
// examples by hand, to the wei. Units as in ./support.ts (18-decimal wei unless "units").
import { expect } from "chai";

import { ETH_MARKET, USD, ethers, networkHelpers } from "../../../devnet/hardhat/fixture.js";
import { mined, trade } from "../../../devnet/hardhat/trading.js";
import { claimEvents, ev } from "../../../devnet/hardhat/waterfall.js";
import { adlCaseFixture } from "./support.js";
import { E, F, SOL_MARKET, haircutFixture, thinProfitFixture } from "./haircut-support.js";
import { SHARED_CLAIMS_POOL } from "../../../sdk/constants.js";

const ADL = 0n;
const HAIRCUT = 1n;
const SOCIALIZED = 2n;

// adl.test.ts: bob gives up ⌊150.52 × 2/3⌋ in the first step, erin the rest in the second.
const LOSS_1 = 100_346_666_666_666_666_666n;
const LOSS_2 = 50_173_333_333_333_333_334n;

describe("Repayable claims: worked examples", function () {
  it("ADL: two steps are two events; an inflow repays the first in full before the second gets anything", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse: ch, alice, bob, carol, erin, frank } = c;
    const first = await mined(ch.connect(carol).autoDeleverage(alice.address, ETH_MARKET, bob.address, 2n * E));
    expect(claimEvents(ch, first)).to.deep.equal([
      ev("LossEventRecorded", 0n, ETH_MARKET, ADL, false, LOSS_1),
      ev("ClaimRecorded", bob.address, 0n, ADL, ETH_MARKET, LOSS_1),
    ]);
    const second = await mined(ch.connect(carol).autoDeleverage(alice.address, ETH_MARKET, erin.address, 2n * E));
    expect(claimEvents(ch, second)).to.deep.equal([
      ev("LossEventRecorded", 1n, ETH_MARKET, ADL, false, LOSS_2),
      ev("ClaimRecorded", erin.address, 0n, ADL, ETH_MARKET, LOSS_2),
    ]);
    expect(await ch.claimsTotals(SHARED_CLAIMS_POOL)).to.deep.equal([(15_052n * E) / 100n, 0n, 2n]);
    expect(await ch.claimsOf(bob.address)).to.deep.equal([LOSS_1, 0n, 0n, 1n]);
    // Nothing came in yet: claiming pays nothing and changes nothing.
    expect(claimEvents(ch, await mined(ch.claimRepayment(bob.address, 10n)))).to.deep.equal([]);

    // A treasury brings 120 units. Event 0 (bob, 100.346666666666666666) is repaid in full; event 1 (erin) gets the
    // rest, 120 − 100.346666666666666666 = 19.653333333333333334.
    const inflow = await mined(ch.connect(carol).repayClaims(SHARED_CLAIMS_POOL, 120n * USD));
    expect(claimEvents(ch, inflow)).to.deep.equal([ev("ClaimsFunded", SHARED_CLAIMS_POOL, 120n * E, 120n * E)]);
    expect((await ch.claimsOf(bob.address)).repayable).to.equal(LOSS_1);
    expect((await ch.claimsOf(erin.address)).repayable).to.equal(19_653_333_333_333_333_334n);

    const bobBefore = await ch.collateralOf(bob.address);
    const claim = await mined(ch.connect(frank).claimRepayment(bob.address, 10n)); // anyone may call
    expect(claimEvents(ch, claim)).to.deep.equal([ev("ClaimRepaid", bob.address, 0n, LOSS_1)]);
    expect(await ch.collateralOf(bob.address)).to.equal(bobBefore + LOSS_1);
    // Claiming twice pays once.
    expect(claimEvents(ch, await mined(ch.claimRepayment(bob.address, 10n)))).to.deep.equal([]);
    expect(await ch.collateralOf(bob.address)).to.equal(bobBefore + LOSS_1);
    expect(await ch.claimsOf(bob.address)).to.deep.equal([LOSS_1, LOSS_1, 0n, 1n]);

    // Fees then go to the claims first. frank (maker) sells 1 ETH at 1,700 to carol: fees 0.34 + 0.85, of which
    // 30% is set aside: 0.102 + 0.255 = 0.357. The sweep gives it all to the claims (30.52 still owed) and
    // nothing to the fund (the pot stays in the clearing house).
    await trade(ch, frank, carol, { isBuy: false, size: E, limitPrice: 1700n * E, nonce: 7n }, E);
    expect(await ch.insuranceFees()).to.equal((357n * E) / 1000n);
    const fundBefore = await c.token.balanceOf(await c.fund.getAddress());
    const sweep = await mined(ch.sweepInsuranceFees());
    expect(claimEvents(ch, sweep)).to.deep.equal([
      ev("ClaimsFunded", SHARED_CLAIMS_POOL, (357n * E) / 1000n, (120_357n * E) / 1000n),
    ]);
    expect(await ch.insuranceFees()).to.equal(0n);
    expect(await c.token.balanceOf(await c.fund.getAddress())).to.equal(fundBefore);
    // erin: 120.357 − 100.346666666666666666 = 20.010333333333333334 in all.
    const erinClaim = await mined(ch.claimRepayment(erin.address, 1n));
    expect(claimEvents(ch, erinClaim)).to.deep.equal([
      ev("ClaimRepaid", erin.address, 0n, 20_010_333_333_333_333_334n),
    ]);
    expect(await ch.claimsOf(erin.address)).to.deep.equal([LOSS_2, 20_010_333_333_333_333_334n, 0n, 1n]);
  });

  it("haircut: one event, three winners repaid pro rata to their profit at the charge", async function () {
    const c = await networkHelpers.loadFixture(haircutFixture);
    const { clearingHouse: ch, alice, bob, carol, erin, frank, gina } = c;
    await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    expect(await ch.claimsTotals(SHARED_CLAIMS_POOL)).to.deep.equal([174n * E, 0n, 1n]);
    // haircut.test.ts: at 75 bob's profit is 250, carol's 174, frank's 100 (524 in all), f = F. Each pays f × its
    // profit as it settles (carol, last, 348 wei less: the debt's cap), and records it.
    for (const [s, paid] of [
      [bob, 250n * F],
      [frank, 100n * F],
      [carol, 174n * F - 348n],
    ] as const) {
      const settle = await mined(ch.connect(s).withdraw(1n * USD));
      expect(claimEvents(ch, settle)).to.deep.equal([ev("ClaimRecorded", s.address, 0n, HAIRCUT, SOL_MARKET, paid)]);
    }
    // erin, a loser at 75, paid nothing and has no claim.
    await mined(ch.connect(erin).withdraw(1n * USD));
    expect(await ch.claimsOf(erin.address)).to.deep.equal([0n, 0n, 0n, 0n]);

    // 100 units come in: each winner's share is its profit / 524 of it (f cancels: its share is f × profit × 10^18,
    // the event's Σ shares f × 524 × 10^18), rounded down. 25,000 / 524, 17,400 / 524, 10,000 / 524:
    await mined(ch.connect(gina).repayClaims(SHARED_CLAIMS_POOL, 100n * USD));
    const expected = [
      [bob, 47_709_923_664_122_137_404n],
      [carol, 33_206_106_870_229_007_633n],
      [frank, 19_083_969_465_648_854_961n],
    ] as const;
    let total = 0n;
    for (const [s, amount] of expected) {
      const before = await ch.collateralOf(s.address);
      const claim = await mined(ch.claimRepayment(s.address, 1n));
      expect(claimEvents(ch, claim)).to.deep.equal([ev("ClaimRepaid", s.address, 0n, amount)]);
      expect(await ch.collateralOf(s.address)).to.equal(before + amount);
      total += amount;
    }
    expect(100n * E - total).to.equal(2n); // rounding down leaves 2 wei in the pot
    // The lens reads them for many accounts at once: paid, repaid, repayable now, records.
    expect(await c.lens.claimsOf([bob.address, carol.address, erin.address, frank.address])).to.deep.equal([
      [250n * F, expected[0][1], 0n, 1n],
      [174n * F - 348n, expected[1][1], 0n, 1n],
      [0n, 0n, 0n, 0n],
      [100n * F, expected[2][1], 0n, 1n],
    ]);
  });

  it("haircut then socialization: the first event is repaid in full before the second, pro rata within each", async function () {
    const c = await networkHelpers.loadFixture(thinProfitFixture);
    const { clearingHouse: ch, alice, carol, erin, gina } = c;
    // haircut.test.ts: the haircut takes carol's 29 (event 0), 145 is socialized over the 22 shorts, carol 1 and
    // erin 21, at ⌈145 / 22⌉ = 6.590909090909090910 per unit (event 1).
    const perUnit = 6_590_909_090_909_090_910n;
    const liquidation = await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    expect(claimEvents(ch, liquidation)).to.deep.equal([
      ev("LossEventRecorded", 0n, SOL_MARKET, HAIRCUT, false, 29n * E),
      ev("LossEventRecorded", 1n, SOL_MARKET, SOCIALIZED, false, 145n * E),
    ]);
    // carol settles both in one touch: two records (haircut 29, social 1 × perUnit); erin one (21 × perUnit).
    expect(claimEvents(ch, await mined(ch.connect(carol).withdraw(1n * USD)))).to.deep.equal([
      ev("ClaimRecorded", carol.address, 0n, HAIRCUT, SOL_MARKET, 29n * E),
      ev("ClaimRecorded", carol.address, 1n, SOCIALIZED, SOL_MARKET, perUnit),
    ]);
    expect(claimEvents(ch, await mined(ch.connect(erin).withdraw(1n * USD)))).to.deep.equal([
      ev("ClaimRecorded", erin.address, 0n, SOCIALIZED, SOL_MARKET, 21n * perUnit),
    ]);

    // 100 units: event 0 (29) in full, event 1 gets 71: carol ⌊1 × 71 / 22⌋, erin ⌊21 × 71 / 22⌋.
    await mined(ch.connect(gina).repayClaims(SHARED_CLAIMS_POOL, 100n * USD));
    expect(await ch.claimsOf(carol.address)).to.deep.equal([
      29n * E + perUnit,
      0n,
      29n * E + 3_227_272_727_272_727_272n,
      2n,
    ]);
    expect(claimEvents(ch, await mined(ch.claimRepayment(carol.address, 5n)))).to.deep.equal([
      ev("ClaimRepaid", carol.address, 0n, 29n * E),
      ev("ClaimRepaid", carol.address, 1n, 3_227_272_727_272_727_272n),
    ]);
    expect(claimEvents(ch, await mined(ch.claimRepayment(erin.address, 5n)))).to.deep.equal([
      ev("ClaimRepaid", erin.address, 0n, 67_772_727_272_727_272_727n),
    ]);

    // More than is owed (174 − 100 = 74) is refused and changes nothing; 74 completes event 1: carol ⌊145 / 22⌋ =
    // 6.590909090909090909 in all (1 wei under what she paid), erin ⌊21 × 145 / 22⌋ = 138.409090909090909090.
    await expect(ch.connect(gina).repayClaims(SHARED_CLAIMS_POOL, 75n * USD))
      .to.be.revertedWithCustomError(ch, "ClaimsRepaymentExceedsOutstanding")
      .withArgs(SHARED_CLAIMS_POOL, 75n * E, 74n * E);
    await expect(ch.connect(gina).repayClaims(SHARED_CLAIMS_POOL, 0n)).to.be.revertedWithCustomError(ch, "ZeroAmount");
    await expect(ch.claimRepayment(erin.address, 0n)).to.be.revertedWithCustomError(ch, "ZeroAmount");
    await mined(ch.connect(gina).repayClaims(SHARED_CLAIMS_POOL, 74n * USD));
    expect(claimEvents(ch, await mined(ch.claimRepayment(carol.address, 5n)))).to.deep.equal([
      ev("ClaimRepaid", carol.address, 1n, 6_590_909_090_909_090_909n - 3_227_272_727_272_727_272n),
    ]);
    expect(claimEvents(ch, await mined(ch.claimRepayment(erin.address, 5n)))).to.deep.equal([
      ev("ClaimRepaid", erin.address, 0n, 138_409_090_909_090_909_090n - 67_772_727_272_727_272_727n),
    ]);
    expect(await ch.claimsTotals(SHARED_CLAIMS_POOL)).to.deep.equal([174n * E, 174n * E, 2n]);
    // Nothing is owed any more: a sweep with no fees has nothing to do.
    await expect(ch.sweepInsuranceFees()).to.be.revertedWithCustomError(ch, "ZeroAmount");
  });
});
