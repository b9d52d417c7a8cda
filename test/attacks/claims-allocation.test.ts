// Issue 10, step 4: attacks on repayable claims, played as the attacker would, on the haircut worked examples of
// test/contracts/waterfall/haircut-support.ts (SOL at 75: alice −274, the fund pays 100, the haircut takes 174 from
// bob 250, carol 174 and frank 100 of profit; in the thin-profit variant carol's 29 and 145 socialized over the
// shorts). Claims are repaid in order of loss event and pro rata within one (ClaimsLib).
import { expect } from "chai";

import { USD, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import { mined, trade } from "../../devnet/hardhat/trading.js";
import { claimEvents, ev } from "../../devnet/hardhat/waterfall.js";
import { E, F, SOL_MARKET, haircutFixture, thinProfitFixture } from "../contracts/waterfall/haircut-support.js";
import { inOneBlock } from "./helpers.js";
import { expectNoGain } from "./support.js";
import { SHARED_CLAIMS_POOL } from "../../sdk/constants.js";

// Each winner's share of an inflow of 100 on the haircut event: profit / 524 of it, rounded down.
const BOB_SHARE = 47_709_923_664_122_137_404n; // ⌊25,000 / 524⌋
const CAROL_SHARE = 33_206_106_870_229_007_633n; // ⌊17,400 / 524⌋
const FRANK_SHARE = 19_083_969_465_648_854_961n; // ⌊10,000 / 524⌋

describe("Attack: jumping the queue of repayable claims", function () {
  it("a winner who settles at once and claims right after the inflow gets its pro-rata share, not first come", async function () {
    const c = await networkHelpers.loadFixture(haircutFixture);
    const { clearingHouse: ch, alice, bob, carol, dave, frank, gina } = c;
    // bob, the attacker, settles his haircut in the block of the liquidation, so that he is the only one with a
    // record when money comes in; then he claims as soon as the recovery lands.
    await inOneBlock([
      () => ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256),
      () => ch.connect(bob).withdraw(1n * USD),
    ]);
    await mined(ch.connect(dave).repayClaims(SHARED_CLAIMS_POOL, 100n * USD));
    const bobBefore = await ch.collateralOf(bob.address);
    const grab = await mined(ch.connect(bob).claimRepayment(bob.address, 10n));
    // 100 would cover everything he paid (250 f = 83.01…), but his share of the event is 250 / 524 of it.
    expect(claimEvents(ch, grab)).to.deep.equal([ev("ClaimRepaid", bob.address, 0n, BOB_SHARE)]);
    expect(await ch.collateralOf(bob.address)).to.equal(bobBefore + BOB_SHARE);
    expect(BOB_SHARE).to.be.lessThan(250n * F);

    // The honest winners settle only later, after the attacker has claimed: their shares were kept for them.
    for (const [s, share] of [
      [carol, CAROL_SHARE],
      [frank, FRANK_SHARE],
    ] as const) {
      await mined(ch.connect(s).withdraw(1n * USD));
      const claim = await mined(ch.claimRepayment(s.address, 10n));
      expect(claimEvents(ch, claim)).to.deep.equal([ev("ClaimRepaid", s.address, 0n, share)]);
    }
    // And claiming again in one block pays nothing more.
    await inOneBlock([() => ch.claimRepayment(bob.address, 10n), () => ch.claimRepayment(bob.address, 10n)]);
    expect(await ch.collateralOf(bob.address)).to.equal(bobBefore + BOB_SHARE);
    expect(await ch.claimsOf(bob.address)).to.deep.equal([250n * F, BOB_SHARE, 0n, 1n]);
  });

  it("two claims of the same account in one block pay once", async function () {
    const c = await networkHelpers.loadFixture(haircutFixture);
    const { clearingHouse: ch, alice, carol, dave, frank, gina } = c;
    await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    await mined(ch.connect(carol).withdraw(1n * USD));
    await mined(ch.connect(dave).repayClaims(SHARED_CLAIMS_POOL, 100n * USD));
    const before = await ch.collateralOf(carol.address);
    // carol and a helper (frank) both claim for her in the same block.
    await inOneBlock([
      () => ch.connect(carol).claimRepayment(carol.address, 1n),
      () => ch.connect(frank).claimRepayment(carol.address, 1n),
    ]);
    expect(await ch.collateralOf(carol.address)).to.equal(before + CAROL_SHARE);
    expect((await ch.claimsOf(carol.address)).repaid).to.equal(CAROL_SHARE);
  });
});

