/**
 * A bigint copy of the clearing house's margin math (Ledger.health, PositionMath, FundingMath, the ADL score),
 * rounding exactly as the contracts do. The keeper never acts on it: it only decides which accounts to re-read
 * through the lens and in which order to handle them. Tested against the contract's views to the wei.
 */

export const WAD = 10n ** 18n;
export const MAX_UINT256 = (1n << 256n) - 1n;
const FUNDING_PERIOD = 86_400n;

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** x·y/d for x, y ≥ 0, rounded down or up (OpenZeppelin Math.mulDiv). */
export function mulDiv(x: bigint, y: bigint, d: bigint, roundUp = false): bigint {
  const product = x * y;
  const q = product / d;
  return roundUp && q * d !== product ? q + 1n : q;
}

export const mulWad = (x: bigint, y: bigint): bigint => mulDiv(x, y, WAD);
export const mulWadUp = (x: bigint, y: bigint): bigint => mulDiv(x, y, WAD, true);

/** x·y/d rounded toward −∞ (FixedPointMath.mulDivFloor). */
export function mulDivFloor(x: bigint, y: bigint, d: bigint): bigint {
  const negative = x < 0n !== y < 0n;
  const magnitude = mulDiv(abs(x), abs(y), d, negative);
  return negative ? -magnitude : magnitude;
}

/** x·y/d rounded toward +∞ (FixedPointMath.mulDivCeil). */
export function mulDivCeil(x: bigint, y: bigint, d: bigint): bigint {
  const negative = x < 0n !== y < 0n;
  const magnitude = mulDiv(abs(x), abs(y), d, !negative);
  return negative ? -magnitude : magnitude;
}

/** size × price − openNotional, rounded down (PositionMath.unrealizedPnl). */
export function unrealizedPnl(size: bigint, openNotional: bigint, price: bigint): bigint {
  return mulDivFloor(size, price, WAD) - openNotional;
}

/** |size| × price rounded up: the notional margin is charged on (PositionMath.notionalAt). */
export function notionalAt(size: bigint, price: bigint): bigint {
  return mulWadUp(abs(size), price);
}

/** The premium average clamped to ±maxFundingRate (FundingMath.clampedRate). */
export function clampedRate(premiumEma: bigint, maxFundingRate: bigint): bigint {
  if (premiumEma > maxFundingRate) return maxFundingRate;
  if (premiumEma < -maxFundingRate) return -maxFundingRate;
  return premiumEma;
}

/** Time over which a premium average at the clamp falls to zero without fills (FundingMath.PREMIUM_DECAY). */
export const PREMIUM_DECAY = 3600n;

/**
 * 2·D·m × ∫₀ᵗ max(0, r − m·s/D) ds, exactly (FundingMath._area): the rate falls linearly from r by the clamp m
 * per D seconds, so the integral is m·t·(2·D·r − m·t) until it reaches zero at t = r·D/m, r²·D² after.
 */
function decayArea(rate: bigint, maxFundingRate: bigint, age: bigint): bigint {
  const fall = maxFundingRate * age;
  const start = rate * PREMIUM_DECAY;
  return fall >= start ? start * start : fall * (2n * start - fall);
}

/**
 * Funding index growth between `fromAge` and `toAge` seconds after the premium average was set, at `price`,
 * as the average falls toward zero (FundingMath.indexGrowth), rounded toward −∞.
 */
export function fundingIndexGrowth(
  premiumEma: bigint,
  maxFundingRate: bigint,
  price: bigint,
  fromAge: bigint,
  toAge: bigint,
): bigint {
  if (premiumEma === 0n || maxFundingRate === 0n) return 0n;
  const rate = abs(clampedRate(premiumEma, maxFundingRate));
  const area = decayArea(rate, maxFundingRate, toAge) - decayArea(rate, maxFundingRate, fromAge);
  const divisor = 2n * PREMIUM_DECAY * maxFundingRate * WAD * FUNDING_PERIOD;
  return premiumEma > 0n ? (area * price) / divisor : -((area * price + divisor - 1n) / divisor);
}

/** Funding a position owes for an index move, rounded against it (FundingMath.owed). */
export function fundingOwed(size: bigint, lastIndex: bigint, index: bigint): bigint {
  return mulDivCeil(size, index - lastIndex, WAD);
}

/** Socialized loss a position owes since its last settlement, rounded up (LedgerLib.socialLossOwed). */
export function socialLossOwed(size: bigint, lastIndex: bigint, index: bigint): bigint {
  return size === 0n ? 0n : mulWadUp(abs(size), index - lastIndex);
}

/** One open position, with everything its contribution to the account's health depends on. */
export interface PositionInput {
  size: bigint;
  openNotional: bigint;
  /** Oracle price, 18 decimals. */
  price: bigint;
  /** Funding plus socialized loss owed and not settled (negative: owed to the position). */
  charges: bigint;
  initialMarginRatio: bigint;
  maintenanceMarginRatio: bigint;
}

export interface Health {
  equity: bigint;
  initialMargin: bigint;
  maintenanceMargin: bigint;
}

/** Equity and requirements at oracle prices (LedgerLib.health). */
export function accountHealth(collateral: bigint, positions: readonly PositionInput[]): Health {
  let equity = collateral;
  let initialMargin = 0n;
  let maintenanceMargin = 0n;
  for (const p of positions) {
    if (p.size === 0n) continue;
    const notional = notionalAt(p.size, p.price);
    equity += unrealizedPnl(p.size, p.openNotional, p.price) - p.charges;
    initialMargin += mulWadUp(notional, p.initialMarginRatio);
    maintenanceMargin += mulWadUp(notional, p.maintenanceMarginRatio);
  }
  return { equity, initialMargin, maintenanceMargin };
}

/** How far equity is below maintenance margin; ≤ 0 for a healthy account. */
export function shortfall(h: Pick<Health, "equity" | "maintenanceMargin">): bigint {
  return h.maintenanceMargin - h.equity;
}

export const isLiquidatable = (h: Pick<Health, "equity" | "maintenanceMargin">): boolean =>
  h.equity < h.maintenanceMargin;
export const isBankrupt = (h: Pick<Health, "equity">): boolean => h.equity < 0n;

export interface AdlInputs {
  unrealizedPnl: bigint;
  collateral: bigint;
  notional: bigint;
  equity: bigint;
}

/** unrealizedPnl/collateral × notional/equity for a profitable position, 0 otherwise (LiquidationLogic._adlRank). */
export function adlScore(r: AdlInputs): bigint {
  if (r.unrealizedPnl <= 0n) return 0n;
  if (r.collateral <= 0n || r.equity <= 0n) return MAX_UINT256;
  return mulDiv(mulDiv(r.unrealizedPnl, WAD, r.collateral), r.notional, r.equity);
}

// ---------------------------------------------------------------- estimates between reads

/** A position as the event log tells it: size and cost basis after the account's last fill in the market. */
export interface TrackedPosition {
  marketId: number;
  size: bigint;
  openNotional: bigint;
}

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
