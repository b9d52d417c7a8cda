// Issue 10, loss policy "haircut": attacks on who gives up profit, played as the attacker would, on the worked
// example of test/contracts/waterfall/haircut-support.ts (SOL at 75: alice −274, the fund pays 100, the haircut
// 174 at f = 174/524 of the winners' profit; bob 250, carol 174, frank 100 in profit, erin 10 at a loss).
import { expect } from "chai";

import { USD, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import { mined, signedOrder, fill } from "../../devnet/hardhat/trading.js";
import { setPrice, waterfallEvents } from "../../devnet/hardhat/waterfall.js";
import {
  BOB_OWES,
  CAROL_OWES,
  E,
  F,
  FRANK_OWES,
  HAIRCUT,
  ROUNDING,
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
    expect(await ch.haircutOwed(frank.address, SOL_MARKET)).to.equal(FRANK_OWES);
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

  // The hole of the first version (f = H / the side's net profit): erin's loss lowered the net, so every winner was
  // charged at 174/514 instead of 174/524 and the side's debt ran out before the last to settle had paid; an owner
  // with a winner and a self-made loser, settling last, saved f × (the loser's loss) at the honest winners' expense.
  // Played here by the owner of frank (a winner) and erin (a loser on the same side), who lets bob and carol settle
  // first and settles frank last.
  it("a loser on the side cannot raise the others' rate; settling last saves nothing beyond rounding", async function () {
    const c = await networkHelpers.loadFixture(haircutFixture);
    const { clearingHouse: ch, alice, bob, carol, erin, frank, gina } = c;
    const owner = [frank, erin];
    const before = await wealth(c, owner);
    await mined(ch.connect(gina).liquidate(alice.address, SOL_MARKET, ethers.MaxUint256));
    // The honest winners settle first and pay exactly f × their profit with f = ⌈174 / 524⌉, not 174 / 514.
    await mined(ch.connect(bob).withdraw(1n * USD));
    await mined(ch.connect(carol).withdraw(1n * USD));
    expect(await ch.collateralOf(bob.address)).to.equal(999n * E - BOB_OWES);
    expect(await ch.collateralOf(carol.address)).to.equal(999n * E - CAROL_OWES);
    expect(BOB_OWES + CAROL_OWES).to.equal(424n * F);
    expect(424n * F - (424n * HAIRCUT) / 524n < 424n).to.equal(true); // within a wei per unit of profit of the rule
    // The owner's frank, last, still owes f × 100 less only the 348 wei by which 524 f exceeds 174.
    expect(await ch.haircutOwed(frank.address, SOL_MARKET)).to.equal(FRANK_OWES - ROUNDING);
    await mined(ch.connect(frank).withdraw(1n * USD));
    await mined(ch.connect(erin).withdraw(1n * USD));
    expectNoGain("owner of frank and erin", before, await wealth(c, owner));
    expect((await ch.haircutSide(SOL_MARKET, false)).debt).to.equal(0n);
  });
});
