import { WAD_DECIMALS, formatDisplay, formatUnitsExact, formatUsd, formatWad } from "#sdk";

/** Exact decimal string of an 18-decimal value (for `--json`). */
export const wad = formatWad;

/** An 18-decimal USD value for people: two decimals. */
export const usd = formatUsd;

/** An 18-decimal amount of collateral for people: two decimals and the token's symbol, `1,500.25 mUSD`. */
export const money = (value: bigint, symbol: string): string => `${usd(value)} ${symbol}`;

/** An 18-decimal size for people: up to six decimals. */
export const qty = (value: bigint): string => formatDisplay(value, WAD_DECIMALS, 6);

/** An 18-decimal ratio as a percentage with up to four decimals: 5e16 → `5%`. */
export function percent(ratio: bigint): string {
  return `${formatUnitsExact((ratio * 100n) / 10n ** 14n, 4)}%`;
}

/** Left-aligned columns separated by two spaces; the first row is the header. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return "";
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** `label: value` lines with the values aligned. */
export function fields(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`).join("\n");
}

/** Unix seconds as an ISO date-time (UTC). */
export function timestamp(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}

/** A number of seconds for people: `1 h 5 min`, `59 s`, `2 d 3 h`; the two largest units. */
export function duration(seconds: bigint): string {
  if (seconds < 0n) return `-${duration(-seconds)}`;
  const units: [bigint, string][] = [
    [86_400n, "d"],
    [3_600n, "h"],
    [60n, "min"],
    [1n, "s"],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [size, name] of units) {
    if (rest >= size || (size === 1n && parts.length === 0)) {
      parts.push(`${rest / size} ${name}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}
