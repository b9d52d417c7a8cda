import { expect } from "chai";

import { ETH_MARKET, FUND_COOLDOWN, USD, WAD, deploySystem, networkHelpers } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt } from "../../devnet/hardhat/fund.js";
import { mined } from "../../devnet/hardhat/trading.js";
import { inOneBlock } from "./helpers.js";

/**
 * Finding 5 of issue 9, played by a sniper with two accounts (y1, y2: 500,000 USD each) against a long-term
 * staker (10,000 USD since the start). Trading has set 420 USD aside for the fund; the sniper stakes, sweeps
 * the pot to the fund, and leaves as early as the fund allows. It must not come out richer; the staker who
 * carried the risk while the fees were earned gets the pot.
 */
describe("Attack: sniping the swept fee pot (issue 9, finding 5)", () => {
  it("a stake just before the sweep earns nothing of the pot; the long-term staker gets it", async () => {
    const c = await deploySystem();
    const [alice, bob, , , y1, y2, longTerm] = c.traders;
    await mined(c.fund.connect(longTerm).deposit(10_000n * USD, longTerm.address));
    // 1,000 ETH at 2,000: 2,000,000 notional, fees 400 + 1,000, 30% set aside = 420 USD.
    await depositUsd(c.clearingHouse, 500_000n, alice, bob);
    await openAt(c.clearingHouse, alice, bob, ETH_MARKET, 1000n * WAD, 2000n);
    expect(await c.clearingHouse.insuranceFees()).to.equal(420n * WAD);

    const sniper = [y1, y2];
    for (const y of sniper) await mined(c.fund.connect(y).deposit(500_000n * USD, y.address));
    // Sweep and both requests in one block: the sniper is staked for no time after the pot arrives.
    const shares = await Promise.all(sniper.map((y) => c.fund.balanceOf(y.address)));
    await inOneBlock([
      () => c.clearingHouse.sweepInsuranceFees({ gasLimit: 500_000n }),
      () => c.fund.connect(y1).requestUnstake(shares[0], { gasLimit: 500_000n }),
      () => c.fund.connect(y2).requestUnstake(shares[1], { gasLimit: 500_000n }),
    ]);
    await networkHelpers.time.increase(FUND_COOLDOWN);
    const fund = c.fund as unknown as Record<string, unknown>;
    if (typeof fund.confirmUnstake === "function") {
      for (const y of sniper) await mined(c.fund.connect(y).confirmUnstake());
      await networkHelpers.time.increase(3600n);
    }
    let received = 0n;
    for (const y of sniper) {
      const before = await c.token.balanceOf(y.address);
      await mined(c.fund.connect(y).unstake());
      received += (await c.token.balanceOf(y.address)) - before;
    }
    const gain = received - 1_000_000n * USD;
    expect(gain <= 0n, `sniper gained ${gain} token units`).to.equal(true);

    // After the stream has run its course the long-term staker holds the whole pot, to a token unit.
    await networkHelpers.time.increase(7n * 86_400n);
    const value = await c.fund.previewRedeem(await c.fund.balanceOf(longTerm.address));
    expect(value).to.be.greaterThanOrEqual(10_420n * USD - 1n);
  });
});
