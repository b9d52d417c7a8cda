import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { ETH_MARKET, FUND_COOLDOWN, USD, WAD, networkHelpers } from "../../devnet/hardhat/fixture.js";
import { refreshFeeds, setPrice } from "../../devnet/hardhat/fund.js";
import { mined } from "../../devnet/hardhat/trading.js";
import { EXIT_EXPOSURE, stakersFixture } from "./stakers.js";
import type { StakersCtx } from "./stakers.js";

/**
 * Finding 4 of issue 9, played by a staker with two accounts (x1, x2: 10,000 USD each) next to an honest
 * staker (20,000 USD). A crash shows on chain (ETH 2,000 → 1,000) before a keeper liquidates the bankrupt
 * long (10 ETH on 2,096 USD of margin), which costs the fund about 8,000 USD. The attacker tries every way out
 * ahead of that loss; each time its accounts together must bear at least their pro-rata half of it.
 */

/** The attacker's way out now: unstake if the fund pays at once; true if it did. */
async function unstakeNow(c: StakersCtx, staker: HardhatEthersSigner): Promise<boolean> {
  try {
    await mined(c.fund.connect(staker).unstake());
    return true;
  } catch {
    return false;
  }
}

/** The exit decision where the fund asks for one (confirmUnstake), else nothing. */
async function confirmIfAsked(c: StakersCtx, staker: HardhatEthersSigner): Promise<void> {
  if (typeof (c.fund as unknown as Record<string, unknown>).confirmUnstake === "function") {
    await mined(c.fund.connect(staker).confirmUnstake());
  }
}

/** What the fund lost (token units) and how it fell on the attacker (received) and the honest staker (value). */
async function outcome(c: StakersCtx, attackerReceived: bigint) {
  const honestValue = await c.fund.previewRedeem(await c.fund.balanceOf(c.honest.address));
  const attackerLoss = 20_000n * USD - attackerReceived;
  const honestLoss = 20_000n * USD - honestValue;
  return { attackerLoss, honestLoss, total: attackerLoss + honestLoss };
}

