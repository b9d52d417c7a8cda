import { WAD_DECIMALS, decodeRevert, describeError, formatDisplay } from "#sdk";
import type { Interface } from "ethers";

import { isRejection } from "./wallet.js";

/** How the page shows numbers: amounts in units with the token's symbol, never raw integers. */

/** An 18-decimal amount of the collateral: `1,234.56 USDC`. */
export const money = (value: bigint, symbol: string): string => `${formatDisplay(value, WAD_DECIMALS, 2)} ${symbol}`;

/** An amount in the token's own decimals. */
export const tokens = (value: bigint, decimals: number, symbol: string): string =>
  `${formatDisplay(value, decimals, 2)} ${symbol}`;

/** A base-asset size, 18 decimals: `2.5 ETH`. */
export const size = (value: bigint, base: string): string => `${formatDisplay(value, WAD_DECIMALS, 4)} ${base}`;

/** An 18-decimal fraction as a percentage with `places` decimals. */
export const percent = (value: bigint, places = 2): string => `${formatDisplay(value * 100n, WAD_DECIMALS, places)} %`;

/** The base asset of a market symbol: `ETH-USD` → `ETH`. */
export const baseOf = (symbol: string): string => symbol.split("-")[0] ?? symbol;

/** A unix time as a UTC date and time. */
export const dateTime = (seconds: bigint | number): string =>
  new Date(Number(seconds) * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");

/** Seconds as `1 h 5 min`, `40 s`. */
export function duration(seconds: bigint): string {
  const s = Number(seconds < 0n ? -seconds : seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d > 0 ? `${d} d` : "", h > 0 ? `${h} h` : "", m > 0 ? `${m} min` : ""].filter((p) => p !== "");
  return parts.length === 0 ? `${s % 60} s` : parts.slice(0, 2).join(" ");
}

export const shortAddress = (a: string): string => `${a.slice(0, 6)}…${a.slice(-4)}`;

/**
 * One line for an error a person reads: a rejection in the wallet, a revert by its custom error's name and
 * arguments (sdk/revert.ts), or the transport's short message.
 */
export function explain(error: unknown, interfaces: readonly Interface[]): string {
  if (isRejection(error)) return "You rejected the request in your wallet; nothing was signed or sent.";
  const decoded = decodeRevert(error, interfaces);
  if (decoded !== undefined) return `The contract refused: ${describeError(error, decoded)}`;
  return describeError(error);
}
