import { expect } from "chai";
import type { ContractTransactionReceipt } from "ethers";

import { BTC_MARKET, BTC_PRICE, ETH_MARKET, USD, WAD, deploySystem, ethers } from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { mined, trade } from "../../devnet/hardhat/trading.js";
import { setPrice } from "../../devnet/hardhat/waterfall.js";
import { profileTrace } from "../../bench/lib/trace-profile.js";
import type { StructLog } from "../../bench/lib/trace-profile.js";

// Issue 15: a call reads each market's oracle price once (LedgerLib.Prices), however often it values the market.
// Counted in the transaction's trace: the adapter's STATICCALLs. Alice holds ETH and BTC; before the cache a
// fill between two such accounts called the adapter 5 times, a withdrawal 4, a liquidation 6.

const E = WAD;

async function adapterCalls(system: System, receipt: ContractTransactionReceipt): Promise<number> {
  const trace = (await ethers.provider.send("debug_traceTransaction", [
    receipt.hash,
    { disableMemory: true, disableStorage: true },
  ])) as { structLogs: StructLog[] };
  const adapter = (await system.adapter.getAddress()).toLowerCase();
  const profile = profileTrace(trace.structLogs, receipt.to ?? "", (a) => (a === adapter ? "adapter" : a));
  return profile.calls.filter((c) => c.target === "adapter").reduce((n, c) => n + c.count, 0);
}

/** Alice (1,000 USD) buys 4 ETH at 2,000 and 0.01 BTC from Bob; Carol has 100,000 USD and no position. */
async function twoMarketFixture() {
  const system = await deploySystem();
  const [alice, bob, carol] = system.traders;
  await mined(system.clearingHouse.connect(alice).deposit(1_000n * USD));
  await mined(system.clearingHouse.connect(bob).deposit(100_000n * USD));
  await mined(system.clearingHouse.connect(carol).deposit(100_000n * USD));
  await trade(system.clearingHouse, alice, bob, { size: 4n * E }, 4n * E);
  await trade(
    system.clearingHouse,
    alice,
    bob,
    { marketId: BTC_MARKET, size: E / 100n, limitPrice: BTC_PRICE * E },
    E / 100n,
  );
  return { system, alice, bob, carol };
}

describe("oracle reads per call (issue 15)", function () {
  it("a fill between two accounts holding ETH and BTC reads each feed once", async function () {
    const { system, alice, bob } = await twoMarketFixture();
    const receipt = await trade(system.clearingHouse, alice, bob, { size: E / 10n, nonce: 1n }, E / 10n);
    expect(await adapterCalls(system, receipt)).to.equal(2);
  });

  it("a withdrawal of an account in two markets reads each feed once", async function () {
    const { system, alice } = await twoMarketFixture();
    const receipt = await mined(system.clearingHouse.connect(alice).withdraw(10n * USD));
    expect(await adapterCalls(system, receipt)).to.equal(2);
  });

  it("a partial liquidation reads each feed once, the liquidator's margin check included", async function () {
    const { system, alice, carol } = await twoMarketFixture();
    await setPrice(system.ethFeed, 1800n * E);
    const receipt = await mined(system.clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, 10n ** 30n));
    expect(await adapterCalls(system, receipt)).to.equal(2);
    // The liquidation did happen (not a refusal that read less): Carol now holds ETH.
    expect((await system.clearingHouse.positionOf(carol.address, ETH_MARKET)).size).to.be.greaterThan(0n);
  });
});
