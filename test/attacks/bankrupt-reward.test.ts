// Issue 9, finding 2: the keeper reward on a bankrupt account drained the fund. It was the full liquidation
// discount on the notional, paid by the fund whatever the deficit (equity +5 → reward 2.50; equity −5 → 899.15),
// paid market by market before the deficit was known, so a keeper who owns the account gained by letting it go
// bankrupt. Rule now: a bankrupt account's position passes at the oracle with no reward; a solvent account's
// penalty is scaled down to its equity, so the reward tends to 0 at the boundary from both sides.
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
import { quietMarkets, stake } from "../../devnet/hardhat/waterfall.js";
import { expectNoGain, wealth, withdrawAll } from "./support.js";

const FUND_STAKE = 10_000n * USD;

/** Funding and fees off; the honest staker puts 10,000 USD in the fund. */
async function stakedSystem() {
  const system = await deploySystem();
  await quietMarkets(system, false);
  const [owner, keeper, counterparty, staker] = system.traders;
  await stake(system.fund, staker, FUND_STAKE);
  return { ...system, owner, keeper, counterparty, staker };
}

/** owner: long 10 ETH at 2,000 from the honest counterparty, 2,000 USD of collateral; keeper: 5,000. */
async function longFixture() {
  const c = await stakedSystem();
  await depositUsd(c.clearingHouse, 2_000n, c.owner);
  await depositUsd(c.clearingHouse, 5_000n, c.keeper);
  await depositUsd(c.clearingHouse, 100_000n, c.counterparty);
  await openAt(c.clearingHouse, c.owner, c.counterparty, ETH_MARKET, 10n * WAD, 2_000n);
  return c;
}

/**
 * The keeper's gain from liquidating the owner at `dollars`.`cents`, and what the fund lost (18 decimals). The
 * keeper is the one who chooses when to act: it must not gain by waiting for bankruptcy.
 */
async function liquidateAt(dollars: bigint, cents: bigint): Promise<{ gain: bigint; fundLoss: bigint }> {
  const c = await networkHelpers.loadFixture(longFixture);
  await setPrice(c.ethFeed, dollars, cents);
  const attacker = [c.keeper];
  const before = await wealth(c, attacker);
  const fundBefore = await c.fund.totalAssets();
  await (await c.clearingHouse.connect(c.keeper).liquidate(c.owner.address, ETH_MARKET, ethers.MaxUint256)).wait();
  return {
    gain: (await wealth(c, attacker)) - before,
    fundLoss: (fundBefore - (await c.fund.totalAssets())) * 10n ** 12n,
  };
}

describe("Attack: the keeper reward on a bankrupt account (issue 9, finding 2)", function () {
  it("letting the account go from equity +5 to −5 gains its owner's keeper nothing", async function () {
    // Equity 2,000 + 10 × (P − 2,000): +5 at 1,800.50, −5 at 1,799.50 (maintenance ≈ 900: both liquidatable).
    const early = await liquidateAt(1_800n, 50n);
    // +5: the whole position closes (restoring maintenance needs more than 10 ETH); reward and fee (180 each)
    // exceed equity, so they split it: reward ⌊5 × 1% / 2%⌋ = 2.5, the keeper's gain (it takes the position
    // at the oracle less the reward). The fund pays nothing.
    expect(early.gain).to.equal((25n * WAD) / 10n);
    expect(early.fundLoss).to.equal(0n);
    const late = await liquidateAt(1_799n, 50n);
    // −5: the fund pays the deficit, 5 USD, and nothing else; the keeper gets the position at the oracle.
    expectNoGain("waiting for bankruptcy", early.gain, late.gain);
    expect(late.fundLoss).to.equal(5n * WAD);
  });

  it("a bankrupt account in two markets: the fund pays the deficit, no reward market by market", async function () {
    const c = await networkHelpers.loadFixture(stakedSystem);
    const { clearingHouse, fund, owner, keeper, counterparty } = c;
    await depositUsd(clearingHouse, 1_000n, owner);
    await depositUsd(clearingHouse, 5_000n, keeper);
    await depositUsd(clearingHouse, 100_000n, counterparty);
    // owner: long 2 ETH at 2,000 and 0.1 BTC at 60,000 (initial margin 400 + 600 = 1,000).
    await openAt(clearingHouse, owner, counterparty, ETH_MARKET, 2n * WAD, 2_000n);
    await openAt(clearingHouse, owner, counterparty, BTC_MARKET, WAD / 10n, 60_000n);
    // ETH 1,800 (−400), BTC 53,000 (−700): equity −100.
    await setPrice(c.ethFeed, 1_800n);
    await setPrice(c.btcFeed, 53_000n);
    expect((await clearingHouse.accountHealth(owner.address)).equity).to.equal(-100n * WAD);
    const attacker = [owner, keeper];
    const before = await wealth(c, attacker);
    // ETH (notional 3,600) first, BTC (5,300) last, both by the owner's keeper.
    await (await clearingHouse.connect(keeper).liquidate(owner.address, ETH_MARKET, ethers.MaxUint256)).wait();
    await (await clearingHouse.connect(keeper).liquidate(owner.address, BTC_MARKET, ethers.MaxUint256)).wait();
    expectNoGain("two-market bankruptcy", before, await wealth(c, attacker));
    // The honest staker loses the deficit, its rule share, and no more.
    expect(FUND_STAKE - (await fund.totalAssets())).to.equal(100n * USD);
  });

  it("one owner on both sides and a 15% gap: the fund pays the deficit and nothing on top", async function () {
    const c = await networkHelpers.loadFixture(stakedSystem);
    const { clearingHouse, fund, owner, keeper, staker } = c;
    const [, , , , longSide] = c.traders;
    // The owner's short (owner) and long (longSide) face each other: 10 ETH at 2,000, 2,000 USD each.
    await depositUsd(clearingHouse, 2_000n, owner, longSide);
    await openAt(clearingHouse, longSide, owner, ETH_MARKET, 10n * WAD, 2_000n);
    const attacker = [owner, longSide, keeper];
    const start = await wealth(c, attacker);
    // ETH gaps 15% to 2,300: the short's equity 2,000 − 3,000 = −1,000, which the fund (ADL market) covers.
    await setPrice(c.ethFeed, 2_300n);
    await (await clearingHouse.connect(longSide).liquidate(owner.address, ETH_MARKET, ethers.MaxUint256)).wait();
    for (const a of attacker) await withdrawAll(c, a);
    // The gap paid the owner's long what its short could not pay, 1,000, out of the fund: that is the fund's
    // rule (it pays deficits). Nothing beyond it: no reward for liquidating one's own bankrupt account.
    const deficit = 1_000n * WAD;
    expectNoGain("one owner on both sides", start, await wealth(c, attacker), deficit);
    expect(FUND_STAKE - (await fund.totalAssets())).to.equal(1_000n * USD);
    expect(await fund.previewRedeem(await fund.balanceOf(staker.address))).to.be.greaterThanOrEqual(8_999n * USD);
  });
});
