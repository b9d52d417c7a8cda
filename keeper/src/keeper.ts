import type { JsonRpcApiProvider, Signer } from "ethers";

import {
  Indexer,
  Reader,
  describeError,
  observeRequests,
  toHeader,
  type BlockHeader,
  type CaseRow,
  type Deployment,
  type MarketInfo,
} from "#sdk";
import { ClearingHouse__factory, InsuranceFund__factory } from "../../typechain-types/index.js";
import { AccountBook } from "./book.js";
import { CheckpointWriter, readCheckpoint, type Checkpoint } from "./checkpoint.js";
import type { KeeperConfig } from "./config.js";
import { Executor, type ExecResult, type PendingTx, type SignerSlot } from "./executor.js";
import type { HealthStatus } from "./health.js";
import { runJob, type JobContext } from "./jobs.js";
import type { Logger } from "./logger.js";
import { rpcCounter, type Metrics } from "./metrics.js";
import { planJobs, type AccountSnapshot, type Job, type MarketRule } from "./strategy.js";

export interface KeeperDeps {
  /** JSON-RPC provider (JsonRpcProvider, or BrowserProvider around an EIP-1193 one); its requests are counted. */
  provider: JsonRpcApiProvider;
  /** Signers connected to `provider`, able to sign transactions locally (ethers Wallets). */
  signers: Signer[];
  deployment: Deployment;
  config: KeeperConfig;
  logger: Logger;
  metrics: Metrics;
}

/** What one cycle did. `results` holds the outcomes of the jobs it started once they finished (runOnce). */
export interface CycleReport {
  /** Head block the cycle read at. */
  block: number;
  /** True when the head had not moved since the last cycle and nothing was read. */
  skipped: boolean;
  fromBlock: number;
  toBlock: number;
  reorg?: { fromBlock: number; toBlock: number };
  accounts: number;
  /** Accounts read through the lens in this cycle. */
  read: number;
  liquidatable: number;
  bankrupt: number;
  openCases: number;
  /** Jobs planned (accounts handled). */
  jobs: number;
  results: ExecResult[];
  durationMs: number;
}

interface QueuedJob {
  job: Job;
  resolve: (results: ExecResult[]) => void;
}

const CONFIRMED_KEPT = 10_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * The keeper: follows the clearing house's events, reads account health in batches at one block per cycle,
 * and liquidates, deleverages or socializes through a pool of signers. `start()` loops until `stop()`;
 * `runOnce()` runs one cycle and waits for the transactions it started.
 */
