import type { BookEntry } from "#sdk";

/**
 * Where the relay keeps its book: an interface, so that a shared database (PostgreSQL) can take over from the
 * embedded SQLite file when one machine is not enough. Every method is async for that reason, though the SQLite
 * implementation answers at once. Entries are the SDK's {@link BookEntry}: the signed order, what of it is filled
 * on chain, and when the relay accepted it.
 */
export interface OrderStore {
  /** Adds an order; throws when its hash is already stored (the relay checks first and answers 409). */
  insert(entry: BookEntry): Promise<void>;
  get(hash: string): Promise<BookEntry | undefined>;
  /** One market's side, best first: bids by price high to low, asks low to high, older first at one price. */
  side(marketId: bigint, isBuy: boolean, limit: number): Promise<BookEntry[]>;
  /** Every order, oldest first. */
  all(): Promise<BookEntry[]>;
  /** The maker's orders in every market. */
  byMaker(maker: string): Promise<BookEntry[]>;
  /** Orders whose expiry is below `time` (unix seconds): the clearing house refuses them from then on. */
  expiredAt(time: bigint): Promise<BookEntry[]>;
  /** Records what of an order is filled on chain. */
  setFilled(hash: string, filled: bigint): Promise<void>;
  /** Drops an order; `false` when it was not stored. */
  remove(hash: string): Promise<boolean>;
  count(): Promise<number>;
  countByMaker(maker: string): Promise<number>;
  /** The last block whose events have been applied, and its hash; `undefined` before the first. */
  cursor(): Promise<Cursor | undefined>;
  setCursor(cursor: Cursor): Promise<void>;
  close(): Promise<void>;
}

/** A block by number and hash: the hash tells whether the chain at that height is still the one the book followed. */
export interface Cursor {
  block: number;
  hash: string;
}

/** Decimal digits of 2^256 − 1: every uint256 written with this many digits sorts as text in numeric order. */
const UINT256_DIGITS = 78;

/**
 * A uint256 as text whose order is the numbers' order (zero-padded to 78 digits). SQLite's INTEGER is 64 bits,
 * too narrow for an 18-decimal price, so prices, sizes and expiries are stored as such text.
 */
export function sortableUint(value: bigint): string {
  return value.toString().padStart(UINT256_DIGITS, "0");
}
