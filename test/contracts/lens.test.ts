import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  BTC_MARKET,
  ETH_MARKET,
  FUND_COOLDOWN,
  FUND_DRAW_WINDOW,
  INSURANCE_FEE_SHARE,
  USD,
  WAD,
  deployClearingHouse,
  deploySystem,
  ethers,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import type { BackstopLens } from "../../typechain-types/index.js";
import { mined } from "../../devnet/hardhat/trading.js";
import { depositUsd, openAt, setPrice } from "../../devnet/hardhat/fund.js";

const DECI = WAD / 10n;

interface Ctx extends System {
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner;
  dave: HardhatEthersSigner;
  erin: HardhatEthersSigner;
  frank: HardhatEthersSigner;
  gina: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
}

/**
 * All fills at the oracle price (no funding). Fees: maker 2 bp, taker 5 bp; 30% of each goes to the pot.
 * - alice (860.4 USD) buys 1 ETH at 2000 from bob (1,000): collateral 860 and 999.
 * - carol (800.4) buys 1 ETH at 2000 from dave (1,000): 800 and 999.
 * - frank (1,000) buys 1 ETH at 2000 from gina (2,000), then sells 0.1 BTC at 60,000 to gina (maker):
 *   frank pays 0.4 + 3 (collateral 996.6), gina 1 + 1.2 (1,997.8).
 * - erin has nothing; the keeper has 2,000 USD.
 * Pot: 3 × 0.42 + (0.36 + 0.9) = 2.52 USD. The fund is empty.
 */
async function lensFixture(): Promise<Ctx> {
  const system = await deploySystem();
  const { clearingHouse, traders } = system;
  const [alice, bob, carol, dave, erin, frank, gina, keeper] = traders;
  await mined(clearingHouse.connect(alice).deposit(860_400_000n));
  await mined(clearingHouse.connect(carol).deposit(800_400_000n));
  await depositUsd(clearingHouse, 1000n, bob, dave, frank);
  await depositUsd(clearingHouse, 2000n, gina, keeper);
  await openAt(clearingHouse, alice, bob, ETH_MARKET, WAD, 2000n);
  await openAt(clearingHouse, carol, dave, ETH_MARKET, WAD, 2000n);
  await openAt(clearingHouse, frank, gina, ETH_MARKET, WAD, 2000n);
  await openAt(clearingHouse, gina, frank, BTC_MARKET, DECI, 60_000n);
  return { ...system, alice, bob, carol, dave, erin, frank, gina, keeper };
}

type Row = [string, bigint, bigint, bigint, bigint, boolean, boolean];

async function healthRows(lens: BackstopLens, accounts: string[]): Promise<Row[]> {
  const rows = await lens.healthOf(accounts);
  return rows.map((r) => [
    r.account,
    r.collateral,
    r.equity,
    r.initialMargin,
    r.maintenanceMargin,
    r.liquidatable,
    r.bankrupt,
  ]);
}

async function fundRow(lens: BackstopLens): Promise<[string, bigint, bigint, bigint, bigint, bigint]> {
  const s = await lens.fundState();
  return [s.fund, s.totalAssets, s.totalSupply, s.availableForDraw, s.pendingFees, s.openDeleverageCases];
}

