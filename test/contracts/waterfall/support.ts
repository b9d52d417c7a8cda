import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { ETH_MARKET, USD, WAD, deploySystem, ethers, networkHelpers } from "../../../devnet/hardhat/fixture.js";
import type { System } from "../../../devnet/hardhat/fixture.js";
import { nextBlockAt, latestTime, trade } from "../../../devnet/hardhat/trading.js";
import { quietMarkets, setFundLimits, setPrice, stake } from "../../../devnet/hardhat/waterfall.js";

// Steps 2 and 3 of the waterfall. ETH (market 0) is an ADL market, BTC (market 1) a socialized one; both have
// maintenance 5%, initial 10%, liquidation discount 1%. Funding is off (index and rate stay 0); trading fees
// stay on (maker 2 bp, taker 5 bp, rounded up; 30% of each fee, rounded down, goes to the insurance-fees pot),
// which gives the pot something to pay first. Amounts are 18-decimal wei unless they say "units" (the
// 6-decimal token); a fund draw is in whole units, so 1 unit = 10^12 wei.

export const E = WAD; // 1 ETH / 1 BTC / 1 USD in 18 decimals
export const FUND_STAKE = 10_000n * USD;
export const FUND_SHARES = FUND_STAKE * 10n ** 6n; // first deposit: assets × 10^decimalsOffset(6)

export interface Ctx extends System {
  alice: HardhatEthersSigner; // goes bankrupt
  bob: HardhatEthersSigner; // counterparty
  carol: HardhatEthersSigner; // keeper / liquidator
  dave: HardhatEthersSigner; // insurance-fund staker
  erin: HardhatEthersSigner; // counterparty
  frank: HardhatEthersSigner; // bystander on the bankrupt account's side
}

/** Funding off, fees on, dave stakes 10,000 USD in the fund; deposits in token units per account. */
export async function baseFixture(deposits: {
  alice: bigint;
  bob: bigint;
  carol: bigint;
  erin: bigint;
  frank: bigint;
}): Promise<Ctx> {
  const system = await deploySystem();
  await quietMarkets(system, true);
  const [alice, bob, carol, dave, erin, frank] = system.traders;
  const c: Ctx = { ...system, alice, bob, carol, dave, erin, frank };
  await stake(system.fund, dave, FUND_STAKE);
  for (const [signer, amount] of [
    [alice, deposits.alice],
    [bob, deposits.bob],
    [carol, deposits.carol],
    [erin, deposits.erin],
    [frank, deposits.frank],
  ] as const) {
    if (amount !== 0n) await system.clearingHouse.connect(signer).deposit(amount * USD);
  }
  return c;
}

export function accountsOf(c: Ctx): string[] {
  return [c.alice.address, c.bob.address, c.carol.address, c.dave.address, c.erin.address, c.frank.address];
}

/** alice deposits 620 and sells 3 ETH at 2,000 to bob (fees 1.2 and 3); ETH rises to 2,250. */
export async function ethCoveredFixture(): Promise<Ctx> {
  const c = await baseFixture({ alice: 620n, bob: 100_000n, carol: 100_000n, erin: 0n, frank: 0n });
  await trade(c.clearingHouse, c.alice, c.bob, { isBuy: false, size: 3n * E, limitPrice: 2000n * E }, 3n * E);
  await setPrice(c.ethFeed, 2250n * E);
  return c;
}

// bob's and erin's ADL scores in adlSetupFixture: both sold at 2,000, entry bucket ⌊256·log2(2000 × 10^18)⌋ =
// 18114 (computed independently), a short's score is bucket + 1. Equal scores: the contract takes either first.
export const SCORE_BOB = 18_115n;
export const SCORE_ERIN = 18_115n;

export interface CaseCtx extends Ctx {
  openedAt: bigint;
}

/**
 * alice deposits 700 and buys 2 ETH from bob (deposit 1,000) and 1 ETH from erin (deposit 10,000); frank
 * (10,000) buys 1 ETH from erin, all at 2,000 with alice and frank as makers. Fees: alice 0.8 + 0.4, frank 0.4,
 * bob 2, erin 1 + 1; pot 30% × 5.6 = 1.68. The fund may pay 49 USD a day; its unstake cooldown is a minute and
 * dave has asked to unstake half his shares and confirmed after the cooldown. ETH falls to 1,700.
 */
export async function adlSetupFixture(): Promise<Ctx> {
  const c = await baseFixture({ alice: 700n, bob: 1_000n, carol: 100_000n, erin: 10_000n, frank: 10_000n });
  await setFundLimits(c, 0n, 49n * USD, 60n);
  await c.fund.connect(c.dave).requestUnstake(FUND_SHARES / 2n);
  await networkHelpers.time.increase(60);
  await c.fund.connect(c.dave).confirmUnstake();
  await trade(c.clearingHouse, c.alice, c.bob, { size: 2n * E }, 2n * E);
  await trade(c.clearingHouse, c.alice, c.erin, { size: E, nonce: 1n }, E);
  await trade(c.clearingHouse, c.frank, c.erin, { size: E }, E);
  await setPrice(c.ethFeed, 1700n * E);
  return c;
}

/** adlSetupFixture, then carol's liquidate opens alice's deleverage case at `openedAt`. */
export async function adlCaseFixture(): Promise<CaseCtx> {
  const c = await adlSetupFixture();
  const openedAt = (await latestTime()) + 10n;
  await nextBlockAt(openedAt);
  await c.clearingHouse.connect(c.carol).liquidate(c.alice.address, ETH_MARKET, ethers.MaxUint256);
  return { ...c, openedAt };
}
