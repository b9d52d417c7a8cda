// Issue 9, probe: ADL steps round the two sides with different floors (up to 10 wei per step was seen).
// Refuted as a source of value: an ADL step closes q of the bankrupt position against a counterparty at one
// notional shared by both sides, so Σ (collateral − open notional) is exactly conserved (PositionMath header); the notional leaves the
// bankrupt side's mark-to-market value unchanged (PositionMath.closingNotional), so its equity rises by exactly
// the loss. The counterparty's equity is valued with its own floor, ⌊size × price⌋, which may differ by one wei
// from the bankrupt side's: Σ equity moves by a wei here and there, but it is Σ collateral plus Σ ⌊size × price⌋
// − open notional, and with Σ size = 0 the floors sum to at most the exact value, so Σ equity never exceeds
// Σ (collateral − open notional), which trades conserve exactly and the tokens back. The test plays many
// odd-sized steps and checks all of that.
import { expect } from "chai";

import { ETH_MARKET, deploySystem } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt, setPrice } from "../../devnet/hardhat/fund.js";
import { quietMarkets } from "../../devnet/hardhat/waterfall.js";
import { mined } from "../../devnet/hardhat/trading.js";

describe("Probe: ADL step rounding (issue 9)", function () {
  it("odd-sized steps: no cash moves, Σ equity never above the cash, each side within a wei of the loss", async function () {
    const system = await deploySystem();
    await quietMarkets(system, false);
    const { clearingHouse, ethFeed } = system;
    const [bankrupt, c1, c2, c3, keeper] = system.traders;
    const counterparties = [c1, c2, c3];
    const everyone = [bankrupt, ...counterparties, keeper];
    await depositUsd(clearingHouse, 1_600n, bankrupt);
    await depositUsd(clearingHouse, 100_000n, c1, c2, c3, keeper);
    // The bankrupt long buys odd sizes at odd prices: 2.333333333333333333 at 2,000.01, 1.777777777777777777
    // at 1,999.99, 3.141592653589793238 at 2,000.
    const sizes = [2_333_333_333_333_333_333n, 1_777_777_777_777_777_777n, 3_141_592_653_589_793_238n];
    const prices: [bigint, bigint][] = [
      [2_000n, 1n],
      [1_999n, 99n],
      [2_000n, 0n],
    ];
    for (let i = 0; i < 3; i++) {
      await setPrice(ethFeed, prices[i][0], prices[i][1]);
      await openAt(clearingHouse, bankrupt, counterparties[i], ETH_MARKET, sizes[i], prices[i][0]);
    }
    // ETH falls to 1,777.77: far below the bankruptcy price; the fund is empty, so a case opens.
    await setPrice(ethFeed, 1_777n, 77n);
    await mined(clearingHouse.connect(keeper).liquidate(bankrupt.address, ETH_MARKET, 1n));
    expect((await clearingHouse.deleverageCaseOf(bankrupt.address)).open).to.equal(true);

    const equityOf = async (a: string) => (await clearingHouse.accountHealth(a)).equity;
    // cash = Σ (collateral − open notional): every fill moves realized PnL − Δ open notional by −sign × notional
    // on each side, so this is exactly conserved by a trade; Σ equity = cash + Σ ⌊size × price⌋ ≤ cash.
    const sums = async () => {
      let equity = 0n;
      let cash = 0n;
      for (const a of everyone) {
        equity += await equityOf(a.address);
        cash +=
          (await clearingHouse.collateralOf(a.address)) -
          (await clearingHouse.positionOf(a.address, ETH_MARKET)).openNotional;
      }
      return { equity, cash };
    };
    // Steps of odd sizes, cycling over the counterparties until the position is gone.
    const stepSizes = [1n, 123_456_789_012_345_679n, 7n, 999_999_999_999_999_999n, 314_159_265_358_979_323n];
    let steps = 0;
    for (let i = 0; (await clearingHouse.positionOf(bankrupt.address, ETH_MARKET)).size !== 0n; i++) {
      const cp = counterparties[i % 3];
      if ((await clearingHouse.positionOf(cp.address, ETH_MARKET)).size === 0n) continue;
      const before = await sums();
      const bankruptBefore = await equityOf(bankrupt.address);
      const cpBefore = await equityOf(cp.address);
      const receipt = await mined(
        clearingHouse.connect(keeper).autoDeleverage(bankrupt.address, ETH_MARKET, cp.address, stepSizes[i % 5]),
      );
      const step = receipt.logs
        .map((l) => clearingHouse.interface.parseLog(l))
        .find((p) => p !== null && p.name === "Deleveraged");
      const loss = step === undefined || step === null ? 0n : BigInt(String(step.args.getValue("loss")));
      const after = await sums();
      // The step moves no cash between anyone and no one (the fund is empty, so the last step draws nothing).
      expect(after.cash, `step ${i}: cash`).to.equal(before.cash);
      // The valuation floors never show more than is held.
      expect(after.equity, `step ${i}: Σ equity ≤ cash`).to.be.lessThanOrEqual(after.cash);
      // The bankrupt side gains exactly the loss; the counterparty gives up the loss, give or take its own floor.
      expect((await equityOf(bankrupt.address)) - bankruptBefore, `step ${i}`).to.equal(loss);
      expect(cpBefore - (await equityOf(cp.address)) + 1n, `step ${i}`).to.be.greaterThanOrEqual(loss);
      steps++;
    }
    expect(steps).to.be.greaterThan(5);
    // Backing: the clearing house's tokens cover Σ positive equity + fees; the bankrupt account ends at zero.
    expect(await equityOf(bankrupt.address)).to.equal(0n);
    let owed = (await clearingHouse.protocolFees()) + (await clearingHouse.insuranceFees());
    for (const a of everyone) {
      const e = await equityOf(a.address);
      if (e > 0n) owed += e;
    }
    expect((await system.token.balanceOf(await clearingHouse.getAddress())) * 10n ** 12n).to.be.greaterThanOrEqual(
      owed,
    );
  });
});
