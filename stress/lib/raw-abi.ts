// Hand-written ABI encoding of the few calls a replayed chain path makes thousands of times (the keeper's calls,
// BackstopLens.healthOf) and decoding of healthOf's rows. ethers' Interface does the same through generic coders
// (Result objects, a checksummed address per row): in the profile of a replay it was a tenth of the CPU on the
// lab's own thread. Every layout here is a static one, and the tests compare each function with ethers'.
import type { AccountRow } from "#sdk";

/** One 32-byte ABI word (64 hex digits) of an address. */
export function addressWord(address: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new Error(`not an address: ${address}`);
  return address.slice(2).toLowerCase().padStart(64, "0");
}

/** One 32-byte ABI word of an unsigned integer below 2^256. */
export function uintWord(x: bigint): string {
  if (x < 0n || x >= 1n << 256n) throw new Error(`not a uint256: ${x}`);
  return x.toString(16).padStart(64, "0");
}

/** Calldata of a function whose arguments are all static words: the selector (0x + 8 hex digits), then the words. */
export function staticCall(selector: string, words: readonly string[]): string {
  if (!/^0x[0-9a-f]{8}$/.test(selector)) throw new Error(`not a selector: ${selector}`);
  return selector + words.join("");
}

/** Calldata of `healthOf(address[] accounts)`: the array's offset (one word), its length, the addresses. */
export function healthOfCall(selector: string, accounts: readonly string[]): string {
  return staticCall(selector, [uintWord(32n), uintWord(BigInt(accounts.length)), ...accounts.map(addressWord)]);
}

/** Words of an AccountRow (address, int256, int256, uint256, uint256, bool, bool): a static struct. */
const ROW_WORDS = 7;

/**
 * The rows returned by `healthOf`: a dynamic array of static structs, i.e. its offset, its length and then each row
 * in place. Addresses come back lower-case. Throws on a result whose length does not match its row count.
 */
export function decodeHealthRows(result: string): AccountRow[] {
  const hex = result.startsWith("0x") ? result.slice(2) : result;
  const word = (i: number): bigint => BigInt(`0x${hex.slice(64 * i, 64 * i + 64)}`);
  if (hex.length < 128 || word(0) !== 32n) throw new Error(`not a healthOf result: ${result.slice(0, 140)}`);
  const n = Number(word(1));
  if (hex.length !== 64 * (2 + n * ROW_WORDS))
    throw new Error(`healthOf result of ${hex.length / 2} bytes for ${n} rows`);
  const signed = (i: number): bigint => BigInt.asIntN(256, word(i));
  const flag = (i: number): boolean => {
    const w = word(i);
    if (w > 1n) throw new Error(`healthOf result: ${w} is not a bool`);
    return w === 1n;
  };
  const rows: AccountRow[] = [];
  for (let r = 0; r < n; r++) {
    const at = 2 + r * ROW_WORDS;
    rows.push({
      account: `0x${hex.slice(64 * at + 24, 64 * at + 64)}`,
      collateral: signed(at + 1),
      equity: signed(at + 2),
      initialMargin: word(at + 3),
      maintenanceMargin: word(at + 4),
      liquidatable: flag(at + 5),
      bankrupt: flag(at + 6),
    });
  }
  return rows;
}
