import { expect } from "chai";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  deploySystem,
  ethers,
  makeOrder,
  marketParams,
  networkHelpers,
  signOrder,
  BTC_MARKET,
  ETH_MARKET,
  USD,
  WAD,
} from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import {
  ORDER_TYPES,
  blockTime,
  captureState,
  clearingHouseEvents,
  expectOpenInterest,
  expectPosition,
  fill,
  latestTime,
  mined,
  nextBlockAt,
  orderDigest,
  orderDomain,
  signedOrder,
  trade,
} from "../../devnet/hardhat/trading.js";
import type { StateSnapshot } from "../../devnet/hardhat/trading.js";

const P2000 = 2000n * WAD; // the ETH oracle price of the fixture, 18 decimals
const BAND = WAD / 20n; // 5%
const MILLI = 10n ** 15n; // 0.001 in 18 decimals

interface Ctx extends System {
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner;
  dave: HardhatEthersSigner;
  erin: HardhatEthersSigner;
}

/** The base system with alice, bob and carol holding 100,000 USD of collateral each; dave and erin hold none. */
async function ordersFixture(): Promise<Ctx> {
  const system = await deploySystem();
  const [alice, bob, carol, dave, erin] = system.traders;
  for (const trader of [alice, bob, carol]) {
    await system.clearingHouse.connect(trader).deposit(100_000n * USD);
  }
  return { ...system, alice, bob, carol, dave, erin };
}

function accountsOf(c: Ctx): string[] {
  return [c.alice.address, c.bob.address, c.carol.address, c.dave.address, c.erin.address];
}

function snapshot(
  c: Ctx,
  orderHashes: string[],
  marketIds: bigint[] = [ETH_MARKET, BTC_MARKET],
): Promise<StateSnapshot> {
  return captureState(c.clearingHouse, c.token, accountsOf(c), marketIds, orderHashes);
}

/** Runs `action` (a reverting call with its assertion) and proves that no observable state changed. */
async function expectNoChange(
  c: Ctx,
  orderHashes: string[],
  action: () => Promise<void>,
  marketIds?: bigint[],
): Promise<void> {
  const before = await snapshot(c, orderHashes, marketIds);
  await action();
  expect(await snapshot(c, orderHashes, marketIds)).to.deep.equal(before);
}

