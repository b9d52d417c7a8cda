import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionReceipt } from "ethers";
import type { ClearingHouse } from "../../typechain-types/index.js";
import {
  deploySystem,
  marketParams,
  networkHelpers,
  BTC_MARKET,
  ETH_MARKET,
  LOSS_POLICY_SOCIALIZED,
  USD,
  WAD,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import {
  clearingHouseEvents,
  expectOpenInterest,
  expectPosition,
  latestTime,
  nextBlockAt,
  trade,
} from "../../devnet/hardhat/trading.js";
import type { DecodedEvent } from "../../devnet/hardhat/trading.js";

const MILLI = 10n ** 15n; // 0.001 in 18 decimals
const FEED = 10n ** 8n; // one unit of an 8-decimal feed answer

interface Ctx extends System {
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner;
}

/** PositionChanged and FeesCollected events of a fill, in order (funding events left out). */
function tradeEvents(clearingHouse: ClearingHouse, receipt: ContractTransactionReceipt): DecodedEvent[] {
  return clearingHouseEvents(clearingHouse, receipt).filter(
    (e) => e.name === "PositionChanged" || e.name === "FeesCollected",
  );
}

/** alice, bob and carol with 100,000 USD each; funding is still on (maxFundingRate 1% a day). */
async function tradersFixture(): Promise<Ctx> {
  const system = await deploySystem();
  const [alice, bob, carol] = system.traders;
  for (const trader of [alice, bob, carol]) {
    await system.clearingHouse.connect(trader).deposit(100_000n * USD);
  }
  return { ...system, alice, bob, carol };
}

/**
 * The same with funding switched off in both markets (maxFundingRate 0), so that every figure below is
 * pure position accounting: fills away from the oracle move no funding index.
 */
async function noFundingFixture(): Promise<Ctx> {
  const c = await tradersFixture();
  const { clearingHouse, riskManager } = c;
  await clearingHouse
    .connect(riskManager)
    .updateMarketParams(ETH_MARKET, marketParams(await c.ethFeed.getAddress(), { maxFundingRate: 0n }));
  await clearingHouse.connect(riskManager).updateMarketParams(
    BTC_MARKET,
    marketParams(await c.btcFeed.getAddress(), {
      maxFundingRate: 0n,
      lossPolicy: LOSS_POLICY_SOCIALIZED,
    }),
  );
  return c;
}

// The lifecycle. alice is maker in ETH (2 bp fee), bob taker (5 bp); in BTC carol is maker, alice taker.

/** alice buys 3 ETH at 2000 from bob; alice sells 0.25 BTC at 60,000 to carol. */
async function stepOpen(c: Ctx): Promise<[ContractTransactionReceipt, ContractTransactionReceipt]> {
  const eth = await trade(c.clearingHouse, c.alice, c.bob, { size: 3n * WAD, limitPrice: 2000n * WAD }, 3n * WAD);
  const btc = await trade(
    c.clearingHouse,
    c.carol,
    c.alice,
    { marketId: BTC_MARKET, size: WAD / 4n, limitPrice: 60_000n * WAD },
    WAD / 4n,
  );
  return [eth, btc];
}

/** alice buys 4 more ETH at 2030. */
function stepAdd(c: Ctx): Promise<ContractTransactionReceipt> {
  return trade(c.clearingHouse, c.alice, c.bob, { size: 4n * WAD, limitPrice: 2030n * WAD, nonce: 1n }, 4n * WAD);
}

/** alice sells 2 ETH at 2060. */
function stepReduce(c: Ctx): Promise<ContractTransactionReceipt> {
  return trade(
    c.clearingHouse,
    c.alice,
    c.bob,
    { isBuy: false, size: 2n * WAD, limitPrice: 2060n * WAD, nonce: 2n },
    2n * WAD,
  );
}

/** alice sells her remaining 5 ETH at 2070. */
function stepClose(c: Ctx): Promise<ContractTransactionReceipt> {
  return trade(
    c.clearingHouse,
    c.alice,
    c.bob,
    { isBuy: false, size: 5n * WAD, limitPrice: 2070n * WAD, nonce: 3n },
    5n * WAD,
  );
}

async function openedFixture(): Promise<Ctx> {
  const c = await noFundingFixture();
  await stepOpen(c);
  return c;
}

async function addedFixture(): Promise<Ctx> {
  const c = await openedFixture();
  await stepAdd(c);
  return c;
}

async function reducedFixture(): Promise<Ctx> {
  const c = await addedFixture();
  await stepReduce(c);
  return c;
}

// Figures after each step (18 decimals).
// reduce: alice closes 2 of 7 whose cost is 14,120: closed cost = ⌈14120 × 2 / 7⌉ = 4034.285714285714285715
// (rounded up, against alice); bob's closed cost −14120 × 2/7 rounds toward +∞ too: −4034.285714285714285714.
const ALICE_ON_AFTER_REDUCE = 10085714285714285714285n; // 14120 − 4034.285714285714285715
const BOB_ON_AFTER_REDUCE = -10085714285714285714286n; // −14120 + 4034.285714285714285714
const ALICE_REALIZED_REDUCE = 85714285714285714285n; // 4120 − 4034.285714285714285715
const BOB_REALIZED_REDUCE = -85714285714285714286n; // −4120 + 4034.285714285714285714
// collateral after reduce: alice 100000 − 1.2 − 7.5 − 1.624 − 0.824 + 85.714285714285714285
const ALICE_COLLATERAL_AFTER_REDUCE = 100074566285714285714285n;
// bob 100000 − 3 − 4.06 − 2.06 − 85.714285714285714286
const BOB_COLLATERAL_AFTER_REDUCE = 99905165714285714285714n;

describe("ClearingHouse positions", () => {
  it("opens positions on both sides of two markets", async () => {
    const c = await networkHelpers.loadFixture(noFundingFixture);
    const { clearingHouse, alice, bob, carol } = c;
    const [eth, btc] = await stepOpen(c);

    // ETH notional 3 × 2000 = 6000: alice (maker) fee 1.2, bob (taker) fee 3; insurance 30%
    expect(tradeEvents(clearingHouse, eth)).to.deep.equal([
      { name: "FeesCollected", args: [ETH_MARKET, 12n * 10n ** 17n, 36n * 10n ** 16n] },
      {
        name: "PositionChanged",
        args: [alice.address, ETH_MARKET, 3n * WAD, 6000n * WAD, 0n, 12n * 10n ** 17n],
      },
      { name: "FeesCollected", args: [ETH_MARKET, 3n * WAD, 9n * 10n ** 17n] },
      {
        name: "PositionChanged",
        args: [bob.address, ETH_MARKET, -3n * WAD, -6000n * WAD, 0n, 3n * WAD],
      },
    ]);
    // BTC notional 0.25 × 60000 = 15000: carol (maker) fee 3, alice (taker) fee 7.5
    expect(tradeEvents(clearingHouse, btc)).to.deep.equal([
      { name: "FeesCollected", args: [BTC_MARKET, 3n * WAD, 9n * 10n ** 17n] },
      {
        name: "PositionChanged",
        args: [carol.address, BTC_MARKET, WAD / 4n, 15_000n * WAD, 0n, 3n * WAD],
      },
      { name: "FeesCollected", args: [BTC_MARKET, 75n * 10n ** 17n, 225n * 10n ** 16n] },
      {
        name: "PositionChanged",
        args: [alice.address, BTC_MARKET, -WAD / 4n, -15_000n * WAD, 0n, 75n * 10n ** 17n],
      },
    ]);

    await expectPosition(clearingHouse, alice.address, ETH_MARKET, 3n * WAD, 6000n * WAD);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, -3n * WAD, -6000n * WAD);
    await expectPosition(clearingHouse, alice.address, BTC_MARKET, -WAD / 4n, -15_000n * WAD);
    await expectPosition(clearingHouse, carol.address, BTC_MARKET, WAD / 4n, 15_000n * WAD);
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(999_913n * 10n ** 17n); // 100000 − 1.2 − 7.5
    expect(await clearingHouse.collateralOf(bob.address)).to.equal(99_997n * WAD);
    expect(await clearingHouse.collateralOf(carol.address)).to.equal(99_997n * WAD);
    await expectOpenInterest(clearingHouse, ETH_MARKET, 3n * WAD);
    await expectOpenInterest(clearingHouse, BTC_MARKET, WAD / 4n);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([ETH_MARKET, BTC_MARKET]);
    expect(await clearingHouse.openMarketsOf(bob.address)).to.deep.equal([ETH_MARKET]);
    expect(await clearingHouse.openMarketsOf(carol.address)).to.deep.equal([BTC_MARKET]);
  });

  it("adds to a position: cost bases add up to the average entry price", async () => {
    const c = await networkHelpers.loadFixture(openedFixture);
    const { clearingHouse, alice, bob } = c;
    const receipt = await stepAdd(c);

    // notional 4 × 2030 = 8120: alice fee 1.624, bob fee 4.06; cost 6000 + 8120 = 14120 for 7
    expect(tradeEvents(clearingHouse, receipt)).to.deep.equal([
      { name: "FeesCollected", args: [ETH_MARKET, 1624n * MILLI, 4872n * 10n ** 14n] },
      {
        name: "PositionChanged",
        args: [alice.address, ETH_MARKET, 7n * WAD, 14_120n * WAD, 0n, 1624n * MILLI],
      },
      { name: "FeesCollected", args: [ETH_MARKET, 406n * 10n ** 16n, 1218n * MILLI] },
      {
        name: "PositionChanged",
        args: [bob.address, ETH_MARKET, -7n * WAD, -14_120n * WAD, 0n, 406n * 10n ** 16n],
      },
    ]);
    const p = await clearingHouse.positionOf(alice.address, ETH_MARKET);
    expect(p.size).to.equal(7n * WAD);
    expect(p.openNotional).to.equal(14_120n * WAD);
    // average entry 14120 / 7 = 2017.142857142857142857…
    expect((p.openNotional * WAD) / p.size).to.equal(2017142857142857142857n);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, -7n * WAD, -14_120n * WAD);
    // alice 99991.3 − 1.624; bob 99997 − 4.06
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(99_989_676n * MILLI);
    expect(await clearingHouse.collateralOf(bob.address)).to.equal(99_992_940n * MILLI);
    await expectOpenInterest(clearingHouse, ETH_MARKET, 7n * WAD);
    await expectOpenInterest(clearingHouse, BTC_MARKET, WAD / 4n);
  });

  it("partially reduces: realizes PnL on the closed part, rounded against each account", async () => {
    const c = await networkHelpers.loadFixture(addedFixture);
    const { clearingHouse, alice, bob } = c;
    const receipt = await stepReduce(c);

    // notional 2 × 2060 = 4120: alice fee 0.824, bob fee 2.06
    expect(tradeEvents(clearingHouse, receipt)).to.deep.equal([
      { name: "FeesCollected", args: [ETH_MARKET, 824n * MILLI, 2472n * 10n ** 14n] },
      {
        name: "PositionChanged",
        args: [alice.address, ETH_MARKET, 5n * WAD, ALICE_ON_AFTER_REDUCE, ALICE_REALIZED_REDUCE, 824n * MILLI],
      },
      { name: "FeesCollected", args: [ETH_MARKET, 206n * 10n ** 16n, 618n * MILLI] },
      {
        name: "PositionChanged",
        args: [bob.address, ETH_MARKET, -5n * WAD, BOB_ON_AFTER_REDUCE, BOB_REALIZED_REDUCE, 206n * 10n ** 16n],
      },
    ]);
    // the two sides' realized PnL sum to −1 wei: the rounding dust stays with the protocol
    expect(ALICE_REALIZED_REDUCE + BOB_REALIZED_REDUCE).to.equal(-1n);

    await expectPosition(clearingHouse, alice.address, ETH_MARKET, 5n * WAD, ALICE_ON_AFTER_REDUCE);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, -5n * WAD, BOB_ON_AFTER_REDUCE);
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(ALICE_COLLATERAL_AFTER_REDUCE);
    expect(await clearingHouse.collateralOf(bob.address)).to.equal(BOB_COLLATERAL_AFTER_REDUCE);
    await expectOpenInterest(clearingHouse, ETH_MARKET, 5n * WAD);
    await expectOpenInterest(clearingHouse, BTC_MARKET, WAD / 4n);
  });

  it("closes a position: size and cost zero, market dropped from openMarketsOf, the rest realized", async () => {
    const c = await networkHelpers.loadFixture(reducedFixture);
    const { clearingHouse, alice, bob, carol } = c;
    const receipt = await stepClose(c);

    // notional 5 × 2070 = 10350: alice fee 2.07, bob fee 5.175
    // alice realizes 10350 − 10085.714285714285714285 = 264.285714285714285715
    // bob realizes −10350 + 10085.714285714285714286 = −264.285714285714285714
    expect(tradeEvents(clearingHouse, receipt)).to.deep.equal([
      { name: "FeesCollected", args: [ETH_MARKET, 207n * 10n ** 16n, 621n * MILLI] },
      {
        name: "PositionChanged",
        args: [alice.address, ETH_MARKET, 0n, 0n, 264285714285714285715n, 207n * 10n ** 16n],
      },
      { name: "FeesCollected", args: [ETH_MARKET, 5175n * MILLI, 15525n * 10n ** 14n] },
      {
        name: "PositionChanged",
        args: [bob.address, ETH_MARKET, 0n, 0n, -264285714285714285714n, 5175n * MILLI],
      },
    ]);
    // over the whole round trip alice bought 14120 and sold 4120 + 10350 = 14470: exactly +350 realized
    expect(ALICE_REALIZED_REDUCE + 264285714285714285715n).to.equal(350n * WAD);
    expect(BOB_REALIZED_REDUCE - 264285714285714285714n).to.equal(-350n * WAD);

    await expectPosition(clearingHouse, alice.address, ETH_MARKET, 0n, 0n);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, 0n, 0n);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([BTC_MARKET]);
    expect(await clearingHouse.openMarketsOf(bob.address)).to.deep.equal([]);
    expect(await clearingHouse.openMarketsOf(carol.address)).to.deep.equal([BTC_MARKET]);
    // alice 100000 + 350 − (1.2 + 7.5 + 1.624 + 0.824 + 2.07) = 100336.782
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(100_336_782n * MILLI);
    // bob 100000 − 350 − (3 + 4.06 + 2.06 + 5.175) = 99635.705
    expect(await clearingHouse.collateralOf(bob.address)).to.equal(99_635_705n * MILLI);
    await expectOpenInterest(clearingHouse, ETH_MARKET, 0n);
    await expectOpenInterest(clearingHouse, BTC_MARKET, WAD / 4n);
    const health = await clearingHouse.accountHealth(bob.address);
    expect(health.equity).to.equal(99_635_705n * MILLI);
    expect(health.initialMargin).to.equal(0n);
  });

  it("flips a position: realizes the closed part and opens the rest at the fill price", async () => {
    const c = await networkHelpers.loadFixture(noFundingFixture);
    const { clearingHouse, alice, bob } = c;
    await trade(clearingHouse, alice, bob, { size: 2n * WAD }, 2n * WAD); // alice long 2 at 2000, fees 0.8 / 2
    await expectOpenInterest(clearingHouse, ETH_MARKET, 2n * WAD);

    // alice sells 5 at 2010: notional 10050; the closing 2/5 of it is 4020, the opening 3/5 is 6030
    const flip = await trade(
      clearingHouse,
      alice,
      bob,
      { isBuy: false, size: 5n * WAD, limitPrice: 2010n * WAD, nonce: 1n },
      5n * WAD,
    );
    // alice realizes 4020 − 4000 = 20 and is short 3 at 2010; fees 2.01 / 5.025
    expect(tradeEvents(clearingHouse, flip)).to.deep.equal([
      { name: "FeesCollected", args: [ETH_MARKET, 201n * 10n ** 16n, 603n * MILLI] },
      {
        name: "PositionChanged",
        args: [alice.address, ETH_MARKET, -3n * WAD, -6030n * WAD, 20n * WAD, 201n * 10n ** 16n],
      },
      { name: "FeesCollected", args: [ETH_MARKET, 5025n * MILLI, 15075n * 10n ** 14n] },
      {
        name: "PositionChanged",
        args: [bob.address, ETH_MARKET, 3n * WAD, 6030n * WAD, -20n * WAD, 5025n * MILLI],
      },
    ]);
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(100_017_190n * MILLI); // 100000 − 0.8 − 2.01 + 20
    expect(await clearingHouse.collateralOf(bob.address)).to.equal(99_972_975n * MILLI); // 100000 − 2 − 5.025 − 20
    await expectOpenInterest(clearingHouse, ETH_MARKET, 3n * WAD);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([ETH_MARKET]);

    // flip back with rounding: alice buys 10/3 (3333333333333333333 wei) at 2005 + 7 wei
    const size = 3333333333333333333n;
    const price = 2005n * WAD + 7n;
    // notional = ⌊3333333333333333333 × (2005e18 + 7) / 1e18⌋ = 6683333333333333332665 + ⌊23.3⌋
    const notional = 6683333333333333332688n;
    // closing part = ⌊notional × 3e18 / size⌋ = 6015000000000000000020 (rounded down)
    const closing = 6015000000000000000020n;
    const makerFee = 1336666666666666667n; // ⌈notional × 0.0002⌉
    const takerFee = 3341666666666666667n; // ⌈notional × 0.0005⌉
    const back = await trade(clearingHouse, alice, bob, { size, limitPrice: price, nonce: 2n }, size);
    const events = tradeEvents(clearingHouse, back).filter((e) => e.name === "PositionChanged");
    expect(events).to.deep.equal([
      // alice: realized 6030 − closing = 14.99999999999999998; long 333333333333333333 at cost notional − closing
      {
        name: "PositionChanged",
        args: [alice.address, ETH_MARKET, 333333333333333333n, notional - closing, 6030n * WAD - closing, makerFee],
      },
      {
        name: "PositionChanged",
        args: [bob.address, ETH_MARKET, -333333333333333333n, closing - notional, closing - 6030n * WAD, takerFee],
      },
    ]);
    expect(notional - closing).to.equal(668333333333333332668n);
    expect(6030n * WAD - closing).to.equal(14999999999999999980n);
    // 100017.19 + 14.99999999999999998 − 1.336666666666666667
    expect(await clearingHouse.collateralOf(alice.address)).to.equal(100030853333333333333313n);
    // 99972.975 − 14.99999999999999998 − 3.341666666666666667
    expect(await clearingHouse.collateralOf(bob.address)).to.equal(99954633333333333333353n);
    await expectOpenInterest(clearingHouse, ETH_MARKET, 333333333333333333n);
    await expectOpenInterest(clearingHouse, BTC_MARKET, 0n);

    // valuation with a price that does not divide evenly: 2000.12345678
    await c.ethFeed.setAnswer(200012345678n);
    // alice: ⌊333333333333333333 × 2000.12345678⌋ − 668333333333333332668 = −1.625514406666666669
    // bob:   ⌊−333333333333333333 × 2000.12345678⌋ + 668333333333333332668 = +1.625514406666666668
    const a = await clearingHouse.positionOf(alice.address, ETH_MARKET);
    const b = await clearingHouse.positionOf(bob.address, ETH_MARKET);
    expect(a.markPrice).to.equal(200012345678n * 10n ** 10n);
    expect(a.unrealizedPnl).to.equal(-1625514406666666669n);
    expect(b.unrealizedPnl).to.equal(1625514406666666668n);
  });

  it("values positions at the oracle: positionOf unrealized PnL and accountHealth after a price move", async () => {
    const c = await networkHelpers.loadFixture(reducedFixture);
    const { clearingHouse, alice, bob, carol, ethFeed, btcFeed } = c;
    await ethFeed.setAnswer(2100n * FEED);
    await btcFeed.setAnswer(59_000n * FEED);

    const aliceEth = await clearingHouse.positionOf(alice.address, ETH_MARKET);
    expect(aliceEth.markPrice).to.equal(2100n * WAD);
    // 5 × 2100 − 10085.714285714285714285 = 414.285714285714285715
    expect(aliceEth.unrealizedPnl).to.equal(414285714285714285715n);
    expect(aliceEth.fundingOwed).to.equal(0n);
    // −5 × 2100 + 10085.714285714285714286 = −414.285714285714285714
    expect((await clearingHouse.positionOf(bob.address, ETH_MARKET)).unrealizedPnl).to.equal(-414285714285714285714n);
    // short 0.25 BTC from 60000 to 59000: +250; carol's long −250
    const aliceBtc = await clearingHouse.positionOf(alice.address, BTC_MARKET);
    expect(aliceBtc.markPrice).to.equal(59_000n * WAD);
    expect(aliceBtc.unrealizedPnl).to.equal(250n * WAD);
    expect((await clearingHouse.positionOf(carol.address, BTC_MARKET)).unrealizedPnl).to.equal(-250n * WAD);

    const health = await clearingHouse.accountHealth(alice.address);
    expect(health.collateral).to.equal(ALICE_COLLATERAL_AFTER_REDUCE);
    // 100074.566285714285714285 + 414.285714285714285715 + 250 = 100738.852
    expect(health.equity).to.equal(100_738_852n * MILLI);
    // IM = 5 × 2100 × 10% + 0.25 × 59000 × 10% = 1050 + 1475; MM half of it
    expect(health.initialMargin).to.equal(2525n * WAD);
    expect(health.maintenanceMargin).to.equal(12625n * 10n ** 17n);
    // free = min(collateral, equity − IM) = 100738.852 − 2525
    expect(health.freeCollateral).to.equal(98_213_852n * MILLI);

    const bobHealth = await clearingHouse.accountHealth(bob.address);
    // 99905.165714285714285714 − 414.285714285714285714 = 99490.88
    expect(bobHealth.equity).to.equal(99_490_880n * MILLI);
    expect(bobHealth.initialMargin).to.equal(1050n * WAD);
  });

  it("accountHealth: equity = collateral + Σ unrealized − Σ funding owed across two markets", async () => {
    const c = await networkHelpers.loadFixture(tradersFixture);
    const { clearingHouse, alice, bob, carol, ethFeed, btcFeed } = c;
    const base = (await latestTime()) + 100n;

    // fills at the oracle price take a zero premium: both premium averages stay 0
    await nextBlockAt(base);
    await trade(clearingHouse, alice, bob, { size: 2n * WAD }, 2n * WAD); // alice long 2 ETH at 2000, fee 0.8
    await nextBlockAt(base + 1n);
    await trade(
      clearingHouse,
      alice,
      carol,
      { marketId: BTC_MARKET, isBuy: false, size: WAD / 2n, limitPrice: 60_000n * WAD },
      WAD / 2n,
    ); // alice short 0.5 BTC at 60000, fee 6

    // 600 s later, fills away from the oracle that add open interest form premium samples; 600 s after that a
    // fill in each market takes its sample in, weighted by the time held and by the interest added against the
    // interest before: weight = ⌊600 × added / (added + base)⌋ seconds of the 3600 s window.
    // ETH premium +2% on 0.1 added to 2: weight ⌊600 × 0.1 / 2.1⌋ = 28, ema = ⌊0.02 × 28 / 3600⌋ = 0.000155555555555555
    await nextBlockAt(base + 600n);
    await trade(clearingHouse, carol, bob, { size: WAD / 10n, limitPrice: 2040n * WAD }, WAD / 10n);
    // BTC premium −1%: carol buys 0.1 more at 59,400 from bob, 0.1 added to 0.5: weight ⌊600 × 0.1 / 0.6⌋ = 100,
    // ema = ⌊−0.01 × 100 / 3600⌋ = −0.000277777777777778 (toward −∞)
    await nextBlockAt(base + 601n);
    await trade(
      clearingHouse,
      bob,
      carol,
      { marketId: BTC_MARKET, isBuy: false, size: WAD / 10n, limitPrice: 59_400n * WAD },
      WAD / 10n,
    );
    // ETH: alice +2, carol +0.1, bob −2.1; BTC: alice −0.5, carol +0.6, bob −0.1
    await expectOpenInterest(clearingHouse, ETH_MARKET, (21n * WAD) / 10n);
    await expectOpenInterest(clearingHouse, BTC_MARKET, (6n * WAD) / 10n);
    expect(await clearingHouse.fundingRate(ETH_MARKET)).to.equal(0n);
    // Carol adds 0.001 in each market at the oracle price, which takes the samples in.
    await nextBlockAt(base + 1200n);
    await trade(clearingHouse, carol, bob, { size: WAD / 1000n, nonce: 2n }, WAD / 1000n);
    expect(await clearingHouse.fundingRate(ETH_MARKET)).to.equal(155555555555555n);
    await nextBlockAt(base + 1201n);
    await trade(
      clearingHouse,
      carol,
      bob,
      { marketId: BTC_MARKET, size: WAD / 1000n, limitPrice: 60_000n * WAD, nonce: 3n },
      WAD / 1000n,
    );
    expect(await clearingHouse.fundingRate(BTC_MARKET)).to.equal(-277777777777778n);

    // new oracle prices, then read everything as of base + 2400
    await nextBlockAt(base + 2398n);
    await ethFeed.setAnswer(2100n * FEED);
    await nextBlockAt(base + 2399n);
    await btcFeed.setAnswer(59_000n * FEED);
    await nextBlockAt(base + 2400n);
    const pending = { blockTag: "pending" };

    // Each average falls by 1% an hour and is gone within the period (ETH after 56 s, BTC after 100 s), so the
    // index grows by ∫ = e² × 3600 / (2 × 1%) at the current price: (e × 3600)² × P / (2 × 3600 × 1% × 1 day).
    // ETH: ⌊(0.000155555555555555 × 3600)² × 2100 / 622,080⌋ = 0.000105864197530863;
    // alice (long 2) owes ⌈2 × 0.000105864197530863⌉ = 0.000211728395061726
    const ethOwed = 211728395061726n;
    // BTC: −⌈(0.000277777777777778 × 3600)² × 59000 / 622,080⌉ = −0.009484310699588493;
    // alice (short 0.5) owes ⌈−0.5 × −0.009484310699588493⌉ = 0.004742155349794247: shorts pay
    const btcOwed = 4742155349794247n;
    const eth = await clearingHouse.positionOf(alice.address, ETH_MARKET, pending);
    const btc = await clearingHouse.positionOf(alice.address, BTC_MARKET, pending);
    expect(eth.fundingOwed).to.equal(ethOwed);
    expect(btc.fundingOwed).to.equal(btcOwed);
    expect(eth.unrealizedPnl).to.equal(200n * WAD); // 2 × 2100 − 4000
    expect(btc.unrealizedPnl).to.equal(500n * WAD); // −0.5 × 59000 + 30000

    const health = await clearingHouse.accountHealth(alice.address, pending);
    const collateral = 99_993_200n * MILLI; // 100000 − 0.8 − 6
    expect(health.collateral).to.equal(collateral);
    // 99993.2 + 200 + 500 − 0.000211728395061726 − 0.004742155349794247
    expect(health.equity).to.equal(100693195046116255144027n);
    expect(health.equity).to.equal(collateral + 700n * WAD - ethOwed - btcOwed);
    expect(health.initialMargin).to.equal(3370n * WAD); // 2 × 2100 × 10% + 0.5 × 59000 × 10%
    expect(health.maintenanceMargin).to.equal(1685n * WAD);
    // free = min(collateral − owed, equity − IM) = equity − 3370
    expect(health.freeCollateral).to.equal(97323195046116255144027n);
    // settled collateral is untouched until the positions are touched
    expect(await clearingHouse.collateralOf(alice.address, pending)).to.equal(collateral);
  });
});
