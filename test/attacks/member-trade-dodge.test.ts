import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";

import {
  BTC_MARKET,
  LAYER_PARAMS,
  LOSS_POLICY_SOCIALIZED,
  USD,
  WAD,
  deploySystemWithLayers,
  ethers,
  marketParams,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt, setPrice } from "../../devnet/hardhat/fund.js";
import { joinAsMember, layersOf, memberWealth } from "../../devnet/hardhat/layers.js";
import { mined, signedOrder, fill } from "../../devnet/hardhat/trading.js";
import { quietMarkets } from "../../devnet/hardhat/waterfall.js";

/**
 * The member dodge by trading (issue 11): a clearing member that sees a default coming lowers its free collateral
 * without withdrawing, so that its assessment finds nothing: (a) it opens a position whose initial margin eats its
 * free collateral; (b) it loses on purpose to its own second account, which is no member, selling at the band's low
 * edge and buying back at its high edge, and then withdraws the gain from that account. Played by the attacker's
 * member account x (100 in the members' fund, 1,000 in the clearing house) and its second account y (10,000, no
 * member), next to an honest member (200, 1,000). k = 2: x may be assessed 200, the honest member 400. No fees, no
 * funding, no stakers, no first loss, trigger off. BTC at 53,000, IM 10%, band 5% (50,350 … 55,650).
 * alice's deficit of 900 takes the members' fund (300), then 600 of assessments pro rata 2 : 1: the honest member
 * ⌈600 × 200 / 300⌉ = 400, x ⌈600 × 100 / 300⌉ = 200. Rule share of the 900: the attacker 300, the honest member 600.
 * The rule (MemberReserveLib): after a member's fill its free collateral F must be ≥ its reserve R (cap left this
 * period) or not below what it was before the fill.
 */

interface Ctx extends System {
  honest: HardhatEthersSigner;
  x: HardhatEthersSigner;
  y: HardhatEthersSigner;
  alice: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
}

const U = 10n ** 12n; // one token unit in 18-decimal wei
const BTC = (thousandths: bigint): bigint => (thousandths * WAD) / 1_000n;
const LOW = 50_350n * WAD; // 53,000 × 0.95
const HIGH = 55_650n * WAD; // 53,000 × 1.05

async function fixture(): Promise<Ctx> {
  const system = await deploySystemWithLayers({ ...LAYER_PARAMS, drawdownFraction: WAD });
  await quietMarkets(system, false);
  const [alice, bob, keeper, , x, y, honest] = system.traders;
  await joinAsMember(system, honest, 1_000n * USD, 200n * USD);
  await joinAsMember(system, x, 1_000n * USD, 100n * USD);
  await mined(system.clearingHouse.connect(y).deposit(10_000n * USD));
  await mined(system.clearingHouse.connect(alice).deposit(6_100n * USD));
  await depositUsd(system.clearingHouse, 100_000n, bob, keeper);
  await openAt(system.clearingHouse, alice, bob, BTC_MARKET, WAD, 60_000n);
  await setPrice(system.btcFeed, 53_000n);
  return { ...system, honest, x, y, alice, keeper };
}

let nonce = 0n;
/** x (maker) trades `size` of BTC with y (taker) at `price`: x buys when `xBuys`. */
async function xTrades(c: Ctx, xBuys: boolean, size: bigint, price: bigint): Promise<ContractTransactionResponse> {
  nonce += 1n;
  const signed = await signedOrder(c.clearingHouse, c.x, {
    marketId: BTC_MARKET,
    isBuy: xBuys,
    size,
    limitPrice: price,
    nonce,
  });
  return fill(c.clearingHouse, c.y, signed, size);
}

/** What the attacker holds over both accounts, token units. */
async function attackerWealth(c: Ctx): Promise<bigint> {
  return (await memberWealth(c, c.x)) + (await memberWealth(c, c.y));
}