export class Keeper {
  readonly #d: KeeperDeps;
  readonly #log: Logger;
  readonly #reader: Reader;
  readonly #indexer: Indexer;
  readonly #book: AccountBook;
  readonly #checkpoint: CheckpointWriter | undefined;
  readonly #abort = new AbortController();
  #executor: Executor | undefined;
  #init: Promise<void> | undefined;
  #markets: MarketInfo[] = [];
  #timeout = 0n;
  /** Markets and the deleverage timeout have been read once. */
  #paramsLoaded = false;
  #cases: CaseRow[] = [];
  #head: BlockHeader | undefined;
  #lastHeadNumber = -1;
  #lastBlockAt: number | undefined;
  #lastLoopAt: number | undefined;
  #lastError: string | undefined;
  #failures = 0;
  #running = false;
  #stopping = false;
  #loop: Promise<void> | undefined;
  readonly #confirmed = new Map<string, number>();
  readonly #pending = new Map<string, PendingTx>();
  /** Pending transactions whose wait was interrupted by an error: adopted again when their signer is free. */
  readonly #orphans = new Map<string, PendingTx>();
  readonly #busy = new Set<string>();
  /** account → block of our last mined action: reads older than that are not planned on. */
  readonly #settledAt = new Map<string, number>();
  #queue: QueuedJob[] = [];
  readonly #adlMarkets = new Set<number>();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(deps: KeeperDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ module: "keeper" });
    observeRequests(deps.provider, rpcCounter(deps.metrics));
    const startBlock = deps.config.startBlock ?? deps.deployment.startBlock;
    this.#reader = new Reader({
      provider: deps.provider,
      clearingHouse: deps.deployment.contracts.clearingHouse,
      lens: deps.deployment.contracts.lens,
      batchSize: deps.config.batchSize,
    });
    this.#indexer = new Indexer({
      provider: deps.provider,
      clearingHouse: deps.deployment.contracts.clearingHouse,
      iface: ClearingHouse__factory.createInterface(),
      logger: deps.logger,
      onProgress: ({ accountsTracked, blockLag }) => {
        deps.metrics.accountsTracked.set(accountsTracked);
        if (blockLag !== undefined) deps.metrics.blockLag.set(blockLag);
      },
      startBlock,
      logChunk: deps.config.logChunk,
      reorgDepth: deps.config.reorgDepth,
      completeHistory: startBlock <= deps.deployment.startBlock,
    });
    this.#book = new AccountBook({
      refreshBlocks: deps.config.refreshBlocks,
      rereadBufferBps: deps.config.rereadBufferBps,
    });
    this.#checkpoint =
      deps.config.checkpointPath === undefined ? undefined : new CheckpointWriter(deps.config.checkpointPath);
    if (deps.signers.length === 0) throw new Error("the keeper needs at least one signer");
  }

  /** Runs cycles every `pollMs` until {@link stop}; errors are logged and retried, never thrown. */
  async start(): Promise<void> {
    if (this.#running) throw new Error("keeper already started");
    this.#running = true;
    this.#loop = this.#runLoop();
    return this.#loop;
  }

  async #runLoop(): Promise<void> {
    try {
      while (!this.#stopping) {
        try {
          await this.#cycle(false);
        } catch (error) {
          this.#fail(error);
        }
        await sleep(this.#d.config.pollMs, this.#abort.signal);
      }
    } finally {
      this.#running = false;
    }
  }

  /** Stops the loop, lets running jobs stop at their next step (a transaction left unmined stays in the
   * checkpoint for the next run), and writes the checkpoint. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    this.#dropQueue();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
    await this.#saveCheckpoint();
    await this.#checkpoint?.flush();
    this.#log.info({ lastBlock: this.#indexer.lastBlock }, "stopped");
  }

  /** One cycle, then waits for every job it started. Throws when the cycle fails (the node is down…). */
  async runOnce(): Promise<CycleReport> {
    try {
      const report = await this.#cycle(true);
      await this.#saveCheckpoint();
      return report;
    } catch (error) {
      this.#fail(error);
      throw error;
    }
  }

  status(): HealthStatus {
    const now = Date.now();
    const age = (t: number | undefined): number | null => (t === undefined ? null : (now - t) / 1000);
    const loopAgeS = age(this.#lastLoopAt);
    const blockAgeS = age(this.#lastBlockAt);
    const { staleAfterS, blockStaleAfterS } = this.#d.config;
    const loopOk = loopAgeS !== null && loopAgeS <= staleAfterS;
    const blockOk = blockStaleAfterS === 0 || (blockAgeS !== null && blockAgeS <= blockStaleAfterS);
    return {
      ok: loopOk && blockOk && !this.#stopping,
      running: this.#running,
      lastBlock: this.#indexer.lastBlock,
      head: this.#lastHeadNumber,
      blockAgeS,
      loopAgeS,
      staleAfterS,
      blockStaleAfterS,
      accounts: this.#indexer.accountCount,
      liquidatable: this.#book.liquidatableCount(),
      openCases: this.#cases.length,
      inFlight: this.#busy.size,
      lastError: this.#lastError,
    };
  }

  #succeeded(): void {
    this.#lastLoopAt = Date.now();
    if (this.#failures > 0) this.#log.info({ failures: this.#failures, head: this.#lastHeadNumber }, "recovered");
    this.#failures = 0;
    this.#lastError = undefined;
  }

  #fail(error: unknown): void {
    const message = describeError(error);
    // A node that is down fails every poll: say so once (and now and then), not every 100 ms.
    if (message !== this.#lastError || this.#failures % 100 === 0) {
      this.#log.warn({ error: message, failures: this.#failures + 1 }, "cycle failed; retrying");
    }
    this.#failures++;
    this.#lastError = message;
  }

  // ---------------------------------------------------------------- start-up

  async #initialize(): Promise<void> {
    const { deployment } = this.#d;
    const chainId = await this.#reader.chainId();
    if (chainId !== BigInt(deployment.chainId)) {
      throw new Error(`chain id ${chainId} does not match the deployment's ${deployment.chainId}`);
    }
    this.#executor = await Executor.create({
      provider: this.#d.provider,
      signers: this.#d.signers,
      clearingHouse: deployment.contracts.clearingHouse,
      interfaces: [ClearingHouse__factory.createInterface(), InsuranceFund__factory.createInterface()],
      chainId,
      maxFeePerGas: this.#d.config.maxFeePerGas,
      maxPriorityFeePerGas: this.#d.config.maxPriorityFeePerGas,
      feeBumpBlocks: this.#d.config.feeBumpBlocks,
      feeBumpPercent: this.#d.config.feeBumpPercent,
      pollMs: Math.min(this.#d.config.pollMs, 500),
      dryRun: this.#d.config.dryRun,
      metrics: this.#d.metrics,
      logger: this.#d.logger,
      onPending: (id, pending) => this.#onPending(id, pending),
    });
    this.#restore();
    this.#log.info(
      {
        chainId: chainId.toString(),
        clearingHouse: deployment.contracts.clearingHouse,
        signers: this.#executor.slots.map((s) => s.address),
        fromBlock: this.#indexer.lastBlock + 1,
        dryRun: this.#d.config.dryRun,
      },
      "keeper ready",
    );
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

  #restore(): void {
    const path = this.#d.config.checkpointPath;
    if (path === undefined) return;
    const checkpoint = readCheckpoint(path);
    if (checkpoint === undefined) return;
    const { deployment } = this.#d;
    if (
      checkpoint.chainId !== deployment.chainId ||
      checkpoint.clearingHouse.toLowerCase() !== deployment.contracts.clearingHouse.toLowerCase()
    ) {
      throw new Error(`checkpoint ${path} belongs to another deployment`);
    }
    this.#indexer.restore(checkpoint.indexer);
    this.#book.restoreEpisodes(checkpoint.liquidatableSince);
    for (const [id, block] of Object.entries(checkpoint.confirmed)) this.#confirmed.set(id, block);
    for (const [id, pending] of Object.entries(checkpoint.pending)) this.#orphans.set(id, pending);
    this.#log.info(
      {
        checkpoint: path,
        lastBlock: checkpoint.lastBlock,
        resumeFrom: this.#indexer.lastBlock + 1,
        accounts: this.#indexer.accountCount,
        pending: this.#orphans.size,
      },
      "resuming from checkpoint",
    );
  }

  // ---------------------------------------------------------------- the cycle

  async #cycle(waitForJobs: boolean): Promise<CycleReport> {
    const started = Date.now();
    this.#init ??= this.#initialize().catch((error: unknown) => {
      this.#init = undefined;
      throw error;
    });
    await this.#init;
    // One call for the head's number, hash and time: eth_blockNumber then the header would be two per block.
    const block = await this.#d.provider.getBlock("latest");
    if (block === null) throw new Error("no latest block");
    const headNumber = block.number;
    if (headNumber === this.#lastHeadNumber && this.#queue.length === 0 && this.#orphans.size === 0 && !waitForJobs) {
      this.#succeeded();
      return this.#report(started, { skipped: true, fromBlock: headNumber + 1, toBlock: headNumber });
    }
    const head = toHeader(block);
    const sync = await this.#indexer.sync(head);
    this.#head = head;
    if (head.number !== this.#lastHeadNumber) {
      this.#lastHeadNumber = head.number;
      this.#lastBlockAt = Date.now();
    }
    if (sync.reorg !== undefined) this.#forgetFrom(sync.reorg.fromBlock);
    this.#book.markDirty(sync.touched);
    for (const { marketId, longSide } of sync.socialized) {
      this.#book.markDirty(this.#indexer.accountsInMarket(marketId, longSide));
    }
    // Read at the first cycle's head rather than at start-up: a backfill always finds the markets' listing
    // events, and reading them before it as well would cost the same calls twice.
    const readMarkets = !this.#paramsLoaded || sync.marketsChanged.size > 0;
    const readTimeout = !this.#paramsLoaded || sync.timeoutChanged;
    [this.#markets, this.#timeout] = await Promise.all([
      readMarkets ? this.#reader.markets(head.number) : this.#markets,
      readTimeout ? this.#reader.deleverageTimeout(head.number) : this.#timeout,
    ]);
    if (!this.#paramsLoaded) this.#checkMarkets();
    this.#paramsLoaded = true;
    for (const m of sync.marketsChanged) this.#book.markDirty(this.#indexer.accountsInMarket(m));

    const tag = head.number;
    const unknown = this.#indexer.unknownPositions;
    const [prices] = await Promise.all([
      this.#reader.prices(this.#markets, tag),
      Promise.all(unknown.map(async (a) => this.#indexer.setPositions(a, await this.#reader.positions(a, tag), tag))),
    ]);
    const caseHints = new Set(this.#indexer.openCases);
    const toRead = this.#book.select({
      accounts: this.#indexer.accounts,
      block: tag,
      positionsOf: (a) => this.#indexer.positionsOf(a),
      prices,
      maintenanceMarginRatios: new Map(this.#markets.map((m) => [m.id, m.maintenanceMarginRatio])),
      always: caseHints,
    });
    const [rows, cases] = await Promise.all([
      this.#reader.health(toRead, tag),
      this.#reader.cases([...caseHints], tag),
    ]);
    if (rows.length < toRead.length) {
      // Their health reverts, most likely on a stale feed; they stay due for a read and are tried again.
      const read = new Set(rows.map((r) => r.account));
      const unreadable = toRead.filter((a) => !read.has(a));
      this.#book.markDirty(unreadable);
      this.#log.warn({ count: unreadable.length, first: unreadable[0] }, "accounts whose health cannot be read");
    }
    this.#book.record(rows, tag, (a) => this.#indexer.positionsOf(a), prices);
    for (const c of cases) if (!c.open) this.#indexer.forgetCase(c.account);
    this.#cases = cases.filter((c) => c.open);

    const accounts: AccountSnapshot[] = [];
    let bankrupt = 0;
    for (const [account, read] of this.#book.reads) {
      if (!read.row.liquidatable) continue;
      if (read.row.bankrupt) bankrupt++;
      accounts.push({
        account,
        equity: read.row.equity,
        maintenanceMargin: read.row.maintenanceMargin,
        positions: this.#indexer.positionsOf(account),
        liquidatableSince: this.#book.episode(account)?.block ?? read.block,
      });
    }
    this.#d.metrics.liquidatableNow.set(accounts.length);
    // Transactions left pending by a restart or an interrupted job come first: their accounts are taken.
    const adopted = this.#adoptOrphans();
    const busy = new Set(this.#busy);
    for (const pending of this.#orphans.values()) busy.add(pending.account);
    for (const [account, at] of this.#settledAt) {
      if (at > tag) busy.add(account);
      else this.#settledAt.delete(account);
    }
    const markets = new Map<number, MarketRule>(this.#markets.map((m) => [m.id, m]));
    const jobs = planJobs({
      block: tag,
      timestamp: head.timestamp,
      deleverageTimeout: this.#timeout,
      markets,
      prices,
      accounts,
      cases: this.#cases,
      busy,
      confirmed: new Set(this.#confirmed.keys()),
      minShortfallBps: this.#d.config.minShortfallBps,
    });
    const done = this.#schedule(jobs);
    await this.#saveCheckpoint();
    this.#succeeded();
    if (jobs.length > 0 || rows.length > 0) {
      this.#log.debug({ block: tag, read: rows.length, liquidatable: accounts.length, jobs: jobs.length }, "cycle");
    }
    const results = waitForJobs ? [...(await Promise.all(adopted)).flat(), ...(await done).flat()] : [];
    return this.#report(started, {
      skipped: false,
      fromBlock: sync.fromBlock,
      toBlock: sync.toBlock,
      reorg: sync.reorg,
      read: rows.length,
      liquidatable: accounts.length,
      bankrupt,
      jobs: jobs.length,
      results,
    });
  }

  /** Undoes what the keeper remembers of blocks a reorganisation removed: its confirmations may be gone. */
  #forgetFrom(block: number): void {
    for (const [id, at] of this.#confirmed) if (at >= block) this.#confirmed.delete(id);
    this.#book.forgetFrom(block);
    this.#settledAt.clear();
  }

  #report(
    started: number,
    part: Partial<CycleReport> & Pick<CycleReport, "skipped" | "fromBlock" | "toBlock">,
  ): CycleReport {
    return {
      block: this.#lastHeadNumber,
      accounts: this.#indexer.accountCount,
      read: 0,
      liquidatable: this.#book.liquidatableCount(),
      bankrupt: 0,
      openCases: this.#cases.length,
      jobs: 0,
      results: [],
      ...part,
      durationMs: Date.now() - started,
    };
  }

  // ---------------------------------------------------------------- jobs

  /** Replaces the jobs still waiting for a signer with this cycle's plan; resolves when all of them ran. */
  #schedule(jobs: Job[]): Promise<ExecResult[][]> {
    this.#dropQueue();
    const promises = jobs.map((job) => new Promise<ExecResult[]>((resolve) => this.#queue.push({ job, resolve })));
    this.#pump();
    return Promise.all(promises);
  }

  #dropQueue(): void {
    for (const q of this.#queue) q.resolve([]);
    this.#queue = [];
  }

  /**
   * Starts queued jobs on free signers, most urgent first. One ADL job per market at a time: two cases in the
   * same market would otherwise pick the same top counterparty and one of them would lose the race to the other.
   */
  #pump(): void {
    const executor = this.#executor;
    if (executor === undefined) return;
    if (this.#stopping) {
      this.#dropQueue();
      return;
    }
    for (let i = 0; i < this.#queue.length;) {
      const next = this.#queue[i];
      if (this.#busy.has(next.job.account)) {
        this.#queue.splice(i, 1);
        next.resolve([]);
        continue;
      }
      const market = next.job.type === "deleverage" ? next.job.marketId : undefined;
      if (market !== undefined && this.#adlMarkets.has(market)) {
        i++;
        continue;
      }
      const slot = executor.acquire();
      if (slot === undefined) return;
      this.#queue.splice(i, 1);
      if (market !== undefined) this.#adlMarkets.add(market);
      const release = (results: ExecResult[]): void => {
        if (market !== undefined) this.#adlMarkets.delete(market);
        next.resolve(results);
      };
      this.#track(slot, next.job.account, () => runJob(this.#jobContext(), slot, next.job), release);
    }
  }

  #jobContext(): JobContext {
    if (this.#executor === undefined) throw new Error("keeper not initialized");
    return {
      provider: this.#d.provider,
      executor: this.#executor,
      reader: this.#reader,
      indexer: this.#indexer,
      logger: this.#d.logger,
      signal: this.#abort.signal,
    };
  }

  /** Runs work for one account on one signer (none when only watching); settles bookkeeping whatever happens. */
  #track(
    slot: SignerSlot | undefined,
    account: string,
    work: () => Promise<ExecResult[]>,
    resolve: (results: ExecResult[]) => void,
  ): void {
    this.#busy.add(account);
    const run = (async () => {
      let results: ExecResult[] = [];
      try {
        results = await work();
      } catch (error) {
        this.#log.warn({ account, signer: slot?.address, error: describeError(error) }, "job interrupted");
        if (slot !== undefined) {
          // Its transaction may still be mined: wait for it again later rather than send another.
          for (const [id, p] of this.#pending) {
            if (p.signer !== slot.address) continue;
            this.#pending.delete(id);
            this.#orphans.set(id, p);
          }
          slot.nonce = undefined;
        }
      } finally {
        for (const r of results) this.#afterResult(r);
        this.#busy.delete(account);
        if (slot !== undefined) this.#executor?.release(slot);
        resolve(results);
      }
    })();
    this.#inFlight.add(run);
    void run.finally(() => {
      this.#inFlight.delete(run);
      this.#pump();
    });
  }

  #afterResult(r: ExecResult): void {
    if (r.block !== undefined) {
      const previous = this.#settledAt.get(r.action.account) ?? 0;
      if (r.block > previous) this.#settledAt.set(r.action.account, r.block);
      this.#book.markDirty([r.action.account]);
      if (r.action.counterparty !== undefined) this.#book.markDirty([r.action.counterparty]);
    }
    if (r.outcome !== "confirmed") return;
    this.#confirmed.set(r.action.id, r.block ?? this.#lastHeadNumber);
    if (this.#confirmed.size > CONFIRMED_KEPT) {
      const oldest = this.#confirmed.keys().next().value;
      if (oldest !== undefined) this.#confirmed.delete(oldest);
    }
    if (r.action.kind === "liquidate") {
      const episode = this.#book.endEpisode(r.action.account);
      if (episode !== undefined) this.#d.metrics.timeToLiquidation.observe((Date.now() - episode.at) / 1000);
    }
  }

  /** Resumes waiting for transactions sent before a restart or an interrupted job, on their own signers. */
  #adoptOrphans(): Promise<ExecResult[]>[] {
    const executor = this.#executor;
    if (executor === undefined || this.#stopping) return [];
    const adopted: Promise<ExecResult[]>[] = [];
    for (const [id, pending] of [...this.#orphans]) {
      const slot = executor.slotOf(pending.signer);
      if ((slot !== undefined && slot.busy) || this.#busy.has(pending.account)) continue;
      this.#orphans.delete(id);
      this.#pending.set(id, pending);
      if (slot !== undefined) slot.busy = true;
      const signal = this.#abort.signal;
      adopted.push(
        new Promise((resolve) =>
          this.#track(slot, pending.account, async () => [await executor.adopt(pending, { signal })], resolve),
        ),
      );
    }
    return adopted;
  }

  #onPending(id: string, pending: PendingTx | undefined): void {
    if (pending === undefined) this.#pending.delete(id);
    else this.#pending.set(id, pending);
    void this.#saveCheckpoint().catch((error: unknown) => {
      this.#log.error({ error: describeError(error) }, "checkpoint write failed");
    });
  }

  // ---------------------------------------------------------------- checkpoint

  #buildCheckpoint(): Checkpoint {
    const indexer = this.#indexer.exportState();
    const liquidatableSince: Record<string, number> = {};
    for (const [account, episode] of this.#book.episodes) liquidatableSince[account] = episode.block;
    return {
      version: 1,
      chainId: this.#d.deployment.chainId,
      clearingHouse: this.#d.deployment.contracts.clearingHouse,
      lastBlock: indexer.lastBlock,
      accounts: indexer.accounts,
      indexer,
      liquidatableSince,
      confirmed: Object.fromEntries(this.#confirmed),
      pending: Object.fromEntries([...this.#orphans, ...this.#pending]),
    };
  }

  async #saveCheckpoint(): Promise<void> {
    if (this.#checkpoint === undefined || this.#init === undefined) return;
    await this.#checkpoint.save(() => this.#buildCheckpoint());
  }

  /** The head block of the last cycle (for tools and tests). */
  get head(): BlockHeader | undefined {
    return this.#head;
  }
}
