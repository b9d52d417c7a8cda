// Issue 9: attacks on the waterfall that held on 1a62f8b, kept as regressions. Dust ADL steps: a counterparty
// deleverages itself a wei at a time so that every step's ⌊share⌋ rounds in its favour and the rest falls on the
// last counterparty. Self-dealing at the band edge: one owner trades with itself at the far edge of the price band
// to move value between its accounts and leave one bankrupt without any price move.
import { expect } from "chai";

import { ETH_MARKET, USD, WAD, deploySystem, ethers } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt, setPrice } from "../../devnet/hardhat/fund.js";
import { mined, trade } from "../../devnet/hardhat/trading.js";
import { quietMarkets, stake } from "../../devnet/hardhat/waterfall.js";
import { expectNoGain, wealth } from "./support.js";

const DUST_STEPS = 20n;

describe("Regressions: waterfall attacks that held (issue 9)", function () {
  it("dust ADL steps: the attacker saves at most a wei per step, the honest counterparty pays at most that more", async function () {
    const system = await deploySystem();
    await quietMarkets(system, false);
    const { clearingHouse } = system;
    const [bankrupt, attacker, honest, keeper] = system.traders;
    // The bankrupt long buys 5 ETH from each counterparty at 2,000 with 2,100 USD; the fund is empty. At 1,700 its
    // equity is 2,100 − 3,000 = −900 and a case opens: each counterparty's rule share is 450 (half the size).
    await depositUsd(clearingHouse, 2_100n, bankrupt);
    await depositUsd(clearingHouse, 10_000n, attacker, honest, keeper);
    await openAt(clearingHouse, bankrupt, attacker, ETH_MARKET, 5n * WAD, 2_000n);
    await openAt(clearingHouse, bankrupt, honest, ETH_MARKET, 5n * WAD, 2_000n);
    await setPrice(system.ethFeed, 1_700n);
    await mined(clearingHouse.connect(keeper).liquidate(bankrupt.address, ETH_MARKET, ethers.MaxUint256));
    const attackerBefore = await wealth(system, [attacker]);
    const honestBefore = await wealth(system, [honest]);

    // The attacker closes its 5 ETH as 20 steps of 1 wei, then the rest; the keeper closes the honest short last.
    for (let i = 0n; i < DUST_STEPS; i++) {
      await mined(clearingHouse.connect(attacker).autoDeleverage(bankrupt.address, ETH_MARKET, attacker.address, 1n));
    }
    await mined(
      clearingHouse.connect(attacker).autoDeleverage(bankrupt.address, ETH_MARKET, attacker.address, ethers.MaxUint256),
    );
    await mined(
      clearingHouse.connect(keeper).autoDeleverage(bankrupt.address, ETH_MARKET, honest.address, ethers.MaxUint256),
    );
    const c = await clearingHouse.deleverageCaseOf(bankrupt.address);
    expect([c.open, c.deleveraged]).to.deep.equal([false, 900n * WAD]);

    // Each counterparty's equity already counted its 1,500 profit: what it gave up is its loss.
    const attackerLoss = attackerBefore - (await wealth(system, [attacker]));
    const honestLoss = honestBefore - (await wealth(system, [honest]));
    expect(attackerLoss + honestLoss).to.equal(900n * WAD);
    expectNoGain("dust ADL steps", -(450n * WAD), -attackerLoss, DUST_STEPS);
    expect(honestLoss).to.be.lessThanOrEqual(450n * WAD + DUST_STEPS);
  });

  it("self-dealing at the band edge without a price move: margin is checked at the oracle, nothing to liquidate", async function () {
    const system = await deploySystem();
    const { clearingHouse, fund } = system;
    const [long, short, staker, keeper] = system.traders;
    await stake(fund, staker, 10_000n * USD);
    await depositUsd(clearingHouse, 1_000n, long, short);
    await depositUsd(clearingHouse, 10_000n, keeper);
    const attacker = [long, short];
    const start = await wealth(system, attacker);
    // The long buys at the +5% edge, 2,100 against an oracle of 2,000: 100 per ETH moves to the short at once.
    // 10 ETH would leave the long at equity 1,000 − 1,000 = 0 against an initial margin of 2,000: refused.
    await expect(
      trade(clearingHouse, long, short, { size: 10n * WAD, limitPrice: 2_100n * WAD }, 10n * WAD),
    ).to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin");
    // 3 ETH passes (equity ≈ 700 ≥ 600) and leaves nothing to liquidate, so the fund is never touched.
    await trade(clearingHouse, long, short, { size: 3n * WAD, limitPrice: 2_100n * WAD }, 3n * WAD);
    await expect(
      clearingHouse.connect(keeper).liquidate(long.address, ETH_MARKET, ethers.MaxUint256),
    ).to.be.revertedWithCustomError(clearingHouse, "NotLiquidatable");
    expectNoGain("band edge", start, await wealth(system, attacker));
    expect(await fund.totalAssets()).to.equal(10_000n * USD);
  });
});
