import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { ETH_MARKET, USD, WAD, deploySystem, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { fill, mined, signedOrder, trade } from "../../devnet/hardhat/trading.js";
import { ev, quietMarkets, setPrice, waterfallEvents, waterfallSnapshot } from "../../devnet/hardhat/waterfall.js";
import { inOneBlock, netGain } from "./helpers.js";

/**
 * A liquidator against the liquidation buffer (LiquidationMath.sizeRestoringMaintenance). alice (honest) holds
 * 4 ETH long bought at 2,000 with 1,000 USD; bob is her counterparty; the attacker liquidates with two accounts,
 * carol and dan (100,000 USD each). ETH market: maintenance 5%, discount 1% (the liquidator's reward), fee 1%,
 * buffer 25%, funding and trading fees off. The rule share at 1,800: one call closes q = 3.267973856209150327 ETH
 * (equity back to 1.25 × maintenance) and pays ⌊1% × q × 1800⌋ = 58.823529411764705886 USD. The attacker tries to
 * get more by splitting the call, by raising alice's margin first with her own signed order, and to force a whole
 * close of a position the rule would leave partly open.
 */

const E = WAD;
const BUFFER = WAD / 4n;
const DEPOSIT = 100_000n * E;
const RULE_Q = 3_267_973_856_209_150_327n; // liquidation-buffer.test.ts, worked by hand there
const RULE_REWARD = 58_823_529_411_764_705_886n;

interface Ctx extends System {
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner;
  dan: HardhatEthersSigner;
}

async function attackFixture(): Promise<Ctx> {
  const system = await deploySystem();
  await quietMarkets(system, false, BUFFER);
  const [alice, bob, carol, dan] = system.traders;
  await system.clearingHouse.connect(alice).deposit(1_000n * USD);
  for (const s of [bob, carol, dan]) await system.clearingHouse.connect(s).deposit(100_000n * USD);
  await trade(system.clearingHouse, alice, bob, { size: 4n * E, limitPrice: 2000n * E }, 4n * E);
  return { ...system, alice, bob, carol, dan };
}

describe("Attack: a liquidator against the liquidation buffer", function () {
  it("splitting the buffered liquidation into 0.5 ETH calls from two accounts in one block earns less than one call", async function () {
    const c = await networkHelpers.loadFixture(attackFixture);
    const { clearingHouse, alice, carol, dan } = c;
    await setPrice(c.ethFeed, 1800n * E);
    // Each call re-sizes from alice's state: after k chunks equity is 200 − 18k and maintenance 360 − 45k, so she is
    // liquidatable while 27k < 160: 6 chunks (3 ETH, short of the rule's 3.27); the 7th finds her above maintenance.
    const half = E / 2n;
    await inOneBlock(
      [carol, dan, carol, dan, carol, dan].map(
        (s) => () => clearingHouse.connect(s).liquidate(alice.address, ETH_MARKET, half, { gasLimit: 1_000_000n }),
      ),
    );
    await expect(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, half))
      .to.be.revertedWithCustomError(clearingHouse, "NotLiquidatable")
      .withArgs(alice.address, 92n * E, 90n * E);
    // 6 × ⌊900 × 1%⌋ = 54 USD, against 58.823529411764705886 for the one call the rule sizes.
    const gain = await netGain(clearingHouse, [carol, dan], DEPOSIT);
    expect(gain).to.equal(54n * E);
    expect(gain).to.be.lessThan(RULE_REWARD);
    // alice paid 54 of reward and 54 of fee: less than the 117.647058823529411772 of the rule's one call.
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(92n * E);
  });

  it("raising alice's margin with her own resting buy order first is refused; the liquidation pays the rule share", async function () {
    const c = await networkHelpers.loadFixture(attackFixture);
    const { clearingHouse, alice, bob, carol, dan } = c;
    // alice signed a buy of 2 ETH at 1,800 while healthy (a resting order of hers in the relay).
    const resting = await signedOrder(clearingHouse, alice, { size: 2n * E, limitPrice: 1800n * E });
    await setPrice(c.ethFeed, 1800n * E);
    const accounts = [alice.address, bob.address, carol.address, dan.address];
    const before = await waterfallSnapshot(c, accounts);
    // dan fills it to grow alice's maintenance margin (and so the buffered size carol then closes): the fill adds to
    // alice's risk and needs her initial margin, 6 × 1800 × 10% = 1,080 against equity 200.
    await expect(fill(clearingHouse, dan, resting, 2n * E))
      .to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin")
      .withArgs(alice.address, 200n * E, 1080n * E);
    expect(await waterfallSnapshot(c, accounts)).to.deep.equal(before);
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(clearingHouse, c.fund, receipt).at(-1)).to.deep.equal(
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, RULE_Q, 1800n * E, RULE_REWARD, RULE_REWARD, false),
    );
    expect(await netGain(clearingHouse, [carol, dan], DEPOSIT)).to.equal(RULE_REWARD);
  });

  it("a 100% buffer does not close whole a one-market position the rule leaves partly open (at 1,790)", async function () {
    const c = await networkHelpers.loadFixture(attackFixture);
    await quietMarkets(c, false, WAD);
    const { clearingHouse, alice, carol, dan } = c;
    // equity 4 × 1790 − 7000 = 160, maintenance 358. Target 2 × maintenance: gap 716 − 160 = 556 closes at
    // 1790 × (2 × 5% − 2%) = 143.2 per ETH: q = ⌈3.882681564245810055865…⌉ = 3.882681564245810056 ETH of 4.
    // (One market: all of it goes only when the penalty on all of it takes the equity, buffer or not.)
    await setPrice(c.ethFeed, 1790n * E);
    const q = 3_882_681_564_245_810_056n;
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    // notional 6950.00000000000000024: reward ⌊1%⌋ 69.500000000000000002, fee ⌈1%⌉ 69.500000000000000003.
    expect(waterfallEvents(clearingHouse, c.fund, receipt).at(-1)).to.deep.equal(
      ev(
        "Liquidated",
        alice.address,
        carol.address,
        ETH_MARKET,
        q,
        1790n * E,
        69_500_000_000_000_000_002n,
        69_500_000_000_000_000_003n,
        false,
      ),
    );
    expect((await clearingHouse.positionOf(alice.address, ETH_MARKET)).size).to.equal(4n * E - q);
    expect(await netGain(clearingHouse, [carol, dan], DEPOSIT)).to.equal(69_500_000_000_000_000_002n);
  });
});
