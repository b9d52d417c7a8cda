import type { MockERC20 } from "../../typechain-types/index.js";
import { formatUnitsExact } from "#sdk";

export interface TokenInfo {
  decimals: number;
  symbol: string;
}

/** Decimals and symbol of an ERC-20 (the symbol is optional in the standard: "tokens" when absent). */
export async function tokenInfo(token: MockERC20): Promise<TokenInfo> {
  const [decimals, symbol] = await Promise.all([token.decimals(), token.symbol().catch(() => "tokens")]);
  return { decimals: Number(decimals), symbol };
}

/** `1500.25 mUSD`, or just `1500.25` when `bare`. */
export function formatToken(amount: bigint, info: TokenInfo, bare = false): string {
  const number = formatUnitsExact(amount, info.decimals);
  return bare ? number : `${number} ${info.symbol}`;
}
