// What the attack tests measure: what a group of accounts owns, what they can take out, and whether the clearing
// house can still pay everyone. Amounts are 18-decimal wei unless they say "units" (the 6-decimal token).
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";

import { SCALE, USD, ethers } from "../../devnet/hardhat/fixture.js";
import type { System } from "../../devnet/hardhat/fixture.js";
import { mined } from "../../devnet/hardhat/trading.js";

/** Gives each signer `dollars` of the token, approved to the clearing house and the fund. */
export async function fundWallets(system: System, dollars: bigint, ...signers: HardhatEthersSigner[]): Promise<void> {
  const { token, clearingHouse, fund } = system;
  for (const signer of signers) {
    await mined(token.mint(signer.address, dollars * USD));
    await mined(token.connect(signer).approve(await clearingHouse.getAddress(), ethers.MaxUint256));
    await mined(token.connect(signer).approve(await fund.getAddress(), ethers.MaxUint256));
  }
}

/**
 * What `accounts` own together: tokens in their wallets (× 10^12) plus their positive equity in the clearing
 * house at the oracle (an account's debt is never paid by its owner, who can walk away from it). An attacker's
 * net gain is the change of this over all its accounts.
 */
export async function wealth(system: System, accounts: readonly HardhatEthersSigner[]): Promise<bigint> {
  let total = 0n;
  for (const a of accounts) {
    total += (await system.token.balanceOf(a.address)) * SCALE;
    const equity = (await system.clearingHouse.accountHealth(a.address)).equity;
    if (equity > 0n) total += equity;
  }
  return total;
}

/**
 * Takes out everything `signer` may withdraw now (its free collateral, whole units) and returns it in units.
 * A lock or a bankrupt account gives 0.
 */
export async function withdrawAll(system: System, signer: HardhatEthersSigner): Promise<bigint> {
  const free = (await system.clearingHouse.accountHealth(signer.address)).freeCollateral / SCALE;
  if (free === 0n) return 0n;
  await mined(system.clearingHouse.connect(signer).withdraw(free));
  return free;
}

/**
 * Token balance × 10^12 − fee pots − Σ positive equity of `accounts` (every account that ever deposited): what
 * the clearing house holds beyond what it owes. Negative means someone cannot be paid.
 */
export async function solvencySurplus(system: System, accounts: readonly HardhatEthersSigner[]): Promise<bigint> {
  const { clearingHouse, token } = system;
  let owed = (await clearingHouse.protocolFees()) + (await clearingHouse.insuranceFees());
  for (const a of accounts) {
    const equity = (await clearingHouse.accountHealth(a.address)).equity;
    if (equity > 0n) owed += equity;
  }
  return (await token.balanceOf(await clearingHouse.getAddress())) * SCALE - owed;
}

/** Asserts that the attacker's accounts together end no richer than `allowed` (18 decimals) above the start. */
export function expectNoGain(label: string, before: bigint, after: bigint, allowed = 0n): void {
  const gain = after - before;
  expect(gain <= allowed, `${label}: attacker's net gain ${gain} wei exceeds ${allowed} wei`).to.equal(true);
}

/** Signers by role, beyond the fixture's eight funded traders. */
export async function extraSigners(count: number): Promise<HardhatEthersSigner[]> {
  const all = await ethers.getSigners();
  return all.slice(12, 12 + count);
}
