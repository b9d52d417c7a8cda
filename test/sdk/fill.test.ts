import { expect } from "chai";

import { applyFill, fillEffect, type MarketPosition } from "#sdk";

const WAD = 10n ** 18n;
const usd = (whole: bigint): bigint => whole * WAD;

describe("sdk fill math (PositionMath.applyFill, LedgerLib.applyFill)", function () {
  it("opening and adding: the whole notional joins the cost basis", function () {
    expect(applyFill(0n, 0n, 2n * WAD, usd(4000n))).to.deep.equal({
      size: 2n * WAD,
      openNotional: usd(4000n),
      realizedPnl: 0n,
    });
    expect(applyFill(-WAD, -usd(2000n), -WAD, usd(2100n))).to.deep.equal({
      size: -2n * WAD,
      openNotional: -usd(4100n),
      realizedPnl: 0n,
    });
  });

  it("reducing: the closed share of the basis rounds toward +∞, the wei stays in the open part", function () {
    // Long 3 for 1000 wei of basis; sell 1 for 400: closed = ⌈1000 × 1 / 3⌉ = 334, realized = 400 − 334 = 66.
    expect(applyFill(3n, 1000n, -1n, 400n)).to.deep.equal({ size: 2n, openNotional: 666n, realizedPnl: 66n });
  });

  it("flipping: closes at the closing share of the notional, opens the rest", function () {
    // Long 1 @ 2000, sell 3 @ 1900 (notional 5700): closing part 1900, realized −100, short 2 with basis −3800.
    expect(applyFill(WAD, usd(2000n), -3n * WAD, usd(5700n))).to.deep.equal({
      size: -2n * WAD,
      openNotional: -usd(3800n),
      realizedPnl: -usd(100n),
    });
  });

  it("margin effect: fee rounded up, charges settled, health at the oracle", function () {
    // 1,000 of collateral, no position; buy 2 @ 2,010 with a 0.1% taker fee while the oracle says 2,000:
    // notional 4,020, fee 4.02, collateral 995.98, equity 995.98 + (4,000 − 4,020) = 975.98,
    // IM 10% of 4,000 = 400, MM 5% = 200.
    const market = { oraclePrice: usd(2000n), initialMarginRatio: WAD / 10n, maintenanceMarginRatio: WAD / 20n };
    const effect = fillEffect(
      usd(1000n),
      [],
      { marketId: 0, sizeDelta: 2n * WAD, price: usd(2010n), feeRatio: WAD / 1000n },
      market,
    );
    expect(effect.fee).to.equal(402n * 10n ** 16n);
    expect(effect.collateral).to.equal(99_598n * 10n ** 16n);
    expect(effect.health).to.deep.equal({
      equity: 97_598n * 10n ** 16n,
      initialMargin: usd(400n),
      maintenanceMargin: usd(200n),
    });
    expect(effect.reduces).to.equal(false);

    // Closing it at 2,000 with 3 of funding pending: collateral 1,000 − 3 + (4,000 − 4,020) − 0 = 977, flat.
    const held: MarketPosition = {
      marketId: 0,
      size: 2n * WAD,
      openNotional: usd(4020n),
      price: usd(2000n),
      charges: usd(3n),
      initialMarginRatio: WAD / 10n,
      maintenanceMarginRatio: WAD / 20n,
    };
    const close = fillEffect(
      usd(1000n),
      [held],
      { marketId: 0, sizeDelta: -2n * WAD, price: usd(2000n), feeRatio: 0n },
      market,
    );
    expect(close.collateral).to.equal(usd(977n));
    expect(close.position.size).to.equal(0n);
    expect(close.health).to.deep.equal({ equity: usd(977n), initialMargin: 0n, maintenanceMargin: 0n });
    expect(close.reduces).to.equal(true);
  });
});
