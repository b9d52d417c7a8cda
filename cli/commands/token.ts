import type { Wallet } from "ethers";

import type { MockERC20 } from "../../typechain-types/index.js";
import { formatUnitsExact } from "#sdk";
import { InputError, type Decoding } from "../errors.js";
import { transact } from "../tx.js";

export interface TokenInfo {
  decimals: number;
  symbol: string;
}

/** Decimals and symbol of an ERC-20 (the symbol is optional in the standard: "tokens" when absent). */
export async function tokenInfo(token: MockERC20): Promise<TokenInfo> {
  const [decimals, symbol] = await Promise.all([token.decimals(), token.symbol().catch(() => "tokens")]);
  return { decimals: Number(decimals), symbol };
}

/** `1,500.25 mUSD` (exact, thousands grouped), or `1500.25` when `bare` (for --json). */
export function formatToken(amount: bigint, info: TokenInfo, bare = false): string {
  const number = formatUnitsExact(amount, info.decimals);
  if (bare) return number;
  const [whole, fraction] = number.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${grouped}${fraction === undefined ? "" : `.${fraction}`} ${info.symbol}`;
}

/** Refuses, before anything is sent, an amount above what the wallet holds, naming both. */
export function requireWalletHolds(balance: bigint, amount: bigint, info: TokenInfo): void {
  if (balance < amount) {
    throw new InputError(
      `amount ${formatToken(amount, info)} is more than the wallet holds (${formatToken(balance, info)})`,
    );
  }
}

/**
 * Approves `spender` for exactly `amount` when the signer's allowance is short of it, so that the payment that
 * follows can pull the tokens; returns the approval's transaction hash, or undefined when none was needed.
 */
export async function approveIfShort(
  decoding: Decoding,
  token: MockERC20,
  signer: Wallet,
  spender: string,
  amount: bigint,
): Promise<string | undefined> {
  if ((await token.allowance(signer.address, spender)) >= amount) return undefined;
  return (await transact("approve", decoding, token.connect(signer).approve, spender, amount)).hash;
}
