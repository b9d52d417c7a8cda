import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { ETH_MARKET, USD, WAD, deploySystem, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { expectPosition, mined, trade } from "../../devnet/hardhat/trading.js";
import {
  ev,
  expectClearingHouseFunds,
  quietFunding,
  quietMarkets,
  setPrice,
  waterfallEvents,
  waterfallSnapshot,
} from "../../devnet/hardhat/waterfall.js";

// A partial liquidation with a liquidation buffer (LiquidationMath.sizeRestoringMaintenance): the ETH market of
// liquidation.test.ts (maintenance 5%, discount 1%, fee 1%, funding and trading fees off) with a 25% buffer, so a
// partial liquidation restores equity to 1.25 × maintenance instead of exactly maintenance. All amounts are
// 18-decimal wei unless they say "units" (the 6-decimal token).

const E = WAD;
const BUFFER = WAD / 4n; // 25%

interface Ctx extends System {
  alice: HardhatEthersSigner; // the account liquidated
  bob: HardhatEthersSigner; // its counterparty
  carol: HardhatEthersSigner; // the liquidator
}

/** alice deposits 1,000 USD and buys 4 ETH at 2,000 from bob; the ETH market gets a 25% buffer; price 1,800. */
async function bufferedFixture(): Promise<Ctx> {
  const system = await deploySystem();
  await quietMarkets(system, false, BUFFER);
  const [alice, bob, carol] = system.traders;
  await system.clearingHouse.connect(alice).deposit(1_000n * USD);
  await system.clearingHouse.connect(bob).deposit(100_000n * USD);
  await system.clearingHouse.connect(carol).deposit(100_000n * USD);
  await trade(system.clearingHouse, alice, bob, { size: 4n * E, limitPrice: 2000n * E }, 4n * E);
  await setPrice(system.ethFeed, 1800n * E);
  return { ...system, alice, bob, carol };
}

// ---------------------------------------------------------------- the worked example at 1,800, buffer 25%
// equity = 1000 + 4 × (1800 − 2000) = 200; maintenance = 4 × 1800 × 5% = 360; target 1.25 × maintenance.
// Closing q lowers equity by 1800 × (1% + 1%) = 36 per ETH and the target by 1.25 × 1800 × 5% = 112.5 per ETH:
// the gap 1.25 × 360 − 200 = 250 closes at 112.5 − 36 = 76.5 per ETH, so q = ⌈250 / 76.5⌉ ETH, rounded up to the
// wei: 3.267973856209150326797… → 3.267973856209150327 (without the buffer: ⌈160 / 54⌉ = 2.962962962962962963).
const Q = 3_267_973_856_209_150_327n;
const NOTIONAL = 5_882_352_941_176_470_588_600n; // q × 1800, exact
const REWARD = 58_823_529_411_764_705_886n; // ⌊notional × 1%⌋ (notional ends in 00: exact)
const FEE = REWARD; // ⌈notional × 1%⌉, the same
const HANDOVER = NOTIONAL - REWARD; // 5823.529411764705882714: carol buys at the oracle less the discount
const CLOSED_COST = 6_535_947_712_418_300_654_000n; // 8000 × q / 4 = 2000 × q
const REALIZED = HANDOVER - CLOSED_COST; // −712.418300653594771286
const COLLATERAL = 1000n * E + REALIZED - FEE; // 228.758169934640522828
const SIZE = 4n * E - Q; // 0.732026143790849673
const COST = 8000n * E - CLOSED_COST; // 1464.052287581699346000
// equity = 200 − reward − fee (the price is a whole number of USD: no rounding in the valuation)
const EQUITY = 200n * E - REWARD - FEE; // 82.352941176470588228
// maintenance = ⌈0.732026143790849673 × 1800 × 5%⌉ = ⌈1317.6470588235294114 × 5%⌉ = 65.88235294117647057
const MAINTENANCE = 65_882_352_941_176_470_570n;

/** True when equity ≥ (1 + buffer) × maintenance, compared exactly (both sides times 10^18). */
const reachesBuffer = (equity: bigint, maintenance: bigint, buffer: bigint): boolean =>
  equity * WAD >= maintenance * (WAD + buffer);

describe("Liquidation with a liquidation buffer", function () {
  it("closes the smallest size restoring 1.25 × maintenance: size, reward, fee and health to the wei", async function () {
    const c = await networkHelpers.loadFixture(bufferedFixture);
    const { clearingHouse, alice, bob, carol } = c;
    const before = await clearingHouse.accountHealth(alice.address);
    expect([before.equity, before.maintenanceMargin]).to.deep.equal([200n * E, 360n * E]);

    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));

    expect(REALIZED).to.equal(-712_418_300_653_594_771_286n);
    expect(COLLATERAL).to.equal(228_758_169_934_640_522_828n);
    expect(EQUITY).to.equal(82_352_941_176_470_588_228n);
    expect(waterfallEvents(clearingHouse, c.fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1800n * E),
      ev("PositionChanged", alice.address, ETH_MARKET, SIZE, COST, REALIZED, FEE),
      ev("PositionChanged", carol.address, ETH_MARKET, Q, HANDOVER, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, Q, 1800n * E, REWARD, FEE, false),
    ]);
    const after = await clearingHouse.accountHealth(alice.address);
    expect([after.collateral, after.equity, after.maintenanceMargin]).to.deep.equal([COLLATERAL, EQUITY, MAINTENANCE]);
    // 1.25 × 65.88235294117647057 = 82.3529411764705882125 ≤ 82.352941176470588228.
    expect(reachesBuffer(after.equity, after.maintenanceMargin, BUFFER)).to.equal(true);
    await expectPosition(clearingHouse, alice.address, ETH_MARKET, SIZE, COST);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, Q, HANDOVER);
    expect((await clearingHouse.positionOf(carol.address, ETH_MARKET)).unrealizedPnl).to.equal(REWARD);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, -4n * E, -8000n * E);
    await expectClearingHouseFunds(c, { tokenBalance: 201_000n * USD, insuranceFees: FEE, protocolFees: 0n });
  });

  it("one wei of size less does not reach the buffered target", async function () {
    const c = await networkHelpers.loadFixture(bufferedFixture);
    const { clearingHouse, alice, carol } = c;
    // carol asks for q − 1: the contract gives exactly that.
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, Q - 1n));
    // notional 5882.3529411764705868; reward = fee = 58.823529411764705868.
    const reward = 58_823_529_411_764_705_868n;
    expect(waterfallEvents(clearingHouse, c.fund, receipt).at(-1)).to.deep.equal(
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, Q - 1n, 1800n * E, reward, reward, false),
    );
    const after = await clearingHouse.accountHealth(alice.address);
    // equity 200 − 2 × 58.823529411764705868 = 82.352941176470588264; maintenance ⌈0.732026143790849674 × 90⌉
    // = 65.88235294117647066, × 1.25 = 82.352941176470588325 > equity.
    expect([after.equity, after.maintenanceMargin]).to.deep.equal([
      82_352_941_176_470_588_264n,
      65_882_352_941_176_470_660n,
    ]);
    expect(reachesBuffer(after.equity, after.maintenanceMargin, BUFFER)).to.equal(false);
  });

  it("buffer 0 closes exactly the unbuffered size (2.962962962962962963 ETH, as liquidation.test.ts)", async function () {
    const c = await networkHelpers.loadFixture(bufferedFixture);
    await quietMarkets(c, false, 0n);
    const { clearingHouse, alice, carol } = c;
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    const q = 2_962_962_962_962_962_963n;
    const reward = 53_333_333_333_333_333_334n;
    expect(waterfallEvents(clearingHouse, c.fund, receipt).at(-1)).to.deep.equal(
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, q, 1800n * E, reward, reward, false),
    );
    const after = await clearingHouse.accountHealth(alice.address);
    expect([after.equity, after.maintenanceMargin]).to.deep.equal([
      93_333_333_333_333_333_332n,
      93_333_333_333_333_333_330n,
    ]);
  });

  it("the threshold does not move: an account above maintenance but below the buffered target is not liquidatable", async function () {
    const c = await networkHelpers.loadFixture(bufferedFixture);
    const { clearingHouse, alice, carol } = c;
    // At 1,850: equity 400 ≥ maintenance 370, below 1.25 × 370 = 462.5.
    await setPrice(c.ethFeed, 1850n * E);
    const accounts = [alice.address, c.bob.address, carol.address];
    const before = await waterfallSnapshot(c, accounts);
    await expect(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256))
      .to.be.revertedWithCustomError(clearingHouse, "NotLiquidatable")
      .withArgs(alice.address, 400n * E, 370n * E);
    expect(await waterfallSnapshot(c, accounts)).to.deep.equal(before);
  });

  it("closes the whole position when even all of it cannot reach the target (100% buffer at 1,760)", async function () {
    const c = await networkHelpers.loadFixture(bufferedFixture);
    await quietMarkets(c, false, WAD);
    const { clearingHouse, alice, carol } = c;
    // At 1,760: equity 1000 − 960 = 40, maintenance 352. Target 2 × maintenance: gap 704 − 40 = 664 closes at
    // 1760 × (2 × 5% − 2%) = 140.8 per ETH: 4.7159… ETH > 4, so all 4 ETH go (as without a buffer: in one market
    // the whole position is needed exactly when the penalty on all of it takes the equity). Reward and fee 1% of
    // 7,040 each (70.4) exceed the equity 40 together: they split it 1 : 1, 20 each, and alice ends at exactly 0.
    await setPrice(c.ethFeed, 1760n * E);
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(clearingHouse, c.fund, receipt).at(-1)).to.deep.equal(
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, 4n * E, 1760n * E, 20n * E, 20n * E, false),
    );
    const after = await clearingHouse.accountHealth(alice.address);
    expect([after.equity, after.maintenanceMargin]).to.deep.equal([0n, 0n]);
  });
});
