import {
  isLiquidatable,
  mulWadUp,
  notionalAt,
  shortfall,
  unrealizedPnl,
  type Health,
  type TrackedPosition,
} from "#sdk";

/**
 * The keeper's guesses between lens reads, built on the SDK's margin math: which accounts to re-read, and in
 * which order to handle the liquidatable ones. The keeper never acts on an estimate alone.
 */

// ---------------------------------------------------------------- estimates between reads

/** What the last lens read said about an account, and at which prices. */
export interface ReadHealth {
  equity: bigint;
  maintenanceMargin: bigint;
  positions: readonly TrackedPosition[];
  prices: ReadonlyMap<number, bigint>;
}

/**
 * Health at new prices from the last read: equity moves by the change in unrealized PnL, the maintenance
 * margin is recomputed; pending funding and social loss are taken as unchanged. Exact while no time passes
 * and no index moves; `undefined` when a price is missing.
 */
export function estimateHealth(
  read: ReadHealth,
  prices: ReadonlyMap<number, bigint>,
  maintenanceMarginRatios: ReadonlyMap<number, bigint>,
): Pick<Health, "equity" | "maintenanceMargin"> | undefined {
  let equity = read.equity;
  let maintenanceMargin = 0n;
  for (const p of read.positions) {
    if (p.size === 0n) continue;
    const before = read.prices.get(p.marketId);
    const now = prices.get(p.marketId);
    const ratio = maintenanceMarginRatios.get(p.marketId);
    if (before === undefined || now === undefined || ratio === undefined) return undefined;
    equity += unrealizedPnl(p.size, p.openNotional, now) - unrealizedPnl(p.size, p.openNotional, before);
    maintenanceMargin += mulWadUp(notionalAt(p.size, now), ratio);
  }
  return { equity, maintenanceMargin };
}

/** Whether an estimate is close enough to maintenance margin (within `bufferBps` of it) to need a real read. */
export function nearMaintenance(h: Pick<Health, "equity" | "maintenanceMargin">, bufferBps: number): boolean {
  return h.equity * 10_000n < h.maintenanceMargin * (10_000n + BigInt(bufferBps));
}

// ---------------------------------------------------------------- queue

export interface QueueRow {
  account: string;
  equity: bigint;
  maintenanceMargin: bigint;
}

/** Liquidatable accounts, largest shortfall first; ties by address so that the order is deterministic. */
export function orderQueue<T extends QueueRow>(rows: readonly T[]): T[] {
  return rows.filter(isLiquidatable).sort((a, b) => {
    const d = shortfall(b) - shortfall(a);
    if (d !== 0n) return d > 0n ? 1 : -1;
    const x = a.account.toLowerCase();
    const y = b.account.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
