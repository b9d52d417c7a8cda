/** Units and market ids shared by the crash scenario, the demo and the keeper tests. */

export const WAD = 10n ** 18n;
/** One unit of the 6-decimal collateral token. */
export const USD = 10n ** 6n;
/** Token units → 18-decimal internal units. */
export const SCALE = 10n ** 12n;
/** Market ids in the order deploy/networks/local.ts lists them. */
export const ETH_MARKET = 0n;
export const BTC_MARKET = 1n;

/** Σ of bigints (0 for none). */
export function sum(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => a + b, 0n);
}
