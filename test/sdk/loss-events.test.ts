import { expect } from "chai";

import { DEFAULT_MAX_BLOCK_RANGE, blockSpans, readWaterfallEvents } from "#sdk";
import { ETH_MARKET, USD, WAD, deploySystem, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt, setPrice } from "../../devnet/hardhat/fund.js";
import { mined } from "../../devnet/hardhat/trading.js";
import { stake } from "../../devnet/hardhat/waterfall.js";

describe("sdk loss-events reader", () => {
  it("cuts a block range into spans of at most the given width, and refuses a width below 1", () => {
    expect(blockSpans(5, 14, 4)).to.deep.equal([
      [5, 8],
      [9, 12],
      [13, 14],
    ]);
    expect(blockSpans(5, 5, 10_000)).to.deep.equal([[5, 5]]);
    expect(blockSpans(6, 5, 1)).to.deep.equal([]);
    expect(() => blockSpans(0, 10, 0)).to.throw("maxBlockRange must be a positive integer, got 0");
    expect(DEFAULT_MAX_BLOCK_RANGE).to.equal(10_000);
  });

  /** A long of 4 ETH on 1,000 USD goes bankrupt when ETH falls from 2,000 to 1,500; the fund pays. */
  async function bankruptFixture() {
    const system = await deploySystem();
    const ch = system.clearingHouse;
    const [long, short, liquidator, staker] = system.traders;
    const start = await ethers.provider.getBlockNumber();
    await stake(system.fund, staker, 10_000n * USD);
    await depositUsd(ch, 1_000n, long);
    await depositUsd(ch, 100_000n, short, liquidator);
    await openAt(ch, long, short, ETH_MARKET, 4n * WAD, 2_000n);
    await setPrice(system.ethFeed, 1_500n);
    await mined(ch.connect(liquidator).liquidate(long.address, ETH_MARKET, 4n * WAD));
    return { system, start, long };
  }

  it("reads the same events in one query per type as in spans of one block, all up to one head", async () => {
    const { system, start, long } = await networkHelpers.loadFixture(bankruptFixture);
    const contracts = { clearingHouse: system.clearingHouse, insuranceFund: system.fund };
    const whole = await readWaterfallEvents(contracts, start);
    expect(whole.receipts).to.have.length(1);
    expect(whole.receipts[0].account).to.equal(long.address);
    expect(whole.liquidations).to.have.length(1);
    expect(whole.flows.staked).to.equal(10_000n * USD);
    expect(await readWaterfallEvents(contracts, start, { maxBlockRange: 1 })).to.deep.equal(whole);
    expect(await readWaterfallEvents(contracts, start, { maxBlockRange: 3 })).to.deep.equal(whole);

    // Pinned to a block before the liquidation: nothing of it, and blocks mined since change nothing.
    const before = whole.liquidations[0].blockNumber - 1;
    const early = await readWaterfallEvents(contracts, start, { toBlock: before, maxBlockRange: 2 });
    expect(early.receipts).to.have.length(0);
    expect(early.liquidations).to.have.length(0);
    expect(early.flows.deposited).to.equal(whole.flows.deposited);
    await networkHelpers.mine(5);
    expect(await readWaterfallEvents(contracts, start, { toBlock: before })).to.deep.equal(early);
  });
});