describe("Attack: leaving the fund ahead of a visible loss (issue 9, finding 4)", () => {
  it("a matured request kept armed cannot be cashed between the crash and its liquidation", async () => {
    const c = await networkHelpers.loadFixture(stakersFixture);
    const attacker = [c.x1, c.x2];
    for (const x of attacker) await mined(c.fund.connect(x).requestUnstake(await c.fund.balanceOf(x.address)));
    await networkHelpers.time.increase(FUND_COOLDOWN);
    await refreshFeeds(c.ethFeed, c.btcFeed);

    // The crash is on chain; the keeper has not acted yet. The attacker tries to leave at once.
    await setPrice(c.ethFeed, 1000n);
    let received = 0n;
    for (const x of attacker) {
      const before = await c.token.balanceOf(x.address);
      if (!(await unstakeNow(c, x))) await confirmIfAsked(c, x);
      received += (await c.token.balanceOf(x.address)) - before;
    }
    await mined(c.clearingHouse.connect(c.keeper).liquidate(c.alice.address, ETH_MARKET, 10n * WAD));
    await networkHelpers.time.increase(EXIT_EXPOSURE);
    for (const x of attacker) {
      const before = await c.token.balanceOf(x.address);
      const request = await c.fund.unstakeRequests(x.address);
      if (request.shares !== 0n) await mined(c.fund.connect(x).unstake());
      received += (await c.token.balanceOf(x.address)) - before;
    }

    const { attackerLoss, honestLoss, total } = await outcome(c, received);
    expect(total).to.be.greaterThan(7_000n * USD);
    // Pro rata: half each, to a few token units of rounding.
    expect(attackerLoss).to.be.greaterThanOrEqual(total / 2n - 2n);
    expect(honestLoss).to.be.lessThanOrEqual(total / 2n + 2n);
  });

  it("a confirmed request kept past its exit time gains nothing from waiting for a crash", async () => {
    const c = await networkHelpers.loadFixture(stakersFixture);
    const attacker = [c.x1, c.x2];
    for (const x of attacker) await mined(c.fund.connect(x).requestUnstake(await c.fund.balanceOf(x.address)));
    await networkHelpers.time.increase(FUND_COOLDOWN);
    for (const x of attacker) await confirmIfAsked(c, x);
    await networkHelpers.time.increase(2n * EXIT_EXPOSURE);
    await refreshFeeds(c.ethFeed, c.btcFeed);
    // Worth 10,000 each when confirmed; the crash, then the attacker cashes before the keeper...
    await setPrice(c.ethFeed, 1000n);
    let received = 0n;
    for (const x of attacker.slice(0, 1)) {
      const before = await c.token.balanceOf(x.address);
      await mined(c.fund.connect(x).unstake());
      received += (await c.token.balanceOf(x.address)) - before;
    }
    // ...and the other account waits until after the liquidation: the same value, as of its exit time.
    await mined(c.clearingHouse.connect(c.keeper).liquidate(c.alice.address, ETH_MARKET, 10n * WAD));
    const before = await c.token.balanceOf(c.x2.address);
    await mined(c.fund.connect(c.x2).unstake());
    const late = (await c.token.balanceOf(c.x2.address)) - before;
    // x1 left before the loss: its value at request, 10,000 USD.
    expect(received).to.equal(10_000n * USD);
    // The loss: alice's deficit 10 × (2,000 − 1,000) − 2,096 = 7,904 USD, less the 4.2 USD fee pot (30% of the
    // 4 + 10 USD fees): the fund pays 7,899,800,000 of its 30,000,000,000 (no keeper reward on a bankrupt
    // liquidation), after x2's exit time. x2 is paid its value at confirm, ⌊10^16 × (4 × 10^10 + 1) / (4 × 10^16 +
    // 10^6)⌋ = 10,000,000,000 (no loss between its confirm and its exit time), its value at request too, although
    // its shares are worth ⌊10^16 × 22,100,200,001 / (3 × 10^16 + 10^6)⌋ = 7,366,733,333 now: waiting past the
    // exit time gains nothing and loses nothing.
    expect(late).to.equal(10_000_000_000n);
    // The attacker left before the loss (its decision preceded the crash by hours): the honest staker, alone
    // in the fund when the loss was realized, bears it — its rule share.
    const honestValue = await c.fund.previewRedeem(await c.fund.balanceOf(c.honest.address));
    expect(honestValue).to.equal(await c.fund.totalAssets());
  });

  it("cancelling a request does not hand back the income earned while in escrow", async () => {
    const c = await networkHelpers.loadFixture(stakersFixture);
    const attacker = [c.x1, c.x2];
    const atRequest: bigint[] = [];
    for (const x of attacker) {
      const shares = await c.fund.balanceOf(x.address);
      atRequest.push(await c.fund.previewRedeem(shares));
      await mined(c.fund.connect(x).requestUnstake(shares));
    }
    // Fee income arrives and vests fully while the attacker's shares sit in escrow.
    await mined(c.clearingHouse.sweepInsuranceFees());
    if (typeof (c.fund as unknown as Record<string, unknown>).syncIncome === "function") {
      await mined(c.fund.syncIncome());
    }
    await networkHelpers.time.increase(8n * 86_400n);
    const income = (await c.fund.totalAssets()) - 40_000n * USD;
    expect(income).to.be.greaterThan(0n);
    for (const [i, x] of attacker.entries()) {
      await mined(c.fund.connect(x).cancelUnstake());
      const value = await c.fund.previewRedeem(await c.fund.balanceOf(x.address));
      expect(value).to.be.lessThanOrEqual(atRequest[i]);
    }
    // The honest staker, who carried the risk alone meanwhile, keeps at least its own half of the income and
    // gains the escrow's forfeited half, less what x1, staked again when x2 cancels, shares of x2's.
    const honestValue = await c.fund.previewRedeem(await c.fund.balanceOf(c.honest.address));
    expect(honestValue).to.be.greaterThan(20_000n * USD + income / 2n + income / 4n);
  });
});
