// Loss policy "haircut" mirrored in bigint: contracts/libraries/HaircutLib.sol (charge, winnersProfit, chargesFor,
// owed, settle, snap) with the entry buckets of EntryBookLib (sdk/math/entry-bucket.ts). What the fund cannot pay is
// taken from the other side's winners at f = ⌈H / G⌉, G the profit at the charge price of the positions whose entry
// bucket is strictly on the winning side of the price's bucket; each position owes |size|·ΔΣ(f·P) − |N|·ΔΣf (mirrored
// for a short) rounded up, capped by what the side still owes. The contract keeps the charges in a Fenwick tree and the
// positions in a bucketed book; the sums are the same integers, so here they are plain loops over the charges and the
// positions (charges are few, and a path charges only after the fund is empty).
import { abs, mulDiv, mulWad, mulWadUp, priceBucket, WAD } from "#sdk";

/** One charge (HaircutLib.charge): the bucket of its price, f and f·P (rounded against the positions). */
export interface HaircutCharge {
  bucket: number;
  rate: bigint;
  priceRate: bigint;
}

/** HaircutSide of one market side: its charges in order and what its positions still owe (`debt`). */
export interface HaircutSide {
  charges: HaircutCharge[];
  debt: bigint;
}

/** What a position needs: size and open notional, and its snapshot (HaircutSnapshot). */
export interface HaircutPosition {
  size: bigint;
  openNotional: bigint;
  /** Σ f and Σ f·P of its bucket's charges when it last settled or traded, and the side's charge count then. */
  haircutRate: bigint;
  haircutPrice: bigint;
  haircutCharges: number;
}

export const newSide = (): HaircutSide => ({ charges: [], debt: 0n });

const positive = (x: bigint): bigint => (x > 0n ? x : 0n);

/** Entry buckets by entry price: the same few entry prices recur (every opening fill is at the start price). */
const bucketByEntry = new Map<bigint, number>();

/** EntryBookLib.entryBucket: the bucket of |N|·1e18/|size| rounded down, cached by that entry price. */
export function entryBucketOf(size: bigint, openNotional: bigint): number {
  const entry = (abs(openNotional) * WAD) / abs(size);
  let b = bucketByEntry.get(entry);
  if (b === undefined) {
    if (bucketByEntry.size > 100_000) bucketByEntry.clear();
    b = priceBucket(entry);
    bucketByEntry.set(entry, b);
  }
  return b;
}

/**
 * HaircutLib.chargesFor: Σ (f, f·P) over the side's charges a position in `bucket` was a winner for — charges
 * whose bucket is above it for a long (the price rose past its entry), below it for a short.
 */
export function chargesFor(side: HaircutSide, longSide: boolean, bucket: number): { rate: bigint; price: bigint } {
  let rate = 0n;
  let price = 0n;
  for (const c of side.charges) {
    if (longSide ? c.bucket > bucket : c.bucket < bucket) {
      rate += c.rate;
      price += c.priceRate;
    }
  }
  return { rate, price };
}

/** HaircutLib._owedNow: what the position owes since its snapshot (capped by the side's debt) and its sums now. */
function owedNow(side: HaircutSide, p: HaircutPosition): { amount: bigint; rate: bigint; price: bigint } {
  const sums = chargesFor(side, p.size > 0n, entryBucketOf(p.size, p.openNotional));
  const priceTerm = abs(p.size) * (sums.price - p.haircutPrice);
  const basisTerm = abs(p.openNotional) * (sums.rate - p.haircutRate);
  const base = positive(p.size > 0n ? priceTerm - basisTerm : basisTerm - priceTerm);
  const owed = (base + WAD - 1n) / WAD;
  return { amount: owed < side.debt ? owed : side.debt, ...sums };
}

/** HaircutLib.owed: what the position owes and has not settled (0 for a flat one or with no new charge). */
export function haircutOwed(side: HaircutSide, p: HaircutPosition): bigint {
  if (p.size === 0n || side.charges.length === p.haircutCharges) return 0n;
  return owedNow(side, p).amount;
}

/** HaircutLib.settle: the amount the position pays now (the caller takes it from collateral); moves its snapshot. */
export function settleHaircut(side: HaircutSide, p: HaircutPosition): bigint {
  if (p.size === 0n || side.charges.length === p.haircutCharges) return 0n;
  const { amount, rate, price } = owedNow(side, p);
  p.haircutRate = rate;
  p.haircutPrice = price;
  p.haircutCharges = side.charges.length;
  side.debt -= amount;
  return amount;
}

/** HaircutLib.snap (AllocationLogic.afterFill): points a position's snapshot at its bucket's sums now. */
export function snapHaircut(side: HaircutSide, p: HaircutPosition): void {
  if (p.size === 0n) return;
  const charges = side.charges.length;
  const sums =
    charges === 0 ? { rate: 0n, price: 0n } : chargesFor(side, p.size > 0n, entryBucketOf(p.size, p.openNotional));
  p.haircutRate = sums.rate;
  p.haircutPrice = sums.price;
  p.haircutCharges = charges;
}

/**
 * HaircutLib.winnersProfit: the side's totals (open interest, cost basis Σ|N|) less the positions whose entry bucket
 * is at or beyond the price's bucket; the rest valued at `price` rounded against them (down for longs, up for shorts).
 * `positions` are the side's positions.
 */
export function winnersProfit(
  positions: readonly HaircutPosition[],
  longSide: boolean,
  price: bigint,
  openInterest: bigint,
  costBasis: bigint,
): bigint {
  const boundary = priceBucket(price);
  let size = 0n;
  let notional = 0n;
  for (const p of positions) {
    const b = entryBucketOf(p.size, p.openNotional);
    if (longSide ? b >= boundary : b <= boundary) {
      size += abs(p.size);
      notional += abs(p.openNotional);
    }
  }
  const winnersNotional = costBasis - notional;
  const winnersValue = longSide ? mulWad(openInterest - size, price) : mulWadUp(openInterest - size, price);
  return positive(longSide ? winnersValue - winnersNotional : winnersNotional - winnersValue);
}

/**
 * HaircutLib.charge: takes up to `amount` from the winners' profit `profit` (winnersProfit) at `price`; returns what
 * it took. f = ⌈taken / profit⌉ (18 decimals), f·P up for longs and down for shorts.
 */
export function chargeHaircut(
  side: HaircutSide,
  longSide: boolean,
  amount: bigint,
  price: bigint,
  profit: bigint,
): bigint {
  const taken = amount < profit ? amount : profit;
  if (taken === 0n) return 0n;
  const rate = mulDiv(taken, WAD, profit, true);
  const priceRate = longSide ? mulWadUp(rate, price) : mulWad(rate, price);
  side.charges.push({ bucket: priceBucket(price), rate, priceRate });
  side.debt += taken;
  return taken;
}

/** Cost basis of one side (HaircutSide.costBasis): Σ of the positions' open notional on that side. */
export function costBasis(positions: readonly HaircutPosition[], longSide: boolean): bigint {
  let sum = 0n;
  for (const p of positions) sum += positive(longSide ? p.openNotional : -p.openNotional);
  return sum;
}
