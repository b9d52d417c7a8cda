import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";

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
import type { System } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt, setPrice } from "../../devnet/hardhat/fund.js";
import { joinAsMember } from "../../devnet/hardhat/layers.js";
import { captureState, clearingHouseEvents, mined, signedOrder } from "../../devnet/hardhat/trading.js";
import type { SignedOrder, StateSnapshot } from "../../devnet/hardhat/trading.js";
import { quietMarkets } from "../../devnet/hardhat/waterfall.js";
import { inOneBlock } from "./helpers.js";
import { expectNoGain, wealth } from "./support.js";

/**
 * `batch` (issue 15) played by an attacker with several accounts. Each item is a delegatecall to the clearing house
 * itself: it runs with the caller's msg.sender, no value, and the called function's own guard, role and
 * member-reserve checks. So a batch may do nothing its caller could not do with the same calls sent one by one, and
 * each test below checks that against the one-by-one run or the direct call's refusal.
 */

const E = WAD;
const PAUSER_ROLE = ethers.id("PAUSER_ROLE");
const TREASURY_ROLE = ethers.id("TREASURY_ROLE");

type Receipt = Awaited<ReturnType<typeof mined>>;

function failures(system: System, receipt: Receipt): [bigint, string][] {
  return clearingHouseEvents(system.clearingHouse, receipt)
    .filter((e) => e.name === "BatchItemFailed")
    .map((e) => [e.args[0] as bigint, e.args[1] as string]);
}

/** A state without the markets' funding and premium dates: the views accrue to the latest block's time. */
function undated(state: StateSnapshot): unknown {
  return { ...state, markets: state.markets.map((m) => ({ ...m, lastFundingTime: 0n, lastPremiumTime: 0n })) };
}

async function tradersFixture(): Promise<System> {
  const system = await deploySystem();
  await depositUsd(system.clearingHouse, 10_000n, ...system.traders.slice(0, 4));
  return system;
}

