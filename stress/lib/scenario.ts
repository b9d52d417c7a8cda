// Drives the engine along a price path: daily OHLC bars become oracle updates block by block, and the
// keeper liquidates what it sees, its transaction landing `latencyBlocks` after the update it reacted to.
import { cloneLedger, emptyOutcome, health, liquidate, type Ledger, type Outcome } from "./engine.js";
import type { AssetPath } from "./simulate.js";

/** 12-second blocks. */
export const BLOCKS_PER_DAY = 7200;

/** How a daily bar is walked and how fast the keeper is. */
export interface PathSettings {
  latencyBlocks: number;
  /** Oracle deviation threshold: an update whenever the price has moved this much (log), as Chainlink feeds do. */
  deviation: number;
  /** Share of each intraday leg that happens as one oracle jump at its start: the intraday gap. */
  gapShare: number;
}

export const DEFAULT_PATH_SETTINGS: PathSettings = { latencyBlocks: 5, deviation: 0.005, gapShare: 0.25 };

/** One oracle update: block number (from the path's start), market index, price in 18 decimals on the 8-decimal grid. */
export interface OracleUpdate {
  block: number;
  market: number;
  price: bigint;
}

/** A float price on the 8-decimal feed grid, in 18 decimals. */
export function feedPrice(usd: number): bigint {
  if (!(usd > 0) || !Number.isFinite(usd)) throw new Error(`price ${usd} is not a positive number`);
  const units = BigInt(Math.max(1, Math.round(usd * 1e8)));
  return units * 10n ** 10n;
}

/**
 * The oracle updates of one market's path. Each day runs open → low → high → close when it closes up, open →
 * high → low → close when it closes down (the far extreme second); each leg gets blocks in proportion to its
 * length, its first `gapShare` happens in one update, the rest in steps of at most `deviation`.
 */
export function oracleUpdates(path: AssetPath, market: number, s: PathSettings): OracleUpdate[] {
  const out: OracleUpdate[] = [];
  for (let d = 0; d < path.open.length; d++) {
    const o = path.open[d];
    const c = path.close[d];
    const points = c >= o ? [o, path.low[d], path.high[d], c] : [o, path.high[d], path.low[d], c];
    const legs = points.slice(1).map((p, i) => Math.abs(Math.log(p / points[i])));
    const total = legs.reduce((a, b) => a + b, 0);
    let block = d * BLOCKS_PER_DAY;
    for (let i = 0; i < 3; i++) {
      const span = total === 0 ? BLOCKS_PER_DAY / 3 : (BLOCKS_PER_DAY * legs[i]) / total;
      const from = Math.log(points[i]);
      const to = Math.log(points[i + 1]);
      if (legs[i] === 0) {
        block += span;
        continue;
      }
      const gap = legs[i] * s.gapShare;
      const steps = Math.max(1, Math.ceil((legs[i] - gap) / s.deviation));
      const sign = to > from ? 1 : -1;
      const startBlock = block;
      if (gap > 0) out.push({ block: Math.floor(startBlock), market, price: feedPrice(Math.exp(from + sign * gap)) });
      for (let k = 1; k <= steps; k++) {
        const x = from + sign * (gap + ((legs[i] - gap) * k) / steps);
        out.push({ block: Math.floor(startBlock + (span * k) / (steps + 1)), market, price: feedPrice(Math.exp(x)) });
      }
      block += span;
    }
  }
  return out;
}

/**
 * Runs one path: updates of every market merged in block order; after each update the keeper checks the
 * accounts of that market (a float screen, then the exact health) and sends a liquidation that lands
 * `latencyBlocks` later, executed at the oracle price then; an account still liquidatable is sent again.
 * The ledger is copied first. Returns the outcome and the ledger after the path; with `record`, the outcome's
 * log lists every keeper call, for replaying the path on the contracts.
 */
export function runPath(
  start: Ledger,
  paths: readonly AssetPath[],
  s: PathSettings,
  record = false,
): { outcome: Outcome; ledger: Ledger } {
  const l = cloneLedger(start);
  const out = emptyOutcome();
  if (record) out.log = [];
  const updates = paths
    .flatMap((p, m) => oracleUpdates(p, m, s))
    .sort((a, b) => a.block - b.block || a.market - b.market);
  const prices = paths.map((p) => feedPrice(p.open[0]));
  const byMarket = l.markets.map((_, m) => l.accounts.filter((a) => a.market === m));
  const pending: { account: number; at: number }[] = [];
  const queued = new Set<number>();
  const latency = Math.max(0, Math.floor(s.latencyBlocks));

  let sent = 0;
  const execute = (upTo: number): void => {
    pending.sort((a, b) => a.at - b.at || a.account - b.account);
    while (pending.length > 0 && pending[0].at <= upTo) {
      // Each liquidation either closes the position or restores maintenance margin at an unchanged price, so
      // resends are few; the bound turns a broken invariant into an error instead of a hung run.
      if (++sent > 100 * (l.accounts.length + updates.length)) throw new Error("keeper loop does not terminate");
      const job = pending.shift()!;
      queued.delete(job.account);
      const a = l.accounts[job.account];
      if (liquidate(l, a, prices[a.market], out) && a.size !== 0n) {
        const h = health(l, a, prices[a.market]);
        if (h.equity < h.maintenanceMargin) {
          pending.push({ account: job.account, at: job.at + Math.max(1, latency) });
          queued.add(job.account);
          pending.sort((x, y) => x.at - y.at || x.account - y.account);
        }
      }
    }
  };
  const indexOf = new Map(l.accounts.map((a, i) => [a, i]));
  for (const u of updates) {
    execute(u.block - 1);
    prices[u.market] = u.price;
    const pf = Number(u.price) / 1e18;
    for (const a of byMarket[u.market]) {
      if (a.size === 0n) continue;
      const i = indexOf.get(a)!;
      if (queued.has(i)) continue;
      // Float screen: only accounts within 1% of their maintenance margin get the exact bigint check.
      const sizeF = Number(a.size) / 1e18;
      const equityF = Number(a.collateral) / 1e18 + sizeF * pf - Number(a.openNotional) / 1e18;
      const mmF = (Math.abs(sizeF) * pf * Number(l.markets[a.market].maintenanceMarginRatio)) / 1e18;
      if (equityF > mmF * 1.01 + 1 && l.longSocialLossIndex[a.market] === 0n && l.shortSocialLossIndex[a.market] === 0n)
        continue;
      const h = health(l, a, u.price);
      if (h.equity < h.maintenanceMargin) {
        pending.push({ account: i, at: u.block + latency });
        queued.add(i);
      }
    }
    execute(u.block);
  }
  execute(Number.POSITIVE_INFINITY);
  return { outcome: out, ledger: l };
}
