import { describeError } from "#sdk";
import type { ExecResult, PendingTx, SignerSlot } from "./executor.js";
import type { Logger } from "./logger.js";
import type { Job } from "./strategy.js";

/** The signer pool the scheduler hands out (the executor's). */
export interface SignerPool {
  /**
   * A signer with room for one more job, taken for it: of the shared pool, or the isolated `market`'s own;
   * `undefined` when every such signer is full.
   */
  acquire(market?: number): SignerSlot | undefined;
  /** Takes one more job on this signer if it has room. */
  take(slot: SignerSlot): boolean;
  release(slot: SignerSlot): void;
  slotOf(address: string): SignerSlot | undefined;
}

export interface SchedulerDeps {
  logger: Logger;
  /** Runs one job on one signer, step after step. */
  run(slot: SignerSlot, job: Job): Promise<ExecResult[]>;
  /** The isolated market a job acts in, whose own signer must run it; `undefined` for the shared pool. */
  lane?(job: Job): number | undefined;
  /** Waits again for a transaction sent before a restart or an interrupted job. */
  adopt(pending: PendingTx): Promise<ExecResult>;
  /** Told of every result once its job is over (the cycle's bookkeeping). */
  onResult(result: ExecResult): void;
}

interface QueuedJob {
  job: Job;
  resolve: (results: ExecResult[]) => void;
}

/**
 * Who does what, when: the queue of planned jobs waiting for a signer, the accounts being handled, the jobs in
 * flight, and the transactions sent but not yet mined (`pending`, and `orphans` whose wait an error or a restart
 * interrupted). One job per account at a time, one ADL job per market at a time, as many jobs per signer as
 * the pool allows (each has at most one transaction in flight). Knows nothing of the chain
 * beyond the results its jobs return.
 */
export class Scheduler {
  readonly #d: SchedulerDeps;
  readonly #log: Logger;
  #pool: SignerPool | undefined;
  #stopping = false;
  #queue: QueuedJob[] = [];
  readonly #pending = new Map<string, PendingTx>();
  /** Pending transactions whose wait was interrupted by an error: adopted again when their signer is free. */
  readonly #orphans = new Map<string, PendingTx>();
  readonly #busy = new Set<string>();
  readonly #adlMarkets = new Set<number>();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(deps: SchedulerDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ module: "keeper" });
  }

  /** The signers to run jobs on; nothing starts before. */
  attach(pool: SignerPool): void {
    this.#pool = pool;
  }

  /** Transactions of a checkpoint, waited for again once their signer is free. */
  restorePending(pending: Record<string, PendingTx>): void {
    for (const [id, p] of Object.entries(pending)) this.#orphans.set(id, p);
  }

  /** The executor's report of a transaction sent (`pending`) or settled (`undefined`). */
  onPending(id: string, pending: PendingTx | undefined): void {
    if (pending === undefined) this.#pending.delete(id);
    else this.#pending.set(id, pending);
  }

  /** Every transaction sent and not known to be mined, for the checkpoint. */
  unmined(): Record<string, PendingTx> {
    return Object.fromEntries([...this.#orphans, ...this.#pending]);
  }

  /** Queued jobs or orphaned transactions: work to do even when no new block came. */
  get hasWork(): boolean {
    return this.#queue.length > 0 || this.#orphans.size > 0;
  }

  /** Accounts a job runs for. */
  get inFlight(): number {
    return this.#busy.size;
  }

  /** Accounts not to plan for: a job runs for them, or a transaction of theirs waits to be adopted. */
  busyAccounts(): Set<string> {
    const busy = new Set(this.#busy);
    for (const pending of this.#orphans.values()) busy.add(pending.account);
    return busy;
  }

  /** Accounts whose job waits in the queue for room on a signer. */
  queuedAccounts(): Set<string> {
    return new Set(this.#queue.map((q) => q.job.account));
  }

  /** Replaces the jobs still waiting for a signer with this cycle's plan; resolves when all of them ran. */
  schedule(jobs: Job[]): Promise<ExecResult[][]> {
    this.dropQueue();
    const promises = jobs.map((job) => new Promise<ExecResult[]>((resolve) => this.#queue.push({ job, resolve })));
    this.#pump();
    return Promise.all(promises);
  }

  /** Forgets the queued jobs (each resolves with no result). */
  dropQueue(): void {
    for (const q of this.#queue) q.resolve([]);
    this.#queue = [];
  }

  /** Starts nothing more: drops the queue, and any job planned later. */
  halt(): void {
    this.#stopping = true;
    this.dropQueue();
  }

  /** Waits for the jobs in flight (each stops at its next step once its signal is aborted). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  /** Resumes waiting for transactions sent before a restart or an interrupted job, on their own signers. */
  adoptOrphans(): Promise<ExecResult[]>[] {
    const pool = this.#pool;
    if (pool === undefined || this.#stopping) return [];
    const adopted: Promise<ExecResult[]>[] = [];
    for (const [id, pending] of [...this.#orphans]) {
      const slot = pool.slotOf(pending.signer);
      if (this.#busy.has(pending.account) || (slot !== undefined && !pool.take(slot))) continue;
      this.#orphans.delete(id);
      this.#pending.set(id, pending);
      adopted.push(
        new Promise((resolve) =>
          this.#track(slot, pending.account, async () => [await this.#d.adopt(pending)], resolve),
        ),
      );
    }
    return adopted;
  }

  /**
   * Starts queued jobs on free signers, most urgent first. One ADL job per market at a time: two cases in the
   * same market would otherwise pick the same top counterparty and one of them would lose the race to the other.
   */
  #pump(): void {
    const pool = this.#pool;
    if (pool === undefined) return;
    if (this.#stopping) {
      this.dropQueue();
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
      // A full lane (the shared pool, or an isolated market's signer) holds back its own jobs only.
      const slot = pool.acquire(this.#d.lane?.(next.job));
      if (slot === undefined) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      if (market !== undefined) this.#adlMarkets.add(market);
      const release = (results: ExecResult[]): void => {
        if (market !== undefined) this.#adlMarkets.delete(market);
        next.resolve(results);
      };
      this.#track(slot, next.job.account, () => this.#d.run(slot, next.job), release);
    }
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
          // Its transaction may still be mined: wait for it again later rather than send another. Other jobs on
          // the same signer keep theirs.
          for (const [id, p] of this.#pending) {
            if (p.signer !== slot.address || p.account !== account) continue;
            this.#pending.delete(id);
            this.#orphans.set(id, p);
          }
          slot.nonce = undefined;
        }
      } finally {
        for (const r of results) this.#d.onResult(r);
        this.#busy.delete(account);
        if (slot !== undefined) this.#pool?.release(slot);
        resolve(results);
      }
    })();
    this.#inFlight.add(run);
    void run.finally(() => {
      this.#inFlight.delete(run);
      this.#pump();
    });
  }
}
