import {
  getAddress,
  getBytes,
  keccak256,
  type Block,
  type EventFragment,
  type Interface,
  type JsonRpcApiProvider,
  type Log,
  type Provider,
} from "ethers";

import type { Logger } from "pino";

import type { TrackedPosition } from "./math/position.js";

/** The head block as the keeper uses it: number and hash pin reads, timestamp drives the ADL timeout. */
export interface BlockHeader {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: bigint;
  baseFeePerGas: bigint | null;
  /**
   * The block's 2048-bit logs bloom (hex), when read raw ({@link latestHeader}): a block whose bloom lacks an
   * address holds no log of it, so a sync by one block needs no eth_getLogs then.
   */
  logsBloom?: string;
}

/** What one sync found: the range read and who it touched. */
export interface SyncResult {
  head: BlockHeader;
  fromBlock: number;
  toBlock: number;
  /** Accounts whose state an event may have changed. */
  touched: Set<string>;
  /** Accounts seen for the first time. */
  discovered: Set<string>;
  /** A side of a market charged a socialized loss: every position on it lost equity. */
  socialized: { marketId: number; longSide: boolean }[];
  /** Markets listed or re-parameterized. */
  marketsChanged: Set<number>;
  timeoutChanged: boolean;
  /** Blocks undone by a reorganisation (fork point + 1 … old last block). */
  reorg?: { fromBlock: number; toBlock: number };
}

/** The indexer's state, as the checkpoint stores it. */
export interface IndexerState {
  lastBlock: number;
  hashes: [number, string][];
  accounts: string[];
  /** account → [marketId, size, openNotional, block of the event][] */
  positions: Record<string, [number, string, string, number][]>;
  openCases: string[];
}

interface PositionEntry {
  size: bigint;
  openNotional: bigint;
  block: number;
}

export interface IndexerProgress {
  accountsTracked: number;
  /** Head block minus the last block read; absent when no head was read (a restore). */
  blockLag?: number;
}

export interface IndexerOptions {
  provider: Provider;
  clearingHouse: string;
  iface: Interface;
  /** Warnings (a reorganisation read again) go here; none when absent. */
  logger?: Logger;
  /** Told the accounts known and the blocks left to read after each step (the keeper's gauges). */
  onProgress?: (progress: IndexerProgress) => void;
  startBlock: number;
  logChunk: number;
  reorgDepth: number;
  /**
   * Whether the log from `startBlock` holds every position change (the backfill starts at the deployment).
   * If not, positions of newly seen accounts are unknown until read through the lens.
   */
  completeHistory: boolean;
}

const EVENTS = [
  "Deposited",
  "Withdrawn",
  "PositionChanged",
  "FundingSettled",
  "SocialLossSettled",
  "Liquidated",
  "InsuranceFundDrawn",
  "DeleverageRequired",
  "Deleveraged",
  "BadDebtResolved",
  "LossSocialized",
  "MarketListed",
  "MarketParamsUpdated",
  "DeleverageTimeoutUpdated",
] as const;

/** Every message an ethers error carries, its nested JSON-RPC error's included. */
function errorText(error: unknown, depth = 0): string {
  if (depth > 4 || typeof error !== "object" || error === null) return "";
  const e = error as Record<string, unknown>;
  const own = ["message", "shortMessage"]
    .map((k) => {
      const v = e[k];
      return typeof v === "string" ? v : "";
    })
    .join(" ");
  const code = typeof e.code === "number" ? ` ${e.code}` : "";
  return `${own}${code} ${errorText(e.error, depth + 1)} ${errorText(e.info, depth + 1)}`;
}

/**
 * A provider's refusal of an eth_getLogs range or result count (Alchemy, Infura, QuickNode and public nodes word
 * it differently; -32005 is the "limit exceeded" code of EIP-1474): worth retrying over a smaller range.
 */
export function isLogRangeError(error: unknown): boolean {
  const text = errorText(error).toLowerCase();
  return (
    / -32005\b/.test(text) ||
    /block range|range (is )?too (large|wide|big)|too many (results|logs|blocks)|more than \d+ (results|logs)|limit exceeded|exceeds? (the )?(max|limit)|response size|query timeout/.test(
      text,
    )
  );
}

/** Converts an ethers block into the header fields the keeper needs. */
export function toHeader(block: Block): BlockHeader {
  if (block.hash === null) throw new Error(`block ${block.number} has no hash (pending?)`);
  return {
    number: block.number,
    hash: block.hash,
    parentHash: block.parentHash,
    timestamp: BigInt(block.timestamp),
    baseFeePerGas: block.baseFeePerGas,
  };
}

