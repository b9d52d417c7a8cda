import {
  Transaction,
  formatUnits,
  type Interface,
  type Provider,
  type Signer,
  type TransactionReceipt,
  type TransactionRequest,
} from "ethers";

import {
  COUNTERPARTY_ERRORS,
  RACE_ERRORS,
  decodeLayerLogs,
  decodeLossLogs,
  decodeRevert,
  describeError,
  findRevertData,
  isNonceAhead,
  isNonceError,
  isReplacementUnderpriced,
  MAX_UINT256,
  type DecodedRevert,
} from "#sdk";
import type { HeadReads } from "./head-reads.js";
import type { Logger } from "./logger.js";
import type { ActionKind, Metrics } from "./metrics.js";

/** One call the keeper may send to the clearing house. */
export interface Action {
  /** Stable identity for the checkpoint: kind, account, market and the episode or case it belongs to. */
  id: string;
  kind: ActionKind;
  account: string;
  marketId: number;
  counterparty?: string;
  size?: bigint;
  /**
   * Block of the lens read this step was planned on, when it is the first step of its job: while the head is still
   * that block, the chain state is the one read, and the read said what a simulation would (liquidatable). Once
   * the head has moved on, a batched read at the head stands for it instead ({@link HeadReads}).
   */
  readAt?: number;
  /** A liquidation of a bankrupt account (its gas is learned apart from solvent ones'). */
  bankrupt?: boolean;
}

/** A transaction sent and not yet known to be mined, as the checkpoint stores it. */
export interface PendingTx {
  id: string;
  kind: ActionKind;
  account: string;
  marketId: number;
  counterparty?: string;
  signer: string;
  nonce: number;
  to: string;
  data: string;
  gasLimit: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  /** Every hash sent for this nonce, the original first. */
  hashes: string[];
  sentBlock: number;
  /** When the action was first sent (ms since the epoch). */
  sentAt: number;
}

/**
 * `rejected`: the simulation ruled this call out without it being a race or a failure (an ineligible ADL
 * counterparty, or a step a previous step of the same job made unnecessary); nothing counted.
 * `pending`: the keeper stopped while the transaction was unmined; the checkpoint keeps it.
 */
export type ExecOutcome = "confirmed" | "lost_race" | "failed" | "dry_run" | "rejected" | "pending";

export interface ExecResult {
  action: Action;
  outcome: ExecOutcome;
  signer: string;
  error?: string;
  revert?: DecodedRevert;
  txHash?: string;
  block?: number;
  receipt?: TransactionReceipt;
  /** Mined and ran out of gas (not counted yet: the executor sends it once more with an estimate). */
  outOfGas?: boolean;
}

export interface ExecutorOptions {
  provider: Provider;
  /** The shared pool: signers for every market that is not isolated. */
  signers: readonly Signer[];
  /** Each isolated market's own signer, by market id: it signs for that market only (see {@link SignerSlot.market}). */
  isolatedSigners?: ReadonlyMap<number, Signer>;
  clearingHouse: string;
  /** The clearing house's interface first; others (the fund's, the layers') only to decode errors. */
  interfaces: readonly Interface[];
  /** The default layers the clearing house draws on, when the deployment has them: their events are logged too. */
  layers?: { address: string; iface: Interface };
  chainId: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  feeBumpBlocks: number;
  feeBumpPercent: number;
  /** Transactions one signer may have sent and not yet mined (jobs running on it at once). */
  maxInFlight: number;
  pollMs: number;
  dryRun: boolean;
  metrics: Metrics;
  logger: Logger;
  /**
   * Batched health reads at the head, standing for the simulation of a first step planned on an older read
   * (see {@link HeadReads}); without it such a step is simulated by its own `eth_call`.
   */
  headReads?: Pick<HeadReads, "liquidatable">;
  /** Called with the record before every broadcast and with `undefined` once it is settled. */
  onPending: (id: string, pending: PendingTx | undefined) => void;
}

export interface ExecOptions {
  signal?: AbortSignal;
  /** Errors that only mean "nothing left to do" for this step: `rejected`, not counted. */
  quiet?: ReadonlySet<string>;
}

/** Log messages of the waterfall events a keeper's transaction can emit. */
const LOSS_EVENT_MESSAGES: Record<string, string> = {
  Liquidated: "liquidated",
  InsuranceFundDrawn: "insurance fund drawn",
  DeleverageRequired: "deleverage case opened",
  Deleveraged: "ADL step",
  LossSocialized: "loss socialized",
  BadDebtResolved: "bad debt resolved",
  LayerDrawn: "default layer drawn",
  MemberAssessed: "member assessed",
  AssessmentUncollected: "assessment uncollected",
  DrawdownTriggered: "drawdown trigger cut the draw",
};

