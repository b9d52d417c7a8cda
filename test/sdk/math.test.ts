import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionReceipt } from "ethers";
import { expect } from "chai";

import {
  BTC_MARKET,
  ETH_MARKET,
  USD,
  WAD,
  deploySystem,
  ethers,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { mined, trade } from "../../devnet/hardhat/trading.js";
import {
  MAX_UINT256,
  accountHealth,
  adlScore,
  priceBucket,
  fundingIndexGrowth,
  fundingOwed,
  isBankrupt,
  isLiquidatable,
  mulDivCeil,
  mulDivFloor,
  notionalAt,
  shortfall,
  socialLossOwed,
  unrealizedPnl,
  type PositionInput,
  type TrackedPosition,
} from "#sdk";
import { estimateHealth, nearMaintenance, orderQueue } from "../../keeper/src/estimate.js";

const E = WAD;
const MARKETS = [ETH_MARKET, BTC_MARKET];
const FEED_DECIMALS = 10n ** 10n; // 8-decimal feeds → 18 decimals

/** Deterministic pseudo-random numbers (mulberry32): a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random bigint in [lo, hi]. */
function between(rand: () => number, lo: bigint, hi: bigint): bigint {
  const span = hi - lo;
  return lo + (BigInt(Math.floor(rand() * 1_000_000)) * span) / 1_000_000n;
}

interface MarketMemo {
  fundingIndex: bigint;
  time: bigint;
  premiumEma: bigint;
  premiumTime: bigint;
}

/** Indexes a position was last settled at; the contract keeps them private, so the test follows them. */
interface PositionMemo {
  funding: bigint;
  social: bigint;
}

/**
 * Follows what the contract does not expose — each position's last settled funding and social-loss index and
 * each market's last accrual — from the events of every transaction, reading the public views at its block.
 */
class Tracker {
  readonly positions = new Map<string, PositionMemo>();
  readonly markets = new Map<bigint, MarketMemo>();

  constructor(private readonly s: System) {}

  async after(receipt: ContractTransactionReceipt): Promise<void> {
    const tag = receipt.blockNumber;
    const touched = new Set<string>();
    const accrued = new Set<bigint>();
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== (await this.s.clearingHouse.getAddress()).toLowerCase()) continue;
      const parsed = this.s.clearingHouse.interface.parseLog(log);
      if (parsed === null) continue;
      if (
        parsed.name === "PositionChanged" ||
        parsed.name === "FundingSettled" ||
        parsed.name === "SocialLossSettled"
      ) {
        touched.add(`${parsed.args.account as string}:${parsed.args.marketId as bigint}`);
        accrued.add(parsed.args.marketId as bigint);
      }
      if (parsed.name === "FundingAccrued") accrued.add(parsed.args.marketId as bigint);
      if (parsed.name === "Liquidated") {
        for (const m of MARKETS) touched.add(`${parsed.args.account as string}:${m}`);
      }
    }
    for (const m of accrued) {
      const state = await this.s.clearingHouse.marketState(m, { blockTag: tag });
      this.markets.set(m, {
        fundingIndex: state.fundingIndex,
        time: state.lastFundingTime,
        premiumEma: state.premiumEma,
        premiumTime: state.lastPremiumTime,
      });
    }
    for (const key of touched) {
      const [account, m] = key.split(":");
      const state = await this.s.clearingHouse.marketState(BigInt(m), { blockTag: tag });
      const size = (await this.s.clearingHouse.positionOf(account, BigInt(m), { blockTag: tag })).size;
      this.positions.set(key, {
        funding: state.fundingIndex,
        social: size >= 0n ? state.longSocialLossIndex : state.shortSocialLossIndex,
      });
    }
  }
}

async function setPrice(s: System, marketId: bigint, price: bigint): Promise<ContractTransactionReceipt> {
  const feed = marketId === ETH_MARKET ? s.ethFeed : s.btcFeed;
  return mined(feed.setAnswer(price / FEED_DECIMALS));
}

