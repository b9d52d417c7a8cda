// The member registry and the fill rule of the member-dodge rule (MemberReserveLib): who may mark an account, join
// and leave mark and clear it, a refused mark changes nothing; a member can always cut risk, a non-member is not held.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";

import {
  BTC_MARKET,
  LAYER_PARAMS,
  USD,
  WAD,
  deploySystemWithLayers,
  ethers,
  networkHelpers,
} from "../../../devnet/hardhat/fixture.js";
import type { System } from "../../../devnet/hardhat/fixture.js";
import { setPrice } from "../../../devnet/hardhat/fund.js";
import { joinAsMember, layersOf } from "../../../devnet/hardhat/layers.js";
import { fill, mined, signedOrder } from "../../../devnet/hardhat/trading.js";
import { quietMarkets } from "../../../devnet/hardhat/waterfall.js";

interface Ctx extends System {
  m: HardhatEthersSigner; // member: 1,000 in the clearing house, 100 in the members' fund (reserve 200)
  n: HardhatEthersSigner; // no member: 1,000
  cp: HardhatEthersSigner; // counterparty: 100,000
}

async function fixture(): Promise<Ctx> {
  const system = await deploySystemWithLayers({ ...LAYER_PARAMS, drawdownFraction: WAD });
  await quietMarkets(system, false);
  const [m, n, cp] = system.traders;
  await joinAsMember(system, m, 1_000n * USD, 100n * USD);
  await mined(system.clearingHouse.connect(n).deposit(1_000n * USD));
  await mined(system.clearingHouse.connect(cp).deposit(100_000n * USD));
  await setPrice(system.btcFeed, 53_000n);
  return { ...system, m, n, cp };
}

let nonce = 0n;
/** `who` (maker) trades `size` BTC with the counterparty at `price` (whole dollars): `who` buys when `buys`. */
async function trades(
  c: Ctx,
  who: HardhatEthersSigner,
  buys: boolean,
  size: bigint,
  price: bigint,
): Promise<ContractTransactionResponse> {
  nonce += 1n;
  const signed = await signedOrder(c.clearingHouse, who, {
    marketId: BTC_MARKET,
    isBuy: buys,
    size,
    limitPrice: price * WAD,
    nonce,
  });
  return fill(c.clearingHouse, c.cp, signed, size);
}

const tenth = WAD / 10n;

describe("Member registry (ClearingHouse.markMember)", function () {
  it("joining marks the account and leaving clears the mark; the cleared account withdraws freely", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    const layers = layersOf(c);
    const [, , , who] = c.traders;
    await mined(c.clearingHouse.connect(who).deposit(500n * USD));
    await expect(layers.connect(who).join(50n * USD))
      .to.emit(c.clearingHouse, "MemberMarked")
      .withArgs(who.address, await layers.getAddress(), true);
    // A top-up keeps the one mark (no second event) and raises the reserve: 2 × 60.
    await expect(layers.connect(who).join(10n * USD)).not.to.emit(c.clearingHouse, "MemberMarked");
    await expect(c.clearingHouse.connect(who).withdraw(500n * USD))
      .to.be.revertedWithCustomError(c.clearingHouse, "AssessmentReserveRequired")
      .withArgs(who.address, 0n, 120n * WAD);
    await mined(layers.connect(who).requestLeave());
    await networkHelpers.time.increase(BigInt(LAYER_PARAMS.coolingOffPeriod));
    await expect(layers.connect(who).leaveFund())
      .to.emit(c.clearingHouse, "MemberMarked")
      .withArgs(who.address, await layers.getAddress(), false);
    await mined(c.clearingHouse.connect(who).withdraw(500n * USD));
    expect(await c.clearingHouse.collateralOf(who.address)).to.equal(0n);
  });

  it("only a fund the clearing house draws may mark; a refused join changes nothing", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    const { clearingHouse, n } = c;
    await expect(clearingHouse.connect(n).markMember(n.address, true))
      .to.be.revertedWithCustomError(clearingHouse, "NotInsuranceFund")
      .withArgs(n.address);
    // Layers deployed for this clearing house but never connected (neither shared nor an isolated market's).
    const stray = await ethers.deployContract("DefaultLayers", [
      await clearingHouse.getAddress(),
      c.admin.address,
      LAYER_PARAMS,
    ]);
    await mined(c.token.connect(n).approve(await stray.getAddress(), ethers.MaxUint256));
    const tokensBefore = await c.token.balanceOf(n.address);
    await expect(stray.connect(n).join(100n * USD))
      .to.be.revertedWithCustomError(clearingHouse, "NotInsuranceFund")
      .withArgs(await stray.getAddress());
    expect(await stray.members()).to.deep.equal([]);
    expect(await stray.totalContribution()).to.equal(0n);
    expect(await c.token.balanceOf(n.address)).to.equal(tokensBefore);
    // n is still no member anywhere: it withdraws everything.
    await mined(clearingHouse.connect(n).withdraw(1_000n * USD));
  });

  it("a fund clears only its own member's mark", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    const layers = await layersOf(c).getAddress();
    await networkHelpers.impersonateAccount(layers);
    await networkHelpers.setBalance(layers, WAD);
    const asLayers = await ethers.getSigner(layers);
    await expect(c.clearingHouse.connect(asLayers).markMember(c.n.address, false))
      .to.be.revertedWithCustomError(c.clearingHouse, "NotMemberOfFund")
      .withArgs(c.n.address, layers);
    // Marking again the account it already marked is accepted and changes nothing.
    await mined(c.clearingHouse.connect(asLayers).markMember(c.m.address, true));
    await expect(c.clearingHouse.connect(c.m).withdraw(1_000n * USD))
      .to.be.revertedWithCustomError(c.clearingHouse, "AssessmentReserveRequired")
      .withArgs(c.m.address, 0n, 200n * WAD);
  });
});

