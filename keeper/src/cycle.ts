import {
  type AccountRow,
  type BlockHeader,
  type CaseRow,
  type Deployment,
  type Indexer,
  type MarketInfo,
  type Reader,
  type SyncResult,
} from "#sdk";
import type { AccountBook } from "./book.js";
import type { KeeperConfig } from "./config.js";
import type { ExecResult } from "./executor.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import { isolatedLane, planJobs, type AccountSnapshot, type Job, type MarketRule } from "./strategy.js";

/** How many confirmed action ids are remembered, so that a job is never sent twice. */
const CONFIRMED_KEPT = 10_000;

export interface CycleDeps {
  reader: Pick<Reader, "markets" | "deleverageTimeout" | "prices" | "positions" | "health" | "cases">;
  indexer: Pick<
    Indexer,
    | "sync"
    | "accounts"
    | "accountsInMarket"
    | "unknownPositions"
    | "setPositions"
    | "openCases"
    | "positionsOf"
    | "forgetCase"
  >;
  book: AccountBook;
  deployment: Deployment;
  config: Pick<KeeperConfig, "minShortfallBps">;
  /** Isolated markets with a signer of their own; jobs in any other isolated market are skipped. */
  dedicatedMarkets?: ReadonlySet<number>;
  logger: Logger;
  metrics: Pick<Metrics, "liquidatableNow" | "timeToLiquidation">;
}

/** What one cycle read at its head: the sync, the prices, the rows read and the liquidatable accounts. */
export interface Observation {
  head: BlockHeader;
  sync: SyncResult;
  prices: Map<number, bigint>;
  rows: AccountRow[];
  /** Liquidatable accounts as last read, with their positions. */
  accounts: AccountSnapshot[];
  bankrupt: number;
}

/**
 * One keeper cycle's reading and planning: sync the events to the head, read the markets, prices and the
 * accounts the margin estimate says are due through the lens, then plan jobs. Keeps what the reads and the
 * keeper's own confirmed actions taught it (markets, open cases, the head, confirmed action ids, the block each
 * account was last settled at). Sends nothing: the scheduler runs the jobs.
 */
export class Cycle {
  readonly #d: CycleDeps;
  readonly #log: Logger;
  #markets: MarketInfo[] = [];
  #isolated = new Set<number>();
  /** Isolated markets already reported as skipped (no signer of their own): said once each. */
  readonly #skipReported = new Set<number>();
  #timeout = 0n;
  /** Markets and the deleverage timeout have been read once. */
  #paramsLoaded = false;
  #cases: CaseRow[] = [];
  #head: BlockHeader | undefined;
  #lastHeadNumber = -1;
  #lastBlockAt: number | undefined;
  readonly #confirmed = new Map<string, number>();
  /** account → block of our last mined action: reads older than that are not planned on. */
  readonly #settledAt = new Map<string, number>();