async function oraclePrice(s: System, marketId: bigint): Promise<bigint> {
  const feed = marketId === ETH_MARKET ? s.ethFeed : s.btcFeed;
  const [, answer] = await feed.latestRoundData();
  return answer * FEED_DECIMALS;
}

/**
 * Compares risk.ts with the contract's views for every account, at one block: position by position (PnL,
 * notional, funding and social loss from the followed indexes, funding-index growth from the market's last
 * accrual), then the account (equity, initial and maintenance margin to the wei, flags, shortfall, ADL score).
 */
interface Compared {
  positions: number;
  withFunding: number;
  withSocialLoss: number;
}

async function compareAll(s: System, tracker: Tracker, accounts: HardhatEthersSigner[], seen: Compared): Promise<void> {
  const tag = await ethers.provider.getBlockNumber();
  const at = { blockTag: tag };
  const block = await ethers.provider.getBlock(tag);
  const params = new Map(
    await Promise.all(MARKETS.map(async (m) => [m, await s.clearingHouse.marketParams(m, at)] as const)),
  );
  const states = new Map(
    await Promise.all(MARKETS.map(async (m) => [m, await s.clearingHouse.marketState(m, at)] as const)),
  );
  for (const m of MARKETS) {
    const state = states.get(m)!;
    // The view accrues to the call's block: its time is the block's.
    expect(state.lastFundingTime).to.equal(BigInt(block!.timestamp));
    const memo = tracker.markets.get(m);
    if (memo !== undefined) {
      const price = await oraclePrice(s, m);
      const growth = fundingIndexGrowth(
        memo.premiumEma,
        params.get(m)!.maxFundingRate,
        price,
        memo.time - memo.premiumTime,
        state.lastFundingTime - memo.premiumTime,
      );
      expect(state.fundingIndex, `funding index of market ${m}`).to.equal(memo.fundingIndex + growth);
    }
  }
  const rows = await s.lens.healthOf(
    accounts.map((a) => a.address),
    at,
  );
  for (const [i, signer] of accounts.entries()) {
    const a = signer.address;
    const collateral = await s.clearingHouse.collateralOf(a, at);
    const inputs: PositionInput[] = [];
    for (const m of MARKETS) {
      const view = await s.clearingHouse.positionOf(a, m, at);
      if (view.size === 0n) continue;
      const state = states.get(m)!;
      const memo = tracker.positions.get(`${a}:${m}`);
      expect(memo, `followed indexes of ${a} in ${m}`).not.to.equal(undefined);
      const funding = fundingOwed(view.size, memo!.funding, state.fundingIndex);
      const sideIndex = view.size > 0n ? state.longSocialLossIndex : state.shortSocialLossIndex;
      const social = socialLossOwed(view.size, memo!.social, sideIndex);
      expect(funding, `funding owed by ${a} in ${m}`).to.equal(view.fundingOwed);
      expect(social, `social loss owed by ${a} in ${m}`).to.equal(view.socialLossOwed);
      if (funding !== 0n) seen.withFunding++;
      if (social !== 0n) seen.withSocialLoss++;
      expect(unrealizedPnl(view.size, view.openNotional, view.markPrice)).to.equal(view.unrealizedPnl);
      expect(view.markPrice).to.equal(await oraclePrice(s, m));
      const p = params.get(m)!;
      inputs.push({
        size: view.size,
        openNotional: view.openNotional,
        price: view.markPrice,
        charges: funding + social,
        initialMarginRatio: p.initialMarginRatio,
        maintenanceMarginRatio: p.maintenanceMarginRatio,
      });
    }
    const mine = accountHealth(collateral, inputs);
    const theirs = await s.clearingHouse.accountHealth(a, at);
    expect(mine.equity, `equity of ${a}`).to.equal(theirs.equity);
    expect(mine.initialMargin, `initial margin of ${a}`).to.equal(theirs.initialMargin);
    expect(mine.maintenanceMargin, `maintenance margin of ${a}`).to.equal(theirs.maintenanceMargin);
    expect(isLiquidatable(mine)).to.equal(rows[i].liquidatable);
    expect(isBankrupt(mine)).to.equal(rows[i].bankrupt);
    expect(shortfall(mine)).to.equal(rows[i].maintenanceMargin - rows[i].equity);
    for (const m of MARKETS) {
      const view = await s.clearingHouse.positionOf(a, m, at);
      if (view.size === 0n) continue;
      const rank = await s.clearingHouse.adlRank(a, m, at);
      const pnl = unrealizedPnl(view.size, view.openNotional, view.markPrice);
      expect(rank.notional).to.equal(notionalAt(view.size, view.markPrice));
      expect(
        adlScore({ size: view.size, openNotional: view.openNotional, unrealizedPnl: pnl, equity: mine.equity }),
      ).to.equal(rank.score, `ADL score of ${a} in ${m}`);
      seen.positions++;
    }
  }
}