describe("Fill rule: a member keeps its assessment reserve (MemberReserveLib.applyFill)", function () {
  it("a fill that leaves free collateral at the reserve passes; one unit of risk more is refused", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    // 0.15 BTC at 53,000: IM 795, free 205 ≥ 200.
    await mined(trades(c, c.m, true, (15n * WAD) / 100n, 53_000n));
    expect((await c.clearingHouse.accountHealth(c.m.address)).freeCollateral).to.equal(205n * WAD);
    // 0.001 BTC more at 53,000: IM 5.3, free 199.7 < 200.
    await expect(trades(c, c.m, true, WAD / 1_000n, 53_000n))
      .to.be.revertedWithCustomError(c.clearingHouse, "AssessmentReserveRequired")
      .withArgs(c.m.address, 199_700_000_000_000_000_000n, 200n * WAD);
  });

  it("a member pushed below its reserve by the price can still cut risk, even at the band's edge", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    await mined(trades(c, c.m, true, tenth, 53_000n)); // free 1,000 − 530 = 470
    // BTC at 49,000: equity 1,000 − 400 = 600, IM 490, free 110 < 200 (the price did it, not the member).
    await setPrice(c.btcFeed, 49_000n);
    expect((await c.clearingHouse.accountHealth(c.m.address)).freeCollateral).to.equal(110n * WAD);
    // Adding any risk is refused: IM 4.9 more for 0.001 BTC, free 105.1 < 110 and < 200.
    await expect(trades(c, c.m, true, WAD / 1_000n, 49_000n))
      .to.be.revertedWithCustomError(c.clearingHouse, "AssessmentReserveRequired")
      .withArgs(c.m.address, 105_100_000_000_000_000_000n, 200n * WAD);
    // Half at the oracle: realized −200 → collateral 800, equity 600, IM 245: free 355 ≥ 110, passes.
    await mined(trades(c, c.m, false, tenth / 2n, 49_000n));
    expect((await c.clearingHouse.accountHealth(c.m.address)).freeCollateral).to.equal(355n * WAD);
    // The rest at the band's low edge 46,550: realized 0.05 × (46,550 − 53,000) = −322.5 → collateral 477.5, IM 0:
    // free 477.5 ≥ 355 (the released margin covers the price), passes.
    await mined(trades(c, c.m, false, tenth / 2n, 46_550n));
    expect((await c.clearingHouse.accountHealth(c.m.address)).freeCollateral).to.equal(477_500_000_000_000_000_000n);
  });

  it("a member below its initial margin may reduce; a member above its reserve trades freely above it", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    await mined(trades(c, c.m, true, tenth, 53_000n));
    // BTC at 46,000: equity 300, IM 460: free 0, below initial margin. Closing 0.02 at 46,000 passes.
    await setPrice(c.btcFeed, 46_000n);
    await mined(trades(c, c.m, false, (2n * WAD) / 100n, 46_000n));
    expect((await c.clearingHouse.positionOf(c.m.address, BTC_MARKET)).size).to.equal((8n * WAD) / 100n);
  });

  it("an account that is no member is not held: it trades its free collateral down to zero", async function () {
    const c = await networkHelpers.loadFixture(fixture);
    // n buys 0.18 BTC at 53,000: IM 954, free 46 < 200. It sells it back at the low edge 50,350: realized −477.
    await mined(trades(c, c.n, true, (18n * WAD) / 100n, 53_000n));
    expect((await c.clearingHouse.accountHealth(c.n.address)).freeCollateral).to.equal(46n * WAD);
    await mined(trades(c, c.n, false, (18n * WAD) / 100n, 50_350n));
    expect(await c.clearingHouse.collateralOf(c.n.address)).to.equal(523n * WAD);
    await mined(c.clearingHouse.connect(c.n).withdraw(523n * USD));
  });
});