describe("BackstopLens", () => {
  it("healthOf: healthy, liquidatable, bankrupt and empty accounts, matching accountHealth", async () => {
    const { clearingHouse, lens, ethFeed, alice, bob, carol, erin } = await networkHelpers.loadFixture(lensFixture);
    await setPrice(ethFeed, 1190n);
    const accounts = [alice.address, bob.address, carol.address, erin.address];
    // At 1190 each 1 ETH position has notional 1190: initial margin 119, maintenance 59.5.
    const im = 119n * WAD;
    const mm = 595n * DECI;
    expect(await healthRows(lens, accounts)).to.deep.equal([
      [alice.address, 860n * WAD, 50n * WAD, im, mm, true, false], // 860 − 810 = 50 < 59.5
      [bob.address, 999n * WAD, 1809n * WAD, im, mm, false, false], // 999 + 810
      [carol.address, 800n * WAD, -10n * WAD, im, mm, true, true], // 800 − 810
      [erin.address, 0n, 0n, 0n, 0n, false, false],
    ]);
    const rows = await lens.healthOf(accounts);
    for (const [i, account] of accounts.entries()) {
      const h = await clearingHouse.accountHealth(account);
      expect([rows[i].collateral, rows[i].equity, rows[i].initialMargin, rows[i].maintenanceMargin]).to.deep.equal([
        h.collateral,
        h.equity,
        h.initialMargin,
        h.maintenanceMargin,
      ]);
    }
    expect(await lens.healthOf([])).to.deep.equal([]);
  });

  it("positionsOf: both of frank's markets with their ADL ranks and bankruptcy prices", async () => {
    const { lens, ethFeed, btcFeed, frank, erin } = await networkHelpers.loadFixture(lensFixture);
    await setPrice(ethFeed, 2200n);
    await setPrice(btcFeed, 58_000n);
    // frank: ETH +200, BTC short 0.1 from 60,000 to 58,000 +200; equity 996.6 + 400 = 1,396.6.
    // ADL score by entry bucket ⌊256·log2(entry × 10^18)⌋ (computed independently): ETH long at 2,000 is bucket
    // 18114, score 65,536 − 18114 = 47422; BTC short at 60,000 is bucket 19370, score 19371.
    // Bankruptcy prices: ETH 2200 − 1396.6 = 803.4; BTC 58,000 + 1396.6 / 0.1 = 71,966.
    const equity = 13966n * DECI;
    const collateral = 9966n * DECI;
    const rows = await lens.positionsOf(frank.address);
    expect(rows.length).to.equal(2);
    expect([rows[0].marketId, rows[1].marketId]).to.deep.equal([ETH_MARKET, BTC_MARKET]);
    expect([...rows[0].position]).to.deep.equal([WAD, 2000n * WAD, 2200n * WAD, 200n * WAD, 0n, 0n]);
    expect([...rows[0].rank]).to.deep.equal([47_422n, 200n * WAD, collateral, 2200n * WAD, equity]);
    expect(rows[0].bankruptcyPrice).to.equal(8034n * DECI);
    expect([...rows[1].position]).to.deep.equal([-DECI, -6000n * WAD, 58_000n * WAD, 200n * WAD, 0n, 0n]);
    expect([...rows[1].rank]).to.deep.equal([19_371n, 200n * WAD, collateral, 5800n * WAD, equity]);
    expect(rows[1].bankruptcyPrice).to.equal(71_966n * WAD);
    // Closing the ETH long at 803.4 leaves 996.6 − 1196.6 + 200 = 0: the price is where equity ends.

    expect(await lens.positionsOf(erin.address)).to.deep.equal([]);
  });

  it("adlRanks and bankruptcyPrices answer for many accounts at once", async () => {
    const { clearingHouse, lens, ethFeed, btcFeed, alice, carol, frank, gina, erin } =
      await networkHelpers.loadFixture(lensFixture);
    await setPrice(ethFeed, 2200n);
    await setPrice(btcFeed, 58_000n);
    const accounts = [frank.address, alice.address, carol.address, gina.address, erin.address];

    const ranks = await lens.adlRanks(ETH_MARKET, accounts);
    expect(ranks.map((r) => [...r])).to.deep.equal([
      // frank, alice and carol all bought ETH at 2,000: one bucket, one score (any of them may go first).
      [47_422n, 200n * WAD, 9966n * DECI, 2200n * WAD, 13966n * DECI],
      [47_422n, 200n * WAD, 860n * WAD, 2200n * WAD, 1060n * WAD],
      [47_422n, 200n * WAD, 800n * WAD, 2200n * WAD, 1000n * WAD],
      // gina is short ETH and long BTC, both −200: no score. Equity 1,997.8 − 400 = 1,597.8.
      [0n, -200n * WAD, 19978n * DECI, 2200n * WAD, 15978n * DECI],
      [0n, 0n, 0n, 0n, 0n],
    ]);
    for (const [i, account] of accounts.entries()) {
      expect([...ranks[i]]).to.deep.equal([...(await clearingHouse.adlRank(account, ETH_MARKET))]);
    }

    // ETH: alice 2200 − 1060, carol 2200 − 1000, gina (short) 2200 + 1597.8, erin none.
    expect(await lens.bankruptcyPrices(ETH_MARKET, accounts)).to.deep.equal([
      8034n * DECI,
      1140n * WAD,
      1200n * WAD,
      37978n * DECI,
      0n,
    ]);
    // BTC: frank (short) 58,000 + 13,966; gina (long 0.1) 58,000 − 15,978; the others hold no BTC.
    expect(await lens.bankruptcyPrices(BTC_MARKET, accounts)).to.deep.equal([71_966n * WAD, 0n, 0n, 42_022n * WAD, 0n]);
    await expect(lens.adlRanks(2n, accounts))
      .to.be.revertedWithCustomError(clearingHouse, "UnknownMarket")
      .withArgs(2n);
  });

  it("oraclePrices: every market's price in one call; a refused feed reads 0 and not ok; an unknown market reverts", async () => {
    const { lens, clearingHouse, ethFeed, btcFeed } = await networkHelpers.loadFixture(deploySystem);
    // 8-decimal answers scaled to 18 decimals: 2,000 and 60,000.
    const [prices, ok] = await lens.oraclePrices([ETH_MARKET, BTC_MARKET, ETH_MARKET]);
    expect(prices).to.deep.equal([2000n * WAD, 60_000n * WAD, 2000n * WAD]);
    expect(ok).to.deep.equal([true, true, true]);

    // BTC's answer turns non-positive: the adapter refuses it, ETH still reads.
    await mined(btcFeed.setAnswer(0n));
    await mined(ethFeed.setAnswer(2100n * 10n ** 8n));
    const [after, okAfter] = await lens.oraclePrices([ETH_MARKET, BTC_MARKET]);
    expect(after).to.deep.equal([2100n * WAD, 0n]);
    expect(okAfter).to.deep.equal([true, false]);

    await expect(lens.oraclePrices([ETH_MARKET, 2n]))
      .to.be.revertedWithCustomError(clearingHouse, "UnknownMarket")
      .withArgs(2n);
    const [none, okNone] = await lens.oraclePrices([]);
    expect([none, okNone]).to.deep.equal([[], []]);
  });

  it("fundState: a clearing house without a fund, then with one connected", async () => {
    const { token, adapter, admin, traders } = await networkHelpers.loadFixture(lensFixture);
    const staker = traders[0];
    const house = await deployClearingHouse([
      await token.getAddress(),
      await adapter.getAddress(),
      admin.address,
      INSURANCE_FEE_SHARE,
    ]);
    const lens = await ethers.deployContract("BackstopLens", [await house.getAddress()]);
    // A fund for it, staked with 500 USD and a draw cap of 200 USD, not connected yet.
    const fund = await ethers.deployContract("InsuranceFund", [
      await token.getAddress(),
      await house.getAddress(),
      admin.address,
      FUND_COOLDOWN,
      0n,
      200n * USD,
      FUND_DRAW_WINDOW,
    ]);
    await mined(token.connect(staker).approve(await fund.getAddress(), 500n * USD));
    await mined(fund.connect(staker).deposit(500n * USD, staker.address));
    expect(await fundRow(lens)).to.deep.equal([ethers.ZeroAddress, 0n, 0n, 0n, 0n, 0n]);

    await mined(house.connect(admin).setInsuranceFund(await fund.getAddress()));
    // 5e8 units → 5e14 shares; a draw could pay min(500, 200) USD.
    expect(await fundRow(lens)).to.deep.equal([
      await fund.getAddress(),
      500n * USD,
      5n * 10n ** 14n,
      200n * USD,
      0n,
      0n,
    ]);
  });

  it("fundState: pending fees, stake, and open deleverage cases", async () => {
    const { clearingHouse, fund, lens, ethFeed, admin, alice, carol, keeper, erin } =
      await networkHelpers.loadFixture(lensFixture);
    const fundAddress = await fund.getAddress();
    const staker = erin;
    expect(await fundRow(lens)).to.deep.equal([fundAddress, 0n, 0n, 0n, (252n * WAD) / 100n, 0n]);

    await mined(fund.connect(staker).deposit(1000n * USD, staker.address));
    expect(await fundRow(lens)).to.deep.equal([
      fundAddress,
      1000n * USD,
      10n ** 15n,
      1000n * USD,
      (252n * WAD) / 100n,
      0n,
    ]);

    // A floor at the whole balance: nothing can be drawn, so bankruptcies in the ADL market open cases.
    await mined(fund.connect(admin).setParams(FUND_COOLDOWN, 1000n * USD, 10n ** 12n, FUND_DRAW_WINDOW));
    await setPrice(ethFeed, 1100n);
    // alice −40 (860 + 1100 − 2000) and carol −100 (800 + 1100 − 2000): the pot's 2.52 is below each deficit,
    // so each liquidation opens a case that reports the 2.52 available and draws nothing: the pot stays.
    await expect(clearingHouse.connect(keeper).liquidate(alice.address, ETH_MARKET, WAD))
      .to.emit(clearingHouse, "DeleverageRequired")
      .withArgs(alice.address, ETH_MARKET, 40n * WAD, (252n * WAD) / 100n);
    expect(await fundRow(lens)).to.deep.equal([fundAddress, 1000n * USD, 10n ** 15n, 0n, (252n * WAD) / 100n, 1n]);
    await expect(clearingHouse.connect(keeper).liquidate(carol.address, ETH_MARKET, WAD))
      .to.emit(clearingHouse, "DeleverageRequired")
      .withArgs(carol.address, ETH_MARKET, 100n * WAD, (252n * WAD) / 100n);
    expect(await fundRow(lens)).to.deep.equal([fundAddress, 1000n * USD, 10n ** 15n, 0n, (252n * WAD) / 100n, 2n]);
    expect((await clearingHouse.deleverageCaseOf(alice.address)).fundPaid).to.equal(0n);
    expect((await clearingHouse.deleverageCaseOf(carol.address)).fundPaid).to.equal(0n);
  });
});
