import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse } from "ethers";

import type { ClearingHouse } from "../../typechain-types/index.js";
import { ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";

/** Sends every transaction with automining off, then mines them all in one block; each must succeed. */
export async function inOneBlock(sends: (() => Promise<ContractTransactionResponse>)[]): Promise<void> {
  await ethers.provider.send("evm_setAutomine", [false]);
  const sent: ContractTransactionResponse[] = [];
  try {
    for (const send of sends) sent.push(await send());
    await networkHelpers.mine();
  } finally {
    await ethers.provider.send("evm_setAutomine", [true]);
  }
  const receipts = await Promise.all(sent.map((tx) => tx.wait()));
  const blocks = new Set(receipts.map((r) => r?.blockNumber));
  if (blocks.size !== 1) throw new Error(`expected one block, got ${blocks.size}`);
}

/** Σ (equity − deposited) over the attacker's accounts, 18 decimals: what the attacker gained across them. */
export async function netGain(
  clearingHouse: ClearingHouse,
  accounts: HardhatEthersSigner[],
  depositedEach: bigint,
): Promise<bigint> {
  let gain = 0n;
  for (const a of accounts) gain += (await clearingHouse.accountHealth(a.address)).equity - depositedEach;
  return gain;
}
