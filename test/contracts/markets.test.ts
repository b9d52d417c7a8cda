import { expect } from "chai";

import type { MarketParamsStruct } from "../../typechain-types/ClearingHouse.js";
import {
  BTC_MARKET,
  BTC_PRICE,
  ETH_MARKET,
  ETH_PRICE,
  INSURANCE_FEE_SHARE,
  LOSS_POLICY_ADL,
  LOSS_POLICY_SOCIALIZED,
  USD,
  WAD,
  deploySystem,
  ethers,
  marketParams,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import { blockTimestampOf, fill, latestTimestamp, paramsTuple, readParams } from "../../devnet/hardhat/collateral.js";

const RISK_MANAGER_ROLE = ethers.id("RISK_MANAGER_ROLE");
const ETH_ANSWER = ETH_PRICE * 10n ** 8n;
const UINT128_MAX = 2n ** 128n - 1n;
const DAY = 86_400n;

// Hard bounds of MarketParamsLib, written out here.
const MIN_HEARTBEAT = 60n;
const MAX_HEARTBEAT = 2n * DAY;
const MIN_IMR = WAD / 100n; // 0.01
const MIN_MMR = (5n * WAD) / 1000n; // 0.005
const MAX_MARGIN_RATIO = WAD;
const MIN_LIQUIDATION_DISCOUNT = WAD / 1000n; // 0.001
const MAX_TRADING_FEE = WAD / 100n; // 0.01
const MIN_PRICE_BAND = WAD / 1000n; // 0.001
const MAX_PRICE_BAND = WAD / 5n; // 0.2
const MAX_FUNDING_RATE = WAD / 10n; // 0.1 a day
const MAX_LIQUIDATION_BUFFER = WAD; // 100%: a partial liquidation restores at most twice maintenance

// The fixture's defaults, on which the dependent bounds are computed below.
const IMR = WAD / 10n;
const MMR = WAD / 20n;
const DISCOUNT = WAD / 100n;

interface OutOfBounds {
  name: string;
  overrides: Partial<MarketParamsStruct>;
  value: bigint;
  min: bigint;
  max: bigint;
}

interface InBounds {
  label: string;
  overrides: Partial<MarketParamsStruct>;
}

/** For each parameter, one value just outside each bound, with the exact bounds the error must carry. */
const OUT_OF_BOUNDS: OutOfBounds[] = [
  {
    name: "oracleHeartbeat",
    overrides: { oracleHeartbeat: 59n },
    value: 59n,
    min: MIN_HEARTBEAT,
    max: MAX_HEARTBEAT,
  },
  {
    name: "oracleHeartbeat",
    overrides: { oracleHeartbeat: MAX_HEARTBEAT + 1n },
    value: MAX_HEARTBEAT + 1n,
    min: MIN_HEARTBEAT,
    max: MAX_HEARTBEAT,
  },
  {
    name: "initialMarginRatio",
    overrides: { initialMarginRatio: MIN_IMR - 1n },
    value: MIN_IMR - 1n,
    min: MIN_IMR,
    max: MAX_MARGIN_RATIO,
  },
  {
    name: "initialMarginRatio",
    overrides: { initialMarginRatio: WAD + 1n },
    value: WAD + 1n,
    min: MIN_IMR,
    max: MAX_MARGIN_RATIO,
  },
  // Maintenance lies in [0.005, initial − 1 wei]: with initial 0.1 the top is 0.1 − 1 wei.
  {
    name: "maintenanceMarginRatio",
    overrides: { maintenanceMarginRatio: MIN_MMR - 1n },
    value: MIN_MMR - 1n,
    min: MIN_MMR,
    max: IMR - 1n,
  },
  {
    name: "maintenanceMarginRatio",
    overrides: { maintenanceMarginRatio: IMR },
    value: IMR,
    min: MIN_MMR,
    max: IMR - 1n,
  },
  // Discount lies in [0.001, maintenance] = [0.001, 0.05].
  {
    name: "liquidationDiscount",
    overrides: { liquidationDiscount: MIN_LIQUIDATION_DISCOUNT - 1n },
    value: MIN_LIQUIDATION_DISCOUNT - 1n,
    min: MIN_LIQUIDATION_DISCOUNT,
    max: MMR,
  },
  {
    name: "liquidationDiscount",
    overrides: { liquidationDiscount: MMR + 1n },
    value: MMR + 1n,
    min: MIN_LIQUIDATION_DISCOUNT,
    max: MMR,
  },
  // Fee lies in [0, maintenance − discount] = [0, 0.04]; nothing is below 0 for an unsigned field.
  {
    name: "liquidationFeeRatio",
    overrides: { liquidationFeeRatio: MMR - DISCOUNT + 1n },
    value: MMR - DISCOUNT + 1n,
    min: 0n,
    max: MMR - DISCOUNT,
  },
  {
    name: "makerFeeRatio",
    overrides: { makerFeeRatio: MAX_TRADING_FEE + 1n },
    value: MAX_TRADING_FEE + 1n,
    min: 0n,
    max: MAX_TRADING_FEE,
  },
  {
    name: "takerFeeRatio",
    overrides: { takerFeeRatio: MAX_TRADING_FEE + 1n },
    value: MAX_TRADING_FEE + 1n,
    min: 0n,
    max: MAX_TRADING_FEE,
  },
  {
    name: "priceBand",
    overrides: { priceBand: MIN_PRICE_BAND - 1n },
    value: MIN_PRICE_BAND - 1n,
    min: MIN_PRICE_BAND,
    max: MAX_PRICE_BAND,
  },
  {
    name: "priceBand",
    overrides: { priceBand: MAX_PRICE_BAND + 1n },
    value: MAX_PRICE_BAND + 1n,
    min: MIN_PRICE_BAND,
    max: MAX_PRICE_BAND,
  },
  {
    name: "maxFundingRate",
    overrides: { maxFundingRate: MAX_FUNDING_RATE + 1n },
    value: MAX_FUNDING_RATE + 1n,
    min: 0n,
    max: MAX_FUNDING_RATE,
  },
  // maxOpenInterest lies in [1, 2^128 − 1]; a uint128 cannot exceed the top.
  {
    name: "maxOpenInterest",
    overrides: { maxOpenInterest: 0n },
    value: 0n,
    min: 1n,
    max: UINT128_MAX,
  },
  // The liquidation buffer lies in [0, 1].
  {
    name: "liquidationBuffer",
    overrides: { liquidationBuffer: MAX_LIQUIDATION_BUFFER + 1n },
    value: MAX_LIQUIDATION_BUFFER + 1n,
    min: 0n,
    max: MAX_LIQUIDATION_BUFFER,
  },
  // A buffer does not relax discount + fee ≤ maintenance.
  {
    name: "liquidationFeeRatio",
    overrides: { liquidationBuffer: MAX_LIQUIDATION_BUFFER, liquidationFeeRatio: MMR - DISCOUNT + 1n },
    value: MMR - DISCOUNT + 1n,
    min: 0n,
    max: MMR - DISCOUNT,
  },
];

/** Every boundary value itself, each accepted (dependent fields adjusted so that only it is at the edge). */
const IN_BOUNDS: InBounds[] = [
  { label: "oracleHeartbeat = 60", overrides: { oracleHeartbeat: MIN_HEARTBEAT } },
  { label: "oracleHeartbeat = 2 days", overrides: { oracleHeartbeat: MAX_HEARTBEAT } },
  {
    label: "initialMarginRatio = 0.01 (maintenance 0.005, discount 0.001, fee 0.004)",
    overrides: {
      initialMarginRatio: MIN_IMR,
      maintenanceMarginRatio: MIN_MMR,
      liquidationDiscount: MIN_LIQUIDATION_DISCOUNT,
      liquidationFeeRatio: MIN_MMR - MIN_LIQUIDATION_DISCOUNT,
    },
  },
  { label: "initialMarginRatio = 1", overrides: { initialMarginRatio: MAX_MARGIN_RATIO } },
  {
    label: "maintenanceMarginRatio = 0.005 (discount 0.001, fee 0)",
    overrides: {
      maintenanceMarginRatio: MIN_MMR,
      liquidationDiscount: MIN_LIQUIDATION_DISCOUNT,
      liquidationFeeRatio: 0n,
    },
  },
  {
    label: "maintenanceMarginRatio = initial − 1 wei",
    overrides: { maintenanceMarginRatio: IMR - 1n },
  },
  {
    label: "liquidationDiscount = 0.001",
    overrides: { liquidationDiscount: MIN_LIQUIDATION_DISCOUNT },
  },
  {
    label: "liquidationDiscount = maintenance (fee 0)",
    overrides: { liquidationDiscount: MMR, liquidationFeeRatio: 0n },
  },
  { label: "liquidationFeeRatio = 0", overrides: { liquidationFeeRatio: 0n } },
  {
    label: "liquidationFeeRatio = maintenance − discount",
    overrides: { liquidationFeeRatio: MMR - DISCOUNT },
  },
  { label: "makerFeeRatio = 0", overrides: { makerFeeRatio: 0n } },
  { label: "makerFeeRatio = 0.01", overrides: { makerFeeRatio: MAX_TRADING_FEE } },
  { label: "takerFeeRatio = 0", overrides: { takerFeeRatio: 0n } },
  { label: "takerFeeRatio = 0.01", overrides: { takerFeeRatio: MAX_TRADING_FEE } },
  { label: "priceBand = 0.001", overrides: { priceBand: MIN_PRICE_BAND } },
  { label: "priceBand = 0.2", overrides: { priceBand: MAX_PRICE_BAND } },
  { label: "maxFundingRate = 0", overrides: { maxFundingRate: 0n } },
  { label: "maxFundingRate = 0.1", overrides: { maxFundingRate: MAX_FUNDING_RATE } },
  { label: "maxOpenInterest = 1", overrides: { maxOpenInterest: 1n } },
  { label: "maxOpenInterest = 2^128 − 1", overrides: { maxOpenInterest: UINT128_MAX } },
  { label: "liquidationBuffer = 0", overrides: { liquidationBuffer: 0n } },
  { label: "liquidationBuffer = 1", overrides: { liquidationBuffer: MAX_LIQUIDATION_BUFFER } },
  {
    label: "liquidationBuffer = 1 with discount + fee = maintenance",
    overrides: { liquidationBuffer: MAX_LIQUIDATION_BUFFER, liquidationFeeRatio: MMR - DISCOUNT },
  },
];

describe("ClearingHouse markets", () => {
  describe("listMarket", () => {
    it("lists markets with ids counting up and emits MarketListed with the params", async () => {
      const { clearingHouse, riskManager } = await networkHelpers.loadFixture(deploySystem);
      expect(await clearingHouse.marketCount()).to.equal(2n);

      const solFeed = await ethers.deployContract("MockAggregatorV3", [8, "SOL / USD", 150n * 10n ** 8n]);
      const solParams = marketParams(await solFeed.getAddress(), {
        lossPolicy: LOSS_POLICY_SOCIALIZED,
        initialMarginRatio: WAD / 5n,
        maxOpenInterest: 12_345n * WAD,
      });
      expect(await clearingHouse.connect(riskManager).listMarket.staticCall(solParams)).to.equal(2n);
      await expect(clearingHouse.connect(riskManager).listMarket(solParams))
        .to.emit(clearingHouse, "MarketListed")
        .withArgs(2n, paramsTuple(solParams));
      expect(await clearingHouse.marketCount()).to.equal(3n);
      expect(await readParams(clearingHouse, 2n)).to.deep.equal(paramsTuple(solParams));

      const dogeFeed = await ethers.deployContract("MockAggregatorV3", [18, "DOGE / USD", WAD / 10n]);
      const dogeParams = marketParams(await dogeFeed.getAddress(), { priceBand: WAD / 10n });
      await expect(clearingHouse.connect(riskManager).listMarket(dogeParams))
        .to.emit(clearingHouse, "MarketListed")
        .withArgs(3n, paramsTuple(dogeParams));
      expect(await clearingHouse.marketCount()).to.equal(4n);
      expect(await readParams(clearingHouse, 3n)).to.deep.equal(paramsTuple(dogeParams));

      // A fresh market's state: everything zero, times at the listing block, no deleverage case, no social loss,
      // no pending premium sample.
      const listedAt = await latestTimestamp();
      const state = await clearingHouse.marketState(3n);
      expect([...state]).to.deep.equal([0n, 0n, 0n, 0n, listedAt, listedAt, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n]);
      // The fixture's markets are untouched.
      expect((await clearingHouse.marketParams(ETH_MARKET)).lossPolicy).to.equal(LOSS_POLICY_ADL);
      expect((await clearingHouse.marketParams(BTC_MARKET)).lossPolicy).to.equal(LOSS_POLICY_SOCIALIZED);
    });

    it("is restricted to RISK_MANAGER_ROLE", async () => {
      const { clearingHouse, ethFeed, admin, pauser, traders } = await networkHelpers.loadFixture(deploySystem);
      const params = marketParams(await ethFeed.getAddress());
      for (const caller of [admin, pauser, traders[0]]) {
        await expect(clearingHouse.connect(caller).listMarket(params))
          .to.be.revertedWithCustomError(clearingHouse, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, RISK_MANAGER_ROLE);
      }
      expect(await clearingHouse.marketCount()).to.equal(2n);
    });

    it("refuses the zero feed with MarketParamOutOfBounds(oracleFeed, 0, 1, 1)", async () => {
      const { clearingHouse, riskManager } = await networkHelpers.loadFixture(deploySystem);
      await expect(clearingHouse.connect(riskManager).listMarket(marketParams(ethers.ZeroAddress)))
        .to.be.revertedWithCustomError(clearingHouse, "MarketParamOutOfBounds")
        .withArgs("oracleFeed", 0n, 1n, 1n);
      expect(await clearingHouse.marketCount()).to.equal(2n);
    });

    for (const c of OUT_OF_BOUNDS) {
      it(`refuses ${c.name} = ${c.value} (bounds [${c.min}, ${c.max}])`, async () => {
        const { clearingHouse, ethFeed, riskManager } = await networkHelpers.loadFixture(deploySystem);
        const params = marketParams(await ethFeed.getAddress(), c.overrides);
        await expect(clearingHouse.connect(riskManager).listMarket(params))
          .to.be.revertedWithCustomError(clearingHouse, "MarketParamOutOfBounds")
          .withArgs(c.name, c.value, c.min, c.max);
        expect(await clearingHouse.marketCount()).to.equal(2n);
      });
    }

    for (const c of IN_BOUNDS) {
      it(`accepts the boundary ${c.label}`, async () => {
        const { clearingHouse, ethFeed, riskManager } = await networkHelpers.loadFixture(deploySystem);
        // A fresh answer, so that even the 60-second heartbeat is met.
        await ethFeed.setAnswer(ETH_ANSWER);
        const params = marketParams(await ethFeed.getAddress(), c.overrides);
        await expect(clearingHouse.connect(riskManager).listMarket(params))
          .to.emit(clearingHouse, "MarketListed")
          .withArgs(2n, paramsTuple(params));
        expect(await clearingHouse.marketCount()).to.equal(3n);
        expect(await readParams(clearingHouse, 2n)).to.deep.equal(paramsTuple(params));
      });
    }

    it("refuses a feed that cannot answer (stale, non-positive, incomplete) with the adapter's error", async () => {
      const { clearingHouse, adapter, riskManager } = await networkHelpers.loadFixture(deploySystem);
      const feed = await ethers.deployContract("MockAggregatorV3", [8, "X / USD", ETH_ANSWER]);
      const feedAddress = await feed.getAddress();
      const params = marketParams(feedAddress); // heartbeat 3600

      // Dated 3600 s before the latest block: at least 3601 s old when the listing executes.
      const staleAt = (await latestTimestamp()) - 3600n;
      await feed.setRoundData(7n, ETH_ANSWER, staleAt, staleAt, 7n);
      await expect(clearingHouse.connect(riskManager).listMarket(params))
        .to.be.revertedWithCustomError(adapter, "OracleStale")
        .withArgs(feedAddress, staleAt, 3600n);

      await feed.setAnswer(0n);
      await expect(clearingHouse.connect(riskManager).listMarket(params))
        .to.be.revertedWithCustomError(adapter, "OracleAnswerNotPositive")
        .withArgs(feedAddress, 0n);

      await feed.setAnswer(-1n);
      await expect(clearingHouse.connect(riskManager).listMarket(params))
        .to.be.revertedWithCustomError(adapter, "OracleAnswerNotPositive")
        .withArgs(feedAddress, -1n);

      const now = await latestTimestamp();
      await feed.setRoundData(12n, ETH_ANSWER, now, now, 11n);
      await expect(clearingHouse.connect(riskManager).listMarket(params))
        .to.be.revertedWithCustomError(adapter, "OracleRoundIncomplete")
        .withArgs(feedAddress, 12n, 11n);

      expect(await clearingHouse.marketCount()).to.equal(2n);
      await expect(clearingHouse.marketParams(2n))
        .to.be.revertedWithCustomError(clearingHouse, "UnknownMarket")
        .withArgs(2n);

      // Once the feed answers, the same parameters list.
      await feed.setAnswer(ETH_ANSWER);
      await clearingHouse.connect(riskManager).listMarket(params);
      expect(await clearingHouse.marketCount()).to.equal(3n);
    });
  });

  describe("updateMarketParams", () => {
    it("replaces the params of either market and emits MarketParamsUpdated", async () => {
      const { clearingHouse, ethFeed, btcFeed, riskManager } = await networkHelpers.loadFixture(deploySystem);
      const ethParams = marketParams(await ethFeed.getAddress(), {
        initialMarginRatio: WAD / 8n,
        maintenanceMarginRatio: WAD / 16n,
        makerFeeRatio: 0n,
        takerFeeRatio: WAD / 1000n,
        priceBand: WAD / 50n,
        maxFundingRate: WAD / 20n,
        maxOpenInterest: 777n * WAD,
      });
      await expect(clearingHouse.connect(riskManager).updateMarketParams(ETH_MARKET, ethParams))
        .to.emit(clearingHouse, "MarketParamsUpdated")
        .withArgs(ETH_MARKET, paramsTuple(ethParams));
      expect(await readParams(clearingHouse, ETH_MARKET)).to.deep.equal(paramsTuple(ethParams));

      const btcParams = marketParams(await btcFeed.getAddress(), {
        lossPolicy: LOSS_POLICY_SOCIALIZED,
        oracleHeartbeat: 600n,
        liquidationDiscount: WAD / 50n,
        liquidationFeeRatio: WAD / 50n,
      });
      await expect(clearingHouse.connect(riskManager).updateMarketParams(BTC_MARKET, btcParams))
        .to.emit(clearingHouse, "MarketParamsUpdated")
        .withArgs(BTC_MARKET, paramsTuple(btcParams));
      expect(await readParams(clearingHouse, BTC_MARKET)).to.deep.equal(paramsTuple(btcParams));
      // The ETH market kept its new params.
      expect(await readParams(clearingHouse, ETH_MARKET)).to.deep.equal(paramsTuple(ethParams));
    });

    it("refuses a change of loss policy (LossPolicyImmutable) in both directions", async () => {
      const { clearingHouse, ethFeed, btcFeed, riskManager } = await networkHelpers.loadFixture(deploySystem);
      const ethBefore = await readParams(clearingHouse, ETH_MARKET);
      const btcBefore = await readParams(clearingHouse, BTC_MARKET);

      await expect(
        clearingHouse
          .connect(riskManager)
          .updateMarketParams(
            ETH_MARKET,
            marketParams(await ethFeed.getAddress(), { lossPolicy: LOSS_POLICY_SOCIALIZED }),
          ),
      )
        .to.be.revertedWithCustomError(clearingHouse, "LossPolicyImmutable")
        .withArgs(ETH_MARKET);
      await expect(
        clearingHouse
          .connect(riskManager)
          .updateMarketParams(BTC_MARKET, marketParams(await btcFeed.getAddress(), { lossPolicy: LOSS_POLICY_ADL })),
      )
        .to.be.revertedWithCustomError(clearingHouse, "LossPolicyImmutable")
        .withArgs(BTC_MARKET);

      expect(await readParams(clearingHouse, ETH_MARKET)).to.deep.equal(ethBefore);
      expect(await readParams(clearingHouse, BTC_MARKET)).to.deep.equal(btcBefore);
    });

    it("refuses an unknown market id and callers without RISK_MANAGER_ROLE", async () => {
      const { clearingHouse, ethFeed, admin, traders, riskManager } = await networkHelpers.loadFixture(deploySystem);
      const params = marketParams(await ethFeed.getAddress(), { priceBand: WAD / 10n });
      const before = await readParams(clearingHouse, ETH_MARKET);

      await expect(clearingHouse.connect(riskManager).updateMarketParams(2n, params))
        .to.be.revertedWithCustomError(clearingHouse, "UnknownMarket")
        .withArgs(2n);
      for (const caller of [admin, traders[0]]) {
        await expect(clearingHouse.connect(caller).updateMarketParams(ETH_MARKET, params))
          .to.be.revertedWithCustomError(clearingHouse, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, RISK_MANAGER_ROLE);
      }

      expect(await readParams(clearingHouse, ETH_MARKET)).to.deep.equal(before);
      expect(await clearingHouse.marketCount()).to.equal(2n);
    });

    it("enforces the same bounds as listing", async () => {
      const { clearingHouse, ethFeed, riskManager } = await networkHelpers.loadFixture(deploySystem);
      const feed = await ethFeed.getAddress();
      const before = await readParams(clearingHouse, ETH_MARKET);

      await expect(clearingHouse.connect(riskManager).updateMarketParams(ETH_MARKET, marketParams(ethers.ZeroAddress)))
        .to.be.revertedWithCustomError(clearingHouse, "MarketParamOutOfBounds")
        .withArgs("oracleFeed", 0n, 1n, 1n);
      for (const c of OUT_OF_BOUNDS) {
        await expect(clearingHouse.connect(riskManager).updateMarketParams(ETH_MARKET, marketParams(feed, c.overrides)))
          .to.be.revertedWithCustomError(clearingHouse, "MarketParamOutOfBounds")
          .withArgs(c.name, c.value, c.min, c.max);
      }
      expect(await readParams(clearingHouse, ETH_MARKET)).to.deep.equal(before);

      // And accepts every boundary value.
      await ethFeed.setAnswer(ETH_ANSWER);
      for (const c of IN_BOUNDS) {
        const params = marketParams(feed, c.overrides);
        await clearingHouse.connect(riskManager).updateMarketParams(ETH_MARKET, params);
        expect(await readParams(clearingHouse, ETH_MARKET)).to.deep.equal(paramsTuple(params));
      }
    });

    it("reads the price through the new feed: a dead feed can be replaced, a dead replacement is refused", async () => {
      const { clearingHouse, adapter, ethFeed, riskManager } = await networkHelpers.loadFixture(deploySystem);
      const oldFeed = await ethFeed.getAddress();
      await ethFeed.setAnswer(-5n);
      const deadFeed = await ethers.deployContract("MockAggregatorV3", [8, "dead", 0n]);
      const deadAddress = await deadFeed.getAddress();
      const before = await readParams(clearingHouse, ETH_MARKET);

      await expect(clearingHouse.connect(riskManager).updateMarketParams(ETH_MARKET, marketParams(deadAddress)))
        .to.be.revertedWithCustomError(adapter, "OracleAnswerNotPositive")
        .withArgs(deadAddress, 0n);
      await expect(clearingHouse.connect(riskManager).updateMarketParams(ETH_MARKET, marketParams(oldFeed)))
        .to.be.revertedWithCustomError(adapter, "OracleAnswerNotPositive")
        .withArgs(oldFeed, -5n);
      expect(await readParams(clearingHouse, ETH_MARKET)).to.deep.equal(before);

      const newFeed = await ethers.deployContract("MockAggregatorV3", [18, "ETH / USD", 2001n * WAD]);
      const newParams = marketParams(await newFeed.getAddress());
      await clearingHouse.connect(riskManager).updateMarketParams(ETH_MARKET, newParams);
      expect(await readParams(clearingHouse, ETH_MARKET)).to.deep.equal(paramsTuple(newParams));
      expect((await clearingHouse.positionOf(ethers.ZeroAddress, ETH_MARKET)).markPrice).to.equal(2001n * WAD);
    });

    it("accrues funding up to the update at the old clamp, then runs at the new one", async () => {
      const { clearingHouse, ethFeed, riskManager, traders } = await networkHelpers.loadFixture(deploySystem);
      const [maker, taker, c1, c2] = traders;
      await networkHelpers.time.increase(3600);
      await ethFeed.setAnswer(ETH_ANSWER);
      for (const t of [maker, taker, c1, c2]) await clearingHouse.connect(t).deposit(10_000n * USD);
      // A base of 1 ETH at the oracle, then 1 ETH more at 2060: premium (2060 − 2000) / 2000 = 3%.
      await fill(clearingHouse, c1, c2, { isBuy: true, size: WAD, limitPrice: 2000n * WAD });
      await fill(clearingHouse, maker, taker, { isBuy: true, size: WAD, limitPrice: 2060n * WAD });
      // An hour later a fill takes the sample in: weight 3,600 × 1/2, average 1.5%, stored at the 1% clamp.
      await networkHelpers.time.increase(3600);
      await ethFeed.setAnswer(ETH_ANSWER);
      const fillTx = await fill(clearingHouse, c1, c2, {
        isBuy: true,
        size: WAD / 1000n,
        limitPrice: 2000n * WAD,
        nonce: 1n,
      });
      const filledAt = await blockTimestampOf(fillTx);
      const atFill = await clearingHouse.marketState(ETH_MARKET);
      expect(atFill.premiumEma).to.equal(WAD / 100n);
      expect(atFill.fundingIndex).to.equal(0n); // the average was zero before
      expect(await clearingHouse.fundingRate(ETH_MARKET)).to.equal(WAD / 100n);

      // 1800 s later, raise the clamp to 5%/day.
      const newParams = marketParams(await ethFeed.getAddress(), {
        maxFundingRate: (5n * WAD) / 100n,
      });
      await networkHelpers.time.setNextBlockTimestamp(filledAt + 1800n);
      // Old clamp: the rate falls 1% → 0.5% over the 1800 s; ∫ = 1% × 1800 − 1% × 1800² / 7200 = 13.5 rate·s,
      // index 13.5 × 2000 / 86400 = 0.3125 exactly; the rate at the update is 0.5%.
      const indexAtUpdate = 3125n * 10n ** 14n;
      await expect(clearingHouse.connect(riskManager).updateMarketParams(ETH_MARKET, newParams))
        .to.emit(clearingHouse, "FundingAccrued")
        .withArgs(ETH_MARKET, indexAtUpdate, WAD / 200n, 2000n * WAD);
      const atUpdate = await clearingHouse.marketState(ETH_MARKET);
      expect(atUpdate.fundingIndex).to.equal(indexAtUpdate);
      expect(atUpdate.lastFundingTime).to.equal(filledAt + 1800n);
      // The average is re-set at 0.5%; from now on it falls by the new clamp, 5% an hour: gone after 360 s.
      expect(atUpdate.premiumEma).to.equal(WAD / 200n);
      expect(atUpdate.lastPremiumTime).to.equal(filledAt + 1800n);
      expect(await clearingHouse.fundingRate(ETH_MARKET)).to.equal(WAD / 200n);

      // 600 s later: ∫ = 0.5%² × 3600 / (2 × 5%) = 0.9 rate·s → 0.9 × 2000 / 86400 = 0.0208333… floored.
      await networkHelpers.time.increaseTo(filledAt + 2400n);
      const growth = 20_833_333_333_333_333n;
      expect((await clearingHouse.marketState(ETH_MARKET)).fundingIndex).to.equal(indexAtUpdate + growth);
      expect(await clearingHouse.fundingRate(ETH_MARKET)).to.equal(0n);
    });
  });

  describe("setInsuranceFeeShare", () => {
    it("accepts shares up to 100% with an event and refuses anything above", async () => {
      const { clearingHouse, riskManager } = await networkHelpers.loadFixture(deploySystem);
      expect(await clearingHouse.insuranceFeeShare()).to.equal(INSURANCE_FEE_SHARE);

      await expect(clearingHouse.connect(riskManager).setInsuranceFeeShare(WAD + 1n))
        .to.be.revertedWithCustomError(clearingHouse, "InsuranceFeeShareOutOfBounds")
        .withArgs(WAD + 1n);
      expect(await clearingHouse.insuranceFeeShare()).to.equal(INSURANCE_FEE_SHARE);

      await expect(clearingHouse.connect(riskManager).setInsuranceFeeShare(WAD))
        .to.emit(clearingHouse, "InsuranceFeeShareUpdated")
        .withArgs(WAD);
      expect(await clearingHouse.insuranceFeeShare()).to.equal(WAD);
      await expect(clearingHouse.connect(riskManager).setInsuranceFeeShare(0n))
        .to.emit(clearingHouse, "InsuranceFeeShareUpdated")
        .withArgs(0n);
      expect(await clearingHouse.insuranceFeeShare()).to.equal(0n);
    });

    it("is restricted to RISK_MANAGER_ROLE", async () => {
      const { clearingHouse, admin, traders } = await networkHelpers.loadFixture(deploySystem);
      for (const caller of [admin, traders[0]]) {
        await expect(clearingHouse.connect(caller).setInsuranceFeeShare(WAD / 2n))
          .to.be.revertedWithCustomError(clearingHouse, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, RISK_MANAGER_ROLE);
      }
      expect(await clearingHouse.insuranceFeeShare()).to.equal(INSURANCE_FEE_SHARE);
    });

    it("applies the new share to the next fill", async () => {
      const { clearingHouse, riskManager, traders } = await networkHelpers.loadFixture(deploySystem);
      const [maker, taker] = traders;
      await clearingHouse.connect(maker).deposit(10_000n * USD);
      await clearingHouse.connect(taker).deposit(10_000n * USD);
      await clearingHouse.connect(riskManager).setInsuranceFeeShare(WAD / 2n);
      // 1 BTC at 60,000: maker fee 12, taker fee 30; half of each to insurance.
      await fill(clearingHouse, maker, taker, {
        marketId: BTC_MARKET,
        isBuy: false,
        size: WAD,
        limitPrice: BTC_PRICE * WAD,
      });
      expect(await clearingHouse.insuranceFees()).to.equal(21n * WAD);
      expect(await clearingHouse.protocolFees()).to.equal(21n * WAD);
    });
  });

  describe("views", () => {
    it("marketParams, marketState and fundingRate refuse an unknown market", async () => {
      const { clearingHouse } = await networkHelpers.loadFixture(deploySystem);
      for (const id of [2n, 3n, 2n ** 255n]) {
        await expect(clearingHouse.marketParams(id))
          .to.be.revertedWithCustomError(clearingHouse, "UnknownMarket")
          .withArgs(id);
        await expect(clearingHouse.marketState(id))
          .to.be.revertedWithCustomError(clearingHouse, "UnknownMarket")
          .withArgs(id);
        await expect(clearingHouse.fundingRate(id))
          .to.be.revertedWithCustomError(clearingHouse, "UnknownMarket")
          .withArgs(id);
      }
    });

    it("marketState tracks open interest of both markets after fills", async () => {
      const { clearingHouse, ethFeed, btcFeed, traders } = await networkHelpers.loadFixture(deploySystem);
      const [alice, bob, carol] = traders;
      for (const t of [alice, bob, carol]) await clearingHouse.connect(t).deposit(100_000n * USD);
      expect(await readParams(clearingHouse, ETH_MARKET)).to.deep.equal(
        paramsTuple(marketParams(await ethFeed.getAddress())),
      );
      expect(await readParams(clearingHouse, BTC_MARKET)).to.deep.equal(
        paramsTuple(marketParams(await btcFeed.getAddress(), { lossPolicy: LOSS_POLICY_SOCIALIZED })),
      );

      // ETH: Alice long 3, Bob short 2, Carol short 1. BTC: Bob long 0.5, Carol short 0.5.
      await fill(clearingHouse, alice, bob, {
        isBuy: true,
        size: 2n * WAD,
        limitPrice: 2000n * WAD,
      });
      await fill(clearingHouse, alice, carol, { isBuy: true, size: WAD, limitPrice: 2000n * WAD });
      await fill(clearingHouse, bob, carol, {
        marketId: BTC_MARKET,
        isBuy: true,
        size: WAD / 2n,
        limitPrice: BTC_PRICE * WAD,
      });
      const eth = await clearingHouse.marketState(ETH_MARKET);
      expect(eth.longOpenInterest).to.equal(3n * WAD);
      expect(eth.shortOpenInterest).to.equal(3n * WAD);
      const btc = await clearingHouse.marketState(BTC_MARKET);
      expect(btc.longOpenInterest).to.equal(WAD / 2n);
      expect(btc.shortOpenInterest).to.equal(WAD / 2n);
      // Fills at the oracle price leave the premium, hence the funding rate, at zero.
      expect(eth.premiumEma).to.equal(0n);
      expect(btc.premiumEma).to.equal(0n);
      expect(await clearingHouse.fundingRate(ETH_MARKET)).to.equal(0n);
      expect(await clearingHouse.fundingRate(BTC_MARKET)).to.equal(0n);
    });
  });
});
