import type { AccountRow } from "#sdk";

export interface HeadReadsDeps {
  /** The lens's `healthOf` at block `block` (the reader's, split into its batches). */
  health(accounts: readonly string[], block: number): Promise<readonly AccountRow[]>;
  /** Whether the indexed positions show `account` holding a position in `marketId`. */
  holds(account: string, marketId: number): boolean;
  /** How long a batch waits for more accounts before it is read (the jobs one block's receipts free start together). */
  windowMs: number;
}

interface Batch {
  block: number;
  accounts: Set<string>;
  /** By lower-case address. */
  rows: Promise<Map<string, AccountRow>>;
}

/**
 * One `healthOf` read at the head for every liquidation about to go out on an older read. In a crash, the jobs
 * planned on the gap block's read wait in the queue for a slot; when a block's receipts free slots, dozens of
 * them start at once, at a head newer than their read, and each needed its own simulation (`eth_call` of the
 * whole liquidation, ~300k gas each). Reading their health in one batch at that head costs one lens entry each
 * (~47k gas) and says the same as the simulation would for a solvent account's first step: at that state,
 * `liquidate` of a held position goes through exactly when the account is below maintenance (the argument of
 * {@link Action.readAt}, made at a newer block).
 */
export class HeadReads {
  readonly #d: HeadReadsDeps;
  #open: Batch | undefined;

  constructor(deps: HeadReadsDeps) {
    this.#d = deps;
  }

  /**
   * True when `account`, read at `block` in a batch with the others asked for in the same window, is
   * liquidatable, not bankrupt (a bankrupt account's liquidation is estimated, its gas varies) and holds a
   * position in `marketId`. False otherwise, and when the read fails: the caller then simulates as before.
   */
  async liquidatable(account: string, marketId: number, block: number): Promise<boolean> {
    const batch = this.#batchFor(block);
    batch.accounts.add(account);
    const rows = await batch.rows.catch(() => new Map<string, AccountRow>());
    const row = rows.get(account.toLowerCase());
    return row !== undefined && row.liquidatable && !row.bankrupt && this.#d.holds(account, marketId);
  }

  #batchFor(block: number): Batch {
    const open = this.#open;
    if (open !== undefined && open.block === block) return open;
    const accounts = new Set<string>();
    const batch: Batch = {
      block,
      accounts,
      rows: new Promise<void>((resolve) => setTimeout(resolve, this.#d.windowMs)).then(async () => {
        // Later calls open a batch of their own: this one's account list is final from here on.
        if (this.#open === batch) this.#open = undefined;
        const rows = await this.#d.health([...accounts], block);
        return new Map(rows.map((r) => [r.account.toLowerCase(), r]));
      }),
    };
    this.#open = batch;
    return batch;
  }
}
