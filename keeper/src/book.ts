import { isLiquidatable, type AccountRow, type TrackedPosition } from "#sdk";
import { estimateHealth, nearMaintenance } from "./estimate.js";

/** The last lens read of an account and what it was judged on. */
export interface AccountRead {
  block: number;
  row: AccountRow;
  positions: readonly TrackedPosition[];
  prices: ReadonlyMap<number, bigint>;
}

/** Since when an account has been liquidatable: the block (for action ids) and the time (for the metric). */
export interface Episode {
  block: number;
  at: number;
}

export interface BookOptions {
  refreshBlocks: number;
  rereadBufferBps: number;
}

export interface SelectInput {
  accounts: readonly string[];
  block: number;
  positionsOf: (account: string) => readonly TrackedPosition[] | undefined;
  prices: ReadonlyMap<number, bigint>;
  maintenanceMarginRatios: ReadonlyMap<number, bigint>;
  /** Accounts that must be read whatever the estimate (open cases, running jobs just finished). */
  always: ReadonlySet<string>;
}

/**
 * The keeper's memory of each account between reads, and the rule for which accounts to read again: those an
 * event touched, those the margin math estimates near or below maintenance at today's prices, those
 * liquidatable at the last read, and every account at least every `refreshBlocks` blocks (funding drifts
 * without events).
 */
export class AccountBook {
  readonly #o: BookOptions;
  readonly #reads = new Map<string, AccountRead>();
  readonly #dirty = new Set<string>();
  readonly #episodes = new Map<string, Episode>();

  constructor(options: BookOptions) {
    this.#o = options;
  }

  markDirty(accounts: Iterable<string>): void {
    for (const a of accounts) this.#dirty.add(a);
  }

  read(account: string): AccountRead | undefined {
    return this.#reads.get(account);
  }

  get reads(): ReadonlyMap<string, AccountRead> {
    return this.#reads;
  }

  episode(account: string): Episode | undefined {
    return this.#episodes.get(account);
  }

  get episodes(): ReadonlyMap<string, Episode> {
    return this.#episodes;
  }

  restoreEpisodes(since: Record<string, number>): void {
    const now = Date.now();
    for (const [account, block] of Object.entries(since)) this.#episodes.set(account, { block, at: now });
  }

  /** A liquidation of the account confirmed: whatever follows is a new episode with new action ids. */
  endEpisode(account: string): Episode | undefined {
    const episode = this.#episodes.get(account);
    this.#episodes.delete(account);
    this.#dirty.add(account);
    return episode;
  }

  /** A reorganisation removed the blocks from `block` on: reads and episodes from them are void. */
  forgetFrom(block: number): void {
    for (const [account, read] of this.#reads) if (read.block >= block) this.#dirty.add(account);
    for (const [account, episode] of this.#episodes) if (episode.block >= block) this.#episodes.delete(account);
  }

  /** Which accounts need a lens read at this block. */
  select(input: SelectInput): string[] {
    const out: string[] = [];
    for (const account of input.accounts) {
      if (this.#needsRead(account, input)) out.push(account);
    }
    return out;
  }

  #needsRead(account: string, input: SelectInput): boolean {
    const last = this.#reads.get(account);
    if (last === undefined || this.#dirty.has(account) || input.always.has(account)) return true;
    const positions = input.positionsOf(account);
    if (positions === undefined) return true;
    if (last.row.liquidatable || last.row.equity < 0n) return true;
    if (positions.length === 0) return false;
    if (input.block - last.block >= this.#o.refreshBlocks) return true;
    const estimate = estimateHealth(
      { equity: last.row.equity, maintenanceMargin: last.row.maintenanceMargin, positions, prices: last.prices },
      input.prices,
      input.maintenanceMarginRatios,
    );
    return estimate === undefined || nearMaintenance(estimate, this.#o.rereadBufferBps);
  }

  /** Stores fresh reads; opens or closes liquidation episodes. */
  record(
    rows: readonly AccountRow[],
    block: number,
    positionsOf: (account: string) => readonly TrackedPosition[] | undefined,
    prices: ReadonlyMap<number, bigint>,
  ): void {
    const now = Date.now();
    for (const row of rows) {
      this.#reads.set(row.account, { block, row, positions: positionsOf(row.account) ?? [], prices });
      this.#dirty.delete(row.account);
      if (isLiquidatable(row)) {
        if (!this.#episodes.has(row.account)) this.#episodes.set(row.account, { block, at: now });
      } else {
        this.#episodes.delete(row.account);
      }
    }
  }

  liquidatableCount(): number {
    let n = 0;
    for (const r of this.#reads.values()) if (r.row.liquidatable) n++;
    return n;
  }
}
