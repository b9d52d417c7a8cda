/** Number formatting for the demo's report: fixed-point bigints as decimal strings, rounded toward zero. */

/** `value` with `decimals` decimals, shown with `digits` digits after the point and thousands separators. */
export function fixed(value: bigint, decimals: number, digits: number): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const unit = 10n ** BigInt(decimals);
  const whole = (abs / unit).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = ((abs % unit) * 10n ** BigInt(digits)) / unit;
  const text = digits === 0 ? whole : `${whole}.${fraction.toString().padStart(digits, "0")}`;
  return negative ? `-${text}` : text;
}

/** 18-decimal USD amount, two decimals. */
export function usd(value: bigint): string {
  return fixed(value, 18, 2);
}

/** Token units of the 6-decimal collateral, two decimals. */
export function tokenUsd(value: bigint): string {
  return fixed(value, 6, 2);
}

/** 18-decimal base-asset size or ratio with `digits` decimals. */
export function wad(value: bigint, digits = 4): string {
  return fixed(value, 18, digits);
}

/** A bigint-safe JSON.stringify: bigints become decimal strings. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}
