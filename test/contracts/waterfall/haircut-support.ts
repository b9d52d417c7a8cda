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
 * to gina (100 in the thin-profit variant); SOL ends at 75.
 */
export async function haircutFixtureWith(erinSize: bigint): Promise<HaircutCtx> {
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
  await trade(ch, erin, gina, { ...sol, size: erinSize * E, limitPrice: 70n * E }, erinSize * E);
  await setPrice(solFeed, 75n * E);
  return c;
}

// At 75: alice's equity 250 + 20 × 75 − 2024 = −274. The short side holds bob 10 (basis 1000), frank 4 (400),
// carol 6 (624) and erin 2 (140): open interest 22, Σ basis 2164, net profit 2164 − 22 × 75 = 514. Profits: bob
// 1000 − 750 = 250, carol 624 − 450 = 174, frank 400 − 300 = 100, erin 140 − 150 = −10 (a loser).
// The fund pays 100 (all it has); the haircut takes the other 174 at the fraction f = ⌈174 / 514 × 10^18⌉.
export const F = 338_521_400_778_210_117n;
export const SHORTFALL = 274n * E;
export const FUND_PAID = 100n * E;
export const HAIRCUT = 174n * E;
export const BOB_OWES = 250n * F; // 84.630350194552529250: f × 250, exact (the price index is 75 f, an integer)
export const CAROL_OWES = 174n * F; // 58.902723735408560358
export const FRANK_AT_RATE = 100n * F; // 33.852140077821011700, more than is left when he settles last
export const FRANK_PAYS = HAIRCUT - BOB_OWES - CAROL_OWES; // 30.466926070038910392: the rest of the side's debt

export function thinProfitFixture(): Promise<HaircutCtx> {
  return haircutFixtureWith(100n);
}

/** The worked example: erin is short 2. */
export function haircutFixture(): Promise<HaircutCtx> {
  return haircutFixtureWith(2n);
}
