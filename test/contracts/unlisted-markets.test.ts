// Every external entry that takes a market id refuses an unlisted one with a clear error and changes nothing
// (issue 15). Markets live in mappings keyed by id (no array bound check): a mapping reads an unlisted id as zeros,
// so each entry must check the listing itself. ETH (0) and BTC (1) are listed; 2 is the next id, 255 the last a
// market bitmap can hold, 256 and above none.
import { expect } from "chai";

import {
  ETH_MARKET,
  USD,
  WAD,
  deploySystem,
  ethers,
  marketParams,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import { fill, signedOrder } from "../../devnet/hardhat/trading.js";
import { depositUsd, openAt, waterfallSnapshot } from "../../devnet/hardhat/fund.js";

const UNLISTED = [2n, 3n, 255n, 256n, 2n ** 255n, ethers.MaxUint256];

/** alice long 1 ETH from bob at 2,000; keeper funded, holding nothing. */
async function fixture() {
  const system = await deploySystem();
  const [alice, bob, keeper] = system.traders;
  await depositUsd(system.clearingHouse, 1_000n, alice, bob);
  await depositUsd(system.clearingHouse, 2_000n, keeper);
  await openAt(system.clearingHouse, alice, bob, ETH_MARKET, WAD, 2_000n);
  const everyone = [alice, bob, keeper].map((s) => s.address);
  const snap = async () => ({
    ledger: await waterfallSnapshot(system.clearingHouse, system.fund, system.token, everyone, [0n, 1n]),
    marketCount: await system.clearingHouse.marketCount(),
    claims: await system.clearingHouse.claimsTotals(0n),
  });
  return { ...system, alice, bob, keeper, snap };
}

describe("Unlisted market ids", () => {
  it("every transaction taking a market id refuses an unlisted one and changes nothing", async () => {
    const c = await networkHelpers.loadFixture(fixture);
    const { clearingHouse: ch, alice, bob, keeper, riskManager } = c;
    const before = await c.snap();
    const params = marketParams(await c.ethFeed.getAddress());
    for (const id of UNLISTED) {
      const order = await signedOrder(ch, alice, { marketId: id });
      await expect(fill(ch, bob, order, WAD))
        .to.be.revertedWithCustomError(ch, "UnknownMarket")
        .withArgs(id);
      await expect(ch.connect(keeper).liquidate(alice.address, id, WAD))
        .to.be.revertedWithCustomError(ch, "UnknownMarket")
        .withArgs(id);
      // No deleverage case is open in an unlisted market, so none can be stepped.
      await expect(ch.connect(keeper).autoDeleverage(alice.address, id, bob.address, WAD))
        .to.be.revertedWithCustomError(ch, "NoDeleverageCase")
        .withArgs(alice.address, id);
      await expect(ch.connect(keeper).sweepIsolatedFees(id))
        .to.be.revertedWithCustomError(ch, "NotIsolatedMarket")
        .withArgs(id);
      await expect(ch.connect(riskManager).updateMarketParams(id, params))
        .to.be.revertedWithCustomError(ch, "UnknownMarket")
        .withArgs(id);
      // Claims pool 1 + m is isolated market m's.
      if (id < ethers.MaxUint256) {
        await expect(ch.connect(keeper).repayClaims(id + 1n, USD))
          .to.be.revertedWithCustomError(ch, "UnknownMarket")
          .withArgs(id);
      }
    }
    expect(await c.snap()).to.deep.equal(before);
  });

  it("every view of a market refuses an unlisted one; the per-market records read as empty", async () => {
    const c = await networkHelpers.loadFixture(fixture);
    const { clearingHouse: ch, lens, alice } = c;
    for (const id of UNLISTED) {
      for (const read of [
        () => ch.marketParams(id),
        () => ch.marketState(id),
        () => ch.fundingRate(id),
        () => ch.positionOf(alice.address, id),
        () => ch.adlRank(alice.address, id),
        () => ch.bankruptcyPrice(alice.address, id),
        () => lens.adlRanks(id, [alice.address]),
        () => lens.bankruptcyPrices(id, [alice.address]),
        () => lens.oraclePrices([ETH_MARKET, id]),
      ]) {
        await expect(read()).to.be.revertedWithCustomError(ch, "UnknownMarket").withArgs(id);
      }
      // Records kept per market id in mappings: an unlisted id has none, so they read as zero, as a listed
      // market's do before anything happened in it.
      expect(await ch.haircutOwed(alice.address, id)).to.equal(0n);
      expect(await lens.haircutsOwed(id, [alice.address])).to.deep.equal([0n]);
      const side = await ch.haircutSide(id, true);
      expect([side.priceIndex, side.rateIndex, side.charges, side.debt, side.costBasis]).to.deep.equal([
        0n,
        0n,
        0n,
        0n,
        0n,
      ]);
      const pool = await ch.isolatedPool(id);
      expect([pool.fund, pool.fees]).to.deep.equal([ethers.ZeroAddress, 0n]);
    }
  });
});
