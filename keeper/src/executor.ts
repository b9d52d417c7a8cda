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
  isNonceError,
  isReplacementUnderpriced,
  MAX_UINT256,
  type DecodedRevert,
} from "#sdk";
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
}

export interface ExecutorOptions {
  provider: Provider;
  signers: readonly Signer[];
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
  pollMs: number;
  dryRun: boolean;
  metrics: Metrics;
  logger: Logger;
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

/** A signer of the pool with its locally tracked nonce. */
export interface SignerSlot {
  readonly signer: Signer;
  readonly address: string;
  nonce: number | undefined;
  busy: boolean;
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
 * Sends the keeper's transactions: a pool of signers with one transaction in flight each, nonces tracked
 * locally (fetched once, then incremented, fetched again after a nonce error), EIP-1559 fees under the
 * configured caps and raised on a replacement when a transaction stays unmined for `feeBumpBlocks` blocks.
 * Every call is simulated (`eth_call`) first; reverts are decoded through the clearing house's interface.
 */
export class Executor {
  readonly slots: SignerSlot[];
  readonly #o: ExecutorOptions;
  readonly #log: Logger;

  private constructor(options: ExecutorOptions, addresses: string[]) {
    this.#o = options;
    this.#log = options.logger.child({ module: "executor" });
    this.slots = options.signers.map((signer, i) => ({ signer, address: addresses[i], nonce: undefined, busy: false }));
  }

  static async create(options: ExecutorOptions): Promise<Executor> {
    const addresses = await Promise.all(options.signers.map((s) => s.getAddress()));
    if (new Set(addresses).size !== addresses.length) throw new Error("the same signer is given twice");
    return new Executor(options, addresses);
  }

  /** A free signer, marked busy; `undefined` when all are busy. */
  acquire(): SignerSlot | undefined {
    const slot = this.slots.find((s) => !s.busy);
    if (slot !== undefined) slot.busy = true;
    return slot;
  }

  release(slot: SignerSlot): void {
    slot.busy = false;
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
   * Simulates, then (unless dry-run) sends `action` from `slot` and waits until it is mined. The gas estimate
   * comes first and the `eth_call` last, right before the broadcast, so that the window in which another
   * keeper's transaction can land between the simulation and ours is one round trip.
   */
  async execute(slot: SignerSlot, action: Action, options: ExecOptions = {}): Promise<ExecResult> {
    const request: TransactionRequest = { to: this.#o.clearingHouse, from: slot.address, data: this.encode(action) };
    let gas: bigint;
    try {
      if (this.#o.dryRun) {
        await this.#o.provider.call({ ...request, blockTag: "latest" });
        this.#log.info({ id: action.id, signer: slot.address }, "dry run: simulation passed, not sent");
        this.#count(action, "dry_run");
        return { action, outcome: "dry_run", signer: slot.address };
      }
      gas = await this.#o.provider.estimateGas(request);
    } catch (error) {
      if (findRevertData(error) === undefined) throw error;
      return this.#reverted(action, slot, error, options, false);
    }
    const gasLimit = gas + (gas * GAS_MARGIN_PERCENT) / 100n;
    const pending = await this.#sendNew(slot, action, request, gasLimit, options);
    if ("outcome" in pending) return pending;
    this.#count(action, "sent");
    this.#log.info({ id: action.id, signer: slot.address, nonce: pending.nonce, tx: pending.hashes[0] }, "sent");
    return this.#settle(slot, pending, options);
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
      return this.#fromReceipt(action, pending, receipt, pending.signer);
    }
    this.#log.info({ id: pending.id, signer: slot.address, nonce: pending.nonce }, "resuming a pending transaction");
    return this.#settle(slot, pending, options);
  }

  async #fees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint; block: number }> {
    const block = await this.#o.provider.getBlock("latest");
    if (block === null) throw new Error("no latest block");
    const base = block.baseFeePerGas ?? 0n;
    let priority = DEFAULT_PRIORITY_FEE;
    if (this.#o.maxPriorityFeePerGas !== undefined && priority > this.#o.maxPriorityFeePerGas) {
      priority = this.#o.maxPriorityFeePerGas;
    }
    let maxFee = base * 2n + priority;
    if (this.#o.maxFeePerGas !== undefined && maxFee > this.#o.maxFeePerGas) {
      maxFee = this.#o.maxFeePerGas;
      if (maxFee < base) this.#log.warn({ baseFee: base.toString(), cap: maxFee.toString() }, "fee cap below base fee");
    }
    if (priority > maxFee) priority = maxFee;
    return { maxFeePerGas: maxFee, maxPriorityFeePerGas: priority, block: block.number };
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
   * Signs, simulates and broadcasts a new transaction; retries once with a fresh nonce after a nonce error.
   * Returns an ExecResult instead when the simulation or an automining node's execution reverts.
   */
  async #sendNew(
    slot: SignerSlot,
    action: Action,
    request: TransactionRequest,
    gasLimit: bigint,
    options: ExecOptions,
  ): Promise<PendingTx | ExecResult> {
    for (let attempt = 0; ; attempt++) {
      if (slot.nonce === undefined) slot.nonce = await this.#o.provider.getTransactionCount(slot.address, "pending");
      const fees = await this.#fees();
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
      try {
        await this.#o.provider.call({ ...request, blockTag: "latest" });
      } catch (error) {
        if (findRevertData(error) === undefined) throw error;
        return this.#reverted(action, slot, error, options, false);
      }
      // Recorded before the broadcast: a crash in between must not lose track of a transaction the node has.
      this.#o.onPending(action.id, pending);
      try {
        await this.#o.provider.broadcastTransaction(raw);
        slot.nonce = pending.nonce + 1;
        return pending;
      } catch (error) {
        slot.nonce = undefined;
        if (findRevertData(error) !== undefined) {
          // Automining nodes mine a reverting transaction and report the revert on the send.
          const receipt = await this.#findReceipt(pending.hashes);
          this.#o.onPending(action.id, undefined);
          if (receipt !== null) this.#count(action, "sent");
          return this.#reverted(action, slot, error, options, receipt !== null);
        }
        this.#o.onPending(action.id, undefined);
        if ((isNonceError(error) || isReplacementUnderpriced(error)) && attempt === 0) {
          this.#log.warn({ id: action.id, signer: slot.address, error: describeError(error) }, "nonce resync");
          continue;
        }
        throw error;
      }
    }
  }

