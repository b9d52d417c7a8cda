import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  BTC_MARKET,
  ETH_MARKET,
  FUND_COOLDOWN,
  FUND_DRAW_CAP,
  FUND_DRAW_WINDOW,
  USD,
  WAD,
  deploySystem,
  ethers,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import type { InsuranceFund } from "../../typechain-types/index.js";
import { blockTime, latestTime, mined } from "../../devnet/hardhat/trading.js";
import { depositUsd, fundSnapshot, openAt, refreshFeeds, setPrice } from "../../devnet/hardhat/fund.js";

const FUND_MANAGER_ROLE = ethers.id("FUND_MANAGER_ROLE");
const UINT128_MAX = 2n ** 128n - 1n;
const CENT = WAD / 100n;
// With a decimals offset of 6 an empty fund mints 10^6 shares per token unit: 1,000 USD = 1e9 units → 1e15.
const SHARES_PER_USD = 10n ** 12n;
const EXIT_EXPOSURE = 3600n;

/** Confirms `staker`'s request (the cooldown must be over) and lets the exit exposure pass. */
async function confirmAndWait(fund: InsuranceFund, staker: HardhatEthersSigner): Promise<void> {
  await mined(fund.connect(staker).confirmUnstake());
  await networkHelpers.time.increase(EXIT_EXPOSURE);
}

interface Ctx extends System {
  s1: HardhatEthersSigner;
  s2: HardhatEthersSigner;
}

/** The system with two stakers (traders 6 and 7), approved to the fund, holding no shares yet. */
async function fundFixture(): Promise<Ctx> {
  const system = await deploySystem();
  return { ...system, s1: system.traders[6], s2: system.traders[7] };
}

/** s1 and s2 stake 1,000 USD each: 2e15 shares over 2,000 USD. */
async function twoStakersFixture(): Promise<Ctx> {
  const c = await fundFixture();
  for (const s of [c.s1, c.s2]) await mined(c.fund.connect(s).deposit(1000n * USD, s.address));
  return c;
}

/**
 * s1 stakes 1,000 USD. dave, frank and gina (700 USD each) each buy 0.1 BTC at 60,000 from erin (10,000 USD):
 * each long pays a 1.2 maker fee (collateral 698.8), erin 3 × 3; the pot holds 3 × (0.36 + 0.9) = 3.78 USD.
 * At 52,000 every long is at 698.8 − 800 = −101.2. The keeper has 5,000 USD.
 */
async function btcFixture() {
  const c = await fundFixture();
  const { clearingHouse, fund, traders, s1 } = c;
  const [dave, frank, gina, erin, keeper] = traders;
  await mined(fund.connect(s1).deposit(1000n * USD, s1.address));
  await depositUsd(clearingHouse, 700n, dave, frank, gina);
  await depositUsd(clearingHouse, 10_000n, erin);
  await depositUsd(clearingHouse, 5000n, keeper);
  for (const long of [dave, frank, gina]) await openAt(clearingHouse, long, erin, BTC_MARKET, WAD / 10n, 60_000n);
  return { ...c, dave, frank, gina, erin, keeper };
}

/**
 * alice (860.4 USD) buys 1 ETH at 2000 from bob (1,000 USD); the pot holds 0.42 USD. At 1100 alice's
 * equity is 860 − 900 = −40; a bankrupt liquidation pays the keeper no reward.
 */
async function ethBankruptcy(c: Ctx) {
  const [alice, bob, keeper] = c.traders;
  await mined(c.clearingHouse.connect(alice).deposit(860_400_000n));
  await depositUsd(c.clearingHouse, 1000n, bob);
  await depositUsd(c.clearingHouse, 2000n, keeper);
  await openAt(c.clearingHouse, alice, bob, ETH_MARKET, WAD, 2000n);
  return { alice, bob, keeper };
}

