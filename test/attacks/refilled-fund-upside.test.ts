// Issue 9, finding 7: a case opened with a small fund; stakers refilled it; one autoDeleverage call let the fund
// pay the whole deficit and closed the case, but the bankrupt account kept its position at equity 0. The price
// recovered and its owner withdrew insurance money. Rule now: once the fund pays an account's deficit, the
// account holds no position: the caller takes it over at the oracle, as in a liquidation. The fund's part of a
// deficit that ADL steps share is paid only after the last step, when the account is flat.
import { expect } from "chai";

import { ETH_MARKET, USD, WAD, deploySystem, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt, setPrice } from "../../devnet/hardhat/fund.js";
import { quietMarkets, stake } from "../../devnet/hardhat/waterfall.js";
import { expectNoGain, wealth, withdrawAll } from "./support.js";

/**
 * Funding and fees off; a staker puts 1,000 USD in the fund. The attacker deposits 10,000 and buys 50 ETH at
 * 2,000 from an honest counterparty; ETH falls to 1,700: equity 10,000 − 15,000 = −5,000, more than the fund
 * can pay, so the keeper's liquidate opens a case.
 */
async function caseFixture() {
  const system = await deploySystem();
  await quietMarkets(system, false);
  const [owner, counterparty, keeper, staker, refiller] = system.traders;
  const { clearingHouse, fund } = system;
  await stake(fund, staker, 1_000n * USD);
  await depositUsd(clearingHouse, 10_000n, owner, keeper);
  await depositUsd(clearingHouse, 100_000n, counterparty);
  await openAt(clearingHouse, owner, counterparty, ETH_MARKET, 50n * WAD, 2_000n);
  await setPrice(system.ethFeed, 1_700n);
  await (await clearingHouse.connect(keeper).liquidate(owner.address, ETH_MARKET, ethers.MaxUint256)).wait();
  return { ...system, owner, counterparty, keeper, staker, refiller };
}

describe("Attack: a refilled fund lets the bankrupt owner keep the upside (issue 9, finding 7)", function () {
  it("the fund pays the deficit and the caller, not the owner, holds the position when the price recovers", async function () {
    const c = await networkHelpers.loadFixture(caseFixture);
    const { clearingHouse, fund, owner, counterparty, keeper, refiller } = c;
    expect((await clearingHouse.deleverageCaseOf(owner.address)).open).to.equal(true);
    const start = await wealth(c, [owner]); // its wallet; its equity is negative
    // Stakers refill the fund; one autoDeleverage call now finds enough to pay the whole 5,000.
    await stake(fund, refiller, 10_000n * USD);
    await (
      await clearingHouse.connect(keeper).autoDeleverage(owner.address, ETH_MARKET, counterparty.address, WAD)
    ).wait();
    expect((await clearingHouse.deleverageCaseOf(owner.address)).open).to.equal(false);
    // ETH recovers to 2,000 and the owner takes out what it can.
    await setPrice(c.ethFeed, 2_000n);
    await withdrawAll(c, owner);
    expectNoGain("refilled fund", start, await wealth(c, [owner]));
    expect((await clearingHouse.positionOf(owner.address, ETH_MARKET)).size).to.equal(0n);
    // The stakers paid the deficit, 5,000, their rule share, and nothing more.
    expect(11_000n * USD - (await fund.totalAssets())).to.equal(5_000n * USD);
  });
});