/** The fields of eth_getBlockByNumber's answer that a header needs. */
interface RpcBlock {
  number: string;
  hash: string | null;
  parentHash: string;
  timestamp: string;
  baseFeePerGas?: string | null;
  logsBloom?: string;
}

/**
 * The latest block's header, logs bloom included, in one eth_getBlockByNumber (ethers' Block leaves the bloom
 * out).
 */
export async function latestHeader(provider: JsonRpcApiProvider): Promise<BlockHeader> {
  const raw = (await provider.send("eth_getBlockByNumber", ["latest", false])) as RpcBlock | null;
  if (raw === null) throw new Error("no latest block");
  if (raw.hash === null) throw new Error(`block ${raw.number} has no hash (pending?)`);
  return {
    number: Number(BigInt(raw.number)),
    hash: raw.hash,
    parentHash: raw.parentHash,
    timestamp: BigInt(raw.timestamp),
    baseFeePerGas: raw.baseFeePerGas === undefined || raw.baseFeePerGas === null ? null : BigInt(raw.baseFeePerGas),
    logsBloom: raw.logsBloom,
  };
}

/**
 * Whether a logs bloom may hold a log of `address` (yellow paper §4.3.1: three bits, each from a pair of bytes of
 * keccak256(address), mod 2048). False means certainly none; true may be a false positive.
 */
