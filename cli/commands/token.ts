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

/** `1,500.25 mUSD` (exact, thousands grouped), or `1500.25` when `bare` (for --json). */
export function formatToken(amount: bigint, info: TokenInfo, bare = false): string {
  const number = formatUnitsExact(amount, info.decimals);
  if (bare) return number;
  const [whole, fraction] = number.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${grouped}${fraction === undefined ? "" : `.${fraction}`} ${info.symbol}`;
}
