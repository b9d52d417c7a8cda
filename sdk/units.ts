import { InputError } from "./errors.js";

const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * A non-negative decimal number typed by a user (`1500.25`) as an integer with `decimals` decimals. Refuses
 * signs, exponents, separators and more decimals than the unit has, naming `label` in the message.
 */
export function parseDecimal(text: string, decimals: number, label: string): bigint {
  const raw = text.trim();
  if (raw.startsWith("-") && DECIMAL.test(raw.slice(1))) throw new InputError(`${label} must not be negative: ${text}`);
  if (!DECIMAL.test(raw)) throw new InputError(`${label} is not a number: '${text}'`);
  const [whole, fraction = ""] = raw.split(".");
  if (fraction.length > decimals) {
    throw new InputError(`${label} has more than ${decimals} decimals: ${text}`);
  }
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

/** Like {@link parseDecimal}, and above zero. */
export function parsePositive(text: string, decimals: number, label: string): bigint {
  const value = parseDecimal(text, decimals, label);
  if (value === 0n) throw new InputError(`${label} must be above zero: ${text}`);
  return value;
}

/** A whole number (a nonce, a count of seconds). */
export function parseWhole(text: string, label: string): bigint {
  return parseDecimal(text, 0, label);
}

/**
 * The exact decimal form of an integer with `decimals` decimals, without trailing zeros: `1500250000n, 6` →
 * `1500.25`. Negative values keep their sign.
 */
export function formatUnitsExact(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const unit = 10n ** BigInt(decimals);
  const whole = magnitude / unit;
  const fraction = (magnitude % unit).toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction === "" ? "" : `.${fraction}`}`;
}

/**
 * A readable form with at most `places` decimals, rounded toward zero, thousands grouped: `1234567.891e18, 18,
 * 2` → `1,234,567.89`. For display only; `--json` uses {@link formatUnitsExact}.
 */
export function formatDisplay(value: bigint, decimals: number, places = 2): string {
  const cut = decimals > places ? 10n ** BigInt(decimals - places) : 1n;
  const shown = Math.min(places, decimals);
  const truncated = value / cut;
  const negative = truncated < 0n;
  const magnitude = negative ? -truncated : truncated;
  const unit = 10n ** BigInt(shown);
  const whole = (magnitude / unit).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = shown === 0 ? "" : `.${(magnitude % unit).toString().padStart(shown, "0")}`;
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** 18-decimal fixed point, as the clearing house's views and events use it. */
export const WAD_DECIMALS = 18;

/** The exact decimal string of an 18-decimal value (`--json`, files): `formatUnitsExact(value, 18)`. */
export const formatWad = (value: bigint): string => formatUnitsExact(value, WAD_DECIMALS);

/** An 18-decimal USD amount for people: two decimals, rounded toward zero, thousands grouped. */
export const formatUsd = (value: bigint): string => formatDisplay(value, WAD_DECIMALS, 2);
