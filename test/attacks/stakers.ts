// The insurance-fund game of issue 9, finding 4, shared by the attack tests on leaving the fund.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import { ETH_MARKET, USD, WAD, deploySystem } from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt } from "../../devnet/hardhat/fund.js";
import { mined } from "../../devnet/hardhat/trading.js";

/** Seconds between confirmUnstake and the earliest payout (InsuranceFund.EXIT_EXPOSURE). */
export const EXIT_EXPOSURE = 3600n;

/** The system with an honest staker, an attacker's two accounts, a long that a crash bankrupts, and a keeper. */
export interface StakersCtx extends System {
  honest: HardhatEthersSigner;
  x1: HardhatEthersSigner;
  x2: HardhatEthersSigner;
  alice: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
}

/**
 * honest stakes 20,000 USD, x1 and x2 10,000 each; alice buys 10 ETH at 2,000 from bob on 2,100 USD (the 4 + 10
 * USD of fees set 4.2 USD aside for the fund); bob and the keeper hold 50,000 each.
 */
export async function stakersFixture(): Promise<StakersCtx> {
  const system = await deploySystem();
  const [alice, bob, keeper, , x1, x2, honest] = system.traders;
  await mined(system.fund.connect(honest).deposit(20_000n * USD, honest.address));
  await mined(system.fund.connect(x1).deposit(10_000n * USD, x1.address));
  await mined(system.fund.connect(x2).deposit(10_000n * USD, x2.address));
  await mined(system.clearingHouse.connect(alice).deposit(2_100n * USD));
  await depositUsd(system.clearingHouse, 50_000n, bob, keeper);
  await openAt(system.clearingHouse, alice, bob, ETH_MARKET, 10n * WAD, 2000n);
  return { ...system, honest, x1, x2, alice, keeper };
}