describe("Attack: farming repayable claims", function () {
  it("a position opened right before a socialization and closed right after gets back at most what it paid", async function () {
    const c = await networkHelpers.loadFixture(thinProfitFixture);
    const { clearingHouse: ch, alice, carol, dave, erin, gina } = c;
    const mallory = c.traders[7];
    await mined(ch.connect(mallory).deposit(1_000n * USD));
    // mallory sells 22 SOL at 75 to gina just before the liquidation, and buys them back just after.
    const sol = { marketId: SOL_MARKET, limitPrice: 75n * E };
    await trade(ch, mallory, gina, { ...sol, isBuy: false, size: 22n * E }, 22n * E);
    await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    await trade(ch, mallory, gina, { ...sol, isBuy: true, size: 22n * E, nonce: 1n }, 22n * E);
    // Her entry is the charge price: the haircut (carol's 29) passes her by. The 145 socialized is spread over 44
    // shorts now, ⌈145 / 44⌉ = 3.295454545454545455 per unit, and she paid 22 of those.
    const perUnit = 3_295_454_545_454_545_455n;
    const paid = 22n * perUnit; // 72.500000000000000010
    expect(await ch.claimsOf(mallory.address)).to.deep.equal([paid, 0n, 0n, 1n]);

    // Everything owed comes in (174): each is repaid its size / 44 of 145, rounded down.
    await mined(ch.connect(dave).repayClaims(SHARED_CLAIMS_POOL, 174n * USD));
    await mined(ch.connect(carol).withdraw(1n * USD));
    await mined(ch.connect(erin).withdraw(1n * USD));
    const expected = [
      [mallory, (725n * E) / 10n], // ⌊22 × 145 / 44⌋ = 72.5
      [carol, 29n * E + 3_295_454_545_454_545_454n], // 29 + ⌊145 / 44⌋
      [erin, 69_204_545_454_545_454_545n], // ⌊21 × 145 / 44⌋
    ] as const;
    for (const [s, amount] of expected) {
      await mined(ch.claimRepayment(s.address, 10n));
      expect((await ch.claimsOf(s.address)).repaid).to.equal(amount);
    }
    // mallory ends 10 wei poorer than she started (fees are off): at most what she paid came back.
    expectNoGain("round trip around a loss event", 1_000n * E, await ch.collateralOf(mallory.address));
    expect(await ch.collateralOf(mallory.address)).to.equal(1_000n * E - paid + (725n * E) / 10n);
  });

  it("one owner on both sides ends no richer than before the loss once every claim is repaid", async function () {
    const c = await networkHelpers.loadFixture(thinProfitFixture);
    const { clearingHouse: ch, alice, carol, dave, gina } = c;
    // The owner holds carol (the only winning short) and gina (the long that takes alice's position over), and
    // keeps the claims of both.
    const owner = [carol, gina];
    const equity = async (): Promise<bigint> => {
      let total = 0n;
      for (const s of owner) total += (await ch.accountHealth(s.address)).equity;
      return total;
    };
    const before = await equity();
    await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    await mined(ch.connect(carol).withdraw(1n * USD));
    await mined(ch.connect(gina).withdraw(1n * USD));
    await mined(ch.connect(dave).repayClaims(SHARED_CLAIMS_POOL, 174n * USD));
    for (const s of owner) await mined(ch.claimRepayment(s.address, 10n));
    // gina's long paid nothing and has no claim; carol gets back 29 + ⌊145 / 22⌋, 1 wei under what she paid.
    expect(await ch.claimsOf(gina.address)).to.deep.equal([0n, 0n, 0n, 0n]);
    expect((await ch.claimsOf(carol.address)).repaid).to.equal(29n * E + 6_590_909_090_909_090_909n);
    // The two withdrawals took 2 units out; the owner is 1 wei short of where it stood before the default.
    expect(await equity()).to.equal(before - 2n * E - 1n);
    expectNoGain("owner of both sides", before - 2n * E, await equity());
  });
});