describe("Attack: a clearing member trades its free collateral away before a default it sees coming", function () {
  it("opening, losing to its own second account, closing at the band's edge: it still pays its full share", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    const { clearingHouse, x, y, honest } = c;
    const layers = layersOf(c);
    const before = { attacker: await attackerWealth(c), honest: await memberWealth(c, honest) };
    expect((await clearingHouse.accountHealth(c.alice.address)).equity).to.equal(-900n * WAD);

    // (a) x buys 0.16 BTC at the oracle: IM 0.16 × 53,000 × 10% = 848, free 1,000 − 848 = 152 < 200: refused.
    await expect(xTrades(c, true, BTC(160n), 53_000n * WAD))
      .to.be.revertedWithCustomError(clearingHouse, "AssessmentReserveRequired")
      .withArgs(x.address, 152n * WAD, 200n * WAD);
    // (b) x sells 0.11 BTC to y at the low edge: it loses 0.11 × 2,650 = 291.5 at once and needs IM 583:
    // free 1,000 − 291.5 − 583 = 125.5 < 200: refused.
    await expect(xTrades(c, false, BTC(110n), LOW))
      .to.be.revertedWithCustomError(clearingHouse, "AssessmentReserveRequired")
      .withArgs(x.address, 125_500_000_000_000_000_000n, 200n * WAD);
    // 0.1 BTC leaves free 1,000 − 265 − 530 = 205 ≥ 200: allowed. x buys it back at the high edge: it realizes
    // 0.1 × (55,650 − 50,350) = 530 to y, and the close raises its free collateral (205 → 470): allowed.
    await mined(xTrades(c, false, BTC(100n), LOW));
    await mined(xTrades(c, true, BTC(100n), HIGH));
    expect(await clearingHouse.collateralOf(x.address)).to.equal(470n * WAD);
    expect(await clearingHouse.collateralOf(y.address)).to.equal(10_530n * WAD);
    // Again, 0.05 BTC: free 470 − 132.5 − 265 = 72.5 < 200: refused. x is flat and keeps its 200.
    await expect(xTrades(c, false, BTC(50n), LOW))
      .to.be.revertedWithCustomError(clearingHouse, "AssessmentReserveRequired")
      .withArgs(x.address, 72_500_000_000_000_000_000n, 200n * WAD);
    await expect(clearingHouse.connect(x).withdraw(470n * USD))
      .to.be.revertedWithCustomError(clearingHouse, "AssessmentReserveRequired")
      .withArgs(x.address, 0n, 200n * WAD);
    await mined(clearingHouse.connect(x).withdraw(270n * USD));
    await mined(clearingHouse.connect(y).withdraw(10_530n * USD));

    // The keeper liquidates: members' fund 300, then 600 assessed, every share collected in full.
    const receipt = await mined(
      clearingHouse.connect(c.keeper).liquidate(c.alice.address, BTC_MARKET, ethers.MaxUint256),
    );
    await expect(receipt)
      .to.emit(layers, "MemberAssessed")
      .withArgs(honest.address, 400n * USD, 400n * USD);
    await expect(receipt)
      .to.emit(layers, "MemberAssessed")
      .withArgs(x.address, 200n * USD, 200n * USD);
    await expect(receipt).not.to.emit(layers, "AssessmentUncollected");
    await expect(receipt)
      .to.emit(clearingHouse, "BadDebtResolved")
      .withArgs(c.alice.address, BTC_MARKET, 900n * WAD, 900n * WAD, 0n, 0n, 0n, 0n);

    // The attacker bore its pro-rata third (100 + 200), no less; the honest member its two thirds (200 + 400).
    expect(before.attacker - (await attackerWealth(c))).to.equal(300n * USD);
    expect(before.honest - (await memberWealth(c, honest))).to.equal(600n * USD);
  });

  it("a member of an isolated market's own layers keeps its reserve too, and is a member of one fund only", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    const { clearingHouse, riskManager, token } = c;
    const z = c.traders[7];
    const feed = await ethers.deployContract("MockAggregatorV3", [8, "SOL / USD", 100n * 10n ** 8n]);
    const own = await ethers.deployContract("DefaultLayers", [
      await clearingHouse.getAddress(),
      c.admin.address,
      { ...LAYER_PARAMS, drawdownFraction: WAD },
    ]);
    const params = marketParams(await feed.getAddress(), { lossPolicy: LOSS_POLICY_SOCIALIZED, maxFundingRate: 0n });
    await mined(clearingHouse.connect(riskManager).listIsolatedMarket(params, await own.getAddress()));
    await mined(token.connect(z).approve(await own.getAddress(), ethers.MaxUint256));
    await mined(clearingHouse.connect(z).deposit(1_000n * USD));
    await mined(own.connect(z).join(100n * USD));

    // z may be assessed 2 × 100 by its market's layers: it keeps 200 of free collateral, as a shared member does.
    await expect(clearingHouse.connect(z).withdraw(1_000n * USD))
      .to.be.revertedWithCustomError(clearingHouse, "AssessmentReserveRequired")
      .withArgs(z.address, 0n, 200n * WAD);
    await mined(clearingHouse.connect(z).withdraw(800n * USD));
    await expect(clearingHouse.connect(z).withdraw(1n))
      .to.be.revertedWithCustomError(clearingHouse, "AssessmentReserveRequired")
      .withArgs(z.address, 200n * WAD - U, 200n * WAD);
    // Nor can it join the shared layers on the same account (one fund per account).
    await expect(
      layersOf(c)
        .connect(z)
        .join(100n * USD),
    )
      .to.be.revertedWithCustomError(clearingHouse, "MemberOfAnotherFund")
      .withArgs(z.address, await own.getAddress());
  });
  it("taking a position over in a liquidation is held to the rule too; a non-member liquidates freely", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    const { clearingHouse, x, keeper } = c;
    // w buys 0.2 BTC from bob at 60,000 with 1,500; at 53,000 it has lost 1,400: equity 100 < maintenance
    // 0.2 × 53,000 × 5% = 530. Closing it restores nothing (per unit 53,000 × (5% − 1% − 1%) = 1,590, gap 430:
    // 0.27 > 0.2), so the liquidator takes all 0.2. Discount and fee, 106 each, are capped at w's equity of 100,
    // split 1 : 1: the liquidator gains 50 against the oracle and needs initial margin 0.2 × 53,000 × 10% = 1,060.
    // x (1,100 after a top-up) would go from free 1,100 to 1,150 − 1,060 = 90, below its reserve of 200: refused,
    // although its margin allows it.
    const w = c.traders[3];
    await mined(clearingHouse.connect(w).deposit(1_500n * USD));
    await mined(clearingHouse.connect(x).deposit(100n * USD));
    await setPrice(c.btcFeed, 60_000n);
    await openAt(clearingHouse, w, c.traders[1], BTC_MARKET, BTC(200n), 60_000n);
    await setPrice(c.btcFeed, 53_000n);
    expect((await clearingHouse.accountHealth(w.address)).equity).to.equal(100n * WAD);
    await expect(clearingHouse.connect(x).liquidate(w.address, BTC_MARKET, ethers.MaxUint256))
      .to.be.revertedWithCustomError(clearingHouse, "AssessmentReserveRequired")
      .withArgs(x.address, 90n * WAD, 200n * WAD);
    expect((await clearingHouse.positionOf(w.address, BTC_MARKET)).size).to.equal(BTC(200n));
    expect((await clearingHouse.positionOf(x.address, BTC_MARKET)).size).to.equal(0n);
    // The keeper, no member, takes it over; x's 200 stay there for the assessment.
    await mined(clearingHouse.connect(keeper).liquidate(w.address, BTC_MARKET, ethers.MaxUint256));
    expect((await clearingHouse.positionOf(keeper.address, BTC_MARKET)).size).to.equal(BTC(200n));
    expect(await clearingHouse.collateralOf(x.address)).to.equal(1_100n * WAD);
  });
});
