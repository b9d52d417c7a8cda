import { expect } from "chai";

import { liquidatableAt, liquidationPrice, type MarketPosition } from "../../sdk/math/liquidation-price.js";

const WAD = 10n ** 18n;
/** An 8-decimal feed's step in 18 decimals. */
const TICK = 10n ** 10n;
const usd = (whole: bigint): bigint => whole * WAD;

function position(marketId: number, size: bigint, entry: bigint, price: bigint, charges = 0n): MarketPosition {
  return {
    marketId,
    size,
    openNotional: (size * entry) / WAD,
    price,
    charges,
    initialMarginRatio: WAD / 10n,
    maintenanceMarginRatio: WAD / 20n,
  };
}

describe("cli liquidation price", function () {
  it("long: the highest tick where equity < maintenance margin", function () {
    // Collateral 1000, long 1 @ 2000, mmr 5%: equity = p − 1000, mm = 0.05·p; equity < mm ⇔ p < 1000/0.95 =
    // 1052.631578947368…, so the last tick below is 1052.63157894.
    const positions = [position(0, WAD, usd(2000n), usd(2000n))];
    const price = liquidationPrice(usd(1000n), positions, 0, TICK);
    expect(price).to.equal(105_263_157_894n * TICK);
    expect(liquidatableAt(usd(1000n), positions, 0, 105_263_157_894n * TICK)).to.equal(true);
    expect(liquidatableAt(usd(1000n), positions, 0, 105_263_157_895n * TICK)).to.equal(false);
  });

  it("short: the lowest tick where equity < maintenance margin", function () {
    // Collateral 1000, short 1 @ 2000: equity = 3000 − p, mm = 0.05·p; liquidatable ⇔ p > 3000/1.05 =
    // 2857.142857142857…, so the first tick above is 2857.14285715.
    const positions = [position(0, -WAD, usd(2000n), usd(2000n))];
    expect(liquidationPrice(usd(1000n), positions, 0, TICK)).to.equal(285_714_285_715n * TICK);
  });

  it("holds other markets at their prices and counts pending charges", function () {
    // Long 1 ETH @ 2000 and short 0.1 BTC @ 60000 at 60000 (no PnL, mm 0.05·6000 = 300), collateral 1000:
    // p − 1000 < 0.05·p + 300 ⇔ p < 1300/0.95 = 1368.421052631578… → 1368.42105263.
    const eth = position(0, WAD, usd(2000n), usd(2000n));
    const btc = position(1, -WAD / 10n, usd(60_000n), usd(60_000n));
    expect(liquidationPrice(usd(1000n), [eth, btc], 0, TICK)).to.equal(136_842_105_263n * TICK);
    // 50 of funding and social loss owed lowers equity by 50: p < 1350/0.95 = 1421.052631578947… → 1421.05263157.
    const charged = { ...eth, charges: usd(50n) };
    expect(liquidationPrice(usd(1000n), [charged, btc], 0, TICK)).to.equal(142_105_263_157n * TICK);
    // BTC short: equity = 1000 + 6000 − 0.1·q at ETH 2000 (PnL 0), mm = 100 + 0.005·q; liquidatable ⇔
    // 0.105·q > 6900 ⇔ q > 65714.285714285714… → 65714.28571429.
    expect(liquidationPrice(usd(1000n), [eth, btc], 1, TICK)).to.equal(6_571_428_571_429n * TICK);
  });

  it("a long that no positive price liquidates has none; no position has none", function () {
    // Collateral 3000 against long 1 @ 2000: equity at 1 tick is 1000 + 1e-8 > mm.
    const positions = [position(0, WAD, usd(2000n), usd(2000n))];
    expect(liquidationPrice(usd(3000n), positions, 0, TICK)).to.equal(undefined);
    expect(liquidationPrice(usd(1000n), positions, 1, TICK)).to.equal(undefined);
  });

  it("is found above the current price for a long already liquidatable", function () {
    // Collateral 50, long 1 @ 2000 at 1000: equity −950 < mm; the boundary is p < 1950/0.95 = 2052.631578947… →
    // 2052.63157894, above the mark.
    const positions = [position(0, WAD, usd(2000n), usd(1000n))];
    expect(liquidationPrice(usd(50n), positions, 0, TICK)).to.equal(205_263_157_894n * TICK);
  });
});