export function bloomMayContain(bloom: string, address: string): boolean {
  const bits = getBytes(bloom);
  if (bits.length !== 256) return true;
  const hash = getBytes(keccak256(getAddress(address)));
  for (let i = 0; i < 6; i += 2) {
    const bit = ((hash[i] << 8) | hash[i + 1]) & 2047;
    // Bit 0 is the lowest bit of the last byte.
    if ((bits[255 - (bit >> 3)] & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

/**
 * Discovers accounts from the clearing house's events and follows the chain head: a backfill in chunks of
 * `logChunk` blocks, then each new range. Keeps the hashes of the last `reorgDepth` blocks; when the chain no
 * longer agrees with them it rewinds to the fork point and reads again. From PositionChanged it also keeps
 * every account's positions (the events carry absolute size and cost basis), so that prices alone tell which
 * accounts to re-read.
 */
export class Indexer {
  readonly #o: IndexerOptions;
  readonly #log: Logger | undefined;
  readonly #topics: string[];
  /** topic0 → event: Interface.parseLog hashes every event signature again for each log it parses. */
  readonly #events = new Map<string, EventFragment>();
  #lastBlock: number;
  /** Blocks per eth_getLogs: `logChunk`, halved whenever the provider refuses a range. */
  #chunk: number;
  readonly #hashes = new Map<number, string>();
  readonly #accounts = new Set<string>();
  readonly #positions = new Map<string, Map<number, PositionEntry>>();
  readonly #unknown = new Set<string>();
  readonly #openCases = new Set<string>();

  constructor(options: IndexerOptions) {
    this.#o = options;
    this.#log = options.logger?.child({ module: "indexer" });
    this.#topics = EVENTS.map((name) => {
      const event = options.iface.getEvent(name);
      if (event === null) throw new Error(`clearing-house ABI lacks event ${name}`);
      this.#events.set(event.topicHash, event);
      return event.topicHash;
    });
    this.#lastBlock = options.startBlock - 1;
    this.#chunk = options.logChunk;
  }

  get lastBlock(): number {
    return this.#lastBlock;
  }

  get accounts(): readonly string[] {
    return [...this.#accounts];
  }

  get accountCount(): number {
    return this.#accounts.size;
  }

  /** Accounts with an open deleverage case, as the events tell it. */
  get openCases(): readonly string[] {
    return [...this.#openCases];
  }

  /** Open positions of an account, or `undefined` when the log cannot tell them. */
  positionsOf(account: string): TrackedPosition[] | undefined {
    if (this.#unknown.has(account)) return undefined;
    const entries = this.#positions.get(account);
    if (entries === undefined) return [];
    return [...entries].map(([marketId, p]) => ({ marketId, size: p.size, openNotional: p.openNotional }));
  }

  /** Accounts whose positions must be read through the lens. */
  get unknownPositions(): readonly string[] {
    return [...this.#unknown];
  }

  /** Positions read through the lens at `block`; later events keep them current. */
  setPositions(account: string, positions: readonly TrackedPosition[], block: number): void {
    this.#unknown.delete(account);
    const entries = new Map<number, PositionEntry>();
    for (const p of positions) {
      if (p.size !== 0n) entries.set(p.marketId, { size: p.size, openNotional: p.openNotional, block });
    }
    this.#positions.set(account, entries);
  }

  markUnknown(account: string): void {
    this.#unknown.add(account);
  }

  /** A read showed the account's case closed (events in an undone block can leave a stale entry). */
  forgetCase(account: string): void {
    this.#openCases.delete(account);
  }

  /** Accounts holding a position on one side of a market: the candidates of an ADL. */
  accountsOnSide(marketId: number, long: boolean): string[] {
    const out: string[] = [];
    for (const [account, entries] of this.#positions) {
      const p = entries.get(marketId);
      if (p !== undefined && p.size > 0n === long && p.size !== 0n) out.push(account);
    }
    return out;
  }

  /** Accounts with a position in a market (size known from the log). */
  accountsInMarket(marketId: number, longSide?: boolean): string[] {
    const out: string[] = [];
    for (const [account, entries] of this.#positions) {
      const p = entries.get(marketId);
      if (p === undefined) continue;
      if (longSide === undefined || p.size > 0n === longSide) out.push(account);
    }
    return out;
  }

  exportState(): IndexerState {
    const positions: IndexerState["positions"] = {};
    for (const [account, entries] of this.#positions) {
      if (this.#unknown.has(account)) continue;
      positions[account] = [...entries].map(([m, p]) => [m, p.size.toString(), p.openNotional.toString(), p.block]);
    }
    return {
      lastBlock: this.#lastBlock,
      hashes: [...this.#hashes],
      accounts: [...this.#accounts],
      positions,
      openCases: [...this.#openCases],
    };
  }

  /**
   * Resumes from a checkpoint `reorgDepth` blocks before its last block, so that a reorganisation while the
   * keeper was down is read again; positions last changed in those blocks are re-read through the lens.
   */
  restore(state: IndexerState): void {
    const resumeFrom = Math.max(this.#o.startBlock - 1, state.lastBlock - this.#o.reorgDepth);
    this.#lastBlock = resumeFrom;
    this.#hashes.clear();
    for (const [n, hash] of state.hashes) if (n <= resumeFrom) this.#hashes.set(n, hash);
    for (const account of state.accounts) this.#accounts.add(account);
    for (const account of state.openCases) this.#openCases.add(account);
    for (const [account, rows] of Object.entries(state.positions)) {
      const entries = new Map<number, PositionEntry>();
      let recent = false;
      for (const [m, size, openNotional, block] of rows) {
        entries.set(m, { size: BigInt(size), openNotional: BigInt(openNotional), block });
        if (block > resumeFrom) recent = true;
      }
      this.#positions.set(account, entries);
      if (recent) this.#unknown.add(account);
    }
    for (const account of state.accounts) if (!(account in state.positions)) this.#unknown.add(account);
    this.#o.onProgress?.({ accountsTracked: this.#accounts.size });
  }

  /** Reads every event up to `head` (after undoing a reorganisation if the chain changed under us). */
  async sync(head: BlockHeader): Promise<SyncResult> {
    const result: SyncResult = {
      head,
      fromBlock: this.#lastBlock + 1,
      toBlock: this.#lastBlock,
      touched: new Set(),
      discovered: new Set(),
      socialized: [],
      marketsChanged: new Set(),
      timeoutChanged: false,
    };
    await this.#checkReorg(head, result);
    result.fromBlock = this.#lastBlock + 1;
    // One new block whose bloom rules out the clearing house: it holds none of its logs (a quiet block costs no
    // eth_getLogs).
    if (
      head.number === this.#lastBlock + 1 &&
      head.logsBloom !== undefined &&
      !bloomMayContain(head.logsBloom, this.#o.clearingHouse)
    ) {
      this.#lastBlock = head.number;
      result.toBlock = head.number;
    }
    while (this.#lastBlock < head.number) {
      const from = this.#lastBlock + 1;
      const to = Math.min(head.number, from + this.#chunk - 1);
      let logs: Log[];
      try {
        logs = await this.#o.provider.getLogs({
          address: this.#o.clearingHouse,
          topics: [this.#topics],
          fromBlock: from,
          toBlock: to,
        });
      } catch (error) {
        if (!isLogRangeError(error) || to === from) throw error;
        // The provider caps the range or the results: halve the span and keep it for the next reads.
        this.#chunk = Math.max(1, Math.floor((to - from + 1) / 2));
        this.#log?.warn({ fromBlock: from, toBlock: to, chunk: this.#chunk }, "eth_getLogs range refused; splitting");
        continue;
      }
      if (to === head.number && logs.some((l) => l.blockNumber === head.number && l.blockHash !== head.hash)) {
        // The head was replaced between reading it and its logs: stop before it and look again next cycle.
        throw new Error(`block ${head.number} changed while reading its logs`);
      }
      for (const log of logs) this.#apply(log, result);
      for (const log of logs) {
        if (log.blockNumber > head.number - this.#o.reorgDepth) this.#hashes.set(log.blockNumber, log.blockHash);
      }
      this.#lastBlock = to;
      result.toBlock = to;
      this.#o.onProgress?.({ accountsTracked: this.#accounts.size, blockLag: head.number - to });
    }
    this.#hashes.set(head.number, head.hash);
    for (const n of this.#hashes.keys()) if (n < head.number - this.#o.reorgDepth) this.#hashes.delete(n);
    this.#o.onProgress?.({ accountsTracked: this.#accounts.size, blockLag: head.number - this.#lastBlock });
    return result;
  }

  async #checkReorg(head: BlockHeader, result: SyncResult): Promise<void> {
    const last = this.#lastBlock;
    const known = this.#hashes.get(last);
    if (known === undefined && head.number >= last) return;
    let agrees: boolean;
    if (known === undefined) agrees = false;
    else if (head.number === last + 1) agrees = head.parentHash === known;
    else if (head.number === last) agrees = head.hash === known;
    else if (head.number > last) agrees = (await this.#hashAt(last)) === known;
    else agrees = false;
    if (agrees) return;

    // Walk back through the hashes we kept until the chain agrees with one of them.
    let fork = Math.max(this.#o.startBlock - 1, Math.min(head.number, last) - this.#o.reorgDepth - 1);
    const kept = [...this.#hashes.keys()].filter((n) => n < last && n <= head.number).sort((a, b) => b - a);
    for (const n of kept) {
      if ((await this.#hashAt(n)) === this.#hashes.get(n)) {
        fork = n;
        break;
      }
    }
    this.#rewind(fork, result);
    result.reorg = { fromBlock: fork + 1, toBlock: last };
    this.#log?.warn({ forkBlock: fork, undoneTo: last, head: head.number }, "chain reorganisation: reading again");
  }

  async #hashAt(n: number): Promise<string | null> {
    const block = await this.#o.provider.getBlock(n);
    return block?.hash ?? null;
  }

  #rewind(fork: number, result: SyncResult): void {
    this.#lastBlock = fork;
    for (const n of [...this.#hashes.keys()]) if (n > fork) this.#hashes.delete(n);
    for (const [account, entries] of this.#positions) {
      for (const p of entries.values()) {
        if (p.block > fork) {
          this.#unknown.add(account);
          result.touched.add(account);
          break;
        }
      }
    }
    // Cases opened or closed in undone blocks: the keeper re-reads every account it knew a case for, and the
    // events read again re-open the ones that still exist.
    for (const account of this.#openCases) result.touched.add(account);
  }

  #discover(account: string, result: SyncResult): string {
    const a = getAddress(account);
    if (!this.#accounts.has(a)) {
      this.#accounts.add(a);
      result.discovered.add(a);
      if (!this.#o.completeHistory && !this.#positions.has(a)) this.#unknown.add(a);
    }
    result.touched.add(a);
    return a;
  }

  #apply(log: Log, result: SyncResult): void {
    const event = this.#events.get(log.topics[0]);
    if (event === undefined) return;
    const a = this.#o.iface.decodeEventLog(event, log.data, log.topics);
    switch (event.name) {
      case "Deposited":
      case "Withdrawn":
      case "FundingSettled":
      case "SocialLossSettled":
        this.#discover(a.account as string, result);
        break;
      case "PositionChanged": {
        const account = this.#discover(a.account as string, result);
        const marketId = Number(a.marketId as bigint);
        const size = a.size as bigint;
        let entries = this.#positions.get(account);
        if (entries === undefined) {
          entries = new Map();
          this.#positions.set(account, entries);
        }
        if (size === 0n) entries.delete(marketId);
        else entries.set(marketId, { size, openNotional: a.openNotional as bigint, block: log.blockNumber });
        break;
      }
      case "Liquidated":
        this.#discover(a.account as string, result);
        this.#discover(a.liquidator as string, result);
        break;
      case "InsuranceFundDrawn":
        this.#discover(a.account as string, result);
        this.#discover(a.recipient as string, result);
        break;
      case "Deleveraged":
        this.#discover(a.account as string, result);
        this.#discover(a.counterparty as string, result);
        break;
      case "DeleverageRequired":
        this.#openCases.add(this.#discover(a.account as string, result));
        break;
      case "BadDebtResolved":
        this.#openCases.delete(this.#discover(a.account as string, result));
        break;
      case "LossSocialized":
        result.socialized.push({ marketId: Number(a.marketId as bigint), longSide: a.longSide as boolean });
        break;
      case "MarketListed":
      case "MarketParamsUpdated":
        result.marketsChanged.add(Number(a.marketId as bigint));
        break;
      case "DeleverageTimeoutUpdated":
        result.timeoutChanged = true;
        break;
    }
  }
}