describe("InsuranceFund", () => {
  describe("staking", () => {
    it("deposit and mint price shares with the 6-decimal offset", async () => {
      const { fund, token, traders, s1, s2 } = await networkHelpers.loadFixture(fundFixture);
      const fundAddress = await fund.getAddress();
      expect(await fund.decimals()).to.equal(12n); // token 6 + offset 6

      // Empty fund: 1e9 × (0 + 1e6) / (0 + 1) = 1e15 shares.
      await expect(fund.connect(s1).deposit(1000n * USD, s1.address))
        .to.emit(fund, "Deposit")
        .withArgs(s1.address, s1.address, 1000n * USD, 10n ** 15n);

      // A donation of 500 USD does not count until it streams: 3e8 × (1e15 + 1e6) / (1e9 + 1) = 3e14 shares.
      await mined(token.connect(traders[0]).transfer(fundAddress, 500n * USD));
      expect(await fund.totalAssets()).to.equal(1000n * USD);
      expect(await fund.previewDeposit(300n * USD)).to.equal(3n * 10n ** 14n);
      const deposit = await mined(fund.connect(s2).deposit(300n * USD, s2.address));
      await expect(deposit)
        .to.emit(fund, "Deposit")
        .withArgs(s2.address, s2.address, 300n * USD, 3n * 10n ** 14n);
      // The deposit started the donation's 7-day stream; once it has run, the fund holds 1,800 USD.
      expect(await fund.streamAmount()).to.equal(500n * USD);
      await networkHelpers.time.setNextBlockTimestamp((await blockTime(deposit)) + 604_800n);

      // mint 1e14 shares: 1e14 × (1.8e9 + 1) / (1.3e15 + 1e6) = 138,461,538.4… → 138,461,539 (up).
      await expect(fund.connect(s2).mint(10n ** 14n, s2.address))
        .to.emit(fund, "Deposit")
        .withArgs(s2.address, s2.address, 138_461_539n, 10n ** 14n);

      expect(await fund.totalAssets()).to.equal(1_938_461_539n);
      expect(await fund.totalSupply()).to.equal(14n * 10n ** 14n);
      expect(await fund.balanceOf(s2.address)).to.equal(4n * 10n ** 14n);
      // s1's 1e15 shares: 1e15 × (1,938,461,539 + 1) / (1.4e15 + 1e6) = 1,384,615,384 units.
      expect(await fund.previewRedeem(10n ** 15n)).to.equal(1_384_615_384n);
    });

    it("withdraw and redeem revert CooldownRequired; maxWithdraw and maxRedeem are zero", async () => {
      const { fund, token, s1, s2 } = await networkHelpers.loadFixture(twoStakersFixture);
      const before = await fundSnapshot(fund, token, [s1.address, s2.address]);
      await expect(fund.connect(s1).withdraw(USD, s1.address, s1.address)).to.be.revertedWithCustomError(
        fund,
        "CooldownRequired",
      );
      await expect(fund.connect(s1).redeem(SHARES_PER_USD, s1.address, s1.address)).to.be.revertedWithCustomError(
        fund,
        "CooldownRequired",
      );
      expect(await fund.maxWithdraw(s1.address)).to.equal(0n);
      expect(await fund.maxRedeem(s1.address)).to.equal(0n);
      expect(await fundSnapshot(fund, token, [s1.address, s2.address])).to.deep.equal(before);
      expect(await token.balanceOf(s1.address)).to.equal(999_000n * USD);
    });
  });

  describe("unstaking", () => {
    it("requestUnstake escrows shares in the fund and adds to a pending request; zero reverts ZeroUnstake", async () => {
      const { fund, token, s1, s2 } = await networkHelpers.loadFixture(twoStakersFixture);
      const fundAddress = await fund.getAddress();
      const before = await fundSnapshot(fund, token, [s1.address, s2.address, fundAddress]);
      await expect(fund.connect(s1).requestUnstake(0n)).to.be.revertedWithCustomError(fund, "ZeroUnstake");
      expect(await fundSnapshot(fund, token, [s1.address, s2.address, fundAddress])).to.deep.equal(before);

      // 4e14 shares of 2e15 over 2,000 USD: 4e14 × (2e9 + 1) / (2e15 + 1e6) = 4e8 exactly.
      const first = await mined(fund.connect(s1).requestUnstake(4n * 10n ** 14n));
      const readyAt1 = (await blockTime(first)) + FUND_COOLDOWN;
      await expect(first)
        .to.emit(fund, "UnstakeRequested")
        .withArgs(s1.address, 4n * 10n ** 14n, 400n * USD, readyAt1);
      expect(await fund.balanceOf(s1.address)).to.equal(6n * 10n ** 14n);
      expect(await fund.balanceOf(fundAddress)).to.equal(4n * 10n ** 14n);
      expect(await fund.totalSupply()).to.equal(2n * 10n ** 15n); // escrowed shares stay in the supply

      // Another 1e14 adds 100 USD and restarts the cooldown.
      const second = await mined(fund.connect(s1).requestUnstake(10n ** 14n));
      const readyAt2 = (await blockTime(second)) + FUND_COOLDOWN;
      await expect(second)
        .to.emit(fund, "UnstakeRequested")
        .withArgs(s1.address, 5n * 10n ** 14n, 500n * USD, readyAt2);
      expect(await fund.unstakeRequests(s1.address)).to.deep.equal([5n * 10n ** 14n, 500n * USD, readyAt2]);
      expect(await fund.balanceOf(fundAddress)).to.equal(5n * 10n ** 14n);
    });

    it("unstake reverts UnstakeNotConfirmed and NoUnstakeRequest, confirm CooldownNotElapsed; cancel returns the shares", async () => {
      const { fund, token, s1, s2 } = await networkHelpers.loadFixture(twoStakersFixture);
      const fundAddress = await fund.getAddress();
      const accounts = [s1.address, s2.address, fundAddress];
      const readyAt = (await blockTime(await mined(fund.connect(s1).requestUnstake(4n * 10n ** 14n)))) + FUND_COOLDOWN;
      const before = await fundSnapshot(fund, token, accounts);

      await expect(fund.connect(s1).unstake())
        .to.be.revertedWithCustomError(fund, "UnstakeNotConfirmed")
        .withArgs(s1.address);
      await expect(fund.connect(s1).confirmUnstake())
        .to.be.revertedWithCustomError(fund, "CooldownNotElapsed")
        .withArgs(s1.address, readyAt);
      await networkHelpers.time.setNextBlockTimestamp(readyAt - 1n);
      await expect(fund.connect(s1).confirmUnstake())
        .to.be.revertedWithCustomError(fund, "CooldownNotElapsed")
        .withArgs(s1.address, readyAt);
      await expect(fund.connect(s2).unstake())
        .to.be.revertedWithCustomError(fund, "NoUnstakeRequest")
        .withArgs(s2.address);
      await expect(fund.connect(s2).cancelUnstake())
        .to.be.revertedWithCustomError(fund, "NoUnstakeRequest")
        .withArgs(s2.address);
      expect(await fundSnapshot(fund, token, accounts)).to.deep.equal(before);

      await expect(fund.connect(s1).cancelUnstake())
        .to.emit(fund, "UnstakeCancelled")
        .withArgs(s1.address, 4n * 10n ** 14n, 0n);
      expect(await fund.balanceOf(s1.address)).to.equal(10n ** 15n);
      expect(await fund.balanceOf(fundAddress)).to.equal(0n);
      expect(await fund.unstakeRequests(s1.address)).to.deep.equal([0n, 0n, 0n]);
      await expect(fund.connect(s1).unstake())
        .to.be.revertedWithCustomError(fund, "NoUnstakeRequest")
        .withArgs(s1.address);
    });

    it("confirm at readyAt, unstake an hour later: pays the value at request and burns the escrowed shares", async () => {
      const { fund, token, s1 } = await networkHelpers.loadFixture(twoStakersFixture);
      const readyAt = (await blockTime(await mined(fund.connect(s1).requestUnstake(4n * 10n ** 14n)))) + FUND_COOLDOWN;
      await networkHelpers.time.setNextBlockTimestamp(readyAt);
      await expect(fund.connect(s1).confirmUnstake())
        .to.emit(fund, "UnstakeConfirmed")
        .withArgs(s1.address, readyAt + EXIT_EXPOSURE);
      await networkHelpers.time.setNextBlockTimestamp(readyAt + EXIT_EXPOSURE - 1n);
      await expect(fund.connect(s1).unstake())
        .to.be.revertedWithCustomError(fund, "ExitExposureNotElapsed")
        .withArgs(s1.address, readyAt + EXIT_EXPOSURE);
      await networkHelpers.time.setNextBlockTimestamp(readyAt + EXIT_EXPOSURE);
      await expect(fund.connect(s1).unstake())
        .to.emit(fund, "Unstaked")
        .withArgs(s1.address, 4n * 10n ** 14n, 400n * USD);
      expect(await token.balanceOf(s1.address)).to.equal(999_400n * USD); // 1,000,000 − 1,000 + 400
      expect(await fund.totalSupply()).to.equal(16n * 10n ** 14n);
      expect(await fund.totalAssets()).to.equal(1600n * USD);
    });

    it("a loss during the cooldown lowers the payout: min(value at request, value now)", async () => {
      const c = await networkHelpers.loadFixture(twoStakersFixture);
      const { clearingHouse, fund, token, ethFeed, s1, s2 } = c;
      const { alice, keeper } = await ethBankruptcy(c);
      // s1 escrows all 1e15 shares: 1e15 × (2e9 + 1) / (2e15 + 1e6) = 1,000 USD.
      const request = await mined(fund.connect(s1).requestUnstake(10n ** 15n));
      await expect(request)
        .to.emit(fund, "UnstakeRequested")
        .withArgs(s1.address, 10n ** 15n, 1000n * USD, (await blockTime(request)) + FUND_COOLDOWN);

      // The clearing house draws during the cooldown: alice's deficit 40 less the 0.42 pot = 39.58 (no reward
      // on a bankrupt account). 2,000 − 39.58 = 1,960.42 USD remain.
      await setPrice(ethFeed, 1100n);
      await expect(clearingHouse.connect(keeper).liquidate(alice.address, ETH_MARKET, WAD))
        .to.emit(fund, "Drawn")
        .withArgs(39_580_000n, 1_960_420_000n)
        .and.to.emit(clearingHouse, "BadDebtResolved")
        .withArgs(alice.address, ETH_MARKET, 40n * WAD, 40n * WAD, 0n, 0n, 0n, 0n);
      expect(await fund.totalAssets()).to.equal(1_960_420_000n);

      // The escrowed shares carry their half of the loss: 1e15 × (1,960,420,000 + 1) / (2e15 + 1e6) =
      // 980,210,000.0… → 980.21 USD (1,000 − 39.58 / 2).
      await networkHelpers.time.increase(FUND_COOLDOWN);
      await confirmAndWait(fund, s1);
      const balance = await token.balanceOf(s1.address);
      await expect(fund.connect(s1).unstake())
        .to.emit(fund, "Unstaked")
        .withArgs(s1.address, 10n ** 15n, 980_210_000n);
      expect(await token.balanceOf(s1.address)).to.equal(balance + 980_210_000n);
      // s2 bears the same loss, no more: 1e15 × (980,210,000 + 1) / (1e15 + 1e6) = 980,210,000.
      expect(await fund.totalAssets()).to.equal(980_210_000n);
      expect(await fund.previewRedeem(await fund.balanceOf(s2.address))).to.equal(980_210_000n);
    });

    it("a gain during the cooldown does not raise the payout and stays with the other stakers", async () => {
      const c = await networkHelpers.loadFixture(twoStakersFixture);
      const { clearingHouse, fund, token, s1, s2, traders } = c;
      const [alice, bob] = traders;
      const request = await mined(fund.connect(s1).requestUnstake(10n ** 15n));
      await expect(request)
        .to.emit(fund, "UnstakeRequested")
        .withArgs(s1.address, 10n ** 15n, 1000n * USD, (await blockTime(request)) + FUND_COOLDOWN);

      // 10 ETH at 2000: notional 20,000, fees 4 (maker) and 10 (taker), 30% set aside = 4.2 USD, swept.
      await depositUsd(clearingHouse, 10_000n, alice, bob);
      await openAt(clearingHouse, alice, bob, ETH_MARKET, 10n * WAD, 2000n);
      await expect(clearingHouse.sweepInsuranceFees())
        .to.emit(clearingHouse, "InsuranceFeesSwept")
        .withArgs(4_200_000n);
      // Swept income streams in over 7 days from the sweep's block (the sweep syncs the fund), so at that block
      // none of it backs shares yet: totalAssets = 2,004,200,000 − 4,200,000 locked. The escrowed shares' value
      // may grow, their payout not.
      expect(await fund.totalAssets()).to.equal(2_000_000_000n);

      await networkHelpers.time.increase(FUND_COOLDOWN);
      await confirmAndWait(fund, s1);
      const balance = await token.balanceOf(s1.address);
      await expect(fund.connect(s1).unstake())
        .to.emit(fund, "Unstaked")
        .withArgs(s1.address, 10n ** 15n, 1000n * USD);
      expect(await token.balanceOf(s1.address)).to.equal(balance + 1000n * USD);
      // Once the stream has run, s2 keeps the whole gain: 1e15 × (1,004,200,000 + 1) / (1e15 + 1e6) = 1,004,199,999.
      await networkHelpers.time.increase(7n * 86_400n);
      expect(await fund.totalAssets()).to.equal(1_004_200_000n);
      expect(await fund.previewRedeem(await fund.balanceOf(s2.address))).to.equal(1_004_199_999n);
    });

    it("sweepInsuranceFees starts the fund's 7-day income stream at the sweep's block", async () => {
      const c = await networkHelpers.loadFixture(twoStakersFixture);
      const { clearingHouse, fund, traders } = c;
      const [alice, bob] = traders;
      // 10 ETH at 2000: notional 20,000, fees 4 (maker) and 10 (taker), 30% set aside = 4.2 USD.
      await depositUsd(clearingHouse, 10_000n, alice, bob);
      await openAt(clearingHouse, alice, bob, ETH_MARKET, 10n * WAD, 2000n);
      const sweep = await mined(clearingHouse.sweepInsuranceFees());
      const sweptAt = await blockTime(sweep);
      // The stream starts in the sweep's transaction, not at the next call that happens to sync the fund.
      expect(await fund.streamStart()).to.equal(sweptAt);
      expect(await fund.streamAmount()).to.equal(4_200_000n);
      expect(await fund.accountedBalance()).to.equal(2_004_200_000n);
      // One day later ⌈4,200,000 × (604,800 − 86,400) / 604,800⌉ = 3,600,000 is still locked:
      // totalAssets = 2,004,200,000 − 3,600,000 = 2,000,600,000.
      await networkHelpers.time.increaseTo(sweptAt + 86_400n);
      expect(await fund.totalAssets()).to.equal(2_000_600_000n);
      // After 7 days all of it backs shares.
      await networkHelpers.time.increaseTo(sweptAt + 7n * 86_400n);
      expect(await fund.totalAssets()).to.equal(2_004_200_000n);
    });

    it("unstake reverts BadDebtPending while a deleverage case is open, and pays once it closes", async () => {
      const c = await networkHelpers.loadFixture(fundFixture);
      const { clearingHouse, fund, token, ethFeed, admin, s1 } = c;
      await mined(fund.connect(s1).deposit(1000n * USD, s1.address));
      // A floor at the whole balance: the fund can pay nothing, so alice's bankruptcy opens a case.
      await mined(fund.connect(admin).setParams(FUND_COOLDOWN, 1000n * USD, FUND_DRAW_CAP, FUND_DRAW_WINDOW));
      const { alice, bob, keeper } = await ethBankruptcy(c);
      await mined(fund.connect(s1).requestUnstake(10n ** 15n));
      await setPrice(ethFeed, 1100n);
      await expect(clearingHouse.connect(keeper).liquidate(alice.address, ETH_MARKET, WAD))
        .to.emit(clearingHouse, "DeleverageRequired")
        .withArgs(alice.address, ETH_MARKET, 40n * WAD, 42n * CENT);
      expect(await clearingHouse.openDeleverageCases()).to.equal(1n);

      await networkHelpers.time.increase(FUND_COOLDOWN);
      await mined(fund.connect(s1).confirmUnstake());
      const accounts = [s1.address, await fund.getAddress()];
      const before = await fundSnapshot(fund, token, accounts);
      await expect(fund.connect(s1).unstake()).to.be.revertedWithCustomError(fund, "BadDebtPending");
      expect(await fundSnapshot(fund, token, accounts)).to.deep.equal(before);

      // bob (+900) takes the rest of the deficit by ADL; the case closes and the unstake goes through.
      await refreshFeeds(ethFeed);
      await mined(clearingHouse.connect(keeper).autoDeleverage(alice.address, ETH_MARKET, bob.address, WAD));
      expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
      await networkHelpers.time.increase(EXIT_EXPOSURE);
      await expect(fund.connect(s1).unstake())
        .to.emit(fund, "Unstaked")
        .withArgs(s1.address, 10n ** 15n, 1000n * USD);
    });
  });

  describe("draws", () => {
    it("draw by anyone but the clearing house reverts OnlyClearingHouse", async () => {
      const { fund, token, admin, s1, s2 } = await networkHelpers.loadFixture(twoStakersFixture);
      const before = await fundSnapshot(fund, token, [s1.address, admin.address]);
      for (const caller of [s1, admin]) {
        await expect(fund.connect(caller).draw(USD))
          .to.be.revertedWithCustomError(fund, "OnlyClearingHouse")
          .withArgs(caller.address);
      }
      expect(await fundSnapshot(fund, token, [s1.address, admin.address])).to.deep.equal(before);
      expect(await token.balanceOf(s2.address)).to.equal(999_000n * USD);
    });

    it("the floor limits availableForDraw and real draws; the rest is socialized", async () => {
      const c = await networkHelpers.loadFixture(btcFixture);
      const { clearingHouse, fund, btcFeed, admin, dave, frank, keeper } = c;
      await mined(fund.connect(admin).setParams(FUND_COOLDOWN, 950n * USD, FUND_DRAW_CAP, FUND_DRAW_WINDOW));
      expect(await fund.availableForDraw()).to.equal(50n * USD); // 1,000 − 950
      await setPrice(btcFeed, 52_000n);

      // dave: deficit 101.2; the pot pays 3.78, the fund 50 of the 97.42 asked; 47.42 over erin's 0.3 BTC:
      // ⌈47.42 / 0.3⌉ = 158.066666666666666667 per unit. Nothing is left for the keeper's reward.
      await expect(clearingHouse.connect(keeper).liquidate(dave.address, BTC_MARKET, WAD))
        .to.emit(fund, "Drawn")
        .withArgs(50n * USD, 950n * USD)
        .and.to.emit(clearingHouse, "BadDebtResolved")
        .withArgs(dave.address, BTC_MARKET, 10120n * CENT, 5378n * CENT, 0n, 4742n * CENT, 158066666666666666667n, 0n)
        .and.to.emit(clearingHouse, "Liquidated")
        .withArgs(dave.address, keeper.address, BTC_MARKET, WAD / 10n, 52_000n * WAD, 0n, 0n, true);
      expect(await fund.totalAssets()).to.equal(950n * USD);
      expect(await fund.availableForDraw()).to.equal(0n);

      // frank: the fund is at its floor and pays nothing; ⌈101.2 / 0.3⌉ per unit.
      const frankReceipt = await mined(clearingHouse.connect(keeper).liquidate(frank.address, BTC_MARKET, WAD));
      await expect(frankReceipt)
        .to.emit(clearingHouse, "BadDebtResolved")
        .withArgs(frank.address, BTC_MARKET, 10120n * CENT, 0n, 0n, 10120n * CENT, 337333333333333333334n, 0n);
      await expect(frankReceipt).not.to.emit(fund, "Drawn");
      expect(await fund.totalAssets()).to.equal(950n * USD);
    });

    it("the per-window cap limits draws until the window rolls over after drawWindow seconds", async () => {
      const c = await networkHelpers.loadFixture(btcFixture);
      const { clearingHouse, fund, btcFeed, admin, dave, frank, gina, keeper } = c;
      await mined(fund.connect(admin).setParams(FUND_COOLDOWN, 0n, 30n * USD, FUND_DRAW_WINDOW));
      expect(await fund.availableForDraw()).to.equal(30n * USD);
      await setPrice(btcFeed, 52_000n);

      // dave: pot 3.78 + fund 30 (the cap) = 33.78; 67.42 socialized: ⌈67.42 / 0.3⌉ per unit.
      await expect(clearingHouse.connect(keeper).liquidate(dave.address, BTC_MARKET, WAD))
        .to.emit(fund, "Drawn")
        .withArgs(30n * USD, 970n * USD)
        .and.to.emit(clearingHouse, "BadDebtResolved")
        .withArgs(dave.address, BTC_MARKET, 10120n * CENT, 3378n * CENT, 0n, 6742n * CENT, 224733333333333333334n, 0n);
      expect(await fund.availableForDraw()).to.equal(0n);
      expect(await fund.drawnInWindow()).to.equal(30n * USD);

      // frank in the same window: 970 USD in the fund, but nothing left under the cap.
      const frankReceipt = await mined(clearingHouse.connect(keeper).liquidate(frank.address, BTC_MARKET, WAD));
      await expect(frankReceipt)
        .to.emit(clearingHouse, "BadDebtResolved")
        .withArgs(frank.address, BTC_MARKET, 10120n * CENT, 0n, 0n, 10120n * CENT, 337333333333333333334n, 0n);
      await expect(frankReceipt).not.to.emit(fund, "Drawn");
      expect(await fund.totalAssets()).to.equal(970n * USD);

      // The window opened when the fund was deployed and lasts one day.
      const windowStart = await fund.windowStart();
      await networkHelpers.time.increaseTo(windowStart + FUND_DRAW_WINDOW - 1n);
      expect(await fund.availableForDraw()).to.equal(0n);
      await refreshFeeds(btcFeed); // mined at windowStart + 1 day
      expect(await latestTime()).to.equal(windowStart + FUND_DRAW_WINDOW);
      expect(await fund.availableForDraw()).to.equal(30n * USD);

      // gina: the pot is empty now; the fund pays a fresh 30; ⌈71.2 / 0.3⌉ per unit.
      const receipt = await mined(clearingHouse.connect(keeper).liquidate(gina.address, BTC_MARKET, WAD));
      await expect(receipt)
        .to.emit(fund, "Drawn")
        .withArgs(30n * USD, 940n * USD);
      await expect(receipt)
        .to.emit(clearingHouse, "BadDebtResolved")
        .withArgs(gina.address, BTC_MARKET, 10120n * CENT, 30n * WAD, 0n, 7120n * CENT, 237333333333333333334n, 0n);
      expect(await fund.windowStart()).to.equal(await blockTime(receipt));
      expect(await fund.drawnInWindow()).to.equal(30n * USD);
      expect(await fund.availableForDraw()).to.equal(0n);
    });
  });

  describe("parameters", () => {
    it("setParams enforces every bound with FundParamOutOfBounds and the fund-manager role", async () => {
      const { fund, admin, s1 } = await networkHelpers.loadFixture(fundFixture);
      const MIN = 60n;
      const MAX = 30n * 86_400n;
      const cases: [bigint[], string, bigint, bigint, bigint][] = [
        [[MIN - 1n, 0n, 1n, MIN], "cooldown", MIN - 1n, MIN, MAX],
        [[MAX + 1n, 0n, 1n, MIN], "cooldown", MAX + 1n, MIN, MAX],
        [[MIN, UINT128_MAX + 1n, 1n, MIN], "floor", UINT128_MAX + 1n, 0n, UINT128_MAX],
        [[MIN, 0n, 0n, MIN], "drawCap", 0n, 1n, UINT128_MAX],
        [[MIN, 0n, UINT128_MAX + 1n, MIN], "drawCap", UINT128_MAX + 1n, 1n, UINT128_MAX],
        [[MIN, 0n, 1n, MIN - 1n], "drawWindow", MIN - 1n, MIN, MAX],
        [[MIN, 0n, 1n, MAX + 1n], "drawWindow", MAX + 1n, MIN, MAX],
      ];
      const params = async () => [
        await fund.cooldown(),
        await fund.floor(),
        await fund.drawCap(),
        await fund.drawWindow(),
      ];
      const before = await params();
      expect(before).to.deep.equal([FUND_COOLDOWN, 0n, FUND_DRAW_CAP, FUND_DRAW_WINDOW]);
      for (const [[cooldown, floor, cap, window], name, value, min, max] of cases) {
        await expect(fund.connect(admin).setParams(cooldown, floor, cap, window))
          .to.be.revertedWithCustomError(fund, "FundParamOutOfBounds")
          .withArgs(name, value, min, max);
      }
      await expect(fund.connect(s1).setParams(MIN, 0n, 1n, MIN))
        .to.be.revertedWithCustomError(fund, "AccessControlUnauthorizedAccount")
        .withArgs(s1.address, FUND_MANAGER_ROLE);
      expect(await params()).to.deep.equal(before);

      // Both ends of every range are accepted.
      await expect(fund.connect(admin).setParams(MIN, 0n, 1n, MIN))
        .to.emit(fund, "FundParamsUpdated")
        .withArgs(MIN, 0n, 1n, MIN);
      await expect(fund.connect(admin).setParams(MAX, UINT128_MAX, UINT128_MAX, MAX))
        .to.emit(fund, "FundParamsUpdated")
        .withArgs(MAX, UINT128_MAX, UINT128_MAX, MAX);
      expect(await params()).to.deep.equal([MAX, UINT128_MAX, UINT128_MAX, MAX]);
    });

    it("the constructor rejects a zero clearing house and out-of-bounds parameters", async () => {
      const { clearingHouse, token, admin } = await networkHelpers.loadFixture(fundFixture);
      const factory = await ethers.getContractFactory("InsuranceFund");
      const tokenAddress = await token.getAddress();
      await expect(
        factory.deploy(
          tokenAddress,
          ethers.ZeroAddress,
          admin.address,
          FUND_COOLDOWN,
          0n,
          FUND_DRAW_CAP,
          FUND_DRAW_WINDOW,
        ),
      ).to.be.revertedWithCustomError(factory, "InvalidClearingHouse");
      await expect(
        factory.deploy(tokenAddress, await clearingHouse.getAddress(), admin.address, 0n, 0n, FUND_DRAW_CAP, 86_400n),
      )
        .to.be.revertedWithCustomError(factory, "FundParamOutOfBounds")
        .withArgs("cooldown", 0n, 60n, 30n * 86_400n);
    });
  });

  it("defeats the first-deposit inflation attack: the victim keeps ≥ 999.99 of 1,000 USD", async () => {
    const { fund, token, traders } = await networkHelpers.loadFixture(fundFixture);
    const [attacker, victim] = traders;
    const fundAddress = await fund.getAddress();
    const start = 1_000_000n * USD;

    // 1 unit (1e-6 USD) buys 1 × (0 + 1e6) / (0 + 1) = 1e6 shares; then 10,000 USD is donated directly.
    await expect(fund.connect(attacker).deposit(1n, attacker.address))
      .to.emit(fund, "Deposit")
      .withArgs(attacker.address, attacker.address, 1n, 10n ** 6n);
    await mined(token.connect(attacker).transfer(fundAddress, 10_000n * USD));

    // The donation counts for nobody until it streams. Victim: 1e9 × (1e6 + 1e6) / (1 + 1) = 1e15 shares.
    const victimDeposit = await mined(fund.connect(victim).deposit(1000n * USD, victim.address));
    await expect(victimDeposit)
      .to.emit(fund, "Deposit")
      .withArgs(victim.address, victim.address, 1000n * USD, 10n ** 15n);
    const t = await blockTime(victimDeposit); // the donation's 7-day stream starts here

    // One second later ⌈1e10 × 604,799 / 604,800⌉ = 9,999,983,466 is still locked: assets 1,000,016,535,
    // supply 1e15 + 1e6 (+1e6 virtual). Victim: 1e15 × 1,000,016,536 / (1e15 + 2e6) = 1,000,016,533.
    await networkHelpers.time.setNextBlockTimestamp(t + 1n);
    const victimRequest = await mined(fund.connect(victim).requestUnstake(10n ** 15n));
    await expect(victimRequest)
      .to.emit(fund, "UnstakeRequested")
      .withArgs(victim.address, 10n ** 15n, 1_000_016_533n, t + 1n + FUND_COOLDOWN);
    // Two seconds in: assets 1,000,033,069; attacker 1e6 × 1,000,033,070 / (1e15 + 2e6) = 1 unit.
    await networkHelpers.time.setNextBlockTimestamp(t + 2n);
    const attackerRequest = await mined(fund.connect(attacker).requestUnstake(10n ** 6n));
    await expect(attackerRequest)
      .to.emit(fund, "UnstakeRequested")
      .withArgs(attacker.address, 10n ** 6n, 1n, t + 2n + FUND_COOLDOWN);

    await networkHelpers.time.increase(FUND_COOLDOWN);
    for (const s of [victim, attacker]) await mined(fund.connect(s).confirmUnstake());
    await networkHelpers.time.increase(EXIT_EXPOSURE);
    // Both are paid their value at request: the shares are worth more by now (the stream went on).
    await expect(fund.connect(victim).unstake())
      .to.emit(fund, "Unstaked")
      .withArgs(victim.address, 10n ** 15n, 1_000_016_533n);
    await expect(fund.connect(attacker).unstake())
      .to.emit(fund, "Unstaked")
      .withArgs(attacker.address, 10n ** 6n, 1n);

    const victimLoss = start - (await token.balanceOf(victim.address));
    const attackerLoss = start - (await token.balanceOf(attacker.address));
    expect(victimLoss).to.equal(-16_533n); // the victim even earned 0.016533 USD of the stream
    expect(victimLoss <= 10_000n).to.equal(true); // ≥ 999.99 USD came back
    // 10,000,000,001 put in, 1 back: the attacker loses its whole donation.
    expect(attackerLoss).to.equal(10_000_000_000n);
    // The rest of the donation stays in the fund, owned by no one.
    expect(await fund.totalSupply()).to.equal(0n);
    expect(await token.balanceOf(fundAddress)).to.equal(10_000_000_001n + 1000n * USD - 1_000_016_533n - 1n);
  });
});
