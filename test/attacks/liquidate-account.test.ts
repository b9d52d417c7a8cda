// Issue 15: liquidateAccount resolves a bankrupt account in every market in one call. An attacker who owns the
// bankrupt account and the liquidator, who adds a dust market to steer where the deficit is realized, who calls with
// a liquidator that cannot carry the positions, or who plays around a deleverage case must end no richer, and the
// honest parties (the fund, the counterparties on the charged side, the others) pay no more than their rule share.
import { expect } from "chai";

import {
  LOSS_POLICY_ADL,
  LOSS_POLICY_SOCIALIZED,
  USD,
  WAD,
  ethers,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import { clearingHouseEvents, mined } from "../../devnet/hardhat/trading.js";
import { accountFixture, fullState } from "../contracts/waterfall/account-support.js";
import type { AccountCtx, AccountSpec } from "../contracts/waterfall/account-support.js";
import { expectNoGain, wealth } from "./support.js";

const E = WAD;
const ADL = LOSS_POLICY_ADL;
const SOC = LOSS_POLICY_SOCIALIZED;

/**
 * Fees and funding off. alice (the attacker's account) deposits 1,400 and buys 2 ETH at 2,000 from bob, 0.1 BTC at
 * 60,000 from erin and sells 30 X2 at 100 to frank; prices move to 1,800, 52,000 and 110: equity −100, BTC (5,200)
 * the largest. The fund may pay 60 today.
 */
const THREE: AccountSpec = {
  markets: [
    { policy: ADL, size: 2n * E, open: 2000n * E, moved: 1800n * E },
    { policy: SOC, size: E / 10n, open: 60_000n * E, moved: 52_000n * E },
    { policy: SOC, size: -30n * E, open: 100n * E, moved: 110n * E },
  ],
  deposit: 1_400n,
  drawCap: 60n,
  quiet: true,
};
const threeFixture = (): Promise<AccountCtx> => accountFixture(THREE);

/**
 * As THREE, but the third market is dust: alice is long 1,000 wei of X2 against frank (notional 0 at 90). The attacker
 * would like the deficit realized there, over frank's 1,000 wei.
 */
const DUST: AccountSpec = {
  ...THREE,
  markets: [THREE.markets[0], THREE.markets[1], { policy: SOC, size: 1_000n, open: 100n * E, moved: 90n * E }],
  deposit: 1_100n,
};
const dustFixture = (): Promise<AccountCtx> => accountFixture(DUST);

/** ETH (ADL) long 5 at 2,000 → 1,700 is the largest; the fund (100 a day) cannot pay the deficit 2,100 − 1,650 = 450. */
const ADL_CASE: AccountSpec = {
  markets: [
    { policy: ADL, size: 5n * E, open: 2000n * E, moved: 1700n * E },
    { policy: SOC, size: E / 20n, open: 60_000n * E, moved: 54_000n * E },
    { policy: SOC, size: -30n * E, open: 100n * E, moved: 110n * E },
  ],
  deposit: 1_650n,
  drawCap: 100n,
  quiet: true,
};
const adlCaseFixture = (): Promise<AccountCtx> => accountFixture(ADL_CASE);

describe("Attack: liquidateAccount (issue 15)", function () {
  it("owning the bankrupt account and the liquidator gains nothing; the fund pays its cap, BTC's shorts the rest", async function () {
    const c = await networkHelpers.loadFixture(threeFixture);
    const { clearingHouse, alice, bob, carol, erin, frank } = c;
    const [eth, btc, x2] = c.markets;
    const attacker = [alice, carol];
    const before = await wealth(c, attacker);
    const fundBefore = await c.fund.totalAssets();
    const honestBefore = await wealth(c, [bob, erin, frank]);

    await mined(clearingHouse.connect(carol).liquidateAccount(alice.address));

    expectNoGain("owner + liquidator", before, await wealth(c, attacker));
    // The rule's shares of the 100: the fund its 60 (its cap), erin (all of BTC's short side, 0.1) the other 40.
    expect(fundBefore - (await c.fund.totalAssets())).to.equal(60n * USD);
    expect((await clearingHouse.positionOf(erin.address, btc)).socialLossOwed).to.equal(40n * E);
    expect((await clearingHouse.positionOf(bob.address, eth)).socialLossOwed).to.equal(0n);
    expect((await clearingHouse.positionOf(frank.address, x2)).socialLossOwed).to.equal(0n);
    expect(honestBefore - (await wealth(c, [bob, erin, frank]))).to.equal(40n * E);
  });

  it("a dust market cannot steer the deficit: it passes first, frank's dust side owes nothing", async function () {
    const c = await networkHelpers.loadFixture(dustFixture);
    const { clearingHouse, alice, carol, erin, frank } = c;
    const [, btc, x2] = c.markets;
    // 1,100 − 400 − 800 − 0 (1,000 wei at −10: −10^-14): equity just below −100.
    const equity = (await clearingHouse.accountHealth(alice.address)).equity;
    expect(equity).to.equal(-100n * E - 10_000n);
    // The attacker cannot take the largest (BTC) first, which would leave the deficit to the dust market.
    await expect(clearingHouse.connect(carol).liquidate(alice.address, btc, ethers.MaxUint256))
      .to.be.revertedWithCustomError(clearingHouse, "LargestPositionGoesLast")
      .withArgs(alice.address, btc);
    const attacker = [alice, carol];
    const before = await wealth(c, attacker);

    const receipt = await mined(clearingHouse.connect(carol).liquidateAccount(alice.address));

    expectNoGain("owner + liquidator", before, await wealth(c, attacker));
    const resolved = clearingHouseEvents(clearingHouse, receipt)
      .filter((e) => e.name === "BadDebtResolved")
      .map((e) => e.args);
    expect(resolved.length).to.equal(1);
    expect(resolved[0][1]).to.equal(btc); // realized in BTC, over erin's 0.1
    expect(resolved[0][2]).to.equal(-equity);
    // The fund's 60, then 40.00000000000001 over 0.1 BTC: ⌈(40 × 10^18 + 10,000) / 0.1⌉ per unit.
    const socialized = 40n * E + 10_000n;
    expect(resolved[0][5]).to.equal(socialized);
    expect((await clearingHouse.positionOf(erin.address, btc)).socialLossOwed).to.equal(socialized);
    expect((await clearingHouse.positionOf(frank.address, x2)).socialLossOwed).to.equal(0n);
    expect((await clearingHouse.marketState(x2)).longSocialLossIndex).to.equal(0n);
    expect((await clearingHouse.marketState(x2)).shortSocialLossIndex).to.equal(0n);
  });

  it("a liquidator that cannot carry the positions reverts and changes nothing", async function () {
    const c = await networkHelpers.loadFixture(threeFixture);
    const { clearingHouse, alice, carol } = c;
    // carol keeps 1,209 of the 1,210 the three positions (12,100 of notional) need at initial margin.
    await mined(clearingHouse.connect(carol).withdraw(100_000n * USD - 1_209n * USD));
    const before = await fullState(c);
    await expect(clearingHouse.connect(carol).liquidateAccount(alice.address))
      .to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin")
      .withArgs(carol.address, 1_209n * E, 1_210n * E);
    expect(await fullState(c)).to.deep.equal(before);
    // One more unit and it carries them.
    await mined(clearingHouse.connect(carol).deposit(1n * USD));
    await mined(clearingHouse.connect(carol).liquidateAccount(alice.address));
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
  });

  it("around a deleverage case: the case opens after the others pass; a second call, or a call once the account recovered, changes nothing", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse, alice, bob, carol } = c;
    const [eth, btc, x2] = c.markets;
    const attacker = [alice, carol];
    const before = await wealth(c, attacker);
    const fundBefore = await c.fund.totalAssets();

    await mined(clearingHouse.connect(carol).liquidateAccount(alice.address));
    // BTC and X2 passed; ETH stays with alice while its case is open: nothing drawn, nothing socialized.
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([eth]);
    expect(await clearingHouse.openMarketsOf(carol.address)).to.deep.equal([btc, x2]);
    const dc = await clearingHouse.deleverageCaseOf(alice.address);
    expect([dc.open, dc.marketId, dc.initialShortfall]).to.deep.equal([true, eth, 450n * E]);
    expect(await c.fund.totalAssets()).to.equal(fundBefore);
    expectNoGain("owner + liquidator", before, await wealth(c, attacker));

    const state = await fullState(c);
    await expect(clearingHouse.connect(carol).liquidateAccount(alice.address))
      .to.be.revertedWithCustomError(clearingHouse, "DeleverageInProgress")
      .withArgs(alice.address, eth);
    // The owner tops the account up to equity +1: liquidateAccount is for bankrupt accounts only.
    await mined(clearingHouse.connect(alice).deposit(451n * USD));
    const recovered = await fullState(c);
    await expect(clearingHouse.connect(carol).liquidateAccount(alice.address))
      .to.be.revertedWithCustomError(clearingHouse, "NotBankrupt")
      .withArgs(alice.address, 1n * E);
    expect(await fullState(c)).to.deep.equal(recovered);
    expect(state).to.not.deep.equal(recovered);
    // bob, ETH's only short, was never charged: the account paid its own debt.
    expect((await clearingHouse.positionOf(bob.address, eth)).socialLossOwed).to.equal(0n);
    expect(await c.fund.totalAssets()).to.equal(fundBefore);
  });
});