describe("keeper risk math", function () {
  describe("pure parts", function () {
    it("rounds signed products toward −∞ and +∞ like FixedPointMath", function () {
      expect(mulDivFloor(-7n, 1n, 2n)).to.equal(-4n);
      expect(mulDivFloor(7n, 1n, 2n)).to.equal(3n);
      expect(mulDivCeil(-7n, 1n, 2n)).to.equal(-3n);
      expect(mulDivCeil(7n, 1n, 2n)).to.equal(4n);
      expect(mulDivFloor(-6n, 1n, 2n)).to.equal(-3n);
      expect(notionalAt(-3n, E / 2n)).to.equal(2n); // 1.5 wei rounds up
      // ADL score: the entry bucket counted from the losing end; 0 without profit or equity. 100 USD is bucket
      // ⌊256·log2(10^20)⌋ = 17008 (computed independently to 80 digits).
      const at100 = { openNotional: 100n * E, unrealizedPnl: 1n, equity: 1n };
      expect(priceBucket(100n * E)).to.equal(17008);
      expect(priceBucket(75n * E)).to.equal(16902);
      expect(priceBucket(1n)).to.equal(0);
      expect(priceBucket(2n ** 200n + 12345n)).to.equal(51200);
      expect(adlScore({ ...at100, size: E })).to.equal(65_536n - 17008n);
      expect(adlScore({ ...at100, size: -E, openNotional: -100n * E })).to.equal(17009n);
      expect(adlScore({ ...at100, size: E, equity: 0n })).to.equal(0n);
      expect(adlScore({ ...at100, size: E, unrealizedPnl: 0n })).to.equal(0n);
    });

    it("orders the queue by shortfall, largest first, ties by address, healthy accounts out", function () {
      const rows = [
        { account: "0x03", equity: 50n, maintenanceMargin: 100n },
        { account: "0x01", equity: -20n, maintenanceMargin: 100n },
        { account: "0x04", equity: 200n, maintenanceMargin: 100n },
        { account: "0x02", equity: 50n, maintenanceMargin: 100n },
        { account: "0x05", equity: 100n, maintenanceMargin: 100n },
        { account: "0x06", equity: 99n, maintenanceMargin: 100n },
      ];
      expect(orderQueue(rows).map((r) => r.account)).to.deep.equal(["0x01", "0x02", "0x03", "0x06"]);
    });

    it("flags estimates within the buffer of maintenance margin", function () {
      expect(nearMaintenance({ equity: 119n, maintenanceMargin: 100n }, 2000)).to.equal(true);
      expect(nearMaintenance({ equity: 120n, maintenanceMargin: 100n }, 2000)).to.equal(false);
      expect(nearMaintenance({ equity: 0n, maintenanceMargin: 0n }, 2000)).to.equal(false);
      expect(nearMaintenance({ equity: -1n, maintenanceMargin: 0n }, 0)).to.equal(true);
    });
  });

  describe("against the contract's views", function () {
    this.timeout(300_000);

    for (const seed of [20_251_121, 4_242]) {
      it(`matches accountHealth, positionOf, marketState and adlRank to the wei on random states (seed ${seed})`, async function () {
        const rand = prng(seed);
        const s = await deploySystem();
        const [, , , , , , gambler, liquidator, shorty] = s.traders;
        const traders = s.traders.slice(0, 9);
        await mined(s.token.mint(shorty.address, 1_000_000n * USD));
        await mined(s.token.connect(shorty).approve(await s.clearingHouse.getAddress(), ethers.MaxUint256));
        const tracker = new Tracker(s);
        for (const t of traders) {
          const big = t === liquidator || t === shorty;
          const amount = big ? 500_000n * USD : t === gambler ? 2_000n * USD : between(rand, 5_000n, 60_000n) * USD;
          await mined(s.clearingHouse.connect(t).deposit(amount));
        }
        let nonce = 1n;
        let trades = 0;
        const seen: Compared = { positions: 0, withFunding: 0, withSocialLoss: 0 };
        const prices = new Map([
          [ETH_MARKET, await oraclePrice(s, ETH_MARKET)],
          [BTC_MARKET, await oraclePrice(s, BTC_MARKET)],
        ]);
        // The gambler, the liquidator and the short side of the crash stay out of the random trading.
        const traderSet = traders.slice(0, 6);
        for (let step = 0; step < 48; step++) {
          const r = rand();
          if (r < 0.6) {
            const maker = traderSet[Math.floor(rand() * traderSet.length)];
            let taker = traderSet[Math.floor(rand() * traderSet.length)];
            if (taker === maker) taker = traderSet[(traderSet.indexOf(maker) + 1) % traderSet.length];
            const m = rand() < 0.5 ? ETH_MARKET : BTC_MARKET;
            const oracle = prices.get(m)!;
            // Fills within ±4% of the oracle (band 5%) move the premium, hence funding.
            const limitPrice = (oracle * (10_000n + between(rand, 0n, 800n) - 400n)) / 10_000n;
            const size = m === ETH_MARKET ? between(rand, E / 10n, 5n * E) : between(rand, E / 100n, E / 3n);
            try {
              const receipt = await trade(
                s.clearingHouse,
                maker,
                taker,
                { marketId: m, isBuy: rand() < 0.5, size, limitPrice, nonce: nonce++ },
                size,
              );
              await tracker.after(receipt);
              trades++;
            } catch {
              // Margin or open-interest checks refused it: the state is unchanged.
            }
          } else if (r < 0.75) {
            const m = rand() < 0.5 ? ETH_MARKET : BTC_MARKET;
            const next = (prices.get(m)! * (10_000n + between(rand, 0n, 1600n) - 800n)) / 10_000n;
            prices.set(m, next - (next % FEED_DECIMALS));
            await setPrice(s, m, prices.get(m)!);
          } else if (r < 0.9) {
            await networkHelpers.time.increase(Number(between(rand, 60n, 1800n)));
            // Keep both feeds within their heartbeat.
            for (const m of MARKETS) await setPrice(s, m, prices.get(m)!);
          } else {
            const t = traderSet[Math.floor(rand() * traderSet.length)];
            await mined(s.clearingHouse.connect(t).deposit(between(rand, 100n, 5_000n) * USD));
          }
          if (step % 8 === 7) await compareAll(s, tracker, traders, seen);
        }
        expect(trades, `seed ${seed}: trades that went through`).to.be.greaterThan(10);

        // A bankrupt long in the socialized market: its deficit is charged to the short side through the index.
        const btc = prices.get(BTC_MARKET)!;
        const gamblerHealth = await s.clearingHouse.accountHealth(gambler.address);
        const size = (gamblerHealth.freeCollateral * 9n * E) / btc; // 9x leverage
        const receipt = await trade(
          s.clearingHouse,
          gambler,
          shorty,
          { marketId: BTC_MARKET, isBuy: true, size, limitPrice: btc, nonce },
          size,
        );
        await tracker.after(receipt);
        prices.set(BTC_MARKET, (btc * 70n) / 100n - (((btc * 70n) / 100n) % FEED_DECIMALS));
        await setPrice(s, BTC_MARKET, prices.get(BTC_MARKET)!);
        expect((await s.clearingHouse.accountHealth(gambler.address)).equity).to.be.lessThan(0n);
        await compareAll(s, tracker, traders, seen);
        const open = await s.clearingHouse.openMarketsOf(gambler.address);
        // Largest position last, as the keeper would: BTC realizes the deficit.
        const order = [...open].sort((x, y) => (x === BTC_MARKET ? 1 : y === BTC_MARKET ? -1 : Number(x - y)));
        for (const m of order) {
          await tracker.after(
            await mined(s.clearingHouse.connect(liquidator).liquidate(gambler.address, m, MAX_UINT256)),
          );
        }
        const state = await s.clearingHouse.marketState(BTC_MARKET);
        expect(state.shortSocialLossIndex, "a loss was socialized over the shorts").to.be.greaterThan(0n);
        await networkHelpers.time.increase(600);
        for (const m of MARKETS) await setPrice(s, m, prices.get(m)!);
        await compareAll(s, tracker, traders, seen);
        expect(seen.positions, "positions compared").to.be.greaterThan(20);
        expect(seen.withFunding, "positions owing funding").to.be.greaterThan(5);
        expect(seen.withSocialLoss, "positions owing socialized loss").to.be.greaterThan(0);
      });
    }

    it("estimates health at new prices exactly while funding is flat", async function () {
      const rand = prng(7);
      const s = await deploySystem();
      const traders = s.traders.slice(0, 6);
      for (const t of traders) await mined(s.clearingHouse.connect(t).deposit(between(rand, 3_000n, 20_000n) * USD));
      let nonce = 1n;
      for (let i = 0; i < 16; i++) {
        const maker = traders[i % traders.length];
        const taker = traders[(i * 5 + 1) % traders.length];
        if (maker === taker) continue;
        const m = i % 2 === 0 ? ETH_MARKET : BTC_MARKET;
        // At the oracle price: no premium, so no funding accrues and only prices move equity.
        const size = m === ETH_MARKET ? between(rand, E / 10n, 3n * E) : between(rand, E / 100n, E / 5n);
        await trade(
          s.clearingHouse,
          maker,
          taker,
          { marketId: m, isBuy: rand() < 0.5, size, limitPrice: await oraclePrice(s, m), nonce: nonce++ },
          size,
        ).catch(() => undefined);
      }
      const mmr = new Map<number, bigint>();
      for (const m of MARKETS) mmr.set(Number(m), (await s.clearingHouse.marketParams(m)).maintenanceMarginRatio);
      const readPrices = new Map(
        await Promise.all(MARKETS.map(async (m) => [Number(m), await oraclePrice(s, m)] as const)),
      );
      const reads = await Promise.all(
        traders.map(async (t) => {
          const h = await s.clearingHouse.accountHealth(t.address);
          const positions: TrackedPosition[] = [];
          for (const m of MARKETS) {
            const p = await s.clearingHouse.positionOf(t.address, m);
            if (p.size !== 0n) positions.push({ marketId: Number(m), size: p.size, openNotional: p.openNotional });
          }
          return { account: t.address, equity: h.equity, maintenanceMargin: h.maintenanceMargin, positions };
        }),
      );
      for (let round = 0; round < 4; round++) {
        for (const m of MARKETS) {
          const next =
            (readPrices.get(Number(m))! * (10_000n + between(rand, 0n, 3000n) - 1500n)) / 10_000n / FEED_DECIMALS;
          await setPrice(s, m, next * FEED_DECIMALS);
        }
        const now = new Map(await Promise.all(MARKETS.map(async (m) => [Number(m), await oraclePrice(s, m)] as const)));
        for (const read of reads) {
          const estimate = estimateHealth({ ...read, prices: readPrices }, now, mmr);
          const actual = await s.clearingHouse.accountHealth(read.account);
          expect(estimate?.equity, `equity of ${read.account}`).to.equal(actual.equity);
          expect(estimate?.maintenanceMargin, `maintenance of ${read.account}`).to.equal(actual.maintenanceMargin);
        }
      }
      const withPositions = reads.find((r) => r.positions.length > 0)!;
      expect(estimateHealth({ ...withPositions, prices: new Map() }, readPrices, mmr), "price unknown").to.equal(
        undefined,
      );
    });
  });
});
