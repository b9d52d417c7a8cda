import { formatDisplay, formatUsd } from "#sdk";

/**
 * Number formatting for the demo's report, on the SDK's units: values rounded toward zero, thousands grouped.
 * `usd` means what it means in the CLI (sdk/units.ts formatUsd).
 */

/** 18-decimal USD amount, two decimals. */
export const usd = formatUsd;

/** Token units of the 6-decimal collateral, two decimals. */
export function tokenUsd(value: bigint): string {
  return formatDisplay(value, 6, 2);
}

/** An 18-decimal base-asset size, score or per-unit charge, with `digits` decimals. */
export function amount(value: bigint, digits = 4): string {
  return formatDisplay(value, 18, digits);
}

/** A bigint-safe JSON.stringify: bigints become decimal strings. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}
