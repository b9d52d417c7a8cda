import type { Log, Provider } from "ethers";

import type { BookEntry, RemovalReason } from "#sdk";
import type { ClearingHouse } from "../typechain-types/index.js";
import type { OrderStore } from "./store.js";

/** What the follower tells the relay: an order left the book, or more of it was filled. */
export interface BookChanges {
  removed(entry: BookEntry, reason: RemovalReason): void;
  filled(entry: BookEntry): void;
}

/** Runs async sections one at a time, in call order. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(section: () => Promise<T>): Promise<T> {
    const result = this.tail.then(section);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export interface FollowerOptions {
  provider: Provider;
  clearingHouse: ClearingHouse;
  store: OrderStore;
  changes: BookChanges;
  /** Blocks per eth_getLogs call. */
  logChunk: number;
  /** Shared with the relay's inserts, so that no event is applied between an order's check and its insert. */
  serial: Serial;
}

/**
 * Follows the clearing house's order events (OrderFilled, OrderCancelledByMaker, NoncesInvalidated) and the
 * clock, and drops what the chain no longer fills. The cursor (last block applied) is kept in the store, so
 * that a restarted relay replays what it missed. No reorg handling: an order dropped for an event that a reorg
 * undoes stays dropped (the maker posts it again); the book never holds an order the chain refuses because of it.
 */
export class ChainFollower {
  /** Last block whose events are applied. */
  cursor = 0;
  /** Unix seconds: the later of the clock and the head block's timestamp, as of the last poll. */
  now = 0n;
  private readonly topics: string[];

  constructor(private readonly o: FollowerOptions) {
    const ch = o.clearingHouse.interface;
    this.topics = [
      ch.getEvent("OrderFilled").topicHash,
      ch.getEvent("OrderCancelledByMaker").topicHash,
      ch.getEvent("NoncesInvalidated").topicHash,
    ];
  }

  /**
   * Picks up where the store left off, or at the head for a new store. A stored cursor past the head means the
   * chain was reset under the relay (a restarted dev node): its orders are gone with it, and so is the book.
   * Returns whether the book was dropped for that.
   */
  async start(): Promise<boolean> {
    const head = await this.o.provider.getBlockNumber();
    const stored = await this.o.store.cursor();
    let reset = false;
    if (stored !== undefined && stored > head) {
      await this.o.store.clear();
      reset = true;
    }
    this.cursor = stored === undefined || reset ? head : stored;
    await this.o.store.setCursor(this.cursor);
    await this.poll();
    return reset;
  }

  /** One round: apply the events up to the head, then drop what has expired. */
  async poll(): Promise<void> {
    const head = await this.o.provider.getBlock("latest");
    if (head === null) return;
    const clock = BigInt(Math.floor(Date.now() / 1000));
    this.now = BigInt(head.timestamp) > clock ? BigInt(head.timestamp) : clock;
    await this.o.serial.run(() => this.applyThrough(head.number));
    await this.o.serial.run(() => this.expire());
  }

  /** Applies every event up to `target`; call inside the serial section. */
  async applyThrough(target: number): Promise<void> {
    while (this.cursor < target) {
      const to = Math.min(target, this.cursor + this.o.logChunk);
      const logs = await this.o.provider.getLogs({
        address: await this.o.clearingHouse.getAddress(),
        topics: [this.topics],
        fromBlock: this.cursor + 1,
        toBlock: to,
      });
      for (const log of logs) await this.apply(log);
      this.cursor = to;
      await this.o.store.setCursor(to);
    }
  }

  private async apply(log: Log): Promise<void> {
    const { store, changes, clearingHouse } = this.o;
    const event = clearingHouse.interface.parseLog(log);
    if (event === null) return;
    if (event.name === "NoncesInvalidated") {
      const [maker, minValidNonce] = event.args as unknown as [string, bigint];
      for (const entry of await store.byMaker(maker)) {
        if (entry.order.nonce < minValidNonce && (await store.remove(entry.hash))) changes.removed(entry, "nonce");
      }
      return;
    }
    const hash = (event.args[0] as string).toLowerCase();
    const entry = await store.get(hash);
    if (entry === undefined) return;
    if (event.name === "OrderCancelledByMaker") {
      if (await store.remove(hash)) changes.removed(entry, "cancelled");
      return;
    }
    // OrderFilled: what the clearing house holds as filled after this block, so that a replay changes nothing.
    const { filled } = await clearingHouse.orderStatus(hash, { blockTag: log.blockNumber });
    if (filled >= entry.order.size) {
      if (await store.remove(hash)) changes.removed({ ...entry, filled, remaining: 0n }, "filled");
    } else if (filled !== entry.filled) {
      await store.setFilled(hash, filled);
      changes.filled({ ...entry, filled, remaining: entry.order.size - filled });
    }
  }

  /** Drops orders the clearing house refuses from now on (`block.timestamp > expiry`). */
  private async expire(): Promise<void> {
    for (const entry of await this.o.store.expiredAt(this.now)) {
      if (await this.o.store.remove(entry.hash)) this.o.changes.removed(entry, "expired");
    }
  }
}
