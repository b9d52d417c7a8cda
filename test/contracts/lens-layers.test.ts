// BackstopLens with and without default layers (issue 11): fundState reads the stakers' ERC-4626 fund through
// the layers' `stakers()`, and layersState shows every layer's size and what it would pay towards a draw made
// now. Amounts of the layers are token units (6 decimals).
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";

import {
  BTC_MARKET,
  LAYER_PARAMS,
  USD,
  WAD,
  deploySystem,
  deploySystemWithLayers,
  ethers,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { fundFirstLoss, joinAsMember, layersOf } from "../../devnet/hardhat/layers.js";
import { latestTime, mined, trade } from "../../devnet/hardhat/trading.js";
import { quietMarkets, setFundLimits, setPrice, stake } from "../../devnet/hardhat/waterfall.js";
import type { BackstopLens } from "../../typechain-types/index.js";

const E = WAD;
const MAX = ethers.MaxUint256;
const EIGHT_HOURS = 8n * 3_600n;

interface Ctx extends System {
  alice: HardhatEthersSigner; // goes bankrupt
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner; // liquidator
  dave: HardhatEthersSigner; // staker
  erin: HardhatEthersSigner; // member: 150 contributed, 1,000 collateral
  frank: HardhatEthersSigner; // member: 50 contributed, 60 collateral
}

/**
 * First loss 100; dave stakes 10,000 (the fund pays ≤ 200 a day); erin joins with 150 (1,000 in the clearing
 * house), frank with 50 (60). alice (6,100) buys 1 BTC at 60,000 from bob (pot 12.6), BTC falls to 53,000:
 * alice's deficit is 912 (test/contracts/waterfall/layers.test.ts works the same default through).
 */
async function setUp(drawdownFraction: bigint): Promise<Ctx> {
  const system = await deploySystemWithLayers({ ...LAYER_PARAMS, drawdownFraction });
  await quietMarkets(system, true);
  const [alice, bob, carol, dave, erin, frank] = system.traders;
  await fundFirstLoss(system, 100n * USD);
  await stake(system.fund, dave, 10_000n * USD);
  await setFundLimits(system, 0n, 200n * USD);
  await joinAsMember(system, erin, 1_000n * USD, 150n * USD);
  await joinAsMember(system, frank, 60n * USD, 50n * USD);
  await mined(system.clearingHouse.connect(alice).deposit(6_100n * USD));
  await mined(system.clearingHouse.connect(bob).deposit(100_000n * USD));
  await mined(system.clearingHouse.connect(carol).deposit(100_000n * USD));
  await trade(system.clearingHouse, alice, bob, { marketId: BTC_MARKET, size: E, limitPrice: 60_000n * E }, E);
  await setPrice(system.btcFeed, 53_000n * E);
  return { ...system, alice, bob, carol, dave, erin, frank };
}

const triggerAt30 = (): Promise<Ctx> => setUp((WAD * 3n) / 10n);
const triggerAt5 = (): Promise<Ctx> => setUp(WAD / 20n);

type Rows = [bigint, bigint, bigint][];

async function rows(lens: BackstopLens): Promise<Rows> {
  const s = await lens.layersState();
  return s.rows.map((r) => [r.layer, r.size, r.wouldPay]);
}

async function drawdownOf(lens: BackstopLens): Promise<[bigint, bigint, bigint, bigint, bigint, bigint, boolean]> {
  const d = (await lens.layersState()).drawdown;
  return [d.fraction, d.window, d.windowStart, d.base, d.drawn, d.budget, d.tripped];
}

describe("BackstopLens with default layers", function () {
  it("without layers: fundState reads the fund itself and layersState is all zero", async function () {
    const system = await networkHelpers.loadFixture(deploySystem);
    const { fund, lens, traders } = system;
    await stake(fund, traders[0], 1_000n * USD);
    const s = await lens.fundState();
    expect([s.fund, s.stakers, s.layers]).to.deep.equal([
      await fund.getAddress(),
      await fund.getAddress(),
      ethers.ZeroAddress,
    ]);
    expect([s.totalAssets, s.totalSupply, s.availableForDraw]).to.deep.equal([1_000n * USD, 10n ** 15n, 1_000n * USD]);
    const l = await lens.layersState();
    expect([l.layers, l.stakers, l.availableForDraw, l.members]).to.deep.equal([
      ethers.ZeroAddress,
      ethers.ZeroAddress,
      0n,
      0n,
    ]);
    expect(l.rows.map((r) => [r.size, r.wouldPay])).to.deep.equal([
      [0n, 0n],
      [0n, 0n],
      [0n, 0n],
      [0n, 0n],
    ]);
  });

  it("with layers: fundState reads the stakers' fund through stakers() and the layers' availableForDraw", async function () {
    const c = await networkHelpers.loadFixture(triggerAt30);
    const layers = layersOf(c);
    const s = await c.lens.fundState();
    expect([s.fund, s.stakers, s.layers]).to.deep.equal([
      await layers.getAddress(),
      await c.fund.getAddress(),
      await layers.getAddress(),
    ]);
    // 10,000 USD = 10^10 units → 10^16 shares (the fund's 10^6 offset); the pot 12.6 USD (18 decimals).
    expect([s.totalAssets, s.totalSupply, s.pendingFees, s.openDeleverageCases]).to.deep.equal([
      10_000n * USD,
      10n ** 16n,
      (126n * E) / 10n,
      0n,
    ]);
    // 100 first loss + 200 (the stakers' daily cap) + 200 members' fund + 240 assessments (below).
    expect(s.availableForDraw).to.equal(740n * USD);
    expect(s.availableForDraw).to.equal(await layers.availableForDraw());
  });

  it("layersState: every layer's size and what it would pay now, Σ = the layers' availableForDraw", async function () {
    const c = await networkHelpers.loadFixture(triggerAt30);
    const layers = layersOf(c);
    const l = await c.lens.layersState();
    expect([l.layers, l.stakers]).to.deep.equal([await layers.getAddress(), await c.fund.getAddress()]);
    // Assessments: size = what erin (2 × 150) and frank (2 × 50) may still be assessed = 400; a draw pays what
    // every member covers in full: erin min(300, free 1,000) × 200 / 150 = 400, frank min(100, free 60) × 200 /
    // 50 = 240 → 240. The stakers: 10,000 held, 200 payable (their window cap).
    expect(await rows(c.lens)).to.deep.equal([
      [0n, 100n * USD, 100n * USD],
      [1n, 10_000n * USD, 200n * USD],
      [2n, 200n * USD, 200n * USD],
      [3n, 400n * USD, 240n * USD],
    ]);
    expect(l.availableForDraw).to.equal(740n * USD);
    expect([l.members, l.totalContribution, l.lastDefaultAt, l.firstLossPaid, l.assessedTotal]).to.deep.equal([
      2n,
      200n * USD,
      0n,
      0n,
      0n,
    ]);
    // No draw yet: a draw now starts a window with base 100 + 10,000 + 200 = 10,300 and a 30% budget of 3,090.
    const [fraction, window, start, base, drawn, budget, tripped] = await drawdownOf(c.lens);
    expect([fraction, window, base, drawn, budget, tripped]).to.deep.equal([
      (WAD * 3n) / 10n,
      EIGHT_HOURS,
      10_300n * USD,
      0n,
      3_090n * USD,
      false,
    ]);
    expect(start).to.be.oneOf([await latestTime(), (await latestTime()) + 1n]);
  });

  it("after a default that walks every layer: used-up layers would pay nothing, the window counts the draw", async function () {
    const c = await networkHelpers.loadFixture(triggerAt30);
    const layers = layersOf(c);
    const receipt = await mined(c.clearingHouse.connect(c.carol).liquidate(c.alice.address, BTC_MARKET, MAX));
    const at = BigInt((await receipt.getBlock()).timestamp);
    // The layers paid 100 + 200 + 200 + (erin 299.55 + frank 60) = 859.55 of 899.4 (912 − the pot's 12.6).
    // Left: erin's cap 0.45 (free 700.45), frank's 40 (free 0): size 40.45, and frank covers nothing → 0.
    expect(await rows(c.lens)).to.deep.equal([
      [0n, 0n, 0n],
      [1n, 9_800n * USD, 0n],
      [2n, 0n, 0n],
      [3n, 40_450_000n, 0n],
    ]);
    const l = await c.lens.layersState();
    expect([l.availableForDraw, l.lastDefaultAt, l.firstLossPaid, l.assessedTotal]).to.deep.equal([
      0n,
      at,
      100n * USD,
      359_550_000n,
    ]);
    expect(await layers.availableForDraw()).to.equal(0n);
    expect(await drawdownOf(c.lens)).to.deep.equal([
      (WAD * 3n) / 10n,
      EIGHT_HOURS,
      at,
      10_300n * USD,
      859_550_000n,
      3_090n * USD - 859_550_000n,
      false,
    ]);
  });

  it("the drawdown trigger: budget spread over the layers in order, tripped after the cut, a new window later", async function () {
    const c = await networkHelpers.loadFixture(triggerAt5);
    const layers = layersOf(c);
    // 5% of 10,300 = 515: first loss 100, stakers 200, members' fund 200, assessments the 15 left of 240.
    expect(await rows(c.lens)).to.deep.equal([
      [0n, 100n * USD, 100n * USD],
      [1n, 10_000n * USD, 200n * USD],
      [2n, 200n * USD, 200n * USD],
      [3n, 400n * USD, 15n * USD],
    ]);
    expect((await c.lens.layersState()).availableForDraw).to.equal(515n * USD);
    expect(await layers.availableForDraw()).to.equal(515n * USD);

    const receipt = await mined(c.clearingHouse.connect(c.carol).liquidate(c.alice.address, BTC_MARKET, MAX));
    const at = BigInt((await receipt.getBlock()).timestamp);
    // The layers paid the 515 (assessments 15: erin ⌈15 × 150 / 200⌉ = 11.25, frank 3.75) and the trigger cut
    // the rest: nothing more in this window.
    expect(await drawdownOf(c.lens)).to.deep.equal([WAD / 20n, EIGHT_HOURS, at, 10_300n * USD, 515n * USD, 0n, true]);
    expect(await rows(c.lens)).to.deep.equal([
      [0n, 0n, 0n],
      [1n, 9_800n * USD, 0n],
      [2n, 0n, 0n],
      [3n, 385n * USD, 0n],
    ]);

    // After the window: a new one with base 0 + 9,800 + 0 and a budget of 490. The stakers' day is not over
    // (nothing payable); erin covers min(288.75, free 988.75) × 200 / 150 = 385, frank min(96.25, free 56.25) ×
    // 200 / 50 = 225 → 225.
    await networkHelpers.time.increase(EIGHT_HOURS);
    const [, , start, base, drawn, budget, tripped] = await drawdownOf(c.lens);
    expect([base, drawn, budget, tripped]).to.deep.equal([9_800n * USD, 0n, 490n * USD, false]);
    expect(start).to.be.greaterThan(at);
    expect(await rows(c.lens)).to.deep.equal([
      [0n, 0n, 0n],
      [1n, 9_800n * USD, 0n],
      [2n, 0n, 0n],
      [3n, 385n * USD, 225n * USD],
    ]);
    expect(await layers.availableForDraw()).to.equal(225n * USD);
  });
});
