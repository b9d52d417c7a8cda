// Issue 9, finding 6: with a deleverage case open, a profitable counterparty closed its position against a
// newcomer and withdrew everything; after the timeout the newcomer, who entered after the case opened, was
// charged the deficit. The withdrawal lock looked only at positions still open. Rule now: while a case is open
// on a side, fills can neither add to that side nor leave it, so what was on it when the case opened stays there
// (locked) until autoDeleverage or the timeout charges it, and nobody who comes later is charged.
import { expect } from "chai";

import { ETH_MARKET, USD, WAD, deploySystem, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt, refreshFeeds, setPrice } from "../../devnet/hardhat/fund.js";
import { quietMarkets } from "../../devnet/hardhat/waterfall.js";
import { expectNoGain, wealth, withdrawAll } from "./support.js";

/**
 * Funding and fees off, the fund empty. The honest trader goes long 10 ETH at 2,000 against the attacker's
 * short (2,100 USD each); ETH falls to 1,700: the long's equity 2,100 − 3,000 = −900 and the keeper's
 * liquidate opens a deleverage case whose counterparties are the shorts, that is the attacker alone.
 */
async function caseFixture() {
  const system = await deploySystem();
  await quietMarkets(system, false);
  const [bankrupt, attacker, newcomer, keeper] = system.traders;
  const { clearingHouse } = system;
  await depositUsd(clearingHouse, 2_100n, bankrupt, attacker);
  await depositUsd(clearingHouse, 10_000n, newcomer, keeper);
  await openAt(clearingHouse, bankrupt, attacker, ETH_MARKET, 10n * WAD, 2_000n);
  await setPrice(system.ethFeed, 1_700n);
  await (await clearingHouse.connect(keeper).liquidate(bankrupt.address, ETH_MARKET, ethers.MaxUint256)).wait();
  return { ...system, bankrupt, attacker, newcomer, keeper };
}

describe("Attack: stepping around the deleverage withdrawal lock (issue 9, finding 6)", function () {
  it("the charged short cannot close against a newcomer and leave; the newcomer is not charged", async function () {
    const c = await networkHelpers.loadFixture(caseFixture);
    const { clearingHouse, bankrupt, attacker, newcomer, keeper } = c;
    expect((await clearingHouse.deleverageCaseOf(bankrupt.address)).open).to.equal(true);
    // The attacker's short is 3,000 in profit: its equity is 2,100 + 3,000.
    const start = await wealth(c, [attacker]);
    const newcomerStart = await wealth(c, [newcomer]);

    // The attacker buys its 10 ETH back from the newcomer at the oracle (the newcomer goes short), then
    // withdraws what it can.
    await openAt(clearingHouse, attacker, newcomer, ETH_MARKET, 10n * WAD, 1_700n).then(
      () => undefined,
      () => undefined,
    );
    await withdrawAll(c, attacker).then(
      () => undefined,
      () => undefined,
    );

    // After the timeout a keeper socializes what is left over the shorts.
    await networkHelpers.time.increase(3_600);
    await refreshFeeds(c.ethFeed, c.btcFeed);
    await (await clearingHouse.connect(keeper).socializeAfterTimeout(bankrupt.address)).wait();
    await withdrawAll(c, attacker);
    await withdrawAll(c, newcomer);

    // The attacker was the whole charged side when the case opened: its rule is to give up the deficit, 900,
    // from that profit. Ending with more was taken from someone else.
    expectNoGain("lock bypass", start, await wealth(c, [attacker]), -900n * WAD);
    // The newcomer entered after the case opened: it owes nothing for it.
    expect(await wealth(c, [newcomer])).to.equal(newcomerStart);
    expect((await clearingHouse.positionOf(newcomer.address, ETH_MARKET)).size).to.equal(0n);
  });

  it("fills that would join or leave the charged side revert SideFrozenByDeleverage", async function () {
    const c = await networkHelpers.loadFixture(caseFixture);
    const { clearingHouse, attacker, newcomer, keeper } = c;
    // The attacker reducing its short (buying) against the newcomer, who would go short: both touch the shorts.
    await expect(openAt(clearingHouse, attacker, newcomer, ETH_MARKET, WAD, 1_700n))
      .to.be.revertedWithCustomError(clearingHouse, "SideFrozenByDeleverage")
      .withArgs(ETH_MARKET, false);
    // The newcomer cannot join the shorts by selling to the keeper either.
    await expect(openAt(clearingHouse, keeper, newcomer, ETH_MARKET, WAD, 1_700n))
      .to.be.revertedWithCustomError(clearingHouse, "SideFrozenByDeleverage")
      .withArgs(ETH_MARKET, false);
    // The attacker stays locked until the case is resolved.
    await expect(clearingHouse.connect(attacker).withdraw(USD))
      .to.be.revertedWithCustomError(clearingHouse, "WithdrawalLockedByDeleverage")
      .withArgs(attacker.address, ETH_MARKET);
  });
});
