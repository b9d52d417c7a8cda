import { expect } from "chai";

import { ClearingHouse__factory, DefaultLayers__factory, InsuranceFund__factory } from "../../typechain-types/index.js";
import { entryPrice } from "../../cli/commands/account.js";
import { RevertError, revertError } from "../../cli/errors.js";
import { orderExpiry } from "../../cli/commands/orders.js";
import { duration, fields, percent, table, timestamp } from "../../cli/format.js";

const WAD = 10n ** 18n;
const ACCOUNT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

describe("cli formatting", function () {
  it("percent shows an 18-decimal ratio with up to four decimals", function () {
    expect(percent(WAD / 20n)).to.equal("5%");
    expect(percent(WAD / 5000n)).to.equal("0.02%");
    expect(percent(-WAD / 100n)).to.equal("-1%");
    expect(percent(0n)).to.equal("0%");
  });

  it("duration shows the two largest units", function () {
    expect(duration(0n)).to.equal("0 s");
    expect(duration(59n)).to.equal("59 s");
    expect(duration(60n)).to.equal("1 min");
    expect(duration(3_600n)).to.equal("1 h");
    expect(duration(3_905n)).to.equal("1 h 5 min");
    expect(duration(2n * 86_400n + 3n * 3_600n + 59n)).to.equal("2 d 3 h");
    expect(duration(-90n)).to.equal("-1 min 30 s");
    expect(timestamp(1_796_626_611n)).to.equal("2026-12-07T06:56:51Z");
  });

  it("an order's lifetime counts from the later of the clock and the latest block", function () {
    const now = 1_800_000_000n;
    // Idle automining node: its last block is 344 s old, and the next block will be stamped with the clock.
    expect(orderExpiry(now, now - 344n, 60n)).to.equal(now + 60n);
    // Node time moved forward (evm_increaseTime): the block leads the clock, the fill is judged by it.
    expect(orderExpiry(now, now + 3_600n, 60n)).to.equal(now + 3_660n);
  });

  it("table and fields align columns", function () {
    expect(
      table([
        ["a", "bb"],
        ["ccc", "d"],
      ]),
    ).to.equal("a    bb\nccc  d");
    expect(
      fields([
        ["x", "1"],
        ["long name", "2"],
      ]),
    ).to.equal("x:         1\nlong name: 2");
  });

  it("entry price is |open notional| / |size|", function () {
    // Short 1.5 with a cost basis of −3000: 2000.
    expect(entryPrice((-3n * WAD) / 2n, -3000n * WAD)).to.equal(2000n * WAD);
    // Long 3 for 6001: 2000.333… rounded down.
    expect(entryPrice(3n * WAD, 6001n * WAD)).to.equal(2000_333_333_333_333_333_333n);
    expect(entryPrice(0n, 0n)).to.equal(0n);
  });
});

describe("cli revert messages", function () {
  const iface = [ClearingHouse__factory.createInterface(), InsuranceFund__factory.createInterface()];
  const interfaces = { interfaces: iface, symbol: "mUSD" };

  it("decodes a custom error with its parameter names, from whichever ABI declares it", function () {
    const margin = iface[0].encodeErrorResult("InsufficientMargin", [ACCOUNT, -5n * WAD, 7n * WAD + WAD / 4n]);
    // ethers nests revert data differently per provider; here as a CALL_EXCEPTION carries it.
    const error = revertError("withdraw", { code: "CALL_EXCEPTION", info: { error: { data: margin } } }, interfaces);
    expect(error).to.be.instanceOf(RevertError);
    expect(error.message).to.equal(
      `withdraw reverted: InsufficientMargin(account=${ACCOUNT}, equity=-5.00 mUSD, initialMargin=7.25 mUSD)`,
    );
    expect(error.decoded?.name).to.equal("InsufficientMargin");

    const cooldown = iface[1].encodeErrorResult("CooldownNotElapsed", [ACCOUNT, 1_796_626_611n]);
    expect(revertError("unstake", { data: cooldown }, interfaces).message).to.equal(
      `unstake reverted: CooldownNotElapsed(staker=${ACCOUNT}, readyAt=2026-12-07T06:56:51Z)`,
    );
    // The example: 18-decimal amounts in units, sizes in units, the same parameter name by its error.
    const collateral = iface[0].encodeErrorResult("InsufficientCollateral", [ACCOUNT, 11117211094650205761081n, WAD]);
    expect(revertError("withdraw", { data: collateral }, interfaces).message).to.equal(
      `withdraw reverted: InsufficientCollateral(account=${ACCOUNT}, available=11,117.21 mUSD, requested=1.00 mUSD)`,
    );
    const hash = `0x${"ab".repeat(32)}`;
    const overfill = iface[0].encodeErrorResult("OrderOverfill", [hash, WAD, WAD / 2n, WAD]);
    expect(revertError("fill", { data: overfill }, interfaces).message).to.equal(
      `fill reverted: OrderOverfill(orderHash=${hash}, filled=1.000000, requested=0.500000, size=1.000000)`,
    );
  });

  it("shows the default layers' token-decimal amounts in units with the symbol, and their times as dates", function () {
    const layers = DefaultLayers__factory.createInterface();
    const decoding = { interfaces: [...iface, layers], symbol: "mUSD", decimals: 6 };
    const small = layers.encodeErrorResult("ContributionTooSmall", [ACCOUNT, 20_500_000n, 1_050_000_000n]);
    expect(revertError("join", { data: small }, decoding).message).to.equal(
      `join reverted: ContributionTooSmall(account=${ACCOUNT}, amount=20.5 mUSD, required=1,050 mUSD)`,
    );
    const cooling = layers.encodeErrorResult("CoolingOff", [1_796_626_611n, 1_796_626_611n + 86_400n]);
    expect(revertError("leaveFund", { data: cooling }, decoding).message).to.equal(
      "leaveFund reverted: CoolingOff(defaultAt=2026-12-07T06:56:51Z, until=2026-12-08T06:56:51Z)",
    );
    // Without the decimals the integers stay as they are, never scaled as 18-decimal amounts.
    expect(revertError("join", { data: small }, { ...decoding, decimals: undefined }).message).to.equal(
      `join reverted: ContributionTooSmall(account=${ACCOUNT}, amount=20500000, required=1050000000)`,
    );
  });

  it("names an unknown selector, and falls back to the provider's first line without revert data", function () {
    expect(revertError("fill", { data: "0xdeadbeef" }, interfaces).message).to.equal(
      "fill reverted: unknown(0xdeadbeef)",
    );
    const transport = { code: "SERVER_ERROR", shortMessage: "connection refused\nmore" };
    expect(revertError("deposit", transport, interfaces).message).to.equal(
      "deposit reverted: SERVER_ERROR: connection refused",
    );
  });
});
