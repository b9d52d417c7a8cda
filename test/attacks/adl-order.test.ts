// Issue 10: the keeper no longer chooses whom ADL takes from. Before, the contract only checked eligibility, so a
// keeper could spare its own top-ranked position and deleverage an honest one further down the queue. Now the
// side's first entry bucket (the most profit per unit of size) goes first, and the contract refuses anyone else.
import { expect } from "chai";

import { ETH_MARKET, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import { expectPosition, mined, trade } from "../../devnet/hardhat/trading.js";
import { setFundLimits, setPrice } from "../../devnet/hardhat/waterfall.js";
import { E, baseFixture } from "../contracts/waterfall/support.js";
import type { Ctx } from "../contracts/waterfall/support.js";
import { expectNoGain, wealth } from "./support.js";

// Entry buckets ⌊256·log2(p × 10^18)⌋, computed independently: 2,100 → 18132, 2,000 → 18114.
const BUCKET_2100 = 18_132n;
const BUCKET_2000 = 18_114n;

/**
 * The fund may pay one token unit a day (its smallest draw cap). bob sells alice 1 ETH at 2,100, erin 2 ETH at 2,000; ETH falls to 1,700 and
 * carol, the keeper, opens alice's case. carol and bob are one owner: she would rather deleverage erin.
 */
async function orderFixture(): Promise<Ctx> {
  const c = await baseFixture({ alice: 800n, bob: 1_000n, carol: 100_000n, erin: 10_000n, frank: 0n });
  await setFundLimits(c, 0n, 1n);
  await setPrice(c.ethFeed, 2100n * E);
  await trade(c.clearingHouse, c.alice, c.bob, { size: E, limitPrice: 2100n * E }, E);
  await setPrice(c.ethFeed, 2000n * E);
  await trade(c.clearingHouse, c.alice, c.erin, { size: 2n * E, nonce: 1n }, 2n * E);
  await setPrice(c.ethFeed, 1700n * E);
  await mined(c.clearingHouse.connect(c.carol).liquidate(c.alice.address, ETH_MARKET, ethers.MaxUint256));
  return c;
}

describe("Attack: the keeper picks whom ADL takes from (issue 10)", function () {
  it("a keeper cannot skip its own first-ranked short to deleverage an honest one; nothing changes on refusal", async function () {
    const c = await networkHelpers.loadFixture(orderFixture);
    const { clearingHouse: ch, alice, bob, carol, erin } = c;
    const owner = [carol, bob];
    const before = await wealth(c, owner);
    const erinBefore = await ch.accountHealth(erin.address);
    // The scores the lens shows are the ones the contract uses: bob's entry bucket is first.
    expect((await ch.adlRank(bob.address, ETH_MARKET)).score).to.equal(BUCKET_2100 + 1n);
    expect((await ch.adlRank(erin.address, ETH_MARKET)).score).to.equal(BUCKET_2000 + 1n);

    await expect(ch.connect(carol).autoDeleverage(alice.address, ETH_MARKET, erin.address, 2n * E))
      .to.be.revertedWithCustomError(ch, "DeleverageOutOfOrder")
      .withArgs(erin.address, BUCKET_2000, BUCKET_2100);
    expect((await ch.accountHealth(erin.address)).equity).to.equal(erinBefore.equity);
    await expectPosition(ch, erin.address, ETH_MARKET, -2n * E, -4000n * E);

    // bob's position goes first; only then erin's.
    await mined(ch.connect(carol).autoDeleverage(alice.address, ETH_MARKET, bob.address, E));
    await expectPosition(ch, bob.address, ETH_MARKET, 0n, 0n);
    await mined(ch.connect(carol).autoDeleverage(alice.address, ETH_MARKET, erin.address, 2n * E));
    await expectPosition(ch, alice.address, ETH_MARKET, 0n, 0n);
    expectNoGain("owner of carol and bob", before, await wealth(c, owner));
    expect(await ch.collateralOf(alice.address)).to.equal(0n);
  });
});