const DEFAULT_PRIORITY_FEE = 1_000_000_000n; // 1 gwei
const GAS_MARGIN_PERCENT = 25n;
/**
 * Margin on the estimate of a call whose gas depends on what other transactions in flight change before it is
 * mined: a bankrupt account's liquidation, an ADL step, a socialization. Between the estimate and the block, an
 * earlier transaction of the same block may empty the fund, so the call runs the loss policy, records a loss event
 * and writes its first claims (fresh slots) where the estimate saw the fund pay: +25% was measured short (362,828
 * used of 368,127 in the crash test). These calls are few, so a generous limit costs no block room worth having.
 */
const STATEFUL_GAS_MARGIN_PERCENT = 100n;
/**
 * Margin on the most gas a solvent liquidation of the market has used, for the next ones (not estimated). A block
 * builder reserves each transaction's limit: at +100% a 60M block held ~120 liquidations of ~250k whatever they
 * used, at +50% it holds ~160. Below +50% the keeper's crash test ran two liquidations out of gas (an account with
 * more markets to value than the ones seen so far).
 */
const LEARNED_GAS_MARGIN_PERCENT = 50n;

/** A signer and the isolated market it is dedicated to, if any. */
interface Lane {
  signer: Signer;
  market: number | undefined;
}

/** A signer of the pool with its locally tracked nonce. */
export interface SignerSlot {
  readonly signer: Signer;
  readonly address: string;
  /**
   * The isolated market this signer is dedicated to; `undefined` for the shared pool. A liquidation hands the
   * position to the liquidator and an account in an isolated market may hold no other (IsolatedMarketConflict):
   * the two never mix.
   */
  readonly market?: number;
  /** The next nonce to use; `undefined` until read from the chain (at first, and after a nonce error). */
  nonce: number | undefined;
  /** Jobs running on this signer; each has at most one transaction in flight. */
  jobs: number;
  /** Nonces sent and not yet settled: only the lowest can be stuck on its own fees, the others wait behind it. */
  readonly unmined: Set<number>;
  /** Nonce assignment and broadcast, one at a time and in nonce order (a node refuses a nonce gap when automining). */
  lane: Promise<unknown>;
}

/** EIP-1559: the base fee rises by at most 1/8 per full block. */
const BASE_FEE_RISE_NUM = 9n;
const BASE_FEE_RISE_DEN = 8n;
/** Blocks to look back through, one header each, for a pending transaction; older ones are asked for by hash. */
const SCAN_BLOCKS = 64;

interface Fees {
  base: bigint;
  block: number;
  blockGasLimit: bigint;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

function raise(value: bigint, percent: number): bigint {
  return (value * BigInt(100 + percent) + 99n) / 100n;
}

/**
 * Sends the keeper's transactions: a pool of signers with up to `maxInFlight` transactions in flight each,
 * nonces tracked locally (fetched once, then incremented, fetched again after a nonce error or a transaction
 * gone from the pool), EIP-1559 fees under the configured caps and raised on a replacement when the lowest
 * unmined nonce of a signer stays unmined for `feeBumpBlocks` blocks. Every call is simulated first
 * (`eth_estimateGas`; concurrent ones share JSON-RPC batches); reverts are decoded through the clearing house's
 * interface. Receipts are found from the headers of new blocks, shared by every transaction waiting.
 */
export class Executor {
  readonly slots: SignerSlot[];
  readonly #o: ExecutorOptions;
  readonly #log: Logger;

  private constructor(options: ExecutorOptions, signers: readonly Lane[], addresses: string[]) {
    this.#o = options;
    this.#log = options.logger.child({ module: "executor" });
    this.slots = signers.map(({ signer, market }, i) => ({
      signer,
      address: addresses[i],
      ...(market === undefined ? {} : { market }),
      nonce: undefined,
      jobs: 0,
      unmined: new Set<number>(),
      lane: Promise.resolve(),
    }));
  }

  /** The head, shared by every waiting transaction: one eth_blockNumber per poll interval, not one per transaction. */
  #head: { at: number; value: Promise<number> } | undefined;
  /** Transaction hashes of recent blocks, read once (one header each) for every transaction waiting. */
  readonly #blockTxs = new Map<number, Promise<Set<string>>>();
  /** Most gas a call of each kind (`kind:market`) has needed: its estimate, then its receipts. */
  readonly #gasSeen = new Map<string, Promise<bigint>>();
  /** Fees of the latest block, read at most once per poll interval. */
  #fees: { at: number; value: Promise<Fees> } | undefined;