describe("Attack: batched calls", function () {
  it("items act as the caller only: another's order, the roles, the fund's hooks are refused; the caller's own act goes through", async function () {
    const c = await networkHelpers.loadFixture(tradersFixture);
    const ch = c.clearingHouse;
    const iface = ch.interface;
    const [victim, mallory, bob] = c.traders;
    const victimOrder = await signedOrder(ch, victim, { size: E, nonce: 7n });
    const accounts = [victim.address, bob.address];
    const before = await captureState(ch, c.token, accounts, [ETH_MARKET], [victimOrder.hash]);
    const malloryBefore = await wealth(c, [mallory]);

    const calls = [
      iface.encodeFunctionData("withdraw", [10n * USD]),
      iface.encodeFunctionData("cancelOrder", [victimOrder.order]),
      iface.encodeFunctionData("pause"),
      iface.encodeFunctionData("withdrawProtocolFees", [mallory.address, 1n]),
      iface.encodeFunctionData("collectAssessment", [victim.address, 1_000n * USD]),
      iface.encodeFunctionData("markMember", [mallory.address, true]),
      iface.encodeFunctionData("cancelOrdersBelowNonce", [100n]),
    ];
    const receipt = await mined(ch.connect(mallory).batch(calls));
    expect(failures(c, receipt)).to.deep.equal([
      [1n, iface.encodeErrorResult("NotOrderMaker", [mallory.address, victim.address])],
      [2n, iface.encodeErrorResult("AccessControlUnauthorizedAccount", [mallory.address, PAUSER_ROLE])],
      [3n, iface.encodeErrorResult("AccessControlUnauthorizedAccount", [mallory.address, TREASURY_ROLE])],
      [4n, iface.encodeErrorResult("NotInsuranceFund", [mallory.address])],
      [5n, iface.encodeErrorResult("NotInsuranceFund", [mallory.address])],
    ]);
    // The two that went through were mallory's own: her withdrawal to her wallet and her own nonce floor.
    expect(await ch.collateralOf(mallory.address)).to.equal(9_990n * E);
    expect(await ch.minValidNonce(mallory.address)).to.equal(100n);
    expect(await wealth(c, [mallory])).to.equal(malloryBefore);
    expect(await ch.paused()).to.equal(false);
    const after = await captureState(ch, c.token, accounts, [ETH_MARKET], [victimOrder.hash]);
    // Only the clearing house's token balance (mallory's 10 out) and the funding date (her withdrawal settled it).
    expect(undated(after)).to.deep.equal(
      undated({ ...before, clearingHouseBalance: before.clearingHouseBalance - 10n * USD }),
    );

    // The roles hold for their holders in a batch, as in a direct call (the items keep msg.sender).
    await mined(ch.connect(c.pauser).batch([iface.encodeFunctionData("pause")]));
    expect(await ch.paused()).to.equal(true);
  });

  it("an ERC-1271 maker re-entering through batch gets nothing: the static check refuses the write, the fill item fails alone", async function () {
    const c = await networkHelpers.loadFixture(tradersFixture);
    const ch = c.clearingHouse;
    const iface = ch.interface;
    const [attacker, taker] = c.traders;
    const wallet = await ethers.deployContract("ReentrantERC1271Wallet", [attacker.address, await ch.getAddress()]);
    const walletAddress = await wallet.getAddress();
    await mined(ch.connect(attacker).depositFor(walletAddress, 1_000n * USD));
    const signed = await signedOrder(ch, attacker, { size: E });
    const order = { ...signed.order, maker: walletAddress };
    const fillItem = iface.encodeFunctionData("fillOrder", [order, "0x", E]);
    const accounts = [walletAddress, attacker.address, taker.address];

    // The wallet, asked about its signature during the taker's batched fill, re-enters with a batch that
    // withdraws its collateral (and, in the second, fills its own order once more).
    const reentries = [
      iface.encodeFunctionData("batch", [[iface.encodeFunctionData("withdraw", [1_000n * USD])]]),
      iface.encodeFunctionData("batch", [[fillItem, iface.encodeFunctionData("withdraw", [1n])]]),
    ];
    for (const data of reentries) {
      await mined(wallet.connect(attacker).setReentry(data));
      const before = undated(await captureState(ch, c.token, accounts, [ETH_MARKET]));
      const receipt = await mined(ch.connect(taker).batch([fillItem]));
      expect(failures(c, receipt)).to.deep.equal([
        [0n, iface.encodeErrorResult("InvalidSignature", [walletAddress, await ch.hashOrder(order)])],
      ]);
      expect(undated(await captureState(ch, c.token, accounts, [ETH_MARKET]))).to.deep.equal(before);
    }
    // Control: a re-entering batch of reads succeeds under the static call, so the wallet answers "valid" and
    // the batched fill goes through — the refusals above were the re-entries' writes failing.
    await mined(
      wallet
        .connect(attacker)
        .setReentry(iface.encodeFunctionData("batch", [[iface.encodeFunctionData("marketCount")]])),
    );
    const receipt = await mined(ch.connect(taker).batch([fillItem]));
    expect(failures(c, receipt)).to.deep.equal([]);
    expect((await ch.positionOf(walletAddress, ETH_MARKET)).size).to.equal(E);
  });

  describe("a clearing member cannot dodge its reserve across items", function () {
    // The fixture of member-trade-dodge.test.ts: x is a member of the shared layers with 1,000 in the clearing
    // house and may be assessed 200 (its reserve). w buys 0.2 BTC at 60,000 with 1,500; at 53,000 it is below
    // maintenance, and taking it over gives the liquidator +50 against the oracle and 1,060 of initial margin.
    interface Ctx extends System {
      x: HardhatEthersSigner;
      w: HardhatEthersSigner;
    }
    async function memberFixture(): Promise<Ctx> {
      const system = await deploySystemWithLayers({ ...LAYER_PARAMS, drawdownFraction: WAD });
      await quietMarkets(system, false);
      const [, bob, keeper, w, x, , honest] = system.traders;
      await joinAsMember(system, honest, 1_000n * USD, 200n * USD);
      await joinAsMember(system, x, 1_000n * USD, 100n * USD);
      await depositUsd(system.clearingHouse, 100_000n, bob, keeper);
      await mined(system.clearingHouse.connect(w).deposit(1_500n * USD));
      await setPrice(system.btcFeed, 60_000n);
      await openAt(system.clearingHouse, w, bob, BTC_MARKET, (200n * E) / 1_000n, 60_000n);
      await setPrice(system.btcFeed, 53_000n);
      return { ...system, x, w };
    }
    // x deposits 1,000 (2,000), takes w's position over (free min(2,000, 2,050 − 1,060) = 990 ≥ 200: allowed) and
    // withdraws 800 (free 190 < 200: refused).
    function dodge(c: Ctx): string[] {
      const iface = c.clearingHouse.interface;
      return [
        iface.encodeFunctionData("deposit", [1_000n * USD]),
        iface.encodeFunctionData("liquidate", [c.w.address, BTC_MARKET, ethers.MaxUint256]),
        iface.encodeFunctionData("withdraw", [800n * USD]),
      ];
    }
    async function endState(c: Ctx): Promise<unknown> {
      return [
        undated(await captureState(c.clearingHouse, c.token, [c.x.address, c.w.address], [BTC_MARKET])),
        [...(await c.clearingHouse.accountHealth(c.x.address))],
      ];
    }

    it("deposit, take a position over, withdraw the deposit: the withdrawal fails alone, as it does sent by itself", async function () {
      const c = await networkHelpers.loadFixture(memberFixture);
      const ch = c.clearingHouse;
      const receipt = await mined(ch.connect(c.x).batch(dodge(c)));
      expect(failures(c, receipt)).to.deep.equal([
        [2n, ch.interface.encodeErrorResult("AssessmentReserveRequired", [c.x.address, 190n * E, 200n * E])],
      ]);
      expect((await ch.accountHealth(c.x.address)).freeCollateral).to.equal(990n * E);
      const batched = await endState(c);

      // The same three calls sent one by one from the same start: the same refusal, the same end.
      const d = await networkHelpers.loadFixture(memberFixture);
      const direct = d.clearingHouse.connect(d.x);
      await mined(direct.deposit(1_000n * USD));
      await mined(direct.liquidate(d.w.address, BTC_MARKET, ethers.MaxUint256));
      await expect(direct.withdraw(800n * USD))
        .to.be.revertedWithCustomError(ch, "AssessmentReserveRequired")
        .withArgs(d.x.address, 190n * E, 200n * E);
      expect(await endState(d)).to.deep.equal(batched);
    });
  });

  describe("same-block round trips", function () {
    // mallory opens 1 ETH against bob's offer and closes it against bob's bid at the same oracle price, with
    // trading fees on (the fixture's maker 0.02%, taker 0.05%), in one batch; then the same fills, sent one by
    // one, in one block.
    async function roundTripFixture(): Promise<System & { offer: SignedOrder; bid: SignedOrder }> {
      const system = await deploySystem();
      await depositUsd(system.clearingHouse, 10_000n, ...system.traders.slice(0, 3));
      const bob = system.traders[1];
      const offer = await signedOrder(system.clearingHouse, bob, { isBuy: false, size: E, nonce: 1n });
      const bid = await signedOrder(system.clearingHouse, bob, { isBuy: true, size: E, nonce: 2n });
      return { ...system, offer, bid };
    }
    function roundTrip(c: System & { offer: SignedOrder; bid: SignedOrder }): string[] {
      const iface = c.clearingHouse.interface;
      return [
        iface.encodeFunctionData("fillOrder", [c.offer.order, c.offer.signature, E]),
        iface.encodeFunctionData("fillOrder", [c.bid.order, c.bid.signature, E]),
      ];
    }

    it("open and close in one batch: mallory pays the fees and ends no richer; the same as the fills sent one by one", async function () {
      const c = await networkHelpers.loadFixture(roundTripFixture);
      const [alice, bob, mallory] = c.traders;
      const everyone = [alice, bob, mallory];
      const before = await wealth(c, [mallory]);
      const receipt = await mined(c.clearingHouse.connect(mallory).batch(roundTrip(c)));
      expect(failures(c, receipt)).to.deep.equal([]);
      const after = await wealth(c, [mallory]);
      expectNoGain("round trip in a batch", before, after);
      expect(after < before).to.equal(true);
      const batched = await captureState(
        c.clearingHouse,
        c.token,
        everyone.map((a) => a.address),
        [ETH_MARKET],
        [c.offer.hash, c.bid.hash],
      );

      const d = await networkHelpers.loadFixture(roundTripFixture);
      const direct = d.clearingHouse.connect(mallory);
      await inOneBlock([
        () => direct.fillOrder(d.offer.order, d.offer.signature, E),
        () => direct.fillOrder(d.bid.order, d.bid.signature, E),
      ]);
      const oneByOne = await captureState(
        d.clearingHouse,
        d.token,
        everyone.map((a) => a.address),
        [ETH_MARKET],
        [d.offer.hash, d.bid.hash],
      );
      expect(undated(batched)).to.deep.equal(undated(oneByOne));
    });
  });
});
