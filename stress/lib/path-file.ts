// A price path given on the command line: CSV day,market,open,high,low,close, one row per market and day.
import { WAD } from "#sdk";

import type { EngineMarket } from "./engine.js";
import { START_PRICES } from "./lab.js";
import type { AssetPath } from "./simulate.js";

export const PATH_HEADER = "day,market,open,high,low,close";

/**
 * Parses a path file into one path per deployed market, in market order. Days are 1, 2, … with every market on
 * every day; prices are rescaled so each market opens at the deployment's start price (the population's entry),
 * keeping the file's moves. Errors name the file and line.
 */
export function parsePathCsv(text: string, source: string, markets: readonly EngineMarket[]): AssetPath[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines[0]?.trim() !== PATH_HEADER) throw new Error(`${source}:1: header is not "${PATH_HEADER}"`);
  const rows = new Map<string, { day: number; o: number; h: number; l: number; c: number }[]>(
    markets.map((m) => [m.symbol, []]),
  );
  for (let i = 1; i < lines.length; i++) {
    const where = `${source}:${i + 1}`;
    const cells = lines[i].split(",").map((c) => c.trim());
    if (cells.length !== 6) throw new Error(`${where}: expected 6 fields, got ${cells.length}`);
    const [dayText, market, ...prices] = cells;
    const list = rows.get(market);
    if (list === undefined)
      throw new Error(`${where}: market "${market}" is not one of ${[...rows.keys()].join(", ")}`);
    if (!/^\d+$/.test(dayText) || Number(dayText) !== list.length + 1) {
      throw new Error(`${where}: day "${dayText}" should be ${list.length + 1} for ${market}`);
    }
    const [o, h, l, c] = prices.map((p) => Number(p));
    if (![o, h, l, c].every((x) => Number.isFinite(x) && x > 0) || prices.some((p) => p === "")) {
      throw new Error(`${where}: prices must be positive numbers`);
    }
    if (l > Math.min(o, c) || h < Math.max(o, c)) throw new Error(`${where}: low must be ≤ open, close ≤ high`);
    list.push({ day: list.length + 1, o, h, l, c });
  }
  const lengths = new Set([...rows.values()].map((r) => r.length));
  if (lengths.has(0)) throw new Error(`${source}: every market needs at least one day`);
  if (lengths.size !== 1) throw new Error(`${source}: markets have different numbers of days`);
  return markets.map((m) => {
    const r = rows.get(m.symbol)!;
    const k = Number(START_PRICES[m.symbol] / WAD) / r[0].o;
    return {
      open: r.map((x) => x.o * k),
      high: r.map((x) => x.h * k),
      low: r.map((x) => x.l * k),
      close: r.map((x) => x.c * k),
    };
  });
}