  static async create(options: ExecutorOptions): Promise<Executor> {
    const signers: Lane[] = [
      ...options.signers.map((signer) => ({ signer, market: undefined })),
      ...[...(options.isolatedSigners ?? [])].map(([market, signer]) => ({ signer, market })),
    ];
    const addresses = await Promise.all(signers.map((s) => s.signer.getAddress()));
    if (new Set(addresses).size !== addresses.length) throw new Error("the same signer is given twice");
    return new Executor(options, signers, addresses);
  }

  /**
   * The signer with the fewest jobs, below `maxInFlight`, among the shared pool (`market` undefined) or the
   * isolated market's own signer, taken for one more; `undefined` when all of them are full (or there is none).
   */
  acquire(market?: number): SignerSlot | undefined {
    let best: SignerSlot | undefined;
    for (const s of this.slots)
      if (s.market === market && s.jobs < this.#o.maxInFlight && (best === undefined || s.jobs < best.jobs)) best = s;
    if (best !== undefined) best.jobs++;
    return best;
  }

  /** Takes one more job on this signer if it has room. */
  take(slot: SignerSlot): boolean {
    if (slot.jobs >= this.#o.maxInFlight) return false;
    slot.jobs++;
    return true;
  }

  release(slot: SignerSlot): void {
    if (slot.jobs > 0) slot.jobs--;
  }

  slotOf(address: string): SignerSlot | undefined {
    return this.slots.find((s) => s.address.toLowerCase() === address.toLowerCase());
  }

  encode(action: Action): string {
    const iface = this.#o.interfaces[0];
    switch (action.kind) {
      case "liquidate":
        return iface.encodeFunctionData("liquidate", [action.account, action.marketId, action.size ?? MAX_UINT256]);
      case "deleverage":
        return iface.encodeFunctionData("autoDeleverage", [
          action.account,
          action.marketId,
          action.counterparty,
          action.size ?? MAX_UINT256,
        ]);
      case "socialize":
        return iface.encodeFunctionData("socializeAfterTimeout", [action.account]);
    }
  }

  #count(action: Action, outcome: "sent" | "confirmed" | "lost_race" | "failed" | "dry_run"): void {
    this.#o.metrics.actions.inc({ kind: action.kind, outcome });
  }

  /** Classifies a revert; counts it unless it is `rejected`. */
  #reverted(action: Action, slot: SignerSlot, error: unknown, options: ExecOptions, sent: boolean): ExecResult {
    const revert = decodeRevert(error, this.#o.interfaces);
    const message = describeError(error, revert);
    const base = { action, signer: slot.address, error: message, revert };
    const log = { id: action.id, signer: slot.address, error: message, sent };
    if (revert !== undefined && !sent && options.quiet?.has(revert.name)) {
      this.#log.debug(log, "step no longer needed");
      return { ...base, outcome: "rejected" };
    }
    if (revert !== undefined && !sent && action.kind === "deleverage" && COUNTERPARTY_ERRORS.has(revert.name)) {
      this.#log.debug(log, "counterparty not eligible");
      return { ...base, outcome: "rejected" };
    }
    if (revert !== undefined && (RACE_ERRORS.has(revert.name) || COUNTERPARTY_ERRORS.has(revert.name))) {
      this.#log.info(log, "already done: another keeper won or the state moved on");
      this.#count(action, "lost_race");
      return { ...base, outcome: "lost_race" };
    }
    this.#log.error(log, "action failed");
    this.#count(action, "failed");
    return { ...base, outcome: "failed" };
  }

  /**
   * Simulates, then (unless dry-run) sends `action` from `slot` and waits until it is mined. The broadcast follows
   * the simulation without waiting for the signer's earlier transactions to be mined (their nonces are tracked
   * locally), so a signer has as many transactions in flight as jobs running on it.
   *
   * The first liquidation of a solvent account in a market is simulated by `eth_estimateGas`, which also sizes its
   * gas limit; the next ones by one `eth_call` each (or none, see {@link Action.readAt}), with a gas limit of the
   * most gas one has needed so far plus 50% (see LEARNED_GAS_MARGIN_PERCENT). A node's gas estimate runs the call
   * many times over (a binary search on the gas), which made simulation the bottleneck of a crash: one execution
   * each is what a hundred liquidations in a block can afford. One that runs out of that limit is estimated and sent once more. Everything else
   * (bankrupt accounts, ADL steps, socializations) is estimated each time, as before.
   */
  async execute(slot: SignerSlot, action: Action, options: ExecOptions = {}): Promise<ExecResult> {
    const request: TransactionRequest = { to: this.#o.clearingHouse, from: slot.address, data: this.encode(action) };
    // Only a solvent account's liquidation has a gas cost steady enough to learn (the contract closes what
    // restores maintenance); a bankrupt one's draws the fund, may open a case or charge a side, and ADL steps and
    // socializations are rare: those are estimated each time.
    const key = action.kind === "liquidate" && action.bankrupt !== true ? `liquidate:${action.marketId}` : undefined;
    for (let attempt = 0; ; attempt++) {
      let gasLimit: bigint;
      try {
        if (this.#o.dryRun) {
          await this.#o.provider.call({ ...request, blockTag: "latest" });
          this.#log.info({ id: action.id, signer: slot.address }, "dry run: simulation passed, not sent");
          this.#count(action, "dry_run");
          return { action, outcome: "dry_run", signer: slot.address };
        }
        gasLimit = await this.#gasFor(key, request, action, attempt > 0);
      } catch (error) {
        if (findRevertData(error) === undefined) throw error;
        return this.#reverted(action, slot, error, options, false);
      }
      const pending = await this.#sendNew(slot, action, request, gasLimit, options);
      if ("outcome" in pending) return pending;
      this.#count(action, "sent");
      this.#log.info({ id: action.id, signer: slot.address, nonce: pending.nonce, tx: pending.hashes[0] }, "sent");
      const result = await this.#settle(slot, pending, options);
      const used = result.receipt?.gasUsed;
      if (key !== undefined && used !== undefined && result.outcome === "confirmed") this.#learnGas(key, used);
      if (result.outOfGas === true && attempt === 0) {
        this.#log.warn(
          { id: action.id, gasLimit: gasLimit.toString() },
          "ran out of gas; estimating and sending again",
        );
        continue;
      }
      return this.#counted(action, result);
    }
  }

  /**
   * Simulates the call, unless the plan's read stands for its simulation, and returns its gas limit: the estimate
   * plus 100% for a call whose gas other transactions in flight can change (see STATEFUL_GAS_MARGIN_PERCENT); plus
   * 25% for the first of its kind (the lookup is synchronous, so concurrent ones wait for that estimate
   * instead of each making their own) or on a `retry`; else the most gas seen plus 50%, after one eth_call — or
   * none for the first step of a job planned on a lens read at the block that is still the head (read at most one
   * poll interval ago): at that state the call does what the read, batched with every other account's, said. A
   * first step planned on an older read goes on a read at the head instead, batched with the other first steps
   * starting at the same time ({@link HeadReads}), when that read says liquidatable and solvent.
   */
  async #gasFor(key: string | undefined, request: TransactionRequest, action: Action, retry: boolean): Promise<bigint> {
    const withMargin = (gas: bigint, margin = GAS_MARGIN_PERCENT): bigint => gas + (gas * margin) / 100n;
    const estimate = async (margin = GAS_MARGIN_PERCENT): Promise<bigint> =>
      withMargin(await this.#o.provider.estimateGas(request), margin);
    if (key === undefined) return estimate(STATEFUL_GAS_MARGIN_PERCENT);
    if (retry) return estimate();
    const known = this.#gasSeen.get(key);
    if (known === undefined) {
      const estimated = this.#o.provider.estimateGas(request);
      this.#gasSeen.set(key, estimated);
      // A revert says nothing about the gas: the next call of the kind estimates again.
      estimated.catch(() => this.#gasSeen.delete(key));
      return withMargin(await estimated);
    }
    // Another call's estimate that reverted is that call's business: this one estimates for itself.
    const seen = await known.catch(() => undefined);
    if (seen === undefined) return estimate();
    if (action.readAt !== undefined) {
      const head = await this.#headNumber();
      if (head === action.readAt) return withMargin(seen, LEARNED_GAS_MARGIN_PERCENT);
      // Planned on an older read: one lens read at the head, batched with the other first steps starting now.
      const fresh = await this.#o.headReads?.liquidatable(action.account, action.marketId, head);
      if (fresh === true) return withMargin(seen, LEARNED_GAS_MARGIN_PERCENT);
    }
    await this.#o.provider.call({ ...request, blockTag: "latest" });
    return withMargin(seen, LEARNED_GAS_MARGIN_PERCENT);
  }

  /** Keeps the most gas a mined call of this kind used (a bankrupt account's liquidation costs more). */
  #learnGas(key: string, used: bigint): void {
    const known = this.#gasSeen.get(key);
    this.#gasSeen.set(key, known === undefined ? Promise.resolve(used) : known.then((g) => (g > used ? g : used)));
  }

  /** A result no one sends again: out of gas counts as failed. */
  #counted(action: Action, result: ExecResult): ExecResult {
    if (result.outOfGas === true) this.#count(action, "failed");
    return result;
  }

