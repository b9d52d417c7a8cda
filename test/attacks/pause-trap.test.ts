import { expect } from "chai";

import { ETH_MARKET, USD, WAD, deploySystem, networkHelpers } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt, setPrice } from "../../devnet/hardhat/fund.js";
import { mined, trade } from "../../devnet/hardhat/trading.js";

/**
 * Finding 8 of issue 9, played by a keeper with two accounts waiting for a pause: a trader long 10 ETH at
 * 2,000 on 2,100 USD falls below maintenance at 1,850 while the clearing house is paused. The trader tops up
 * (deposits stay open) and cuts risk (a fill that reduces both sides passes); the keeper's liquidation
 * attempts find nothing to take. Opening fills stay closed while paused.
 */
describe("Attack: liquidating traders trapped by a pause (issue 9, finding 8)", () => {
  it("while paused the trader can deposit and reduce; the keepers earn no penalty from it", async () => {
    const c = await deploySystem();
    const [trader, bob, k1, k2, other] = c.traders;
    await mined(c.clearingHouse.connect(trader).deposit(2_100n * USD));
    await depositUsd(c.clearingHouse, 50_000n, bob, k1, k2, other);
    await openAt(c.clearingHouse, trader, bob, ETH_MARKET, 10n * WAD, 2000n);

    await mined(c.clearingHouse.connect(c.pauser).pause());
    // At 1,850: equity 2,096 − 1,500 = 596 < maintenance 5% × 18,500 = 925.
    await setPrice(c.ethFeed, 1850n);
    try {
      await mined(c.clearingHouse.connect(trader).deposit(1_000n * USD));
    } catch {
      // The old code refused deposits while paused.
    }
    // The trader sells 4 ETH back to bob, who also reduces (reduce-only both ways), at the oracle price.
    try {
      await trade(
        c.clearingHouse,
        bob,
        trader,
        { isBuy: true, size: 4n * WAD, limitPrice: 1850n * WAD, reduceOnly: true },
        4n * WAD,
      );
    } catch {
      // The old code refused every fill while paused.
    }
    // An opening fill is refused while paused.
    await expect(
      trade(c.clearingHouse, other, k2, { isBuy: true, size: WAD, limitPrice: 1850n * WAD, nonce: 7n }, WAD),
    ).to.be.revertedWithCustomError(c.clearingHouse, "EnforcedPause");

    const keepers = [k1, k2];
    const before = await Promise.all(keepers.map((k) => c.clearingHouse.accountHealth(k.address)));
    for (const k of keepers) {
      try {
        await mined(c.clearingHouse.connect(k).liquidate(trader.address, ETH_MARKET, 10n * WAD));
      } catch {
        // Nothing to liquidate.
      }
    }
    let gain = 0n;
    for (const [i, k] of keepers.entries()) {
      gain += (await c.clearingHouse.accountHealth(k.address)).equity - before[i].equity;
    }
    expect(gain <= 0n, `keepers gained ${gain}`).to.equal(true);
    // The trader lost only the price move and its fees: 10 × 150 = 1,500, 4 USD maker fee, and on the
    // reducing 4 ETH at 1,850 a 3.70 taker fee (5 bp of 7,400): 2,100 + 1,000 − 1,500 − 4 − 3.70.
    expect((await c.clearingHouse.accountHealth(trader.address)).equity).to.equal(1_592_300_000_000_000_000_000n);
    await networkHelpers.time.increase(1);
  });
});
