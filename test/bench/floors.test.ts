import { expect } from "chai";
import { id } from "ethers";

import { CALLDATA, FLOORS, calldataGas, liquidationsPerBlockAtFloor } from "../../bench/lib/floors.js";
import { GAS_GOALS, GAS_SCALE_GOALS } from "../../bench/lib/goals.js";
import { OP } from "../../bench/lib/operation-names.js";

describe("bench floors: the storage an operation cannot avoid", function () {
  it("prices calldata at 4 gas a zero byte and 16 a non-zero one, and refuses what is not hex bytes", function () {
    expect(calldataGas("0x")).to.equal(0);
    expect(calldataGas("0x00ff0a00")).to.equal(4 + 16 + 16 + 4);
    expect(() => calldataGas("0x0")).to.throw("not hex bytes");
    expect(() => calldataGas("0xzz")).to.throw("not hex bytes");
  });

  it("liquidate's calldata: selector, an address without zero bytes, market 0 and the maximum size", function () {
    const selector = id("liquidate(address,uint256,uint256)").slice(0, 10);
    // Address word: 12 zero bytes and 20 non-zero; market 0: 32 zero bytes; 2^256 − 1: 32 non-zero bytes.
    expect(CALLDATA.liquidate).to.equal(calldataGas(selector) + 12 * 4 + 20 * 16 + 32 * 4 + 32 * 16);
  });

  it("a partial liquidation's floor, item by item", function () {
    // Base; params 3 reads; position and funding slot 2; market state 2; feed account + slot; adapter account;
    // two positions and two collaterals changed; two bitmaps, the liquidator's funding slot and the case read;
    // the fee pot changed.
    const byHand =
      21_000 +
      CALLDATA.liquidate +
      3 * 2_100 +
      2 * 2_100 +
      2 * 2_100 +
      (2_600 + 2_100) +
      2_600 +
      2 * 5_000 +
      2 * 5_000 +
      2 * 2_100 +
      2_100 +
      2_100 +
      5_000;
    expect(FLOORS.partialLiquidation.total).to.equal(byHand);
    expect(liquidationsPerBlockAtFloor(30_000_000)).to.equal(Math.floor(30_000_000 / byHand));
  });

  it("opening both sides of a fill writes two fresh slots per position and a fresh bitmap per account", function () {
    const both = FLOORS.fillOpenBoth.total;
    const taker = FLOORS.fillOpenTaker.total;
    const change = FLOORS.fillChange.total;
    // One side opened instead of changed: +2 fresh position slots + a fresh bitmap − (a changed slot, the funding
    // slot read, the bitmap read).
    const openOneSide = 3 * 22_100 - (5_000 + 2_100 + 2_100);
    expect(taker - change).to.equal(openOneSide);
    expect(both - taker).to.equal(openOneSide);
    // Under this layout the goal for a fill opening both sides is below its floor: it needs fewer fresh slots.
    expect(both).to.be.greaterThan(180_000);
  });

  it("withdraw: each further market held costs its reads", function () {
    const perMarket = 3 * 2_100 + 2 * 2_100 + 2 * 2_100 + (2_600 + 2_100);
    expect(FLOORS.withdraw10.total - FLOORS.withdraw1.total).to.equal(9 * perMarket);
  });

  it("every gas goal is set beside a floor", function () {
    for (const op of [OP.fillOpen, OP.fillIncrease, OP.partialLiquidation, OP.adl, OP.withdraw]) {
      expect(GAS_GOALS.get(op)?.floor.total, op).to.be.greaterThan(21_000);
    }
    expect(GAS_SCALE_GOALS.bankruptTenMarkets.floor.total).to.be.lessThan(GAS_SCALE_GOALS.bankruptTenMarkets.goal);
  });
});