  constructor(deps: CycleDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ module: "keeper" });
  }

  /** The head of the last observation. */
  get head(): BlockHeader | undefined {
    return this.#head;
  }

  /** Number of the last head observed; −1 before the first. */
  get lastHeadNumber(): number {
    return this.#lastHeadNumber;
  }

  /** When the head last moved (ms since the epoch). */
  get lastBlockAt(): number | undefined {
    return this.#lastBlockAt;
  }

  /** Markets listed isolated (their own fund), as of the last read of the markets. */
  get isolatedMarkets(): ReadonlySet<number> {
    return this.#isolated;
  }

  get openCases(): number {
    return this.#cases.length;
  }

  /** Confirmed action ids and the block each was mined in, for the checkpoint. */
  get confirmed(): ReadonlyMap<string, number> {
    return this.#confirmed;
  }

  restoreConfirmed(confirmed: Record<string, number>): void {
    for (const [id, block] of Object.entries(confirmed)) this.#confirmed.set(id, block);
  }

  /**
   * Syncs to `head` and reads what the plan needs at it (sync → read). Accounts in `busy` (a job of ours runs or
   * waits for them) are not read: their job simulates what it sends, and its end marks them for a read.
   */
  async observe(head: BlockHeader, busy: ReadonlySet<string> = new Set()): Promise<Observation> {
    const { indexer, reader, book } = this.#d;
    const sync = await indexer.sync(head);
    this.#head = head;
    if (head.number !== this.#lastHeadNumber) {
      this.#lastHeadNumber = head.number;
      this.#lastBlockAt = Date.now();
    }
    if (sync.reorg !== undefined) this.#forgetFrom(sync.reorg.fromBlock);
    book.markDirty(sync.touched);
    for (const { marketId, longSide } of sync.socialized) {
      book.markDirty(indexer.accountsInMarket(marketId, longSide));
    }
    // Read at the first cycle's head rather than at start-up: a backfill always finds the markets' listing
    // events, and reading them before it as well would cost the same calls twice.
    const readMarkets = !this.#paramsLoaded || sync.marketsChanged.size > 0;
    const readTimeout = !this.#paramsLoaded || sync.timeoutChanged;
    [this.#markets, this.#timeout] = await Promise.all([
      readMarkets ? reader.markets(head.number) : this.#markets,
      readTimeout ? reader.deleverageTimeout(head.number) : this.#timeout,
    ]);
    if (!this.#paramsLoaded) this.#checkMarkets();
    if (readMarkets) this.#readIsolation();
    this.#paramsLoaded = true;
    for (const m of sync.marketsChanged) book.markDirty(indexer.accountsInMarket(m));

    const tag = head.number;
    const unknown = indexer.unknownPositions;
    const [prices] = await Promise.all([
      reader.prices(this.#markets, tag),
      Promise.all(unknown.map(async (a) => indexer.setPositions(a, await reader.positions(a, tag), tag))),
    ]);
    const caseHints = new Set(indexer.openCases);
    const due = book.select({
      accounts: indexer.accounts,
      block: tag,
      positionsOf: (a) => indexer.positionsOf(a),
      prices,
      maintenanceMarginRatios: new Map(this.#markets.map((m) => [m.id, m.maintenanceMarginRatio])),
      always: caseHints,
    });
    // During a crash every liquidatable account would be read again each block while its transaction waits.
    const toRead = busy.size === 0 ? due : due.filter((a) => !busy.has(a));
    const [rows, cases] = await Promise.all([reader.health(toRead, tag), reader.cases([...caseHints], tag)]);
    if (rows.length < toRead.length) {
      // Their health reverts, most likely on a stale feed; they stay due for a read and are tried again.
      const read = new Set(rows.map((r) => r.account));
      const unreadable = toRead.filter((a) => !read.has(a));
      book.markDirty(unreadable);
      this.#log.warn({ count: unreadable.length, first: unreadable[0] }, "accounts whose health cannot be read");
    }
    book.record(rows, tag, (a) => indexer.positionsOf(a), prices);
    for (const c of cases) if (!c.open) indexer.forgetCase(c.account);
    this.#cases = cases.filter((c) => c.open);

    const accounts: AccountSnapshot[] = [];
    let bankrupt = 0;
    for (const [account, read] of book.reads) {
      if (!read.row.liquidatable) continue;
      if (read.row.bankrupt) bankrupt++;
      accounts.push({
        account,
        equity: read.row.equity,
        maintenanceMargin: read.row.maintenanceMargin,
        positions: indexer.positionsOf(account),
        liquidatableSince: book.episode(account)?.block ?? read.block,
        readAt: read.block,
      });
    }
    this.#d.metrics.liquidatableNow.set(accounts.length);
    return { head, sync, prices, rows, accounts, bankrupt };
  }

  /**
   * The jobs for an observation, leaving out `busy` accounts (a job or a transaction of theirs is under way)
   * and accounts our own action settled after the observed block.
   */
  plan(seen: Observation, busy: ReadonlySet<string>): Job[] {
    const tag = seen.head.number;
    const skip = new Set(busy);
    // A read older than our own last action for the account (at the head, or kept from before its job while it
    // was busy and not read) is not planned on.
    for (const [account, at] of this.#settledAt) {
      if (at > (this.#d.book.read(account)?.block ?? tag)) skip.add(account);
      else this.#settledAt.delete(account);
    }
    const markets = new Map<number, MarketRule>(this.#markets.map((m) => [m.id, m]));
    const jobs = planJobs({
      block: tag,
      timestamp: seen.head.timestamp,
      deleverageTimeout: this.#timeout,
      markets,
      prices: seen.prices,
      accounts: seen.accounts,
      cases: this.#cases,
      busy: skip,
      confirmed: new Set(this.#confirmed.keys()),
      minShortfallBps: this.#d.config.minShortfallBps,
    });
    const dedicated = this.#d.dedicatedMarkets ?? new Set<number>();
    return jobs.filter((job) => {
      const lane = isolatedLane(job, this.#isolated);
      return lane === undefined || dedicated.has(lane);
    });
  }

  /** What a finished job's result changes: the accounts to read again, confirmed ids, liquidation time. */
  recordResult(r: ExecResult): void {
    const { book } = this.#d;
    if (r.block !== undefined) {
      const previous = this.#settledAt.get(r.action.account) ?? 0;
      if (r.block > previous) this.#settledAt.set(r.action.account, r.block);
      book.markDirty([r.action.account]);
      if (r.action.counterparty !== undefined) book.markDirty([r.action.counterparty]);
    }
    if (r.outcome !== "confirmed") return;
    this.#confirmed.set(r.action.id, r.block ?? this.#lastHeadNumber);
    if (this.#confirmed.size > CONFIRMED_KEPT) {
      const oldest = this.#confirmed.keys().next().value;
      if (oldest !== undefined) this.#confirmed.delete(oldest);
    }
    if (r.action.kind === "liquidate") {
      const episode = book.endEpisode(r.action.account);
      if (episode !== undefined) this.#d.metrics.timeToLiquidation.observe((Date.now() - episode.at) / 1000);
    }
  }

  /** Undoes what the keeper remembers of blocks a reorganisation removed: its confirmations may be gone. */
  #forgetFrom(block: number): void {
    for (const [id, at] of this.#confirmed) if (at >= block) this.#confirmed.delete(id);
    this.#d.book.forgetFrom(block);
    this.#settledAt.clear();
  }

  /** Notes which markets are isolated; an isolated market without a signer of its own is reported once. */
  #readIsolation(): void {
    this.#isolated = new Set(this.#markets.filter((m) => m.isolatedFund !== undefined).map((m) => m.id));
    const dedicated = this.#d.dedicatedMarkets ?? new Set<number>();
    for (const m of this.#markets) {
      if (m.isolatedFund === undefined || dedicated.has(m.id) || this.#skipReported.has(m.id)) continue;
      this.#skipReported.add(m.id);
      this.#log.warn(
        { marketId: m.id, market: this.#d.deployment.markets.find((d) => d.id === m.id)?.symbol, fund: m.isolatedFund },
        "isolated market without a signer of its own: its liquidations are skipped. A liquidation hands the " +
          "position to the liquidator, and an account holding an isolated market may hold no other " +
          "(IsolatedMarketConflict), so a shared signer cannot take it; give one with --isolated-signer <market>=<n>",
      );
    }
  }

  /** Warns when the deployment file's markets disagree with the chain (once, at the first read of the markets). */
  #checkMarkets(): void {
    for (const m of this.#d.deployment.markets) {
      const onChain = this.#markets.find((x) => x.id === m.id);
      if (onChain === undefined) this.#log.warn({ market: m.symbol }, "market of the deployment file not listed");
      else if (onChain.lossPolicy !== m.lossPolicy) {
        this.#log.warn(
          { market: m.symbol, onChain: onChain.lossPolicy },
          "loss policy differs from the deployment file",
        );
      }
    }
  }
}
