// Issue 9, probe: socializeAfterTimeout hands the stuck position to the caller before charging the side. A
// profitable counterparty calling it takes the bankrupt position over at the oracle, which closes its own
// position, just before the deficit is divided by what is left of its side: the attacker's dust. Rule now (as in
// liquidate): the charge is made while the side still holds everything it held, the caller included.
import { expect } from "chai";

import { ETH_MARKET, USD, WAD, deploySystem, networkHelpers, ethers } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt, refreshFeeds, setPrice } from "../../devnet/hardhat/fund.js";
import { quietMarkets } from "../../devnet/hardhat/waterfall.js";
import { expectNoGain, solvencySurplus, wealth, withdrawAll } from "./support.js";

describe("Attack: socializeAfterTimeout hands the position to a profitable counterparty (issue 9)", function () {
  it("the caller's own long is charged before it takes the short over; the dust long pays dust", async function () {
    const system = await deploySystem();
    await quietMarkets(system, false);
    const [short, long, dust, honest, keeper] = system.traders;
    const c = { ...system };
    const { clearingHouse } = c;
    const attacker = [short, long, dust];
    const start = await wealth(c, attacker);
    // The fund is empty. The attacker's short sells 10 ETH to its long and 1 wei to its dust account at 2,000.
    await depositUsd(clearingHouse, 2_100n, short, long);
    await depositUsd(clearingHouse, 10n, dust);
    await depositUsd(clearingHouse, 10_000n, honest, keeper);
    await openAt(clearingHouse, long, short, ETH_MARKET, 10n * WAD, 2_000n);
    await openAt(clearingHouse, dust, short, ETH_MARKET, 1n, 2_000n);
    // ETH gaps to 2,300: the short's equity ≈ 2,100 − 3,000 = −900; a keeper's liquidate opens a case.
    await setPrice(c.ethFeed, 2_300n);
    await (await clearingHouse.connect(keeper).liquidate(short.address, ETH_MARKET, ethers.MaxUint256)).wait();
    expect((await clearingHouse.deleverageCaseOf(short.address)).open).to.equal(true);

    // After the timeout the attacker's long resolves the case itself.
    await networkHelpers.time.increase(3_600);
    await refreshFeeds(c.ethFeed, c.btcFeed);
    await (await clearingHouse.connect(long).socializeAfterTimeout(short.address)).wait();
    for (const a of attacker) await withdrawAll(c, a);

    expectNoGain("timeout hand-over", start, await wealth(c, attacker));
    expect(await withdrawAll(c, honest)).to.equal(10_000n * USD);
    expect(await withdrawAll(c, keeper)).to.equal(10_000n * USD);
    expect(await solvencySurplus(c, [...attacker, honest, keeper])).to.be.greaterThanOrEqual(0n);
  });
});
