import { expect } from "chai";

import {
  DEFAULT_MAX_BLOCK_RANGE,
  blockSpans,
  groupLossEvents,
  layerTotals,
  overshoot,
  querySpans,
  readWaterfallEvents,
  takenFromTraders,
} from "#sdk";
import {
  BTC_MARKET,
  ETH_MARKET,
  LAYER_PARAMS,
  USD,
  WAD,
  deploySystem,
  deploySystemWithLayers,
  ethers,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import { fundFirstLoss, joinAsMember, layersOf } from "../../devnet/hardhat/layers.js";
import { depositUsd, openAt, setPrice } from "../../devnet/hardhat/fund.js";
import { mined } from "../../devnet/hardhat/trading.js";
import { quietMarkets, stake } from "../../devnet/hardhat/waterfall.js";

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

  it("queries span by span, one call at a time and in block order, and sends none for a bad width", async () => {
    const calls: string[] = [];
    const rows = await querySpans(5, 14, 4, (a, b) => {
      calls.push(`${a}-${b}`);
      return Promise.resolve([a, b]);
    });
    expect(calls).to.deep.equal(["5-8", "9-12", "13-14"]);
    expect(rows).to.deep.equal([5, 8, 9, 12, 13, 14]);
    calls.length = 0;
    await expect(querySpans(0, 10, 0, () => Promise.resolve([calls.push("sent")]))).to.be.rejectedWith(
      "maxBlockRange must be a positive integer, got 0",
    );
    expect(calls).to.deep.equal([]);
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

  it("sums what a receipt took from traders, and the overshoot beyond what the fund did not pay", () => {
    // The haircut worked example: shortfall 274, fund 100, haircut 174.
    const receipt = { shortfall: 274n, fundPaid: 100n, deleveraged: 0n, socialized: 0n, haircut: 174n };
    expect(takenFromTraders(receipt)).to.equal(174n);
    expect(overshoot(receipt)).to.equal(0n);
    // One unit socialized beyond the rest: overshoot 1; ADL short by 2: overshoot −2.
    expect(takenFromTraders({ deleveraged: 50n, socialized: 25n, haircut: 0n })).to.equal(75n);
    expect(overshoot({ ...receipt, socialized: 1n })).to.equal(1n);
    expect(overshoot({ ...receipt, haircut: 100n, deleveraged: 72n })).to.equal(-2n);
  });

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

  it("groups the default layers' draws and assessments with the receipt of their transaction", async () => {
    // First loss 100, no stake, one member with 100 in the fund and 30 of free collateral (cap 200); fees off.
    // alice (6,100) long 1 BTC at 60,000 from bob; BTC 53,000: deficit 900 = 100 + 100 + 30 assessed + 670
    // socialized (the 170 the member could not pay is uncollected).
    const system = await deploySystemWithLayers({ ...LAYER_PARAMS, drawdownFraction: WAD });
    const ch = system.clearingHouse;
    const [alice, bob, keeper, , member] = system.traders;
    await quietMarkets(system, false);
    const start = await ethers.provider.getBlockNumber();
    await fundFirstLoss(system, 100n * USD);
    await joinAsMember(system, member, 30n * USD, 100n * USD);
    await depositUsd(ch, 6_100n, alice);
    await depositUsd(ch, 100_000n, bob, keeper);
    await openAt(ch, alice, bob, BTC_MARKET, WAD, 60_000n);
    await setPrice(system.btcFeed, 53_000n);
    const tx = await mined(ch.connect(keeper).liquidate(alice.address, BTC_MARKET, ethers.MaxUint256));

    const contracts = { clearingHouse: ch, insuranceFund: system.fund, defaultLayers: layersOf(system) };
    const [loss] = groupLossEvents(await readWaterfallEvents(contracts, start));
    expect(loss.receipt.txHash).to.equal(tx.hash);
    expect(loss.receipt.fundPaid).to.equal(230n * WAD);
    expect(loss.receipt.socialized).to.equal(670n * WAD);
    expect(loss.layers.map((d) => [d.layer, d.amount])).to.deep.equal([
      ["first loss", 100n * USD],
      ["members' fund", 100n * USD],
      ["assessments", 30n * USD],
    ]);
    expect(loss.assessments.map((a) => [a.member, a.asked, a.collected])).to.deep.equal([
      [member.address, 200n * USD, 30n * USD],
    ]);
    expect(loss.drawdown).to.equal(undefined);
    expect(layerTotals(loss.layers)).to.deep.equal({
      "first loss": 100n * USD,
      stakers: 0n,
      "members' fund": 100n * USD,
      assessments: 30n * USD,
    });
    // Without the layers contract the reader still reads the rest, with no layer events.
    const [plain] = groupLossEvents(
      await readWaterfallEvents({ clearingHouse: ch, insuranceFund: system.fund }, start),
    );
    expect(plain.layers).to.deep.equal([]);
  });
});
