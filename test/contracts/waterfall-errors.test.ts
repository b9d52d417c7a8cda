import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  BTC_MARKET,
  ETH_MARKET,
  USD,
  WAD,
  deploySystem,
  ethers,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { blockTime, mined, trade } from "../../devnet/hardhat/trading.js";
import type { DecodedEvent } from "../../devnet/hardhat/trading.js";
import { depositUsd, openAt, refreshFeeds, setPrice, waterfallSnapshot } from "../../devnet/hardhat/fund.js";
import type { WaterfallSnapshot } from "../../devnet/hardhat/fund.js";
import { ev, waterfallEvents } from "../../devnet/hardhat/waterfall.js";

// Role ids and amounts written out here rather than read from the contracts.
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const RISK_MANAGER_ROLE = ethers.id("RISK_MANAGER_ROLE");
const CENT = WAD / 100n;
const MILLI = WAD / 1000n;

interface Ctx extends System {
  alice: HardhatEthersSigner; // long 1 ETH at 2000 with 860 USD of collateral after fees
  bob: HardhatEthersSigner; // short 1 ETH at 2000, 999 USD after fees
  carol: HardhatEthersSigner; // holds tokens but no collateral
  keeper: HardhatEthersSigner; // 2,000 USD of collateral, no position
  dave: HardhatEthersSigner;
  erin: HardhatEthersSigner;
  frank: HardhatEthersSigner;
  gina: HardhatEthersSigner;
  everyone: string[];
  snap: () => Promise<WaterfallSnapshot>;
}

/**
 * alice deposits 860.4 USD and buys 1 ETH at 2000 from bob (1,000 USD). Every fill is at the oracle price,
 * so the premium average and funding stay at zero. Fees: maker 2 bp, taker 5 bp, 30% of each set aside:
 * alice pays 0.4 (collateral 860), bob 1 (999); the pot holds 0.12 + 0.3 = 0.42 USD. The fund is empty.
 * alice's equity at price P is 860 + P − 2000 against a maintenance margin of 0.05 P: exactly equal at
 * 1200, liquidatable from just below it, bankrupt below 1140.
 */
async function baseFixture(): Promise<Ctx> {
  const system = await deploySystem();
  const { clearingHouse, fund, token, traders } = system;
  const [alice, bob, carol, keeper, dave, erin, frank, gina] = traders;
  await mined(clearingHouse.connect(alice).deposit(860_400_000n)); // 860.4 USD
  await depositUsd(clearingHouse, 1000n, bob);
  await depositUsd(clearingHouse, 2000n, keeper);
  await openAt(clearingHouse, alice, bob, ETH_MARKET, WAD, 2000n);
  const everyone = [alice, bob, carol, keeper, dave, erin, frank, gina].map((s) => s.address);
  const snap = () => waterfallSnapshot(clearingHouse, fund, token, everyone, [ETH_MARKET, BTC_MARKET]);
  return { ...system, alice, bob, carol, keeper, dave, erin, frank, gina, everyone, snap };
}

/**
 * On top of the base: dave buys 1 ETH from erin at 1000, gina buys 1 ETH from frank at 1120 (each deposits
 * 1,000 USD), then ETH falls to 1100 and the keeper liquidates alice. Her equity is 860 − 900 = −40 and the
 * pot (0.42 + 0.06 + 0.15 + 0.0672 + 0.168 = 0.8652 USD) with the empty fund cannot pay that deficit in this
 * ADL market, so a case opens and nothing is drawn. The first autoDeleverage step (or socializeAfterTimeout)
 * draws the pot's 0.8652, leaving 39.1348 USD per unit for the counterparties. Shorts at 1100: bob +900,
 * erin −100, frank +20.
 */
async function caseFixture(): Promise<Ctx & { startedAt: bigint; opening: DecodedEvent[] }> {
  return openCase(false);
}

/** caseFixture, but bob has bought his short back from dave at 1,100 before the case opens. */
function caseWithoutBobFixture(): Promise<Ctx & { startedAt: bigint; opening: DecodedEvent[] }> {
  return openCase(true);
}

