import type { JsonRpcApiProvider, Signer } from "ethers";

import {
  Indexer,
  Reader,
  describeError,
  latestHeader,
  observeRequests,
  type BlockHeader,
  type Deployment,
  deploymentProblem,
} from "#sdk";
import { ClearingHouse__factory, DefaultLayers__factory, InsuranceFund__factory } from "../../typechain-types/index.js";
import { AccountBook } from "./book.js";
import { CheckpointWriter, readCheckpoint, type Checkpoint } from "./checkpoint.js";
import type { KeeperConfig } from "./config.js";
import { Cycle } from "./cycle.js";
import { Executor, type ExecResult } from "./executor.js";
import type { HealthStatus } from "./health.js";
import { HeadReads } from "./head-reads.js";
import { runJob } from "./jobs.js";
import type { Logger } from "./logger.js";
import { rpcCounter, type Metrics } from "./metrics.js";
import { Scheduler } from "./scheduler.js";
import { isolatedLane } from "./strategy.js";

/**
 * How long the first steps starting together (one block's receipts free their slots) gather for one batched
 * health read at the head: long enough for the jobs a block releases, short next to a block.
 */
const HEAD_READ_WINDOW_MS = 20;

export interface KeeperDeps {
  /** JSON-RPC provider (JsonRpcProvider, or BrowserProvider around an EIP-1193 one); its requests are counted. */
  provider: JsonRpcApiProvider;
  /** Signers connected to `provider`, able to sign transactions locally (ethers Wallets): the shared pool. */
  signers: Signer[];
  /**
   * Each isolated market's own signer, by market id: it signs for that market only, and that market's jobs run on
   * it alone. An isolated market without one is skipped (said once in the log).
   */
  isolatedSigners?: ReadonlyMap<number, Signer>;
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
 * `runOnce()` runs one cycle and waits for the transactions it started. The reading and planning of a cycle is
 * {@link Cycle}'s, the running of its jobs {@link Scheduler}'s; this class starts, stops, checkpoints and
 * reports.
 */
export class Keeper {
  readonly #d: KeeperDeps;
  readonly #log: Logger;
  readonly #reader: Reader;
  readonly #indexer: Indexer;
  readonly #book: AccountBook;
  readonly #cycleState: Cycle;
  readonly #scheduler: Scheduler;
  readonly #checkpoint: CheckpointWriter | undefined;
  readonly #abort = new AbortController();
  #executor: Executor | undefined;
  #init: Promise<void> | undefined;
  #lastLoopAt: number | undefined;
  #lastError: string | undefined;
  /** Set while the chain does not hold the deployment (a restarted node): /health fails and nothing is done. */
  #missingDeployment: string | undefined;
  #failures = 0;
  #running = false;
  #stopping = false;
  #loop: Promise<void> | undefined;

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
    this.#cycleState = new Cycle({
      reader: this.#reader,
      indexer: this.#indexer,
      book: this.#book,
      deployment: deps.deployment,
      config: deps.config,
      dedicatedMarkets: new Set(deps.isolatedSigners?.keys() ?? []),
      logger: deps.logger,
      metrics: deps.metrics,
    });
    this.#scheduler = new Scheduler({
      logger: deps.logger,
      lane: (job) => isolatedLane(job, this.#cycleState.isolatedMarkets),
      run: (slot, job) =>
        runJob(
          {
            provider: deps.provider,
            executor: this.#initialized(),
            reader: this.#reader,
            indexer: this.#indexer,
            logger: deps.logger,
            signal: this.#abort.signal,
          },
          slot,
          job,
        ),
      adopt: (pending) => this.#initialized().adopt(pending, { signal: this.#abort.signal }),
      onResult: (result) => this.#cycleState.recordResult(result),
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
    this.#scheduler.halt();
    await this.#loop;
    await this.#scheduler.drain();
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
    const blockAgeS = age(this.#cycleState.lastBlockAt);
    const { staleAfterS, blockStaleAfterS } = this.#d.config;
    const loopOk = loopAgeS !== null && loopAgeS <= staleAfterS;
    const blockOk = blockStaleAfterS === 0 || (blockAgeS !== null && blockAgeS <= blockStaleAfterS);
    return {
      ok: loopOk && blockOk && !this.#stopping && this.#missingDeployment === undefined,
      running: this.#running,
      lastBlock: this.#indexer.lastBlock,
      head: this.#cycleState.lastHeadNumber,
      blockAgeS,
      loopAgeS,
      staleAfterS,
      blockStaleAfterS,
      accounts: this.#indexer.accountCount,
      liquidatable: this.#book.liquidatableCount(),
      openCases: this.#cycleState.openCases,
      inFlight: this.#scheduler.inFlight,
      lastError: this.#lastError,
    };
  }

  #succeeded(): void {
    this.#lastLoopAt = Date.now();
    if (this.#failures > 0) {
      this.#log.info({ failures: this.#failures, head: this.#cycleState.lastHeadNumber }, "recovered");
    }
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

  #initialized(): Executor {
    if (this.#executor === undefined) throw new Error("keeper not initialized");
    return this.#executor;
  }

  // ---------------------------------------------------------------- start-up

  async #initialize(): Promise<void> {
    const { deployment } = this.#d;
    const chainId = await this.#reader.chainId();
    if (chainId !== BigInt(deployment.chainId)) {
      throw new Error(`chain id ${chainId} does not match the deployment's ${deployment.chainId}`);
    }
    await this.#checkDeployment();
    await this.#checkIsolatedSigners();
    this.#executor = await Executor.create({
      provider: this.#d.provider,
      signers: this.#d.signers,
      isolatedSigners: this.#d.isolatedSigners,
      clearingHouse: deployment.contracts.clearingHouse,
      interfaces: [
        ClearingHouse__factory.createInterface(),
        InsuranceFund__factory.createInterface(),
        DefaultLayers__factory.createInterface(),
      ],
      ...(deployment.contracts.defaultLayers === undefined
        ? {}
        : {
            layers: {
              address: deployment.contracts.defaultLayers,
              iface: DefaultLayers__factory.createInterface(),
            },
          }),
      chainId,
      maxFeePerGas: this.#d.config.maxFeePerGas,
      maxPriorityFeePerGas: this.#d.config.maxPriorityFeePerGas,
      feeBumpBlocks: this.#d.config.feeBumpBlocks,
      feeBumpPercent: this.#d.config.feeBumpPercent,
      maxInFlight: this.#d.config.maxInFlight,
      pollMs: Math.min(this.#d.config.pollMs, 500),
      dryRun: this.#d.config.dryRun,
      headReads: new HeadReads({
        health: (accounts, block) => this.#reader.health(accounts, block),
        holds: (account, marketId) =>
          this.#indexer.positionsOf(account)?.some((p) => p.marketId === marketId && p.size !== 0n) ?? false,
        windowMs: HEAD_READ_WINDOW_MS,
      }),
      metrics: this.#d.metrics,
      logger: this.#d.logger,
      onPending: (id, pending) => {
        this.#scheduler.onPending(id, pending);
        void this.#saveCheckpoint().catch((error: unknown) => {
          this.#log.error({ error: describeError(error) }, "checkpoint write failed");
        });
      },
    });
    this.#scheduler.attach(this.#executor);
    this.#restore();
    this.#log.info(
      {
        chainId: chainId.toString(),
        clearingHouse: deployment.contracts.clearingHouse,
        signers: this.#executor.slots.filter((s) => s.market === undefined).map((s) => s.address),
        isolatedSigners: Object.fromEntries(
          this.#executor.slots.flatMap((s) => (s.market === undefined ? [] : [[s.market, s.address]])),
        ),
        fromBlock: this.#indexer.lastBlock + 1,
        dryRun: this.#d.config.dryRun,
      },
      "keeper ready",
    );
  }

  /**
   * Each dedicated signer's market must be isolated on chain, and the signer must hold no other market (it could
   * take no position of its market over: IsolatedMarketConflict). Throws a one-line error otherwise.
   */
  async #checkIsolatedSigners(): Promise<void> {
    const dedicated = [...(this.#d.isolatedSigners ?? [])];
    if (dedicated.length === 0) return;
    const markets = await this.#reader.markets("latest");
    for (const [marketId, signer] of dedicated) {
      const address = await signer.getAddress();
      const market = markets.find((m) => m.id === marketId);
      const name = this.#d.deployment.markets.find((m) => m.id === marketId)?.symbol ?? `market ${marketId}`;
      if (market === undefined) throw new Error(`isolated signer ${address}: ${name} is not listed`);
      if (market.isolatedFund === undefined) {
        throw new Error(`isolated signer ${address}: ${name} is not an isolated market (it uses the shared pool)`);
      }
      const other = (await this.#reader.positions(address, "latest")).find(
        (p) => p.marketId !== marketId && p.size !== 0n,
      );
      if (other !== undefined) {
        throw new Error(
          `isolated signer ${address} for ${name} holds a position in market ${other.marketId}: it could take no ` +
            `${name} position over (IsolatedMarketConflict); give ${name} an account of its own`,
        );
      }
    }
  }

  /**
   * Throws, and makes /health fail, when the chain does not hold the deployment (no code at its addresses, head
   * before its start block); clears that state once it does again.
   */
  async #checkDeployment(): Promise<void> {
    const problem = await deploymentProblem(this.#d.provider, this.#d.deployment);
    if (problem === undefined) {
      if (this.#missingDeployment !== undefined) this.#log.info("the chain holds the deployment again");
      this.#missingDeployment = undefined;
      return;
    }
    if (this.#missingDeployment === undefined) {
      this.#log.error({ problem }, "the chain does not hold the deployment; doing nothing until it does");
    }
    this.#missingDeployment = problem;
    throw new Error(`the chain does not hold the deployment: ${problem}`);
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
    this.#cycleState.restoreConfirmed(checkpoint.confirmed);
    this.#scheduler.restorePending(checkpoint.pending);
    this.#log.info(
      {
        checkpoint: path,
        lastBlock: checkpoint.lastBlock,
        resumeFrom: this.#indexer.lastBlock + 1,
        accounts: this.#indexer.accountCount,
        pending: Object.keys(checkpoint.pending).length,
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
    // One call for the head's number, hash, time and logs bloom: eth_blockNumber then the header would be two per
    // block, and the bloom spares the logs of a block without the clearing house's.
    const block = await latestHeader(this.#d.provider);
    const headNumber = block.number;
    // A head below the last block indexed is a node that lost its history (restarted, reset) more often than a
    // reorganisation: before rewinding to it, make sure the deployment is still there. While it is missing, the
    // check runs every cycle and the cycle stops here.
    if (headNumber < this.#indexer.lastBlock || this.#missingDeployment !== undefined) await this.#checkDeployment();
    if (headNumber === this.#cycleState.lastHeadNumber && !this.#scheduler.hasWork && !waitForJobs) {
      this.#succeeded();
      return this.#report(started, { skipped: true, fromBlock: headNumber + 1, toBlock: headNumber });
    }
    // Accounts a job runs or waits for are not read again: a job simulates each step before it sends it (a crash's
    // queue of a thousand liquidatable accounts read every block was most of the node's work).
    const handled = this.#scheduler.busyAccounts();
    for (const account of this.#scheduler.queuedAccounts()) handled.add(account);
    const seen = await this.#cycleState.observe(block, handled);
    // Transactions left pending by a restart or an interrupted job come first: their accounts are taken.
    const adopted = this.#scheduler.adoptOrphans();
    const jobs = this.#cycleState.plan(seen, this.#scheduler.busyAccounts());
    const done = this.#scheduler.schedule(jobs);
    await this.#saveCheckpoint();
    this.#succeeded();
    const tag = seen.head.number;
    if (jobs.length > 0 || seen.rows.length > 0) {
      this.#log.debug(
        { block: tag, read: seen.rows.length, liquidatable: seen.accounts.length, jobs: jobs.length },
        "cycle",
      );
    }
    const results = waitForJobs ? [...(await Promise.all(adopted)).flat(), ...(await done).flat()] : [];
    return this.#report(started, {
      skipped: false,
      fromBlock: seen.sync.fromBlock,
      toBlock: seen.sync.toBlock,
      reorg: seen.sync.reorg,
      read: seen.rows.length,
      liquidatable: seen.accounts.length,
      bankrupt: seen.bankrupt,
      jobs: jobs.length,
      results,
    });
  }

  #report(
    started: number,
    part: Partial<CycleReport> & Pick<CycleReport, "skipped" | "fromBlock" | "toBlock">,
  ): CycleReport {
    return {
      block: this.#cycleState.lastHeadNumber,
      accounts: this.#indexer.accountCount,
      read: 0,
      liquidatable: this.#book.liquidatableCount(),
      bankrupt: 0,
      openCases: this.#cycleState.openCases,
      jobs: 0,
      results: [],
      ...part,
      durationMs: Date.now() - started,
    };
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
      confirmed: Object.fromEntries(this.#cycleState.confirmed),
      pending: this.#scheduler.unmined(),
    };
  }

  async #saveCheckpoint(): Promise<void> {
    if (this.#checkpoint === undefined || this.#init === undefined) return;
    await this.#checkpoint.save(() => this.#buildCheckpoint());
  }

  /** The head block of the last cycle (for tools and tests). */
  get head(): BlockHeader | undefined {
    return this.#cycleState.head;
  }
}
