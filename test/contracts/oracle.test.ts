import { expect } from "chai";

import type { ClearingHouse, MockAggregatorV3 } from "../../typechain-types/index.js";
import { ETH_MARKET, ETH_PRICE, USD, WAD, deploySystem, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import {
  blockTimestampOf,
  collateralSnapshot,
  latestTimestamp,
  positionsSnapshot,
  signedOrder,
} from "../../devnet/hardhat/collateral.js";

const HEARTBEAT = 3600n;
const ETH_ANSWER = ETH_PRICE * 10n ** 8n; // the fixture's feeds have 8 decimals

async function deployFeed(decimals: number, answer: bigint): Promise<MockAggregatorV3> {
  return ethers.deployContract("MockAggregatorV3", [decimals, "TEST / USD", answer]);
}

/** Stored market state (the view's lastFundingTime is always "now", so it is left out). */
async function storedMarketState(clearingHouse: ClearingHouse, marketId: bigint): Promise<bigint[]> {
  const s = await clearingHouse.marketState(marketId);
  return [s.fundingIndex, s.premiumEma, s.longOpenInterest, s.shortOpenInterest, s.lastPremiumTime];
}

describe("Oracle", () => {
  describe("ChainlinkOracleAdapter.getPrice", () => {
    it("normalizes 6, 8, 18 and 20-decimal answers to 18 decimals", async () => {
      const { adapter } = await networkHelpers.loadFixture(deploySystem);
      const cases: [number, bigint, bigint][] = [
        // 1,234.567891 with 6 decimals → × 10^12
        [6, 1_234_567_891n, 1_234_567_891_000_000_000_000n],
        // 2,000.12345678 with 8 decimals → × 10^10
        [8, 200_012_345_678n, 2_000_123_456_780_000_000_000n],
        // 18 decimals pass through unchanged
        [18, 123_456_789_012_345_678_901n, 123_456_789_012_345_678_901n],
        // 20 decimals → ÷ 100, truncated: …901234 → …9012
        [20, 123_456_789_012_345_678_901_234n, 1_234_567_890_123_456_789_012n],
        // the extremes the adapter supports: 0 and 36 decimals
        [0, 7n, 7_000_000_000_000_000_000n],
        [36, 25n * 10n ** 35n, 2_500_000_000_000_000_000n],
      ];
      for (const [decimals, answer, expected] of cases) {
        const feed = await deployFeed(decimals, answer);
        expect(await adapter.getPrice(await feed.getAddress(), HEARTBEAT)).to.equal(expected);
      }
    });

    it("refuses a feed with 37 decimals (OracleDecimalsUnsupported)", async () => {
      const { adapter } = await networkHelpers.loadFixture(deploySystem);
      const feed = await deployFeed(37, 10n ** 37n);
      await expect(adapter.getPrice(await feed.getAddress(), HEARTBEAT))
        .to.be.revertedWithCustomError(adapter, "OracleDecimalsUnsupported")
        .withArgs(await feed.getAddress(), 37);
    });

    it("refuses a 20-decimal answer that truncates to zero (OracleAnswerNotPositive)", async () => {
      const { adapter } = await networkHelpers.loadFixture(deploySystem);
      const feed = await deployFeed(20, 99n); // 99 / 100 = 0
      const feedAddress = await feed.getAddress();
      await expect(adapter.getPrice(feedAddress, HEARTBEAT))
        .to.be.revertedWithCustomError(adapter, "OracleAnswerNotPositive")
        .withArgs(feedAddress, 99n);
      await feed.setAnswer(100n); // 100 / 100 = 1 wei
      expect(await adapter.getPrice(feedAddress, HEARTBEAT)).to.equal(1n);
    });

    it("refuses incomplete rounds (OracleRoundIncomplete)", async () => {
      const { adapter } = await networkHelpers.loadFixture(deploySystem);
      const feed = await deployFeed(8, ETH_ANSWER);
      const feedAddress = await feed.getAddress();
      const now = await latestTimestamp();

      // Never updated.
      await feed.setRoundData(5n, ETH_ANSWER, now, 0n, 5n);
      await expect(adapter.getPrice(feedAddress, HEARTBEAT))
        .to.be.revertedWithCustomError(adapter, "OracleRoundIncomplete")
        .withArgs(feedAddress, 5n, 5n);

      // Answer carried over from round 4 into round 5.
      await feed.setRoundData(5n, ETH_ANSWER, now, now, 4n);
      await expect(adapter.getPrice(feedAddress, HEARTBEAT))
        .to.be.revertedWithCustomError(adapter, "OracleRoundIncomplete")
        .withArgs(feedAddress, 5n, 4n);

      // answeredInRound == roundId, or above it, is complete.
      await feed.setRoundData(5n, ETH_ANSWER, now, now, 5n);
      expect(await adapter.getPrice(feedAddress, HEARTBEAT)).to.equal(ETH_PRICE * WAD);
      await feed.setRoundData(5n, ETH_ANSWER, now, now, 6n);
      expect(await adapter.getPrice(feedAddress, HEARTBEAT)).to.equal(ETH_PRICE * WAD);
    });

    it("refuses zero and negative answers (OracleAnswerNotPositive)", async () => {
      const { adapter } = await networkHelpers.loadFixture(deploySystem);
      const feed = await deployFeed(8, ETH_ANSWER);
      const feedAddress = await feed.getAddress();
      for (const answer of [0n, -1n, -ETH_ANSWER]) {
        await feed.setAnswer(answer);
        await expect(adapter.getPrice(feedAddress, HEARTBEAT))
          .to.be.revertedWithCustomError(adapter, "OracleAnswerNotPositive")
          .withArgs(feedAddress, answer);
      }
      await feed.setAnswer(1n); // the smallest positive answer: 1e-8 → 1e10 wei
      expect(await adapter.getPrice(feedAddress, HEARTBEAT)).to.equal(10n ** 10n);
    });

    it("accepts an answer exactly heartbeat old and refuses one a second older (OracleStale)", async () => {
      const { adapter } = await networkHelpers.loadFixture(deploySystem);
      const feed = await deployFeed(8, ETH_ANSWER);
      const feedAddress = await feed.getAddress();

      const t = (await latestTimestamp()) + 10n;
      const updatedAt = t - HEARTBEAT;
      await networkHelpers.time.setNextBlockTimestamp(t);
      await feed.setRoundData(3n, ETH_ANSWER, updatedAt, updatedAt, 3n);
      expect(await latestTimestamp()).to.equal(t);
      // Age 3600 = heartbeat: accepted.
      expect(await adapter.getPrice(feedAddress, HEARTBEAT)).to.equal(ETH_PRICE * WAD);
      // Age 3600 against a heartbeat of 3599: one second too old.
      await expect(adapter.getPrice(feedAddress, HEARTBEAT - 1n))
        .to.be.revertedWithCustomError(adapter, "OracleStale")
        .withArgs(feedAddress, updatedAt, HEARTBEAT - 1n);

      // One second later the same answer is 3601 s old.
      await networkHelpers.time.increaseTo(t + 1n);
      await expect(adapter.getPrice(feedAddress, HEARTBEAT))
        .to.be.revertedWithCustomError(adapter, "OracleStale")
        .withArgs(feedAddress, updatedAt, HEARTBEAT);
    });

    it("refuses an answer dated in the future (OracleStale); dated now is fine even with heartbeat 0", async () => {
      const { adapter } = await networkHelpers.loadFixture(deploySystem);
      const feed = await deployFeed(8, ETH_ANSWER);
      const feedAddress = await feed.getAddress();

      const t = (await latestTimestamp()) + 10n;
      await networkHelpers.time.setNextBlockTimestamp(t);
      await feed.setRoundData(3n, ETH_ANSWER, t, t + 1n, 3n);
      await expect(adapter.getPrice(feedAddress, HEARTBEAT))
        .to.be.revertedWithCustomError(adapter, "OracleStale")
        .withArgs(feedAddress, t + 1n, HEARTBEAT);

      await networkHelpers.time.setNextBlockTimestamp(t + 1n);
      await feed.setRoundData(4n, ETH_ANSWER, t + 1n, t + 1n, 4n);
      expect(await adapter.getPrice(feedAddress, 0n)).to.equal(ETH_PRICE * WAD);
    });
  });

  describe("through the clearing house", () => {
    // Maker and taker funded; a 2 ETH buy order signed by the maker, half of it filled at the oracle price.
    async function tradingSystem() {
      const system = await deploySystem();
      const { clearingHouse, ethFeed, traders } = system;
      const [maker, taker] = traders;
      await ethFeed.setAnswer(ETH_ANSWER);
      await clearingHouse.connect(maker).deposit(10_000n * USD);
      await clearingHouse.connect(taker).deposit(10_000n * USD);
      const signed = await signedOrder(clearingHouse, maker, {
        isBuy: true,
        size: 2n * WAD,
        limitPrice: ETH_PRICE * WAD,
      });
      await clearingHouse.connect(taker).fillOrder(signed.order, signed.signature, WAD);
      return { ...system, signed };
    }

    async function fullState(system: Awaited<ReturnType<typeof tradingSystem>>) {
      const { clearingHouse, token, traders, signed } = system;
      const accounts = [traders[0].address, traders[1].address];
      const [filled, cancelled] = await clearingHouse.orderStatus(signed.orderHash);
      return {
        order: [filled, cancelled],
        collateral: await collateralSnapshot(clearingHouse, token, accounts),
        positions: await positionsSnapshot(clearingHouse, accounts, [ETH_MARKET]),
        market: await storedMarketState(clearingHouse, ETH_MARKET),
      };
    }

    it("a fill with a stale oracle reverts with OracleStale and changes nothing", async () => {
      const system = await networkHelpers.loadFixture(tradingSystem);
      const { clearingHouse, adapter, ethFeed, traders, signed } = system;
      const [maker, taker] = traders;
      const before = await fullState(system);
      // Half filled: maker long 1, taker short 1, at 2000.
      expect(before.order).to.deep.equal([WAD, false]);
      expect(before.positions).to.deep.equal([
        [WAD, 2000n * WAD],
        [-WAD, -2000n * WAD],
      ]);

      const updatedAt = await blockTimestampOf(await ethFeed.setAnswer(ETH_ANSWER));
      // 3601 s after the answer: stale for views at this block and for the fill in the next one.
      await networkHelpers.time.increaseTo(updatedAt + HEARTBEAT + 1n);
      await expect(clearingHouse.connect(taker).fillOrder(signed.order, signed.signature, WAD))
        .to.be.revertedWithCustomError(adapter, "OracleStale")
        .withArgs(await ethFeed.getAddress(), updatedAt, HEARTBEAT);
      // Views that price positions refuse too.
      await expect(clearingHouse.accountHealth(maker.address))
        .to.be.revertedWithCustomError(adapter, "OracleStale")
        .withArgs(await ethFeed.getAddress(), updatedAt, HEARTBEAT);

      // Refresh the feed at the same price to read positions, then compare.
      await ethFeed.setAnswer(ETH_ANSWER);
      expect(await fullState(system)).to.deep.equal(before);

      // The same fill goes through once the oracle answers.
      await clearingHouse.connect(taker).fillOrder(signed.order, signed.signature, WAD);
      expect((await clearingHouse.orderStatus(signed.orderHash)).filled).to.equal(2n * WAD);
      expect((await clearingHouse.positionOf(maker.address, ETH_MARKET)).size).to.equal(2n * WAD);
    });

    it("a fill with a non-positive oracle reverts with OracleAnswerNotPositive and changes nothing", async () => {
      const system = await networkHelpers.loadFixture(tradingSystem);
      const { clearingHouse, adapter, ethFeed, traders, signed } = system;
      const taker = traders[1];
      const feedAddress = await ethFeed.getAddress();
      const before = await fullState(system);

      for (const answer of [-1n, 0n]) {
        await ethFeed.setAnswer(answer);
        await expect(clearingHouse.connect(taker).fillOrder(signed.order, signed.signature, WAD))
          .to.be.revertedWithCustomError(adapter, "OracleAnswerNotPositive")
          .withArgs(feedAddress, answer);
      }

      await ethFeed.setAnswer(ETH_ANSWER);
      expect(await fullState(system)).to.deep.equal(before);
    });

    it("a fill with an incomplete round reverts with OracleRoundIncomplete and changes nothing", async () => {
      const system = await networkHelpers.loadFixture(tradingSystem);
      const { clearingHouse, adapter, ethFeed, traders, signed } = system;
      const taker = traders[1];
      const before = await fullState(system);

      const now = await latestTimestamp();
      await ethFeed.setRoundData(9n, ETH_ANSWER, now, now, 8n);
      await expect(clearingHouse.connect(taker).fillOrder(signed.order, signed.signature, WAD))
        .to.be.revertedWithCustomError(adapter, "OracleRoundIncomplete")
        .withArgs(await ethFeed.getAddress(), 9n, 8n);

      await ethFeed.setAnswer(ETH_ANSWER);
      expect(await fullState(system)).to.deep.equal(before);
    });

    it("withdraw needs a live oracle only for accounts with positions", async () => {
      const system = await networkHelpers.loadFixture(tradingSystem);
      const { clearingHouse, adapter, ethFeed, token, traders } = system;
      const [maker, , flat] = traders;
      await clearingHouse.connect(flat).deposit(500n * USD);
      await ethFeed.setAnswer(-1n);

      const before = await collateralSnapshot(clearingHouse, token, [maker.address]);
      await expect(clearingHouse.connect(maker).withdraw(USD))
        .to.be.revertedWithCustomError(adapter, "OracleAnswerNotPositive")
        .withArgs(await ethFeed.getAddress(), -1n);
      expect(await collateralSnapshot(clearingHouse, token, [maker.address])).to.deep.equal(before);

      // An account with no position never reads the oracle.
      await clearingHouse.connect(flat).withdraw(500n * USD);
      expect(await clearingHouse.collateralOf(flat.address)).to.equal(0n);
    });
  });

  describe("MockAggregatorV3", () => {
    it("starts at round 1 with the initial answer dated at deployment", async () => {
      const feed = await deployFeed(8, 1234n);
      const deployedAt = await latestTimestamp();
      expect(await feed.decimals()).to.equal(8n);
      expect(await feed.description()).to.equal("TEST / USD");
      expect([...(await feed.latestRoundData())]).to.deep.equal([1n, 1234n, deployedAt, deployedAt, 1n]);
    });

    it("setAnswer opens the next complete round dated now", async () => {
      const feed = await deployFeed(8, 1234n);
      const t = (await latestTimestamp()) + 100n;
      await networkHelpers.time.setNextBlockTimestamp(t);
      await feed.setAnswer(-7n); // the mock publishes anything, even a negative answer
      expect([...(await feed.latestRoundData())]).to.deep.equal([2n, -7n, t, t, 2n]);
    });

    it("setRoundData sets every field verbatim and setAnswer continues from its round", async () => {
      const feed = await deployFeed(18, 1n);
      await feed.setRoundData(41n, -3n, 100n, 200n, 40n);
      expect([...(await feed.latestRoundData())]).to.deep.equal([41n, -3n, 100n, 200n, 40n]);

      const t = (await latestTimestamp()) + 5n;
      await networkHelpers.time.setNextBlockTimestamp(t);
      await feed.setAnswer(5n);
      expect([...(await feed.latestRoundData())]).to.deep.equal([42n, 5n, t, t, 42n]);
    });

    it("drives the clearing house's mark price", async () => {
      const { clearingHouse, adapter, ethFeed } = await networkHelpers.loadFixture(deploySystem);
      await ethFeed.setAnswer(1999_12345678n); // 1,999.12345678
      expect((await clearingHouse.positionOf(ethers.ZeroAddress, ETH_MARKET)).markPrice).to.equal(
        1_999_123_456_780_000_000_000n,
      );
      // setRoundData can make the market's feed stale for the clearing house.
      const now = await latestTimestamp();
      await ethFeed.setRoundData(99n, ETH_ANSWER, now - 4000n, now - 4000n, 99n);
      await expect(clearingHouse.marketState(ETH_MARKET))
        .to.be.revertedWithCustomError(adapter, "OracleStale")
        .withArgs(await ethFeed.getAddress(), now - 4000n, HEARTBEAT);
    });
  });
});