async function openCase(bobCloses: boolean): Promise<Ctx & { startedAt: bigint; opening: DecodedEvent[] }> {
  const c = await baseFixture();
  const { clearingHouse, ethFeed } = c;
  await depositUsd(clearingHouse, 1000n, c.dave, c.erin, c.frank, c.gina);
  await setPrice(ethFeed, 1000n);
  await openAt(clearingHouse, c.dave, c.erin, ETH_MARKET, WAD, 1000n);
  await setPrice(ethFeed, 1120n);
  await openAt(clearingHouse, c.gina, c.frank, ETH_MARKET, WAD, 1120n);
  await setPrice(ethFeed, 1100n);
  if (bobCloses) await openAt(clearingHouse, c.bob, c.dave, ETH_MARKET, WAD, 1100n);
  const receipt = await mined(clearingHouse.connect(c.keeper).liquidate(c.alice.address, ETH_MARKET, WAD));
  return { ...c, startedAt: await blockTime(receipt), opening: waterfallEvents(clearingHouse, c.fund, receipt) };
}

const POT_AT_CASE = 8652n * 10n ** 14n; // 0.8652 USD in 18 decimals, set aside for the fund
const DEFICIT_AFTER_POT = 40n * WAD - POT_AT_CASE; // 39.1348

describe("Loss waterfall errors", () => {
  describe("liquidate", () => {
    it("reverts NotLiquidatable for healthy accounts and changes nothing", async () => {
      const { clearingHouse, alice, bob, keeper, snap } = await networkHelpers.loadFixture(baseFixture);
      const before = await snap();
      // At 2000: alice equity 860, bob 999; maintenance 2000 × 5% = 100 each.
      await expect(clearingHouse.connect(keeper).liquidate(alice.address, ETH_MARKET, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "NotLiquidatable")
        .withArgs(alice.address, 860n * WAD, 100n * WAD);
      await expect(clearingHouse.connect(keeper).liquidate(bob.address, ETH_MARKET, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "NotLiquidatable")
        .withArgs(bob.address, 999n * WAD, 100n * WAD);
      expect(await snap()).to.deep.equal(before);
    });

    it("reverts NotLiquidatable at exactly the maintenance margin; one cent lower liquidates", async () => {
      const { clearingHouse, ethFeed, alice, keeper, snap } = await networkHelpers.loadFixture(baseFixture);
      await setPrice(ethFeed, 1200n);
      const before = await snap();
      // equity 860 + 1200 − 2000 = 60 = maintenance 1200 × 0.05.
      await expect(clearingHouse.connect(keeper).liquidate(alice.address, ETH_MARKET, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "NotLiquidatable")
        .withArgs(alice.address, 60n * WAD, 60n * WAD);
      expect(await snap()).to.deep.equal(before);

      // At 1199.99: equity 59.99 < maintenance 59.9995.
      await setPrice(ethFeed, 1199n, 99n);
      await expect(clearingHouse.connect(keeper).liquidate(alice.address, ETH_MARKET, WAD)).to.emit(
        clearingHouse,
        "Liquidated",
      );
    });

    it("reverts SelfLiquidation, NoPosition, ZeroAmount and UnknownMarket and changes nothing", async () => {
      const { clearingHouse, ethFeed, alice, keeper, snap } = await networkHelpers.loadFixture(baseFixture);
      await setPrice(ethFeed, 1190n); // alice: equity 50 < maintenance 59.5, solvent
      const before = await snap();

      await expect(clearingHouse.connect(alice).liquidate(alice.address, ETH_MARKET, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "SelfLiquidation")
        .withArgs(alice.address);
      // Liquidatable, but she holds nothing in BTC.
      await expect(clearingHouse.connect(keeper).liquidate(alice.address, BTC_MARKET, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "NoPosition")
        .withArgs(alice.address, BTC_MARKET);
      await expect(
        clearingHouse.connect(keeper).liquidate(alice.address, ETH_MARKET, 0n),
      ).to.be.revertedWithCustomError(clearingHouse, "ZeroAmount");
      await expect(clearingHouse.connect(keeper).liquidate(alice.address, 2n, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "UnknownMarket")
        .withArgs(2n);
      expect(await snap()).to.deep.equal(before);
    });

    it("reverts InsufficientMargin for a liquidator without collateral; a funded keeper succeeds", async () => {
      const { clearingHouse, ethFeed, alice, carol, keeper, snap } = await networkHelpers.loadFixture(baseFixture);
      await setPrice(ethFeed, 1190n);
      const before = await snap();
      // 0.1 ETH of alice's long moves at 0.1 × 1190 = 119 minus the 1% reward 1.19: carol's cost 117.81,
      // her equity 0 + 119 − 117.81 = 1.19 against an initial margin of 119 × 10% = 11.9.
      // (0.1 is below the 0.27 that restores maintenance: ⌈(59.5 − 50) / (1190 × 3%)⌉.)
      await expect(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, WAD / 10n))
        .to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin")
        .withArgs(carol.address, 119n * CENT, 1190n * CENT);
      expect(await snap()).to.deep.equal(before);

      await expect(clearingHouse.connect(keeper).liquidate(alice.address, ETH_MARKET, WAD / 10n))
        .to.emit(clearingHouse, "Liquidated")
        .withArgs(alice.address, keeper.address, ETH_MARKET, WAD / 10n, 1190n * WAD, 119n * CENT, 119n * CENT, false);
    });
  });

  describe("deleverage cases", () => {
    it("opens the case the other tests use: 40 short, nothing drawn (0.8652 available in the pot), shorts locked", async () => {
      const { clearingHouse, alice, startedAt, opening } = await networkHelpers.loadFixture(caseFixture);
      // The whole opening: funding accrues (rate 0), then the case; no draw, no position change.
      expect(opening).to.deep.equal([
        ev("FundingAccrued", ETH_MARKET, 0n, 0n, 1100n * WAD),
        ev("DeleverageRequired", alice.address, ETH_MARKET, 40n * WAD, POT_AT_CASE),
      ]);
      const c = await clearingHouse.deleverageCaseOf(alice.address);
      expect([c.open, c.longCounterparties, c.marketId, c.startedAt]).to.deep.equal([true, false, 0n, startedAt]);
      expect([c.initialShortfall, c.fundPaid, c.deleveraged]).to.deep.equal([40n * WAD, 0n, 0n]);
      const m = await clearingHouse.marketState(ETH_MARKET);
      expect([m.longDeleverageCases, m.shortDeleverageCases]).to.deep.equal([0n, 1n]);
      expect(await clearingHouse.openDeleverageCases()).to.equal(1n);
      expect(await clearingHouse.insuranceFees()).to.equal(POT_AT_CASE);
      // The position stays with alice and her collateral is untouched: 860.
      expect((await clearingHouse.positionOf(alice.address, ETH_MARKET)).size).to.equal(WAD);
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(860n * WAD);
    });

    it("reverts DeleverageInProgress on liquidate while the account is still bankrupt", async () => {
      const { clearingHouse, alice, keeper, snap } = await networkHelpers.loadFixture(caseFixture);
      const before = await snap();
      await expect(clearingHouse.connect(keeper).liquidate(alice.address, ETH_MARKET, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "DeleverageInProgress")
        .withArgs(alice.address, ETH_MARKET);
      // Checked before the position: the BTC market, where she has none, names the case's market too.
      await expect(clearingHouse.connect(keeper).liquidate(alice.address, BTC_MARKET, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "DeleverageInProgress")
        .withArgs(alice.address, ETH_MARKET);
      expect(await snap()).to.deep.equal(before);
    });

    it("reverts ZeroAmount and NoDeleverageCase (no case, or another market) and changes nothing", async () => {
      const { clearingHouse, alice, bob, dave, keeper, snap } = await networkHelpers.loadFixture(caseFixture);
      const before = await snap();
      await expect(
        clearingHouse.connect(keeper).autoDeleverage(alice.address, ETH_MARKET, bob.address, 0n),
      ).to.be.revertedWithCustomError(clearingHouse, "ZeroAmount");
      await expect(clearingHouse.connect(keeper).autoDeleverage(bob.address, ETH_MARKET, dave.address, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "NoDeleverageCase")
        .withArgs(bob.address, ETH_MARKET);
      await expect(clearingHouse.connect(keeper).autoDeleverage(alice.address, BTC_MARKET, bob.address, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "NoDeleverageCase")
        .withArgs(alice.address, BTC_MARKET);
      await expect(clearingHouse.connect(keeper).socializeAfterTimeout(bob.address))
        .to.be.revertedWithCustomError(clearingHouse, "NoDeleverageCase")
        .withArgs(bob.address, 0n);
      expect(await snap()).to.deep.equal(before);
    });

    it("reverts CounterpartyWrongSide for a long, an empty account and the bankrupt account itself", async () => {
      const { clearingHouse, alice, carol, dave, gina, keeper, snap } = await networkHelpers.loadFixture(caseFixture);
      const before = await snap();
      for (const [counterparty, size] of [
        [dave.address, WAD], // long, like alice
        [gina.address, WAD], // long and losing
        [carol.address, 0n], // no position
        [alice.address, WAD], // herself
      ] as const) {
        await expect(clearingHouse.connect(keeper).autoDeleverage(alice.address, ETH_MARKET, counterparty, WAD))
          .to.be.revertedWithCustomError(clearingHouse, "CounterpartyWrongSide")
          .withArgs(counterparty, size);
      }
      expect(await snap()).to.deep.equal(before);
    });

    it("reverts CounterpartyNotProfitable for a losing short", async () => {
      const { clearingHouse, alice, erin, keeper, snap } = await networkHelpers.loadFixture(caseFixture);
      const before = await snap();
      // erin sold 1 at 1000; at 1100 her PnL is −1100 + 1000 = −100.
      await expect(clearingHouse.connect(keeper).autoDeleverage(alice.address, ETH_MARKET, erin.address, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "CounterpartyNotProfitable")
        .withArgs(erin.address, -100n * WAD);
      expect(await snap()).to.deep.equal(before);
    });

    it("reverts DeleverageOutOfOrder below the side's first entry bucket and changes nothing; bob, first, is accepted", async () => {
      const { clearingHouse, fund, alice, bob, frank, keeper, snap } = await networkHelpers.loadFixture(caseFixture);
      const before = await snap();
      // Shorts: bob sold at 2,000 (bucket 18114), frank at 1,120 (17900), erin at 1,000 (a loser). Buckets are
      // ⌊256·log2(price × 10^18)⌋, computed independently. bob's is first; frank may not go before him.
      await expect(clearingHouse.connect(keeper).autoDeleverage(alice.address, ETH_MARKET, frank.address, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "DeleverageOutOfOrder")
        .withArgs(frank.address, 17_900n, 18_114n);
      expect(await snap()).to.deep.equal(before);

      // bob (sold at 2000, +900) takes all of it at 1100 + 39.1348. His score: bucket 18114 + 1.
      const score = 18_115n;
      const receipt = await mined(
        clearingHouse.connect(keeper).autoDeleverage(alice.address, ETH_MARKET, bob.address, WAD),
      );
      // alice sells at 1139.1348: realized 1139.1348 − 2000 = −860.8652, which takes her 860 to −0.8652; bob
      // +860.8652. Flat, she owes the fund's part: the pot pays 0.8652 (the empty fund nothing: no Drawn).
      expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
        ev("FundingAccrued", ETH_MARKET, 0n, 0n, 1100n * WAD),
        ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, -(860n * WAD + POT_AT_CASE), 0n),
        ev("PositionChanged", bob.address, ETH_MARKET, 0n, 0n, 860n * WAD + POT_AT_CASE, 0n),
        ev(
          "Deleveraged",
          alice.address,
          bob.address,
          ETH_MARKET,
          WAD,
          1100n * WAD + DEFICIT_AFTER_POT,
          DEFICIT_AFTER_POT,
          score,
        ),
        ev("InsuranceFundDrawn", alice.address, alice.address, POT_AT_CASE),
        ev("BadDebtResolved", alice.address, ETH_MARKET, 40n * WAD, POT_AT_CASE, DEFICIT_AFTER_POT, 0n, 0n, 0n),
      ]);
      expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(0n);
      expect(await clearingHouse.insuranceFees()).to.equal(0n);
    });

    it("reverts DeleverageExceedsProfit when the first bucket's profit per unit is below the deficit per unit", async () => {
      const { clearingHouse, alice, frank, keeper, snap } = await networkHelpers.loadFixture(caseWithoutBobFixture);
      // bob bought his short back before the case: frank's 1,120 is the first bucket. The fund's part (the fee pot;
      // the fund is empty) is kept for the end, so the counterparties' part it checks is 40 − the pot. frank:
      // profit 20 per unit against a deficit of 40 − the pot. bob's and dave's trade (1,100 notional, fees 0.02% +
      // 0.05% = 0.77) set 30% of its fees aside: the pot is 0.8652 + 0.231 = 1.0962.
      const before = await snap();
      const pot = POT_AT_CASE + 231n * 10n ** 15n;
      expect(await clearingHouse.insuranceFees()).to.equal(pot);
      const deficit = 40n * WAD - pot; // 38.9038
      await expect(clearingHouse.connect(keeper).autoDeleverage(alice.address, ETH_MARKET, frank.address, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "DeleverageExceedsProfit")
        .withArgs(frank.address, deficit, 20n * WAD);
      // Half the size: loss ⌊deficit × 0.5⌋, profit 10.
      await expect(clearingHouse.connect(keeper).autoDeleverage(alice.address, ETH_MARKET, frank.address, WAD / 2n))
        .to.be.revertedWithCustomError(clearingHouse, "DeleverageExceedsProfit")
        .withArgs(frank.address, deficit / 2n, 10n * WAD);
      expect(await snap()).to.deep.equal(before);
    });

    it("reverts NotBankrupt after a depositFor; liquidate then closes the case and counters return to zero", async () => {
      const { clearingHouse, fund, alice, bob, keeper, carol, snap } = await networkHelpers.loadFixture(caseFixture);
      // carol tops alice up by 50 USD: collateral 860 + 50 = 910 (nothing was drawn for her), equity
      // 910 + 1100 − 2000 = 10.
      await mined(clearingHouse.connect(carol).depositFor(alice.address, 50n * USD));
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(910n * WAD);
      const before = await snap();
      await expect(clearingHouse.connect(keeper).autoDeleverage(alice.address, ETH_MARKET, bob.address, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "NotBankrupt")
        .withArgs(alice.address, 10n * WAD);
      expect(await snap()).to.deep.equal(before);

      // Still below maintenance (55): liquidate closes the case with an all-zero receipt (the fund paid nothing,
      // nothing deleveraged or socialized), then closes the whole position (the gap needs ⌈45 / 33⌉ > 1 ETH).
      // Reward 1% and fee 1% of 1100 would exceed equity, so they split it: 10 / 2 = 5 each. alice sells at
      // 1100 − 5 = 1095: realized 1095 − 2000 = −905, fee 5.
      const receipt = await mined(clearingHouse.connect(keeper).liquidate(alice.address, ETH_MARKET, WAD));
      expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
        ev("FundingAccrued", ETH_MARKET, 0n, 0n, 1100n * WAD),
        ev("BadDebtResolved", alice.address, ETH_MARKET, 0n, 0n, 0n, 0n, 0n, 0n),
        ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, -905n * WAD, 5n * WAD),
        ev("PositionChanged", keeper.address, ETH_MARKET, WAD, 1095n * WAD, 0n, 0n),
        ev("Liquidated", alice.address, keeper.address, ETH_MARKET, WAD, 1100n * WAD, 5n * WAD, 5n * WAD, false),
      ]);

      const c = await clearingHouse.deleverageCaseOf(alice.address);
      expect([c.open, c.fundPaid, c.deleveraged]).to.deep.equal([false, 0n, 0n]);
      const m = await clearingHouse.marketState(ETH_MARKET);
      expect([m.longDeleverageCases, m.shortDeleverageCases]).to.deep.equal([0n, 0n]);
      expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
      // 910 − 905 − 5 = 0; the pot kept its 0.8652 and took the 5 fee.
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(0n);
      expect(await clearingHouse.insuranceFees()).to.equal(5n * WAD + POT_AT_CASE);
      // The lock is gone: bob withdraws.
      await expect(clearingHouse.connect(bob).withdraw(USD)).to.emit(clearingHouse, "Withdrawn");
    });

    it("reverts WithdrawalLockedByDeleverage for the counterparties' side only", async () => {
      const { clearingHouse, bob, erin, frank, dave, snap } = await networkHelpers.loadFixture(caseFixture);
      const before = await snap();
      for (const short of [bob, erin, frank]) {
        await expect(clearingHouse.connect(short).withdraw(USD))
          .to.be.revertedWithCustomError(clearingHouse, "WithdrawalLockedByDeleverage")
          .withArgs(short.address, ETH_MARKET);
      }
      expect(await snap()).to.deep.equal(before);
      // dave is long (the bankrupt side): not locked.
      await expect(clearingHouse.connect(dave).withdraw(USD))
        .to.emit(clearingHouse, "Withdrawn")
        .withArgs(dave.address, USD);
    });

    it("reverts DeleverageTimeoutNotReached, then SelfLiquidation; after the timeout the empty fund still resolves", async () => {
      const c = await networkHelpers.loadFixture(caseFixture);
      const { clearingHouse, ethFeed, btcFeed, alice, keeper, startedAt, snap } = c;
      const readyAt = startedAt + 3600n; // default timeout one hour
      const before = await snap();
      await expect(clearingHouse.connect(keeper).socializeAfterTimeout(alice.address))
        .to.be.revertedWithCustomError(clearingHouse, "DeleverageTimeoutNotReached")
        .withArgs(alice.address, readyAt);
      expect(await snap()).to.deep.equal(before);

      await networkHelpers.time.increaseTo(readyAt);
      await refreshFeeds(ethFeed, btcFeed);
      const atTimeout = await snap();
      await expect(clearingHouse.connect(alice).socializeAfterTimeout(alice.address))
        .to.be.revertedWithCustomError(clearingHouse, "SelfLiquidation")
        .withArgs(alice.address);
      expect(await snap()).to.deep.equal(atTimeout);

      // The keeper will take 1 ETH at 1100: alice realizes 1100 − 2000 = −900 → collateral −40. Before the
      // position moves, the fund's part is drawn: the pot's 0.8652 (the empty fund adds nothing, no Drawn). The
      // 39.1348 left spreads over the 3 ETH of shorts (bob, erin, frank): ⌈39.1348 / 3⌉ = 13.044933333333333334
      // per unit.
      const receipt = await mined(clearingHouse.connect(keeper).socializeAfterTimeout(alice.address));
      expect(waterfallEvents(clearingHouse, c.fund, receipt)).to.deep.equal([
        ev("FundingAccrued", ETH_MARKET, 0n, 0n, 1100n * WAD),
        ev("InsuranceFundDrawn", alice.address, alice.address, POT_AT_CASE),
        ev("LossSocialized", ETH_MARKET, false, DEFICIT_AFTER_POT, 13044933333333333334n),
        ev(
          "BadDebtResolved",
          alice.address,
          ETH_MARKET,
          40n * WAD,
          POT_AT_CASE,
          0n,
          DEFICIT_AFTER_POT,
          13044933333333333334n,
          0n,
        ),
        ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, -900n * WAD, 0n),
        ev("PositionChanged", keeper.address, ETH_MARKET, WAD, 1100n * WAD, 0n, 0n),
        ev("Liquidated", alice.address, keeper.address, ETH_MARKET, WAD, 1100n * WAD, 0n, 0n, true),
      ]);
      expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
      expect(await clearingHouse.insuranceFees()).to.equal(0n);
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(0n);
      expect((await clearingHouse.positionOf(c.bob.address, ETH_MARKET)).socialLossOwed).to.equal(
        13044933333333333334n,
      );
    });

    it("socializeAfterTimeout reverts SelfLiquidation for the account itself before the timeout too", async () => {
      const { clearingHouse, alice, keeper, startedAt, snap } = await networkHelpers.loadFixture(caseFixture);
      const readyAt = startedAt + 3600n;
      const before = await snap();
      // The self check comes first: alice gets SelfLiquidation, not DeleverageTimeoutNotReached, although the
      // timeout is still ahead, as a keeper's call in the same state shows.
      await expect(clearingHouse.connect(alice).socializeAfterTimeout(alice.address))
        .to.be.revertedWithCustomError(clearingHouse, "SelfLiquidation")
        .withArgs(alice.address);
      await expect(clearingHouse.connect(keeper).socializeAfterTimeout(alice.address))
        .to.be.revertedWithCustomError(clearingHouse, "DeleverageTimeoutNotReached")
        .withArgs(alice.address, readyAt);
      expect(await snap()).to.deep.equal(before);
    });
  });

  describe("a socialized loss with nobody left on the side to charge", () => {
    /**
     * From the deployment alone (empty fund): alice deposits 700 and buys 0.1 BTC at 60,000 from bob (1,000), the
     * only short; the keeper has 2,000. Fees: alice 1.2 (maker 2 bp of 6,000), bob 3 (taker 5 bp); pot 30% × 4.2 =
     * 1.26. BTC falls to 52,000: alice's equity 698.8 − 800 = −101.2.
     */
    async function btcOnlyFixture(): Promise<Ctx> {
      const system = await deploySystem();
      const { clearingHouse, fund, token, traders } = system;
      const [alice, bob, carol, keeper, dave, erin, frank, gina] = traders;
      await depositUsd(clearingHouse, 700n, alice);
      await depositUsd(clearingHouse, 1000n, bob);
      await depositUsd(clearingHouse, 2000n, keeper);
      await openAt(clearingHouse, alice, bob, BTC_MARKET, WAD / 10n, 60_000n);
      await setPrice(system.btcFeed, 52_000n);
      const everyone = [alice, bob, carol, keeper, dave, erin, frank, gina].map((s) => s.address);
      const snap = () => waterfallSnapshot(clearingHouse, fund, token, everyone, [ETH_MARKET, BTC_MARKET]);
      return { ...system, alice, bob, carol, keeper, dave, erin, frank, gina, everyone, snap };
    }

    it("the last short liquidating pays the whole charge on its own short before taking the long over", async () => {
      // Issue 9, finding 1: the charge is made while the side still holds everything it held, the liquidator's
      // own position included, so a liquidator cannot step out of the charged side by taking the position over
      // (and NoPositionsToCharge, which this used to hit, can no longer be reached).
      const { clearingHouse, fund, alice, bob, keeper } = await networkHelpers.loadFixture(btcOnlyFixture);
      expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal((-1012n * WAD) / 10n);
      expect(await fund.availableForDraw()).to.equal(0n);
      // alice will sell 0.1 BTC at 52,000 = 5,200: realized 5200 − 6000 = −800 → collateral −101.2. The pot
      // pays 1.26, the empty fund nothing; 99.94 over the shorts' 0.1 — bob's own: ⌈99.94 / 0.1⌉ = 999.4 per
      // BTC. Then bob takes the long, which closes his short: he settles ⌈0.1 × 999.4⌉ = 99.94 first and
      // realizes −5200 + 6000 = 800.
      const receipt = await mined(clearingHouse.connect(bob).liquidate(alice.address, BTC_MARKET, WAD));
      expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
        ev("FundingAccrued", BTC_MARKET, 0n, 0n, 52_000n * WAD),
        ev("InsuranceFundDrawn", alice.address, alice.address, 126n * CENT),
        ev("LossSocialized", BTC_MARKET, false, 9994n * CENT, 9994n * CENT * 10n),
        ev(
          "BadDebtResolved",
          alice.address,
          BTC_MARKET,
          10_120n * CENT,
          126n * CENT,
          0n,
          9994n * CENT,
          99_940n * CENT,
          0n,
        ),
        ev("PositionChanged", alice.address, BTC_MARKET, 0n, 0n, -800n * WAD, 0n),
        ev("SocialLossSettled", bob.address, BTC_MARKET, 9994n * CENT),
        ev("PositionChanged", bob.address, BTC_MARKET, 0n, 0n, 800n * WAD, 0n),
        ev("Liquidated", alice.address, bob.address, BTC_MARKET, WAD / 10n, 52_000n * WAD, 0n, 0n, true),
      ]);
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(0n);
      const m = await clearingHouse.marketState(BTC_MARKET);
      expect([m.longOpenInterest, m.shortOpenInterest, m.longSocialLossIndex, m.shortSocialLossIndex]).to.deep.equal([
        0n,
        0n,
        0n,
        99_940n * CENT,
      ]);
      expect(await clearingHouse.insuranceFees()).to.equal(0n);
      // bob: 997 − 99.94 + 800 = 1,697.06, flat; the keeper was not needed.
      expect(await clearingHouse.collateralOf(bob.address)).to.equal(169_706n * CENT);
      expect(await clearingHouse.openMarketsOf(bob.address)).to.deep.equal([]);
      expect(await clearingHouse.collateralOf(keeper.address)).to.equal(2000n * WAD);
    });
  });

  describe("an empty insurance fund never blocks a liquidation", () => {
    it("socializes a bankrupt BTC account's deficit with nothing in the fund", async () => {
      const { clearingHouse, fund, btcFeed, dave, erin, keeper, snap } = await networkHelpers.loadFixture(baseFixture);
      await mined(clearingHouse.connect(dave).deposit(700n * USD));
      await depositUsd(clearingHouse, 1000n, erin);
      // dave buys 0.1 BTC at 60,000 (fee 1.2, collateral 698.8); erin's fee 3. Pot 0.42 + 0.36 + 0.9 = 1.68.
      await openAt(clearingHouse, dave, erin, BTC_MARKET, WAD / 10n, 60_000n);
      await setPrice(btcFeed, 52_000n);
      expect(await fund.totalAssets()).to.equal(0n);
      // dave: 698.8 − 800 = −101.2. The pot pays 1.68, the fund nothing, 99.52 goes over erin's 0.1 BTC:
      // 995.2 per unit. The keeper's 52 reward finds nothing to draw.
      await expect(clearingHouse.connect(keeper).liquidate(dave.address, BTC_MARKET, WAD))
        .to.emit(clearingHouse, "InsuranceFundDrawn")
        .withArgs(dave.address, dave.address, 168n * CENT)
        .and.to.emit(clearingHouse, "LossSocialized")
        .withArgs(BTC_MARKET, false, 9952n * CENT, 9952n * CENT * 10n)
        .and.to.emit(clearingHouse, "BadDebtResolved")
        .withArgs(dave.address, BTC_MARKET, (1012n * WAD) / 10n, 168n * CENT, 0n, 9952n * CENT, 9952n * CENT * 10n, 0n)
        .and.to.emit(clearingHouse, "Liquidated")
        .withArgs(dave.address, keeper.address, BTC_MARKET, WAD / 10n, 52_000n * WAD, 0n, 0n, true);
      const after = await snap();
      expect(after.state.collateral[4]).to.equal(0n); // dave
      expect(after.state.positions[3][1].size).to.equal(WAD / 10n); // the keeper holds the long
      expect(after.state.positions[3][1].openNotional).to.equal(5200n * WAD);
      expect(after.lossIndexes[1][1]).to.equal(9952n * CENT * 10n);
      expect((await clearingHouse.positionOf(erin.address, BTC_MARKET)).socialLossOwed).to.equal(9952n * CENT);
      expect(after.state.insuranceFees).to.equal(0n);
    });
  });

  describe("administration", () => {
    it("setInsuranceFund: InvalidAddress, InsuranceFundAlreadySet and the admin role", async () => {
      const { clearingHouse, fund, admin, riskManager, carol } = await networkHelpers.loadFixture(baseFixture);
      const fundAddress = await fund.getAddress();
      await expect(clearingHouse.connect(admin).setInsuranceFund(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(clearingHouse, "InvalidAddress")
        .withArgs(ethers.ZeroAddress);
      await expect(clearingHouse.connect(admin).setInsuranceFund(carol.address))
        .to.be.revertedWithCustomError(clearingHouse, "InsuranceFundAlreadySet")
        .withArgs(fundAddress);
      await expect(clearingHouse.connect(riskManager).setInsuranceFund(carol.address))
        .to.be.revertedWithCustomError(clearingHouse, "AccessControlUnauthorizedAccount")
        .withArgs(riskManager.address, DEFAULT_ADMIN_ROLE);
      expect(await clearingHouse.insuranceFund()).to.equal(fundAddress);
    });

    it("setDeleverageTimeout: bounds [60 s, 7 days] and the risk-manager role", async () => {
      const { clearingHouse, admin, riskManager } = await networkHelpers.loadFixture(baseFixture);
      for (const timeout of [0n, 59n, 604_801n]) {
        await expect(clearingHouse.connect(riskManager).setDeleverageTimeout(timeout))
          .to.be.revertedWithCustomError(clearingHouse, "DeleverageTimeoutOutOfBounds")
          .withArgs(timeout, 60n, 604_800n);
      }
      await expect(clearingHouse.connect(admin).setDeleverageTimeout(120n))
        .to.be.revertedWithCustomError(clearingHouse, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, RISK_MANAGER_ROLE);
      expect(await clearingHouse.deleverageTimeout()).to.equal(3600n);
      for (const timeout of [60n, 604_800n]) {
        await expect(clearingHouse.connect(riskManager).setDeleverageTimeout(timeout))
          .to.emit(clearingHouse, "DeleverageTimeoutUpdated")
          .withArgs(timeout);
        expect(await clearingHouse.deleverageTimeout()).to.equal(timeout);
      }
    });

    it("sweepInsuranceFees reverts ZeroAmount while the pot holds less than one token unit", async () => {
      const { clearingHouse, fund, token, traders } = await networkHelpers.loadFixture(deploySystem);
      const [alice, bob] = traders;
      const fundAddress = await fund.getAddress();
      await expect(clearingHouse.sweepInsuranceFees()).to.be.revertedWithCustomError(clearingHouse, "ZeroAmount");

      await depositUsd(clearingHouse, 10n, alice, bob);
      // 1e-9 ETH at 2000: notional 2e12 wei; fees 4e8 (maker) and 1e9 (taker); 30% → pot 1.2e8 + 3e8.
      await trade(clearingHouse, alice, bob, { size: 10n ** 9n, limitPrice: 2000n * WAD }, 10n ** 9n);
      expect(await clearingHouse.insuranceFees()).to.equal(420_000_000n);
      await expect(clearingHouse.sweepInsuranceFees()).to.be.revertedWithCustomError(clearingHouse, "ZeroAmount");
      expect(await clearingHouse.insuranceFees()).to.equal(420_000_000n);
      expect(await token.balanceOf(fundAddress)).to.equal(0n);

      // 0.001 ETH: notional 2, fees 0.0004 and 0.001, pot += 0.00042 USD: the sweep pays those 420 units
      // and keeps the sub-unit rest of 4.2e8 wei.
      await trade(clearingHouse, alice, bob, { size: MILLI, limitPrice: 2000n * WAD, nonce: 1n }, MILLI);
      await expect(clearingHouse.sweepInsuranceFees()).to.emit(clearingHouse, "InsuranceFeesSwept").withArgs(420n);
      expect(await clearingHouse.insuranceFees()).to.equal(420_000_000n);
      expect(await token.balanceOf(fundAddress)).to.equal(420n);
    });
  });
});
