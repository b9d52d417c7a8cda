import type { Provider } from "ethers";

import {
  bookEntryToJson,
  describeError,
  type BookEntry,
  type BookJson,
  type HealthReply,
  type RelayEventJson,
  type SignedOrderFields,
} from "#sdk";
import type { ClearingHouse } from "../typechain-types/index.js";
import { OrderChecker, Rejection, type Checked } from "./checks.js";
import { ChainFollower, Serial, type HeadBlock } from "./follower.js";
import type { OrderStore } from "./store.js";

export interface RelayOptions {
  provider: Provider;
  chainId: number;
  clearingHouse: ClearingHouse;
  clearingHouseAddress: string;
  /** The collateral token's symbol, for amounts in messages. */
  symbol: string;
  store: OrderStore;
  logChunk: number;
  maxOrdersPerMaker: number;
  bookDepth: number;
  /** /health fails when the last completed poll of the chain is older than this. */
  staleAfterMs: number;
}

type Listener = (event: RelayEventJson) => void;

/**
 * The relay without its transport: accepts checked orders into the store, serves the book, follows the chain and
 * tells each market's listeners what changed. The HTTP and WebSocket server (server.ts) maps routes onto it.
 */
export class Relay {
  readonly follower: ChainFollower;
  private readonly checker: OrderChecker;
  private readonly serial = new Serial();
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly o: RelayOptions) {
    this.checker = new OrderChecker(o);
    this.follower = new ChainFollower({
      provider: o.provider,
      clearingHouse: o.clearingHouse,
      store: o.store,
      logChunk: o.logChunk,
      serial: this.serial,
      recheckAll: (head) => this.recheckAll(head),
      changes: {
        removed: (entry, reason) => this.publish(entry, { type: "removed", hash: entry.hash, reason }),
        filled: (entry) =>
          this.publish(entry, {
            type: "filled",
            hash: entry.hash,
            filled: entry.filled.toString(),
            remaining: entry.remaining.toString(),
          }),
      },
    });
  }

  /**
   * Checks a signed order against the chain's head and stores it; resolves to its hash. Throws
   * {@link Rejection} (status and one-line reason) and stores nothing when it fails a check.
   */
  async post(order: SignedOrderFields, signature: string): Promise<string> {
    const { store, maxOrdersPerMaker } = this.o;
    let head: HeadBlock;
    let checked: Checked;
    try {
      head = await this.follower.head();
      checked = await this.checker.check(order, signature, head.number, this.follower.now);
    } catch (error) {
      if (error instanceof Rejection) throw error;
      throw new Rejection(503, `cannot check the order against the chain: ${describeError(error)}`);
    }
    const now = this.follower.now;
    return this.serial.run(async () => {
      // Events up to the checked block are in the check; the follower applies them before the insert, and any
      // it applied past that block are read again, so that nothing falls between the check and the insert.
      await this.follower.applyThrough(head);
      let filled = checked.filled;
      if (this.follower.cursor > head.number) {
        const again = await this.checker.check(order, signature, this.follower.cursor, now);
        filled = again.filled;
      }
      if ((await store.get(checked.hash)) !== undefined)
        throw new Rejection(409, `order ${checked.hash} is already in the book`);
      if ((await store.countByMaker(order.maker)) >= maxOrdersPerMaker) {
        throw new Rejection(
          429,
          `maker ${order.maker} already has ${maxOrdersPerMaker} orders in the book (the relay's limit per maker)`,
        );
      }
      const entry: BookEntry = {
        hash: checked.hash,
        order,
        signature,
        filled,
        remaining: order.size - filled,
        postedAt: Date.now(),
      };
      await store.insert(entry);
      this.publish(entry, { type: "added", hash: entry.hash, entry: bookEntryToJson(entry) });
      return entry.hash;
    });
  }

  /** Every stored order checked again at `head`; those that fail leave the book with the failure's reason. */
  private async recheckAll(head: HeadBlock): Promise<void> {
    const { store } = this.o;
    for (const entry of await store.all()) {
      let filled: bigint;
      try {
        ({ filled } = await this.checker.check(entry.order, entry.signature, head.number, this.follower.now));
      } catch (error) {
        if (!(error instanceof Rejection) || error.status >= 500) throw error;
        if (await store.remove(entry.hash)) {
          this.publish(entry, { type: "removed", hash: entry.hash, reason: error.removal });
        }
        continue;
      }
      if (filled !== entry.filled) {
        await store.setFilled(entry.hash, filled);
        const remaining = (entry.order.size - filled).toString();
        this.publish(entry, { type: "filled", hash: entry.hash, filled: filled.toString(), remaining });
      }
    }
  }

  async book(marketId: bigint): Promise<BookJson> {
    const { store, bookDepth } = this.o;
    const [bids, asks] = await Promise.all([
      store.side(marketId, true, bookDepth),
      store.side(marketId, false, bookDepth),
    ]);
    return { marketId: marketId.toString(), bids: bids.map(bookEntryToJson), asks: asks.map(bookEntryToJson) };
  }

  async order(hash: string): Promise<BookEntry | undefined> {
    return this.o.store.get(hash.toLowerCase());
  }

  /** `ok` while the chain was polled within `staleAfterMs` (the server answers 503 otherwise). */
  async health(): Promise<HealthReply> {
    return {
      ok: Date.now() - this.follower.polledAt <= this.o.staleAfterMs,
      chainId: this.o.chainId,
      clearingHouse: this.o.clearingHouseAddress,
      block: this.follower.cursor,
      orders: await this.o.store.count(),
    };
  }

  /** Calls `listener` with every change to one market's book until the returned function is called. */
  listen(marketId: bigint, listener: Listener): () => void {
    const key = marketId.toString();
    const set = this.listeners.get(key) ?? new Set();
    set.add(listener);
    this.listeners.set(key, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  private publish(entry: BookEntry, event: RelayEventJson): void {
    for (const listener of this.listeners.get(entry.order.marketId.toString()) ?? []) listener(event);
  }
}
