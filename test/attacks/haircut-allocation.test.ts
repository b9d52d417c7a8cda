// Issue 10, loss policy "haircut": attacks on who gives up profit, played as the attacker would, on the worked
// example of test/contracts/waterfall/haircut-support.ts (SOL at 75: alice −274, the fund pays 100, the shorts'
// profit 174 at f = 174/514; bob 250, carol 174, frank 100 in profit, erin 10 at a loss).
import { expect } from "chai";

import { USD, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import { mined, signedOrder, fill } from "../../devnet/hardhat/trading.js";
import { setPrice, waterfallEvents } from "../../devnet/hardhat/waterfall.js";
import {
  BOB_OWES,
  CAROL_OWES,
  E,
  FRANK_AT_RATE,
  HAIRCUT,
  SOL_MARKET,
  haircutFixture,
} from "../contracts/waterfall/haircut-support.js";
import { inOneBlock } from "./helpers.js";
import { expectNoGain, wealth } from "./support.js";

describe("Attack: steering a profit haircut", function () {
  it("a winner that closes in the same block, right after the charge, still pays its whole share", async function () {
    const c = await networkHelpers.loadFixture(haircutFixture);
    const { clearingHouse: ch, alice, bob, gina } = c;
    // bob buys his 10 SOL back from gina at the oracle, in the block of the liquidation, after it.
    const close = await signedOrder(ch, gina, {
      marketId: SOL_MARKET,
      isBuy: false,
      size: 10n * E,
      limitPrice: 75n * E,
    });
    await inOneBlock([
      () => ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256),
      () => fill(ch, bob, close, 10n * E),
    ]);
    // Flat, with 250 realized and f × 250 given up: the close settled the haircut before moving the position.
    expect(await ch.openMarketsOf(bob.address)).to.deep.equal([]);
    expect(await ch.collateralOf(bob.address)).to.equal(1000n * E + 250n * E - BOB_OWES);
    expect((await ch.haircutSide(SOL_MARKET, false)).debt).to.equal(HAIRCUT - BOB_OWES);
  });

  it("one owner on both sides (the bankrupt long and a winning short) ends poorer; honest winners pay f × profit", async function () {
    const c = await networkHelpers.loadFixture(haircutFixture);
    const { clearingHouse: ch, alice, bob, carol, frank, gina } = c;
    const owner = [alice, bob];
    const before = await wealth(c, owner);
    await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    // The owner's short gives up its share like any other; alice's 250 deposit is gone.
    expectNoGain("owner of alice and bob", before, await wealth(c, owner));
    expect(before - (await wealth(c, owner))).to.equal(250n * E - 250n * E + BOB_OWES); // 1250 − 250 − (1250 − f·250)
    expect(await ch.haircutOwed(carol.address, SOL_MARKET)).to.equal(CAROL_OWES);
    expect(await ch.haircutOwed(frank.address, SOL_MARKET)).to.equal(FRANK_AT_RATE);
  });

  it("the charge price decides: a loser then that wins later owes nothing; a winner's share does not grow", async function () {
    const c = await networkHelpers.loadFixture(haircutFixture);
    const { clearingHouse: ch, fund, alice, bob, erin, gina } = c;
    await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    await setPrice(c.solFeed, 60n * E); // erin's short at 70 now wins 20; bob's profit grows to 400
    expect(await ch.haircutOwed(erin.address, SOL_MARKET)).to.equal(0n);
    expect(await ch.haircutOwed(bob.address, SOL_MARKET)).to.equal(BOB_OWES);
    const receipt = await mined(ch.connect(erin).withdraw(1n * USD));
    expect(waterfallEvents(ch, fund, receipt).filter((e) => e.name === "ProfitHaircutSettled")).to.deep.equal([]);
    expect(await ch.collateralOf(erin.address)).to.equal(999n * E);
  });

  it("a position opened after the charge owes nothing of it, even on the charged side", async function () {
    const c = await networkHelpers.loadFixture(haircutFixture);
    const { clearingHouse: ch, alice, gina, dave } = c;
    await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    await mined(ch.connect(dave).deposit(1_000n * USD));
    const open = await signedOrder(ch, gina, { marketId: SOL_MARKET, isBuy: true, size: 2n * E, limitPrice: 75n * E });
    await mined(fill(ch, dave, open, 2n * E)); // dave sells 2: a new short
    await setPrice(c.solFeed, 50n * E);
    expect(await ch.haircutOwed(dave.address, SOL_MARKET)).to.equal(0n);
    expect((await ch.accountHealth(dave.address)).equity).to.equal(1000n * E + 50n * E);
  });

  // Open gap, kept as a characterization (DESIGN-NOTES, "Issue 10"): a loser on the charged side lowers the side's
  // net profit, so the winners are charged at f = H / net > H / Σ winners' profit, and the side's debt runs out before
  // the last winner to settle has paid f × its profit. erin's 10 of loss here lets frank, settling last, pay
  // 30.466926070038910392 instead of f × 100 = 33.852140077821011700; the side still gives up exactly 174 and
  // nobody more than f × its profit. An owner who holds a winner and a self-made loser, and settles last, saves up
  // to f × (the loser's loss) at the others' expense.
  it("open gap: who settles last may pay less than f × profit when the side holds a loser (bounded by f × loss)", async function () {
    const c = await networkHelpers.loadFixture(haircutFixture);
    const { clearingHouse: ch, alice, bob, carol, frank, gina } = c;
    await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    await mined(ch.connect(bob).withdraw(1n * USD));
    await mined(ch.connect(carol).withdraw(1n * USD));
    const saved = FRANK_AT_RATE - (await ch.haircutOwed(frank.address, SOL_MARKET));
    const F = 338_521_400_778_210_117n;
    expect(saved).to.equal(524n * F - HAIRCUT); // f × (Σ winners' profit) − H = the excess a loser's f × 10 makes
    // That excess is f × erin's loss plus the rounding up of f (f × 514 − 174 < 514 wei).
    expect(saved - 10n * F).to.equal(514n * F - HAIRCUT);
    expect(514n * F - HAIRCUT < 514n).to.equal(true);
  });
});
