// Set-up of the haircut tests (contracts/waterfall/haircut.test.ts, attacks/haircut-*.test.ts). Units as in ./support.ts.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import {
  ETH_MARKET,
  LOSS_POLICY_HAIRCUT,
  USD,
  WAD,
  deploySystem,
  ethers,
  marketParams,
} from "../../../devnet/hardhat/fixture.js";
import type { System } from "../../../devnet/hardhat/fixture.js";
import type { MockAggregatorV3 } from "../../../typechain-types/index.js";
import { mined, trade } from "../../../devnet/hardhat/trading.js";
import { quietMarkets, setFundLimits, setPrice, stake } from "../../../devnet/hardhat/waterfall.js";

export const E = WAD;
export const SOL_MARKET = 2n;

export interface HaircutCtx extends System {
  solFeed: MockAggregatorV3;
  alice: HardhatEthersSigner; // goes bankrupt, long
  bob: HardhatEthersSigner; // winner: short 10 at 100
  carol: HardhatEthersSigner; // winner: short 6 at 104
  dave: HardhatEthersSigner; // insurance-fund staker
  erin: HardhatEthersSigner; // loser on the same side: short 2 at 70
  frank: HardhatEthersSigner; // hedged: short 4 SOL at 100 here, long 2 ETH
  gina: HardhatEthersSigner; // liquidator, long 2 SOL at 70
}

/**
 * A third market, SOL (id 2), with policy haircut; funding and fees off everywhere. dave stakes 100 USD (the fund
 * may pay all of it). At 100 alice buys 10 SOL from bob and 4 from frank; at 104, 6 from carol: long 20, cost basis
 * 1000 + 400 + 624 = 2024, deposit 250. frank also buys 2 ETH from gina at 2,000 (his hedge). At 70 erin sells 2 SOL
 * to gina, then `atSeventy` runs (the thin-profit variant closes winners there); SOL ends at 75.
 */
export async function haircutFixtureWith(atSeventy?: (c: HaircutCtx) => Promise<void>): Promise<HaircutCtx> {
  const system = await deploySystem();
  await quietMarkets(system, false);
  const solFeed = await ethers.deployContract("MockAggregatorV3", [8, "SOL / USD", 100n * 10n ** 8n]);
  await system.clearingHouse.connect(system.riskManager).listMarket(
    marketParams(await solFeed.getAddress(), {
      lossPolicy: LOSS_POLICY_HAIRCUT,
      maxFundingRate: 0n,
      makerFeeRatio: 0n,
      takerFeeRatio: 0n,
    }),
  );
  const [alice, bob, carol, dave, erin, frank, gina] = system.traders;
  const c: HaircutCtx = { ...system, solFeed, alice, bob, carol, dave, erin, frank, gina };
  await setFundLimits(c, 0n, 1_000_000n * USD);
  await stake(c.fund, dave, 100n * USD);
  for (const [signer, amount] of [
    [alice, 250n],
    [bob, 1_000n],
    [carol, 1_000n],
    [erin, 1_000n],
    [frank, 1_000n],
    [gina, 10_000n],
  ] as const) {
    await mined(c.clearingHouse.connect(signer).deposit(amount * USD));
  }
  const ch = c.clearingHouse;
  const sol = { marketId: SOL_MARKET, isBuy: false };
  await trade(ch, bob, alice, { ...sol, size: 10n * E, limitPrice: 100n * E }, 10n * E);
  await trade(ch, frank, alice, { ...sol, size: 4n * E, limitPrice: 100n * E }, 4n * E);
  await trade(ch, gina, frank, { marketId: ETH_MARKET, isBuy: false, size: 2n * E, limitPrice: 2000n * E }, 2n * E);
  await setPrice(solFeed, 104n * E);
  await trade(ch, carol, alice, { ...sol, size: 6n * E, limitPrice: 104n * E }, 6n * E);
  await setPrice(solFeed, 70n * E);
  await trade(ch, erin, gina, { ...sol, size: 2n * E, limitPrice: 70n * E }, 2n * E);
  await atSeventy?.(c);
  await setPrice(solFeed, 75n * E);
  return c;
}

// At 75: alice's equity 250 + 20 × 75 − 2024 = −274. The short side holds bob 10 (basis 1000), frank 4 (400),
// carol 6 (624) and erin 2 (140). Profits: bob 1000 − 750 = 250, carol 624 − 450 = 174, frank 400 − 300 = 100;
// erin 140 − 150 = −10 is a loser, entered below 75, and neither pays nor counts. The winners' profit is 524.
// The fund pays 100 (all it has); the haircut takes the other 174 at the fraction f = ⌈174 / 524 × 10^18⌉.
export const F = 332_061_068_702_290_077n;
export const WINNERS_PROFIT = 524n * E;
export const SHORTFALL = 274n * E;
export const FUND_PAID = 100n * E;
export const HAIRCUT = 174n * E;
// f × profit, exact (the price index is 75 f, an integer): what each winner owes, whatever the order.
export const BOB_OWES = 250n * F; // 83.015267175572519250
export const CAROL_OWES = 174n * F; // 57.778625954198473398
export const FRANK_OWES = 100n * F; // 33.206106870229007700
// f rounds up, so 524 f is 348 wei more than 174: the one who settles last pays that much less.
export const ROUNDING = (WINNERS_PROFIT / E) * F - HAIRCUT;

/**
 * The thin-profit variant: at 70, bob and frank buy their shorts back from erin, and carol 5 of her 6, so erin is
 * short 21 at 70 (a loser at 75) and carol's 1 at 104 is the only winner: 29 of profit at 75.
 */
export function thinProfitFixture(): Promise<HaircutCtx> {
  return haircutFixtureWith(async (c) => {
    const buyBack = { marketId: SOL_MARKET, isBuy: false, limitPrice: 70n * E };
    for (const [winner, size] of [
      [c.bob, 10n],
      [c.frank, 4n],
      [c.carol, 5n],
    ] as const) {
      await trade(c.clearingHouse, c.erin, winner, { ...buyBack, size: size * E }, size * E);
    }
  });
}

/** The worked example: erin is short 2 at 70. */
export function haircutFixture(): Promise<HaircutCtx> {
  return haircutFixtureWith();
}
