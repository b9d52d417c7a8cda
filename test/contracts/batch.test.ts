import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { ETH_MARKET, USD, WAD, deploySystem, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import {
  captureState,
  clearingHouseEvents,
  expectPosition,
  mined,
  signedOrder,
  trade,
} from "../../devnet/hardhat/trading.js";
import { expectCollateral, quietMarkets, setPrice } from "../../devnet/hardhat/waterfall.js";

// `batch` (issue 15): many calls in one transaction, each failing alone. The liquidation figures are those of
// test/contracts/liquidation.test.ts (ETH maintenance 5%, discount 1%, fee 1%, no trading fees or funding): an
// account with 1,000 long 4 ETH at 2,000 is liquidated at 1,800 by q = ⌈160 / 54⌉ = 2.962962962962962963 ETH.

const E = WAD;
const Q1 = 2_962_962_962_962_962_963n;
const HANDOVER_1 = 5_280_000_000_000_000_000_066n; // q × 1800 less the 1% discount
const COLLATERAL_1 = 300_740_740_740_740_740_732n; // 1,000 + realized −645.93 − fee 53.33
const SIZE_1 = 4n * E - Q1;
const COST_1 = 8000n * E - 2000n * Q1;
// After it: equity 93.333333333333333332 ≥ maintenance 93.33333333333333333 — a second liquidation is refused.
const EQUITY_1 = 93_333_333_333_333_333_332n;
const MAINTENANCE_1 = 93_333_333_333_333_333_330n;

interface Ctx extends System {
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner; // the keeper
  erin: HardhatEthersSigner;
}

/** alice and erin each deposit 1,000 and buy 4 ETH at 2,000 from bob; carol deposits 100,000; ETH falls to 1,800. */
async function fixture(): Promise<Ctx> {
  const system = await deploySystem();
  await quietMarkets(system, false);
  const [alice, bob, carol, , erin] = system.traders;
  for (const [who, usd] of [
    [alice, 1_000n],
    [erin, 1_000n],
    [bob, 100_000n],
    [carol, 100_000n],
  ] as const) {
    await mined(system.clearingHouse.connect(who).deposit(usd * USD));
  }
  await trade(system.clearingHouse, alice, bob, { size: 4n * E, limitPrice: 2000n * E, nonce: 1n }, 4n * E);
  await trade(system.clearingHouse, erin, bob, { size: 4n * E, limitPrice: 2000n * E, nonce: 1n }, 4n * E);
  await setPrice(system.ethFeed, 1800n * E);
  return { ...system, alice, bob, carol, erin };
}

function liquidateCall(c: Ctx, account: string): string {
  return c.clearingHouse.interface.encodeFunctionData("liquidate", [account, ETH_MARKET, ethers.MaxUint256]);
}

function batchFailures(c: Ctx, receipt: Awaited<ReturnType<typeof mined>>): unknown[][] {
  return clearingHouseEvents(c.clearingHouse, receipt)
    .filter((e) => e.name === "BatchItemFailed")
    .map((e) => e.args);
}

describe("batch: many calls in one transaction, each failing alone", function () {
  it("liquidates two accounts in one call; a third item that lost its race fails alone, named in an event", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    const { clearingHouse, alice, erin, carol } = c;
    const calls = [liquidateCall(c, alice.address), liquidateCall(c, erin.address), liquidateCall(c, alice.address)];
    const notLiquidatable = clearingHouse.interface.encodeErrorResult("NotLiquidatable", [
      alice.address,
      EQUITY_1,
      MAINTENANCE_1,
    ]);

    const [ok, results] = await clearingHouse.connect(carol).batch.staticCall(calls);
    expect([...ok]).to.deep.equal([true, true, false]);
    expect([...results]).to.deep.equal(["0x", "0x", notLiquidatable]);

    const receipt = await mined(clearingHouse.connect(carol).batch(calls));
    expect(batchFailures(c, receipt)).to.deep.equal([[2n, notLiquidatable]]);
    const liquidated = clearingHouseEvents(clearingHouse, receipt).filter((e) => e.name === "Liquidated");
    expect(liquidated.map((e) => [e.args[0], e.args[1], e.args[3]])).to.deep.equal([
      [alice.address, carol.address, Q1],
      [erin.address, carol.address, Q1],
    ]);
    // Each account exactly as after its own liquidation transaction; carol took over both parts.
    for (const who of [alice, erin]) {
      await expectPosition(clearingHouse, who.address, ETH_MARKET, SIZE_1, COST_1);
      await expectCollateral(clearingHouse, who.address, COLLATERAL_1);
    }
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 2n * Q1, 2n * HANDOVER_1);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
  });

  it("returns each succeeded item's return data", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    const { clearingHouse, alice, carol } = c;
    const iface = clearingHouse.interface;
    const [ok, results] = await clearingHouse
      .connect(carol)
      .batch.staticCall([
        iface.encodeFunctionData("collateralOf", [alice.address]),
        iface.encodeFunctionData("marketCount"),
      ]);
    expect([...ok]).to.deep.equal([true, true]);
    expect(iface.decodeFunctionResult("collateralOf", results[0])[0]).to.equal(1_000n * E);
    expect(iface.decodeFunctionResult("marketCount", results[1])[0]).to.equal(2n);
  });

  it("undoes a failed item's writes (a fill that consumed its order, then failed the margin check); the others apply", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    const { clearingHouse, token, bob, carol } = c;
    // bob offers 1,000 ETH at 1,800: carol's 100,000 cannot carry the 180,000 of initial margin.
    const big = await signedOrder(clearingHouse, bob, {
      size: 1_000n * E,
      limitPrice: 1800n * E,
      nonce: 2n,
      isBuy: false,
    });
    const accounts = [carol.address, bob.address];
    const before = await captureState(clearingHouse, token, accounts, [ETH_MARKET], [big.hash]);
    const iface = clearingHouse.interface;
    const receipt = await mined(
      clearingHouse
        .connect(carol)
        .batch([
          iface.encodeFunctionData("withdraw", [1n * USD]),
          iface.encodeFunctionData("fillOrder", [big.order, big.signature, 1_000n * E]),
          iface.encodeFunctionData("withdraw", [2n * USD]),
        ]),
    );
    const failures = batchFailures(c, receipt);
    expect(failures.length).to.equal(1);
    expect(failures[0][0]).to.equal(1n);
    expect(iface.parseError(failures[0][1] as string)?.name).to.equal("InsufficientMargin");
    expect(clearingHouseEvents(clearingHouse, receipt).some((e) => e.name === "OrderFilled")).to.equal(false);

    // Everything as before except carol's two withdrawals (3 USD out of her account, into her wallet).
    const after = await captureState(clearingHouse, token, accounts, [ETH_MARKET], [big.hash]);
    expect(after.collateral).to.deep.equal([before.collateral[0] - 3n * E, before.collateral[1]]);
    expect(after.tokenBalances).to.deep.equal([before.tokenBalances[0] + 3n * USD, before.tokenBalances[1]]);
    expect(after.clearingHouseBalance).to.equal(before.clearingHouseBalance - 3n * USD);
    // The withdrawals settle funding, which dates the index (no rate: the index stays 0); the fill's premium,
    // open interest, positions and order book are untouched.
    const rest = (s: typeof before): unknown => ({
      ...s,
      collateral: [],
      tokenBalances: [],
      clearingHouseBalance: 0n,
      markets: s.markets.map((m) => ({ ...m, lastFundingTime: 0n })),
    });
    expect(rest(after)).to.deep.equal(rest(before));
  });

  it("a nested batch runs its items as the caller and reports its failures with its own indices", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    const { clearingHouse, alice, carol } = c;
    const iface = clearingHouse.interface;
    const inner = iface.encodeFunctionData("batch", [
      [iface.encodeFunctionData("withdraw", [5n * USD]), iface.encodeFunctionData("withdraw", [0n])],
    ]);
    const receipt = await mined(clearingHouse.connect(carol).batch([inner, liquidateCall(c, alice.address)]));
    expect(batchFailures(c, receipt)).to.deep.equal([[1n, iface.encodeErrorResult("ZeroAmount")]]);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E - 5n * E);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, Q1, HANDOVER_1);
  });

  it("refuses an empty batch and value sent with it", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    const { clearingHouse, carol } = c;
    await expect(clearingHouse.connect(carol).batch([])).to.be.revertedWithCustomError(clearingHouse, "EmptyBatch");
    const data = clearingHouse.interface.encodeFunctionData("batch", [[liquidateCall(c, c.alice.address)]]);
    await expect(carol.sendTransaction({ to: await clearingHouse.getAddress(), data, value: 1n })).to.revert(ethers);
    expect((await clearingHouse.positionOf(c.alice.address, ETH_MARKET)).size).to.equal(4n * E);
  });
});