describe("ClearingHouse orders", () => {
  describe("fillOrder", () => {
    it("fills part of an order: OrderFilled, PositionChanged for both sides, fees and insurance share", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, alice, bob } = c;
      const price = 20015n * 10n ** 17n; // 2001.5, inside the 5% band around 2000
      const so = await signedOrder(clearingHouse, alice, { size: 2n * WAD, limitPrice: price });
      const fillSize = 7n * 10n ** 17n; // 0.7

      // notional = 0.7 × 2001.5 = 1401.05
      const notional = 140105n * 10n ** 16n;
      // maker fee 2 bp: 1401.05 × 0.0002 = 0.28021; taker fee 5 bp: 1401.05 × 0.0005 = 0.700525
      const makerFee = 28021n * 10n ** 13n;
      const takerFee = 700525n * 10n ** 12n;
      // 30% to insurance: 0.28021 × 0.3 = 0.084063; 0.700525 × 0.3 = 0.2101575
      const makerToInsurance = 84063n * 10n ** 12n;
      const takerToInsurance = 2101575n * 10n ** 11n;

      expect(await clearingHouse.connect(bob).fillOrder.staticCall(so.order, so.signature, fillSize)).to.equal(so.hash);
      const tx = fill(clearingHouse, bob, so, fillSize);
      await expect(tx)
        .to.emit(clearingHouse, "OrderFilled")
        .withArgs(so.hash, alice.address, bob.address, ETH_MARKET, true, fillSize, price);
      const receipt = await mined(tx);

      expect(clearingHouseEvents(clearingHouse, receipt)).to.deep.equal([
        // first touch of the market since listing: the index accrues at a zero rate
        { name: "FundingAccrued", args: [ETH_MARKET, 0n, 0n, P2000] },
        { name: "FeesCollected", args: [ETH_MARKET, makerFee, makerToInsurance] },
        {
          name: "PositionChanged",
          args: [alice.address, ETH_MARKET, fillSize, notional, 0n, makerFee],
        },
        { name: "FeesCollected", args: [ETH_MARKET, takerFee, takerToInsurance] },
        {
          name: "PositionChanged",
          args: [bob.address, ETH_MARKET, -fillSize, -notional, 0n, takerFee],
        },
        {
          name: "OrderFilled",
          args: [so.hash, alice.address, bob.address, ETH_MARKET, true, fillSize, price],
        },
      ]);

      expect(await clearingHouse.orderStatus(so.hash)).to.deep.equal([fillSize, false]);
      await expectPosition(clearingHouse, alice.address, ETH_MARKET, fillSize, notional);
      await expectPosition(clearingHouse, bob.address, ETH_MARKET, -fillSize, -notional);
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(100_000n * WAD - makerFee);
      expect(await clearingHouse.collateralOf(bob.address)).to.equal(100_000n * WAD - takerFee);
      // protocol keeps 0.196147 + 0.4903675 = 0.6865145; insurance 0.084063 + 0.2101575 = 0.2942205
      expect(await clearingHouse.protocolFees()).to.equal(6865145n * 10n ** 11n);
      expect(await clearingHouse.insuranceFees()).to.equal(2942205n * 10n ** 11n);
      await expectOpenInterest(clearingHouse, ETH_MARKET, fillSize);
      expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([ETH_MARKET]);
      expect(await clearingHouse.openMarketsOf(bob.address)).to.deep.equal([ETH_MARKET]);
    });

    it("tracks partial fills in orderStatus, fills the rest, then rejects overfills and replays", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, alice, bob, carol } = c;
      const so = await signedOrder(clearingHouse, alice, { size: 2n * WAD });

      await mined(fill(clearingHouse, bob, so, (WAD * 3n) / 2n));
      expect(await clearingHouse.orderStatus(so.hash)).to.deep.equal([(WAD * 3n) / 2n, false]);

      // 1.5 filled, 0.6 more would make 2.1 > 2
      await expectNoChange(c, [so.hash], async () => {
        await expect(fill(clearingHouse, carol, so, (WAD * 6n) / 10n))
          .to.be.revertedWithCustomError(clearingHouse, "OrderOverfill")
          .withArgs(so.hash, (WAD * 3n) / 2n, (WAD * 6n) / 10n, 2n * WAD);
      });

      // another taker fills the remaining 0.5
      await mined(fill(clearingHouse, carol, so, WAD / 2n));
      expect(await clearingHouse.orderStatus(so.hash)).to.deep.equal([2n * WAD, false]);
      await expectPosition(clearingHouse, alice.address, ETH_MARKET, 2n * WAD, 4000n * WAD);
      await expectPosition(clearingHouse, bob.address, ETH_MARKET, (-WAD * 3n) / 2n, -3000n * WAD);
      await expectPosition(clearingHouse, carol.address, ETH_MARKET, -WAD / 2n, -1000n * WAD);
      await expectOpenInterest(clearingHouse, ETH_MARKET, 2n * WAD);

      // fully filled: even 1 wei more is an overfill
      await expectNoChange(c, [so.hash], async () => {
        await expect(fill(clearingHouse, bob, so, 1n))
          .to.be.revertedWithCustomError(clearingHouse, "OrderOverfill")
          .withArgs(so.hash, 2n * WAD, 1n, 2n * WAD);
      });
      // replaying the very same fill transaction
      await expectNoChange(c, [so.hash], async () => {
        await expect(fill(clearingHouse, carol, so, WAD / 2n))
          .to.be.revertedWithCustomError(clearingHouse, "OrderOverfill")
          .withArgs(so.hash, 2n * WAD, WAD / 2n, 2n * WAD);
      });
    });

    it("rejects an expired order; an order expiring in the fill's own block is still valid", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, alice, bob } = c;
      const now = await latestTime();

      const longGone = await signedOrder(clearingHouse, alice, { expiry: now - 3600n });
      await expectNoChange(c, [longGone.hash], async () => {
        await expect(fill(clearingHouse, bob, longGone, WAD))
          .to.be.revertedWithCustomError(clearingHouse, "OrderExpired")
          .withArgs(longGone.hash, now - 3600n);
      });

      // expiry one second before the fill's block
      const fillTime = now + 100n;
      const justGone = await signedOrder(clearingHouse, alice, { expiry: fillTime - 1n });
      await nextBlockAt(fillTime);
      await expectNoChange(c, [justGone.hash], async () => {
        await expect(fill(clearingHouse, bob, justGone, WAD))
          .to.be.revertedWithCustomError(clearingHouse, "OrderExpired")
          .withArgs(justGone.hash, fillTime - 1n);
      });

      // expiry equal to the fill's block timestamp
      const onTime = await signedOrder(clearingHouse, alice, { expiry: fillTime, nonce: 1n });
      await nextBlockAt(fillTime);
      const receipt = await mined(fill(clearingHouse, bob, onTime, WAD));
      expect(await blockTime(receipt)).to.equal(fillTime);
      expect(await clearingHouse.orderStatus(onTime.hash)).to.deep.equal([WAD, false]);
      await expectPosition(clearingHouse, alice.address, ETH_MARKET, WAD, P2000);
    });

    it("rejects a fill of zero size", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const so = await signedOrder(c.clearingHouse, c.alice);
      await expectNoChange(c, [so.hash], async () => {
        await expect(fill(c.clearingHouse, c.bob, so, 0n))
          .to.be.revertedWithCustomError(c.clearingHouse, "ZeroAmount")
          .withArgs();
      });
    });

    it("rejects an order for a market that is not listed", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const so = await signedOrder(c.clearingHouse, c.alice, { marketId: 2n }); // markets 0 and 1 exist
      await expectNoChange(c, [so.hash], async () => {
        await expect(fill(c.clearingHouse, c.bob, so, WAD))
          .to.be.revertedWithCustomError(c.clearingHouse, "UnknownMarket")
          .withArgs(2n);
      });
    });

    it("rejects a maker filling its own order", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const so = await signedOrder(c.clearingHouse, c.alice);
      await expectNoChange(c, [so.hash], async () => {
        await expect(fill(c.clearingHouse, c.alice, so, WAD))
          .to.be.revertedWithCustomError(c.clearingHouse, "SelfTrade")
          .withArgs(c.alice.address);
      });
    });

    it("rejects fills while trading is paused, and accepts them again after unpause", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, alice, bob, pauser } = c;
      const so = await signedOrder(clearingHouse, alice);
      await clearingHouse.connect(pauser).pause();
      await expectNoChange(c, [so.hash], async () => {
        await expect(fill(clearingHouse, bob, so, WAD))
          .to.be.revertedWithCustomError(clearingHouse, "EnforcedPause")
          .withArgs();
      });
      await clearingHouse.connect(pauser).unpause();
      await mined(fill(clearingHouse, bob, so, WAD));
      expect(await clearingHouse.orderStatus(so.hash)).to.deep.equal([WAD, false]);
    });
  });

  describe("cancellation", () => {
    it("cancelOrder: only the maker, once; a cancelled order cannot be filled", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, alice, bob } = c;
      const so = await signedOrder(clearingHouse, alice, { size: 2n * WAD });
      await mined(fill(clearingHouse, bob, so, WAD / 2n));

      await expectNoChange(c, [so.hash], async () => {
        await expect(clearingHouse.connect(bob).cancelOrder(so.order))
          .to.be.revertedWithCustomError(clearingHouse, "NotOrderMaker")
          .withArgs(bob.address, alice.address);
      });

      await expect(clearingHouse.connect(alice).cancelOrder(so.order))
        .to.emit(clearingHouse, "OrderCancelledByMaker")
        .withArgs(so.hash, alice.address);
      // the filled part stays recorded
      expect(await clearingHouse.orderStatus(so.hash)).to.deep.equal([WAD / 2n, true]);

      await expectNoChange(c, [so.hash], async () => {
        await expect(fill(clearingHouse, bob, so, WAD / 2n))
          .to.be.revertedWithCustomError(clearingHouse, "OrderCancelled")
          .withArgs(so.hash);
      });
      await expectNoChange(c, [so.hash], async () => {
        await expect(clearingHouse.connect(alice).cancelOrder(so.order))
          .to.be.revertedWithCustomError(clearingHouse, "OrderCancelled")
          .withArgs(so.hash);
      });

      // an order never seen on chain can be cancelled too
      const unseen = await signedOrder(clearingHouse, alice, { nonce: 7n });
      await expect(clearingHouse.connect(alice).cancelOrder(unseen.order))
        .to.emit(clearingHouse, "OrderCancelledByMaker")
        .withArgs(unseen.hash, alice.address);
      expect(await clearingHouse.orderStatus(unseen.hash)).to.deep.equal([0n, true]);
      await expectNoChange(c, [unseen.hash], async () => {
        await expect(fill(clearingHouse, bob, unseen, WAD))
          .to.be.revertedWithCustomError(clearingHouse, "OrderCancelled")
          .withArgs(unseen.hash);
      });
    });

    it("cancelOrdersBelowNonce invalidates lower nonces only and must increase", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, alice, bob } = c;
      const low = await signedOrder(clearingHouse, alice, { nonce: 4n });
      const equal = await signedOrder(clearingHouse, alice, { nonce: 5n });

      await expectNoChange(c, [], async () => {
        await expect(clearingHouse.connect(alice).cancelOrdersBelowNonce(0n))
          .to.be.revertedWithCustomError(clearingHouse, "NonceNotIncreasing")
          .withArgs(0n, 0n);
      });

      await expect(clearingHouse.connect(alice).cancelOrdersBelowNonce(5n))
        .to.emit(clearingHouse, "NoncesInvalidated")
        .withArgs(alice.address, 5n);
      expect(await clearingHouse.minValidNonce(alice.address)).to.equal(5n);
      expect(await clearingHouse.minValidNonce(bob.address)).to.equal(0n);

      await expectNoChange(c, [low.hash], async () => {
        await expect(fill(clearingHouse, bob, low, WAD))
          .to.be.revertedWithCustomError(clearingHouse, "OrderNonceInvalidated")
          .withArgs(alice.address, 4n, 5n);
      });

      await mined(fill(clearingHouse, bob, equal, WAD));
      expect(await clearingHouse.orderStatus(equal.hash)).to.deep.equal([WAD, false]);
      await expectPosition(clearingHouse, alice.address, ETH_MARKET, WAD, P2000);

      await expectNoChange(c, [], async () => {
        await expect(clearingHouse.connect(alice).cancelOrdersBelowNonce(5n))
          .to.be.revertedWithCustomError(clearingHouse, "NonceNotIncreasing")
          .withArgs(5n, 5n);
      });
      await expectNoChange(c, [], async () => {
        await expect(clearingHouse.connect(alice).cancelOrdersBelowNonce(3n))
          .to.be.revertedWithCustomError(clearingHouse, "NonceNotIncreasing")
          .withArgs(5n, 3n);
      });
    });
  });

  describe("signatures", () => {
    it("rejects signatures that are not the maker's over exactly this order", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, alice, bob, carol, token } = c;
      const order = await makeOrder(alice.address);
      const hash = await orderDigest(clearingHouse, order);

      // a valid EIP-712 signature, but by someone else
      const byCarol = await signOrder(clearingHouse, carol, order);
      // alice's signature over different fields (another price)
      const otherFields = await signOrder(clearingHouse, alice, {
        ...order,
        limitPrice: 1990n * WAD,
      });
      // alice's signature over the same order for another verifying contract
      const otherDomain = await alice.signTypedData(
        { ...(await orderDomain(clearingHouse)), verifyingContract: await token.getAddress() },
        ORDER_TYPES,
        order,
      );
      // malformed bytes: too short, empty, and 65 bytes with an impossible recovery id
      const valid = await signOrder(clearingHouse, alice, order);
      const badV = valid.slice(0, -2) + "1d";

      for (const signature of [byCarol, otherFields, otherDomain, "0x1234", "0x", badV]) {
        await expectNoChange(c, [hash], async () => {
          await expect(clearingHouse.connect(bob).fillOrder(order, signature, WAD))
            .to.be.revertedWithCustomError(clearingHouse, "InvalidSignature")
            .withArgs(alice.address, hash);
        });
      }

      // the genuine signature still works
      await mined(clearingHouse.connect(bob).fillOrder(order, valid, WAD));
      expect(await clearingHouse.orderStatus(hash)).to.deep.equal([WAD, false]);
    });

    it("accepts an ERC-1271 smart-contract wallet as maker when its owner signed the EIP-712 digest", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, bob, traders } = c;
      const owner = traders[5];
      const stranger = traders[6];
      const wallet = await ethers.deployContract("MockERC1271Wallet", [owner.address]);
      const walletAddress = await wallet.getAddress();
      await clearingHouse.connect(owner).depositFor(walletAddress, 10_000n * USD);
      expect(await clearingHouse.collateralOf(walletAddress)).to.equal(10_000n * WAD);

      const domain = await orderDomain(clearingHouse);
      const order = await makeOrder(walletAddress);
      const digest = ethers.TypedDataEncoder.hash(domain, ORDER_TYPES, order);
      expect(await clearingHouse.hashOrder(order)).to.equal(digest);

      const signature = await owner.signTypedData(domain, ORDER_TYPES, order);
      expect(ethers.recoverAddress(digest, signature)).to.equal(owner.address);
      expect(await wallet.isValidSignature(digest, signature)).to.equal("0x1626ba7e");

      await expect(clearingHouse.connect(bob).fillOrder(order, signature, WAD))
        .to.emit(clearingHouse, "OrderFilled")
        .withArgs(digest, walletAddress, bob.address, ETH_MARKET, true, WAD, P2000);
      await expectPosition(clearingHouse, walletAddress, ETH_MARKET, WAD, P2000);
      // maker fee 2000 × 0.0002 = 0.4
      expect(await clearingHouse.collateralOf(walletAddress)).to.equal(10_000n * WAD - 4n * 10n ** 17n);

      // a signature by anyone but the owner is refused
      const order2 = await makeOrder(walletAddress, { nonce: 1n });
      const digest2 = ethers.TypedDataEncoder.hash(domain, ORDER_TYPES, order2);
      const strangerSignature = await stranger.signTypedData(domain, ORDER_TYPES, order2);
      const before = await captureState(clearingHouse, c.token, [walletAddress, bob.address], [ETH_MARKET], [digest2]);
      await expect(clearingHouse.connect(bob).fillOrder(order2, strangerSignature, WAD))
        .to.be.revertedWithCustomError(clearingHouse, "InvalidSignature")
        .withArgs(walletAddress, digest2);
      expect(
        await captureState(clearingHouse, c.token, [walletAddress, bob.address], [ETH_MARKET], [digest2]),
      ).to.deep.equal(before);
    });
  });

  describe("price band", () => {
    it("accepts prices exactly at the 5% band edges and rejects 1 wei outside", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, alice, bob, carol } = c;
      // band = 2000 × 5% = 100: [1900, 2100]
      const upper = 2100n * WAD;
      const lower = 1900n * WAD;

      const aboveBand = await signedOrder(clearingHouse, alice, { limitPrice: upper + 1n });
      await expectNoChange(c, [aboveBand.hash], async () => {
        await expect(fill(clearingHouse, bob, aboveBand, WAD))
          .to.be.revertedWithCustomError(clearingHouse, "PriceOutsideBand")
          .withArgs(upper + 1n, P2000, BAND);
      });
      const belowBand = await signedOrder(clearingHouse, carol, {
        isBuy: false,
        limitPrice: lower - 1n,
      });
      await expectNoChange(c, [belowBand.hash], async () => {
        await expect(fill(clearingHouse, bob, belowBand, WAD))
          .to.be.revertedWithCustomError(clearingHouse, "PriceOutsideBand")
          .withArgs(lower - 1n, P2000, BAND);
      });

      await trade(clearingHouse, alice, bob, { limitPrice: upper }, WAD);
      await expectPosition(clearingHouse, alice.address, ETH_MARKET, WAD, upper);
      await trade(clearingHouse, carol, bob, { isBuy: false, limitPrice: lower }, WAD);
      await expectPosition(clearingHouse, carol.address, ETH_MARKET, -WAD, -lower);
      // bob sold 1 at 2100 and bought 1 at 1900: flat
      await expectPosition(clearingHouse, bob.address, ETH_MARKET, 0n, 0n);
    });
  });

  describe("reduce-only orders", () => {
    it("reject fills that would open, increase or flip the maker's position and accept reducing ones", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, alice, bob } = c;

      const openBuy = await signedOrder(clearingHouse, alice, { reduceOnly: true, nonce: 1n });
      await expectNoChange(c, [openBuy.hash], async () => {
        await expect(fill(clearingHouse, bob, openBuy, WAD))
          .to.be.revertedWithCustomError(clearingHouse, "ReduceOnlyViolated")
          .withArgs(openBuy.hash, 0n, WAD);
      });

      await trade(clearingHouse, alice, bob, {}, WAD); // alice long 1

      const increase = await signedOrder(clearingHouse, alice, { reduceOnly: true, nonce: 2n });
      await expectNoChange(c, [increase.hash], async () => {
        await expect(fill(clearingHouse, bob, increase, WAD / 2n))
          .to.be.revertedWithCustomError(clearingHouse, "ReduceOnlyViolated")
          .withArgs(increase.hash, WAD, WAD / 2n);
      });

      const sell = await signedOrder(clearingHouse, alice, {
        isBuy: false,
        size: 2n * WAD,
        reduceOnly: true,
        nonce: 3n,
      });
      await expectNoChange(c, [sell.hash], async () => {
        await expect(fill(clearingHouse, bob, sell, 2n * WAD))
          .to.be.revertedWithCustomError(clearingHouse, "ReduceOnlyViolated")
          .withArgs(sell.hash, WAD, -2n * WAD);
      });

      // the same order, filled only as far as it reduces
      await mined(fill(clearingHouse, bob, sell, WAD / 2n));
      await expectPosition(clearingHouse, alice.address, ETH_MARKET, WAD / 2n, P2000 / 2n);
      await mined(fill(clearingHouse, bob, sell, WAD / 2n));
      await expectPosition(clearingHouse, alice.address, ETH_MARKET, 0n, 0n);
      expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
      await expectOpenInterest(clearingHouse, ETH_MARKET, 0n);

      // alice is flat now: the rest of the order would open a short
      await expectNoChange(c, [sell.hash], async () => {
        await expect(fill(clearingHouse, bob, sell, WAD / 2n))
          .to.be.revertedWithCustomError(clearingHouse, "ReduceOnlyViolated")
          .withArgs(sell.hash, 0n, -WAD / 2n);
      });
    });
  });

  describe("margin", () => {
    it("rejects a fill leaving the maker below initial margin, with equity and IM in the error", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, dave, bob } = c;
      await clearingHouse.connect(dave).deposit(100n * USD);
      const so = await signedOrder(clearingHouse, dave, { limitPrice: 1990n * WAD });

      // dave buys 1 at 1990, oracle 2000: fee 1990 × 0.0002 = 0.398, unrealized +10
      // equity = 100 − 0.398 + 10 = 109.602; IM = 1 × 2000 × 10% = 200
      await expectNoChange(c, [so.hash], async () => {
        await expect(fill(clearingHouse, bob, so, WAD))
          .to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin")
          .withArgs(dave.address, 109602n * MILLI, 200n * WAD);
      });

      // half the size fits: equity = 100 − 0.199 + 5 = 104.801 ≥ IM = 100
      await mined(fill(clearingHouse, bob, so, WAD / 2n));
      const health = await clearingHouse.accountHealth(dave.address);
      expect(health.equity).to.equal(104801n * MILLI);
      expect(health.initialMargin).to.equal(100n * WAD);
    });

    it("rejects a fill leaving the taker below initial margin, with equity and IM in the error", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, alice, erin } = c;
      await clearingHouse.connect(erin).deposit(150n * USD);
      const so = await signedOrder(clearingHouse, alice, { limitPrice: 2010n * WAD });

      // erin sells 1 at 2010, oracle 2000: taker fee 2010 × 0.0005 = 1.005, unrealized +10
      // equity = 150 − 1.005 + 10 = 158.995; IM = 200
      await expectNoChange(c, [so.hash], async () => {
        await expect(fill(clearingHouse, erin, so, WAD))
          .to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin")
          .withArgs(erin.address, 158995n * MILLI, 200n * WAD);
      });
    });

    /** dave long 1 ETH at 2000 with 300 USD, then the oracle falls to 1850: equity 149.6 < IM 185. */
    async function underwaterDave(c: Ctx): Promise<void> {
      const { clearingHouse, dave, bob, ethFeed } = c;
      await clearingHouse.connect(dave).deposit(300n * USD);
      await trade(clearingHouse, dave, bob, {}, WAD); // fee 0.4 → collateral 299.6
      await ethFeed.setAnswer(1850n * 10n ** 8n);
      const health = await clearingHouse.accountHealth(dave.address);
      // equity = 299.6 + (1850 − 2000) = 149.6; IM = 185; MM = 92.5
      expect(health.collateral).to.equal(2996n * 10n ** 17n);
      expect(health.equity).to.equal(1496n * 10n ** 17n);
      expect(health.initialMargin).to.equal(185n * WAD);
      expect(health.maintenanceMargin).to.equal(925n * 10n ** 17n);
    }

    it("allows a maker's reducing fill below initial margin after a price move, not an increasing one", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, dave, bob } = c;
      await underwaterDave(c);

      // dave sells 0.1 at 1850 as maker: closes 1/10 of 2000 cost → realized 185 − 200 = −15, fee 0.037
      await trade(clearingHouse, dave, bob, { isBuy: false, limitPrice: 1850n * WAD, nonce: 1n }, WAD / 10n);
      await expectPosition(clearingHouse, dave.address, ETH_MARKET, (WAD * 9n) / 10n, 1800n * WAD);
      const health = await clearingHouse.accountHealth(dave.address);
      // collateral = 299.6 − 15 − 0.037 = 284.563; equity = 284.563 + (0.9 × 1850 − 1800) = 149.563 < IM 166.5
      expect(health.collateral).to.equal(284563n * MILLI);
      expect(health.equity).to.equal(149563n * MILLI);
      expect(health.initialMargin).to.equal(1665n * 10n ** 17n);

      // buying back 0.1 would increase: fee 0.037 → collateral 284.526, size 1, cost 1985
      // equity = 284.526 + 1850 − 1985 = 149.526; IM = 185
      const increase = await signedOrder(clearingHouse, dave, {
        limitPrice: 1850n * WAD,
        nonce: 2n,
      });
      await expectNoChange(c, [increase.hash], async () => {
        await expect(fill(clearingHouse, bob, increase, WAD / 10n))
          .to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin")
          .withArgs(dave.address, 149526n * MILLI, 185n * WAD);
      });
    });

    it("refuses a reducing fill that leaves the account with negative equity: bankrupt accounts are liquidated", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, dave, bob, ethFeed } = c;
      await underwaterDave(c);
      await ethFeed.setAnswer(1650n * 10n ** 8n); // equity = 299.6 + (1650 − 2000) = −50.4

      // dave sells 0.1 at 1650 to bob: realized 165 − 200 = −35, maker fee 0.033 → collateral 264.567;
      // the 0.9 left (cost 1800) is worth 1485: equity = 264.567 − 315 = −50.433
      const sell = await signedOrder(clearingHouse, dave, { isBuy: false, limitPrice: 1650n * WAD, nonce: 1n });
      await expectNoChange(c, [sell.hash], async () => {
        await expect(fill(clearingHouse, bob, sell, WAD / 10n))
          .to.be.revertedWithCustomError(clearingHouse, "NegativeEquity")
          .withArgs(dave.address, -50433n * MILLI);
      });
    });

    it("allows a taker's reducing fill below initial margin after a price move, not an increasing one", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, dave, alice } = c;
      await underwaterDave(c);

      // dave sells 0.1 at 1850 as taker: realized −15, taker fee 185 × 0.0005 = 0.0925
      await trade(clearingHouse, alice, dave, { limitPrice: 1850n * WAD }, WAD / 10n);
      await expectPosition(clearingHouse, dave.address, ETH_MARKET, (WAD * 9n) / 10n, 1800n * WAD);
      const health = await clearingHouse.accountHealth(dave.address);
      // collateral = 299.6 − 15 − 0.0925 = 284.5075; equity = 284.5075 − 135 = 149.5075 < IM 166.5
      expect(health.collateral).to.equal(2845075n * 10n ** 14n);
      expect(health.equity).to.equal(1495075n * 10n ** 14n);
      expect(health.initialMargin).to.equal(1665n * 10n ** 17n);

      // taking alice's sell of 0.1 would increase: fee 0.0925 → collateral 284.415, size 1, cost 1985
      // equity = 284.415 + 1850 − 1985 = 149.415; IM = 185
      const sell = await signedOrder(clearingHouse, alice, {
        isBuy: false,
        limitPrice: 1850n * WAD,
        nonce: 1n,
      });
      await expectNoChange(c, [sell.hash], async () => {
        await expect(fill(clearingHouse, dave, sell, WAD / 10n))
          .to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin")
          .withArgs(dave.address, 149415n * MILLI, 185n * WAD);
      });
    });
  });

  describe("market limits", () => {
    it("caps open interest per side and allows fills that move size without raising it", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, riskManager, ethFeed, alice, bob, carol } = c;
      await clearingHouse
        .connect(riskManager)
        .listMarket(marketParams(await ethFeed.getAddress(), { maxOpenInterest: 5n * WAD }));
      const capped = 2n;
      const markets = [ETH_MARKET, BTC_MARKET, capped];

      const so = await signedOrder(clearingHouse, alice, { marketId: capped, size: 6n * WAD });
      await mined(fill(clearingHouse, bob, so, 5n * WAD)); // exactly at the cap
      await expectOpenInterest(clearingHouse, capped, 5n * WAD);

      await expectNoChange(
        c,
        [so.hash],
        async () => {
          await expect(fill(clearingHouse, bob, so, WAD))
            .to.be.revertedWithCustomError(clearingHouse, "OpenInterestCapExceeded")
            .withArgs(capped, 6n * WAD, 5n * WAD);
        },
        markets,
      );

      // carol buys 1 from alice: alice's long shrinks as carol's opens, open interest stays 5
      await trade(clearingHouse, alice, carol, { marketId: capped, isBuy: false, nonce: 1n }, WAD);
      await expectOpenInterest(clearingHouse, capped, 5n * WAD);
      await expectPosition(clearingHouse, alice.address, capped, 4n * WAD, 4n * P2000);
      await expectPosition(clearingHouse, carol.address, capped, WAD, P2000);
      await expectPosition(clearingHouse, bob.address, capped, -5n * WAD, -5n * P2000);
    });

    it("does not block fills that lower open interest after the cap was lowered below it", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, riskManager, ethFeed, alice, bob } = c;
      const feed = await ethFeed.getAddress();
      await clearingHouse.connect(riskManager).listMarket(marketParams(feed, { maxOpenInterest: 5n * WAD }));
      const capped = 2n;
      await trade(clearingHouse, alice, bob, { marketId: capped, size: 5n * WAD }, 5n * WAD);
      // the risk manager lowers the cap to 3 while 5 are open
      await clearingHouse
        .connect(riskManager)
        .updateMarketParams(capped, marketParams(feed, { maxOpenInterest: 3n * WAD }));

      // raising open interest further is refused: 6 > 3
      const more = await signedOrder(clearingHouse, alice, { marketId: capped, nonce: 1n });
      await expectNoChange(
        c,
        [more.hash],
        async () => {
          await expect(fill(clearingHouse, bob, more, WAD))
            .to.be.revertedWithCustomError(clearingHouse, "OpenInterestCapExceeded")
            .withArgs(capped, 6n * WAD, 3n * WAD);
        },
        [capped],
      );

      // alice sells 1 back to bob: both positions shrink, open interest falls 5 → 4. The fill does not
      // "push a side's open interest above the cap" (IClearingHouse NatSpec), so it must go through.
      await trade(clearingHouse, alice, bob, { marketId: capped, isBuy: false, nonce: 2n }, WAD);
      await expectOpenInterest(clearingHouse, capped, 4n * WAD);
      await expectPosition(clearingHouse, alice.address, capped, 4n * WAD, 4n * P2000);
      await expectPosition(clearingHouse, bob.address, capped, -4n * WAD, -4n * P2000);
    });

    it("limits an account to MAX_OPEN_MARKETS = 16 markets, as maker and as taker", async () => {
      const c = await networkHelpers.loadFixture(ordersFixture);
      const { clearingHouse, riskManager, ethFeed, alice, bob, carol, dave } = c;
      expect(await clearingHouse.MAX_OPEN_MARKETS()).to.equal(16n);
      const feed = await ethFeed.getAddress();
      for (let i = 0; i < 16; i++) await clearingHouse.connect(riskManager).listMarket(marketParams(feed));
      expect(await clearingHouse.marketCount()).to.equal(18n);
      await clearingHouse.connect(dave).deposit(10_000n * USD);

      // alice opens a long of 1 in markets 0..15, against bob (0..7) and carol (8..15);
      // market 1 is BTC at 60,000, every other market reads the ETH feed
      const first16 = Array.from({ length: 16 }, (_, i) => BigInt(i));
      for (const marketId of first16) {
        const limitPrice = marketId === BTC_MARKET ? 60_000n * WAD : P2000;
        await trade(clearingHouse, alice, marketId < 8n ? bob : carol, { marketId, limitPrice }, WAD);
      }
      expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal(first16);

      const seventeenth = 16n;
      const markets = [0n, 3n, 15n, seventeenth];
      const asMaker = await signedOrder(clearingHouse, alice, { marketId: seventeenth, nonce: 1n });
      await expectNoChange(
        c,
        [asMaker.hash],
        async () => {
          await expect(fill(clearingHouse, dave, asMaker, WAD))
            .to.be.revertedWithCustomError(clearingHouse, "TooManyOpenMarkets")
            .withArgs(alice.address, 16n);
        },
        markets,
      );
      const daveSells = await signedOrder(clearingHouse, dave, {
        marketId: seventeenth,
        isBuy: false,
      });
      await expectNoChange(
        c,
        [daveSells.hash],
        async () => {
          await expect(fill(clearingHouse, alice, daveSells, WAD))
            .to.be.revertedWithCustomError(clearingHouse, "TooManyOpenMarkets")
            .withArgs(alice.address, 16n);
        },
        markets,
      );

      // closing market 3 frees a slot (ids are listed ascending)
      await trade(clearingHouse, alice, bob, { marketId: 3n, isBuy: false, nonce: 2n }, WAD);
      expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal(first16.filter((id) => id !== 3n));
      await mined(fill(clearingHouse, alice, daveSells, WAD));
      expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([
        ...first16.filter((id) => id !== 3n),
        seventeenth,
      ]);
      await expectPosition(clearingHouse, alice.address, seventeenth, WAD, P2000);
    });
  });
});