  /** Runs `work` after the signer's earlier sends: nonces are assigned and broadcast in order. */
  #inLane<T>(slot: SignerSlot, work: () => Promise<T>): Promise<T> {
    const run = slot.lane.then(work);
    slot.lane = run.catch(() => undefined);
    return run;
  }

  /** Resumes a transaction a previous run left pending: waits for it (bumping fees if this signer is ours). */
  async adopt(pending: PendingTx, options: ExecOptions = {}): Promise<ExecResult> {
    const slot = this.slotOf(pending.signer);
    const action: Action = {
      id: pending.id,
      kind: pending.kind,
      account: pending.account,
      marketId: pending.marketId,
      counterparty: pending.counterparty,
    };
    if (slot === undefined) {
      const receipt = await this.#findReceipt(pending.hashes);
      this.#o.onPending(pending.id, undefined);
      if (receipt === null) {
        this.#log.warn(
          { id: pending.id, signer: pending.signer },
          "pending transaction of a signer not in use dropped",
        );
        return { action, outcome: "rejected", signer: pending.signer };
      }
      return this.#counted(action, await this.#fromReceipt(action, pending, receipt, pending.signer));
    }
    this.#log.info({ id: pending.id, signer: slot.address, nonce: pending.nonce }, "resuming a pending transaction");
    slot.unmined.add(pending.nonce);
    return this.#counted(action, await this.#settle(slot, pending, options));
  }

  /**
   * Base fee, number and gas limit of the latest block, read at most once per poll interval: with many sends in
   * a block, one header serves them all (the fee cap leaves room for the base fee to rise meanwhile).
   */
  #latestFees(): Promise<Fees> {
    const now = Date.now();
    if (this.#fees === undefined || now - this.#fees.at >= this.#o.pollMs) {
      const value = this.#o.provider.getBlock("latest").then((block) => {
        if (block === null) throw new Error("no latest block");
        return { base: block.baseFeePerGas ?? 0n, block: block.number, blockGasLimit: block.gasLimit };
      });
      this.#fees = { at: now, value };
      value.catch(() => (this.#fees = undefined));
    }
    return this.#fees.value;
  }

  /**
   * EIP-1559 fees for a transaction with `ahead` gas of the same signer queued before it: `2 × baseFee ×
   * (9/8)^k + priority`, k the full blocks that gas fills, under the caps. A transaction behind a long queue is
   * mined blocks later, when full blocks may have raised the base fee by 1/8 each; the cap only bounds what it
   * may pay (it pays base fee + priority), so the headroom costs nothing unless the base fee does rise.
   */
  async #feesFor(ahead: bigint): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint; block: number }> {
    const { base, block, blockGasLimit } = await this.#latestFees();
    let priority = DEFAULT_PRIORITY_FEE;
    if (this.#o.maxPriorityFeePerGas !== undefined && priority > this.#o.maxPriorityFeePerGas) {
      priority = this.#o.maxPriorityFeePerGas;
    }
    let headroom = base * 2n;
    const blocksAhead = blockGasLimit > 0n ? ahead / blockGasLimit : 0n;
    for (let k = 0n; k < blocksAhead && k < 64n; k++) headroom = (headroom * BASE_FEE_RISE_NUM) / BASE_FEE_RISE_DEN;
    let maxFee = headroom + priority;
    if (this.#o.maxFeePerGas !== undefined && maxFee > this.#o.maxFeePerGas) {
      maxFee = this.#o.maxFeePerGas;
      if (maxFee < base) this.#log.warn({ baseFee: base.toString(), cap: maxFee.toString() }, "fee cap below base fee");
    }
    if (priority > maxFee) priority = maxFee;
    return { maxFeePerGas: maxFee, maxPriorityFeePerGas: priority, block };
  }

  async #sign(slot: SignerSlot, p: PendingTx): Promise<string> {
    return slot.signer.signTransaction({
      type: 2,
      chainId: this.#o.chainId,
      to: p.to,
      data: p.data,
      nonce: p.nonce,
      gasLimit: BigInt(p.gasLimit),
      maxFeePerGas: BigInt(p.maxFeePerGas),
      maxPriorityFeePerGas: BigInt(p.maxPriorityFeePerGas),
      value: 0n,
    });
  }

  /**
   * Signs and broadcasts a new transaction with the signer's next nonce. The nonce is assigned, and the broadcast
   * issued, in the signer's lane, which moves on as soon as the request is on its way: the signer's next
   * transaction does not wait for this one's answer (concurrent broadcasts share JSON-RPC batches, in nonce
   * order). After a nonce error — the nonce was used (another process with the same key) or is ahead of the
   * chain's (a transaction of ours left the pool) — it reads the nonce from the chain and tries once more.
   * Returns an ExecResult instead when an automining node's execution reverts.
   */
  async #sendNew(
    slot: SignerSlot,
    action: Action,
    request: TransactionRequest,
    gasLimit: bigint,
    options: ExecOptions,
  ): Promise<PendingTx | ExecResult> {
    for (let attempt = 0; ; attempt++) {
      const { pending, sent } = await this.#inLane(slot, () => this.#issue(slot, action, request, gasLimit));
      try {
        await sent;
        return pending;
      } catch (error) {
        slot.unmined.delete(pending.nonce);
        this.#o.onPending(action.id, undefined);
        const nonceProblem = isNonceError(error) || isNonceAhead(error) || isReplacementUnderpriced(error);
        if (!nonceProblem) {
          // Automining nodes mine a reverting transaction and report the revert (or the inner out-of-gas, which has
          // no revert data) on the send: the nonce is used, and the receipt tells what happened.
          const receipt = await this.#findReceipt(pending.hashes);
          if (receipt !== null) {
            this.#count(action, "sent");
            return this.#fromReceipt(action, pending, receipt, slot.address);
          }
        }
        slot.nonce = undefined;
        if (findRevertData(error) !== undefined) return this.#reverted(action, slot, error, options, false);
        if (nonceProblem && attempt === 0) {
          this.#log.warn({ id: action.id, signer: slot.address, error: describeError(error) }, "nonce resync");
          continue;
        }
        throw error;
      }
    }
  }

  /** In the signer's lane: assigns the next nonce, signs, records and issues the broadcast (not awaited). */
  async #issue(
    slot: SignerSlot,
    action: Action,
    request: TransactionRequest,
    gasLimit: bigint,
  ): Promise<{ pending: PendingTx; sent: Promise<unknown> }> {
    if (slot.nonce === undefined) slot.nonce = await this.#o.provider.getTransactionCount(slot.address, "pending");
    const fees = await this.#feesFor(BigInt(slot.unmined.size) * gasLimit);
    const pending: PendingTx = {
      id: action.id,
      kind: action.kind,
      account: action.account,
      marketId: action.marketId,
      counterparty: action.counterparty,
      signer: slot.address,
      nonce: slot.nonce,
      to: this.#o.clearingHouse,
      data: request.data as string,
      gasLimit: gasLimit.toString(),
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      hashes: [],
      sentBlock: fees.block,
      sentAt: Date.now(),
    };
    const raw = await this.#sign(slot, pending);
    pending.hashes.push(Transaction.from(raw).hash as string);
    // Recorded before the broadcast: a crash in between must not lose track of a transaction the node has.
    this.#o.onPending(action.id, pending);
    const sent = this.#o.provider.broadcastTransaction(raw);
    // Handled by the caller; this only keeps an early rejection from counting as unhandled.
    sent.catch(() => undefined);
    slot.nonce = pending.nonce + 1;
    slot.unmined.add(pending.nonce);
    return { pending, sent };
  }

  async #findReceipt(hashes: readonly string[]): Promise<TransactionReceipt | null> {
    for (const hash of [...hashes].reverse()) {
      const receipt = await this.#o.provider.getTransactionReceipt(hash);
      if (receipt !== null) return receipt;
    }
    return null;
  }

  /** The head number, read at most once per poll interval for every caller. */
  #headNumber(): Promise<number> {
    const now = Date.now();
    if (this.#head === undefined || now - this.#head.at >= this.#o.pollMs) {
      const value = this.#o.provider.getBlockNumber();
      this.#head = { at: now, value };
      value.catch(() => (this.#head = undefined));
    }
    return this.#head.value;
  }

  /** Hashes of the transactions in block `n` (one header, shared by every waiting transaction). */
  #txsIn(n: number): Promise<Set<string>> {
    let txs = this.#blockTxs.get(n);
    if (txs === undefined) {
      txs = this.#o.provider.getBlock(n).then((b) => new Set((b?.transactions ?? []).map((h) => h.toLowerCase())));
      txs.catch(() => this.#blockTxs.delete(n));
      this.#blockTxs.set(n, txs);
      for (const k of this.#blockTxs.keys()) if (k < n - SCAN_BLOCKS) this.#blockTxs.delete(k);
    }
    return txs;
  }

  /** The receipt of whichever of `hashes` is in blocks `from`…`to`, or null; a long range is asked for by hash. */
  async #receiptIn(hashes: readonly string[], from: number, to: number): Promise<TransactionReceipt | null> {
    if (to < from) return null;
    if (to - from >= SCAN_BLOCKS) return this.#findReceipt(hashes);
    const blocks = await Promise.all(Array.from({ length: to - from + 1 }, (_, i) => this.#txsIn(from + i)));
    for (const hash of [...hashes].reverse()) {
      if (blocks.some((txs) => txs.has(hash.toLowerCase()))) return this.#o.provider.getTransactionReceipt(hash);
    }
    return null;
  }

  /**
   * Waits for one of the pending hashes to be mined, replacing the transaction when it is stuck: unmined for
   * `feeBumpBlocks` blocks while it is the lowest nonce of its signer still unmined (one behind it waits for it,
   * not for its own fees, and its clock starts when it reaches the head of the line).
   */
  async #settle(slot: SignerSlot, pending: PendingTx, options: ExecOptions): Promise<ExecResult> {
    const action: Action = {
      id: pending.id,
      kind: pending.kind,
      account: pending.account,
      marketId: pending.marketId,
      counterparty: pending.counterparty,
    };
    const done = (): void => {
      slot.unmined.delete(pending.nonce);
      this.#o.onPending(pending.id, undefined);
    };
    // A receipt can only appear with a new block: while the head stands still a poll costs one shared call.
    let scanned = pending.sentBlock;
    let since = pending.sentBlock;
    for (;;) {
      const head = await this.#headNumber();
      if (head > scanned) {
        const receipt = await this.#receiptIn(pending.hashes, scanned + 1, head);
        scanned = head;
        if (receipt !== null) {
          done();
          return this.#fromReceipt(action, pending, receipt, slot.address);
        }
      }
      if (pending.nonce !== Math.min(...slot.unmined)) since = Math.max(since, head);
      else if (head >= since + this.#o.feeBumpBlocks) {
        const mined = await this.#o.provider.getTransactionCount(slot.address, "latest");
        if (mined > pending.nonce) {
          // Our nonce is used; look once more in case the receipt just appeared, else someone else used it.
          const late = await this.#findReceipt(pending.hashes);
          done();
          if (late !== null) return this.#fromReceipt(action, pending, late, slot.address);
          slot.nonce = undefined;
          this.#log.warn({ id: pending.id, signer: slot.address, nonce: pending.nonce }, "nonce used by another tx");
          return { action, outcome: "rejected", signer: slot.address, error: "nonce used by another transaction" };
        }
        await this.#bump(slot, pending, head);
        since = head;
      }
      if (options.signal?.aborted) {
        slot.unmined.delete(pending.nonce);
        slot.nonce = undefined;
        this.#log.info({ id: pending.id, tx: pending.hashes.at(-1) }, "stopping with a transaction pending");
        return { action, outcome: "pending", signer: slot.address, txHash: pending.hashes.at(-1) };
      }
      await sleep(this.#o.pollMs, options.signal);
    }
  }

  /** Replaces the pending transaction with the same nonce and both fees raised by `feeBumpPercent`. */
  async #bump(slot: SignerSlot, pending: PendingTx, head: number): Promise<void> {
    const oldMax = BigInt(pending.maxFeePerGas);
    const oldPriority = BigInt(pending.maxPriorityFeePerGas);
    let maxFee = raise(oldMax, this.#o.feeBumpPercent);
    let priority = raise(oldPriority, this.#o.feeBumpPercent);
    if (this.#o.maxFeePerGas !== undefined && maxFee > this.#o.maxFeePerGas) maxFee = this.#o.maxFeePerGas;
    if (this.#o.maxPriorityFeePerGas !== undefined && priority > this.#o.maxPriorityFeePerGas) {
      priority = this.#o.maxPriorityFeePerGas;
    }
    if (priority > maxFee) priority = maxFee;
    pending.sentBlock = head;
    // Nodes accept a replacement only when both fees rise by at least 10%.
    if (maxFee * 10n < oldMax * 11n || priority * 10n < oldPriority * 11n) {
      this.#log.warn({ id: pending.id, maxFeePerGas: oldMax.toString() }, "stuck transaction at the fee cap");
      return;
    }
    const next: PendingTx = {
      ...pending,
      maxFeePerGas: maxFee.toString(),
      maxPriorityFeePerGas: priority.toString(),
    };
    const raw = await this.#sign(slot, next);
    const hash = Transaction.from(raw).hash as string;
    const replaced = { ...next, hashes: [...pending.hashes, hash] };
    this.#o.onPending(pending.id, replaced);
    try {
      await this.#o.provider.broadcastTransaction(raw);
      Object.assign(pending, replaced);
      this.#log.info(
        { id: pending.id, nonce: pending.nonce, tx: hash, maxFeePerGas: maxFee.toString() },
        "replaced a stuck transaction with higher fees",
      );
    } catch (error) {
      this.#o.onPending(pending.id, pending);
      if (findRevertData(error) !== undefined) {
        // Mined at once and reverted: the receipt check of the next round finds it.
        Object.assign(pending, replaced);
        return;
      }
      if (isNonceError(error) || isReplacementUnderpriced(error)) {
        this.#log.warn({ id: pending.id, error: describeError(error) }, "replacement refused");
        return;
      }
      throw error;
    }
  }

  /**
   * One line per waterfall event of a confirmed transaction, with the amounts the chain recorded (exact decimal
   * strings of the 18-decimal values): what a liquidation, an ADL step or a socialization did, not only that it
   * was mined.
   */
  #logLossEvents(action: Action, receipt: TransactionReceipt): void {
    for (const { event, args } of decodeLossLogs(this.#o.interfaces[0], this.#o.clearingHouse, receipt.logs)) {
      const fields: Record<string, string | boolean> = {};
      for (const [name, value] of Object.entries(args)) {
        if (typeof value === "boolean") fields[name] = value;
        else fields[name] = typeof value === "bigint" && name !== "marketId" ? formatUnits(value, 18) : String(value);
      }
      this.#log.info({ id: action.id, tx: receipt.hash, event, ...fields }, LOSS_EVENT_MESSAGES[event] ?? event);
    }
    const layers = this.#o.layers;
    if (layers === undefined) return;
    // The layers account in token units: their amounts are logged as the integers the events carry.
    for (const { event, args } of decodeLayerLogs(layers.iface, layers.address, receipt.logs)) {
      const fields = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, String(v)]));
      this.#log.info({ id: action.id, tx: receipt.hash, event, ...fields }, LOSS_EVENT_MESSAGES[event] ?? event);
    }
  }

  async #fromReceipt(
    action: Action,
    pending: PendingTx,
    receipt: TransactionReceipt,
    signer: string,
  ): Promise<ExecResult> {
    const base = { action, signer, txHash: receipt.hash, block: receipt.blockNumber, receipt };
    if (receipt.status === 1) {
      this.#count(action, "confirmed");
      this.#log.info({ id: action.id, tx: receipt.hash, block: receipt.blockNumber }, "confirmed");
      this.#logLossEvents(action, receipt);
      return { ...base, outcome: "confirmed" };
    }
    // Out of gas, the call's own or an inner call's (which gets 63/64 of what is left, EIP-150): the caller
    // estimates and sends it again, and counts it as failed only if that runs out too.
    if (receipt.gasUsed * 64n >= BigInt(pending.gasLimit) * 63n) {
      this.#log.warn({ id: action.id, tx: receipt.hash, gasLimit: pending.gasLimit }, "ran out of gas");
      return { ...base, outcome: "failed", error: "out of gas", outOfGas: true };
    }
    // Mined and reverted: replaying the call on the state after that block tells a lost race from a failure.
    try {
      await this.#o.provider.call({ to: pending.to, from: signer, data: pending.data, blockTag: receipt.blockNumber });
    } catch (error) {
      if (findRevertData(error) !== undefined) {
        const result = this.#reverted(action, this.slotOf(signer) ?? this.slots[0], error, {}, true);
        return { ...result, ...base, outcome: result.outcome };
      }
    }
    this.#count(action, "failed");
    this.#log.error({ id: action.id, tx: receipt.hash }, "transaction reverted");
    return { ...base, outcome: "failed", error: "reverted on chain" };
  }
}
