// Issue 9, finding 1: a dust side absorbs a socialized loss. The attacker's bankrupt short is liquidated by its
// own large long, which stepped out of the charged side by taking the short over before the deficit was divided
// by what was left of the longs: a few wei held by the attacker's dust accounts. Those owe the deficit and can
// never pay it; the large long withdraws its whole profit and the last honest depositor cannot withdraw.
// Rule now: the deficit is charged while the side still holds everything it held, the liquidator included, and
// the deficit of a bankrupt account with several positions is realized with its largest.
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
import { depositUsd, openAt, setPrice } from "../../devnet/hardhat/fund.js";
import { quietMarkets } from "../../devnet/hardhat/waterfall.js";
import { expectNoGain, solvencySurplus, wealth, withdrawAll } from "./support.js";

/** Funding and fees off (BTC socialized, ETH ADL); the insurance fund is empty. */
async function quietSystem() {
  const system = await deploySystem();
  await quietMarkets(system, false);
  const [a1, a2, a3, a4, honest, keeper] = system.traders;
  return { ...system, a1, a2, a3, a4, honest, keeper };
}

describe("Attack: a dust side absorbs a socialized loss (issue 9, finding 1)", function () {
  it("the attacker's own long liquidating its short pays the charge; dust accounts pay dust; everyone is paid", async function () {
    const c = await networkHelpers.loadFixture(quietSystem);
    const { clearingHouse, a1, a2, a3, a4, honest, keeper } = c;
    const attacker = [a1, a2, a3, a4];
    const start = await wealth(c, attacker);
    // a1 shorts 1 BTC to a2 and 1 wei each to the dust accounts a3, a4, all at 60,000.
    await depositUsd(clearingHouse, 6_100n, a1, a2);
    await depositUsd(clearingHouse, 10n, a3, a4);
    await depositUsd(clearingHouse, 10_000n, honest);
    await depositUsd(clearingHouse, 2_000n, keeper);
    await openAt(clearingHouse, a2, a1, BTC_MARKET, WAD, 60_000n);
    await openAt(clearingHouse, a3, a1, BTC_MARKET, 1n, 60_000n);
    await openAt(clearingHouse, a4, a1, BTC_MARKET, 1n, 60_000n);
    // BTC gaps to 67,000: a1's equity 6,100 − 7,000 × (1 + 2×10^-18) ≈ −900, the fund is empty.
    await setPrice(c.btcFeed, 67_000n);
    expect((await clearingHouse.accountHealth(a1.address)).equity < -899n * WAD).to.equal(true);

    // The attacker's long takes the bankrupt short over.
    const receipt = await (await clearingHouse.connect(a2).liquidate(a1.address, BTC_MARKET, ethers.MaxUint256)).wait();
    expect(receipt?.status).to.equal(1);
    for (const a of attacker) await withdrawAll(c, a);

    // The charge fell on a2's 1 BTC, not on the 2 wei of dust: the attacker's accounts end no richer (the
    // dust accounts' charge rounds up by at most a wei each).
    expectNoGain("dust side", start, await wealth(c, attacker));
    // The honest depositor and the keeper, who hold no position, get everything back.
    expect(await withdrawAll(c, honest)).to.equal(10_000n * USD);
    expect(await withdrawAll(c, keeper)).to.equal(2_000n * USD);
    expect(await solvencySurplus(c, [...attacker, honest, keeper])).to.be.greaterThanOrEqual(0n);
  });

  it("a tiny last market cannot carry a large deficit: the largest position goes last", async function () {
    const c = await networkHelpers.loadFixture(quietSystem);
    const { clearingHouse, a1, a2, a3, honest, keeper } = c;
    const attacker = [a1, a2, a3];
    const start = await wealth(c, attacker);
    // a1: short 10 ETH at 2,000 to a2 and short 0.001 BTC at 60,000 to the attacker's dust long a3.
    await depositUsd(clearingHouse, 2_010n, a1);
    await depositUsd(clearingHouse, 2_100n, a2);
    await depositUsd(clearingHouse, 10n, a3);
    await depositUsd(clearingHouse, 10_000n, honest);
    await depositUsd(clearingHouse, 2_000n, keeper);
    await openAt(clearingHouse, a2, a1, ETH_MARKET, 10n * WAD, 2_000n);
    await openAt(clearingHouse, a3, a1, BTC_MARKET, WAD / 1000n, 60_000n);
    // ETH gaps to 2,300: a1's equity 2,010 − 3,000 = −990.
    await setPrice(c.ethFeed, 2_300n);
    expect((await clearingHouse.accountHealth(a1.address)).equity).to.equal(-990n * WAD);

    // The attacker's plan: ETH first (a2 steps out of the longs by taking the short), so that the deficit is
    // realized with the 0.001 BTC and charged to a3's 0.001 BTC long.
    const ethFirst = await clearingHouse
      .connect(a2)
      .liquidate(a1.address, ETH_MARKET, ethers.MaxUint256)
      .then(
        () => true,
        () => false,
      );
    if (ethFirst) {
      await (await clearingHouse.connect(keeper).liquidate(a1.address, BTC_MARKET, ethers.MaxUint256)).wait();
    } else {
      // Refused: BTC (the smaller) first, then ETH, whose fund is empty: a case opens, and a2, the only long,
      // gives up the deficit from its profit.
      await (await clearingHouse.connect(keeper).liquidate(a1.address, BTC_MARKET, ethers.MaxUint256)).wait();
      await (await clearingHouse.connect(keeper).liquidate(a1.address, ETH_MARKET, ethers.MaxUint256)).wait();
      await (
        await clearingHouse.connect(keeper).autoDeleverage(a1.address, ETH_MARKET, a2.address, ethers.MaxUint256)
      ).wait();
    }
    for (const a of attacker) await withdrawAll(c, a);
    expectNoGain("tiny last market", start, await wealth(c, attacker));
    expect(ethFirst, "ETH first should revert LargestPositionGoesLast").to.equal(false);
    expect(await withdrawAll(c, honest)).to.equal(10_000n * USD);
    expect(await solvencySurplus(c, [...attacker, honest, keeper])).to.be.greaterThanOrEqual(0n);
  });
});