  async #findReceipt(hashes: readonly string[]): Promise<TransactionReceipt | null> {
    for (const hash of [...hashes].reverse()) {
      const receipt = await this.#o.provider.getTransactionReceipt(hash);
      if (receipt !== null) return receipt;
    }
    return null;
  }

  /** Waits for one of the pending hashes to be mined, replacing the transaction when it is stuck. */
  async #settle(slot: SignerSlot, pending: PendingTx, options: ExecOptions): Promise<ExecResult> {
    const action: Action = {
      id: pending.id,
      kind: pending.kind,
      account: pending.account,
      marketId: pending.marketId,
      counterparty: pending.counterparty,
    };
    // A receipt can only appear with a new block: while the head stands still a poll costs one call, not two.
    let checkedAt: number | undefined;
    for (;;) {
      const head = await this.#o.provider.getBlockNumber();
      if (head !== checkedAt) {
        checkedAt = head;
        const receipt = await this.#findReceipt(pending.hashes);
        if (receipt !== null) {
          this.#o.onPending(pending.id, undefined);
          return this.#fromReceipt(action, pending, receipt, slot.address);
        }
      }
      if (head >= pending.sentBlock + this.#o.feeBumpBlocks) {
        const mined = await this.#o.provider.getTransactionCount(slot.address, "latest");
        if (mined > pending.nonce) {
          // Our nonce is used; look once more in case the receipt just appeared, else someone else used it.
          const late = await this.#findReceipt(pending.hashes);
          this.#o.onPending(pending.id, undefined);
          slot.nonce = undefined;
          if (late !== null) return this.#fromReceipt(action, pending, late, slot.address);
          this.#log.warn({ id: pending.id, signer: slot.address, nonce: pending.nonce }, "nonce used by another tx");
          return { action, outcome: "rejected", signer: slot.address, error: "nonce used by another transaction" };
        }
        await this.#bump(slot, pending, head);
      }
      if (options.signal?.aborted) {
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
