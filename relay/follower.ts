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

/** A block as the follower tracks it. */
export interface HeadBlock {
  number: number;
  hash: string;
  timestamp: number;
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
  /**
   * Checks every stored order again at `head` and drops those that fail: called inside the serial section when
   * the chain under the book changed, as events cannot be replayed across that.
   */
  recheckAll(head: HeadBlock): Promise<void>;
}

/**
 * Follows the clearing house's order events (OrderFilled, OrderCancelledByMaker, NoncesInvalidated) and the
 * clock, and drops what the chain no longer fills. The cursor (last block applied, with its hash) is kept in the
 * store, so that a restarted relay replays what it missed. When the block at the cursor is gone or has another
 * hash (a reorganisation past it, a restarted dev node), events cannot be replayed: every order is checked again
 * at the head instead, and the cursor starts there.
 */
export class ChainFollower {
  /** Last block whose events are applied. */
  cursor = 0;
  private cursorHash = "";
  /** Unix seconds: the later of the clock and the head block's timestamp, as of the last poll. */
  now = 0n;
  /** When the last poll finished (Date.now()); 0 before the first. */
  polledAt = 0;
  private readonly topics: string[];

  constructor(private readonly o: FollowerOptions) {
    const ch = o.clearingHouse.interface;
    this.topics = [
      ch.getEvent("OrderFilled").topicHash,
      ch.getEvent("OrderCancelledByMaker").topicHash,
      ch.getEvent("NoncesInvalidated").topicHash,
    ];
  }

  /** The latest block; also moves {@link now} forward. */
  async head(): Promise<HeadBlock> {
    const block = await this.o.provider.getBlock("latest");
    if (block === null || block.hash === null) throw new Error("the node returned no latest block");
    const clock = BigInt(Math.floor(Date.now() / 1000));
    const time = BigInt(block.timestamp) > clock ? BigInt(block.timestamp) : clock;
    if (time > this.now) this.now = time;
    return { number: block.number, hash: block.hash, timestamp: block.timestamp };
  }

  /** Picks up where the store left off (or at the head for a new store), then polls once. */
  async start(): Promise<void> {
    const stored = await this.o.store.cursor();
    if (stored === undefined) {
      const head = await this.head();
      await this.moveCursor(head.number, head.hash);
    } else {
      this.cursor = stored.block;
      this.cursorHash = stored.hash;
    }
    await this.poll();
  }

  /** One round: check the chain under the cursor, apply the events up to the head, then drop what has expired. */
  async poll(): Promise<void> {
    const head = await this.head();
    await this.o.serial.run(async () => {
      const atCursor = await this.o.provider.getBlock(this.cursor);
      if (atCursor === null || atCursor.hash !== this.cursorHash) {
        await this.o.recheckAll(head);
        await this.moveCursor(head.number, head.hash);
      } else {
        await this.applyThrough(head);
      }
    });
    await this.o.serial.run(() => this.expire());
    this.polledAt = Date.now();
  }

  /** Applies every event up to `target`; call inside the serial section. */
  async applyThrough(target: HeadBlock): Promise<void> {
    while (this.cursor < target.number) {
      const to = Math.min(target.number, this.cursor + this.o.logChunk);
      const logs = await this.o.provider.getLogs({
        address: await this.o.clearingHouse.getAddress(),
        topics: [this.topics],
        fromBlock: this.cursor + 1,
        toBlock: to,
      });
      for (const log of logs) await this.apply(log);
      const hash = to === target.number ? target.hash : (await this.o.provider.getBlock(to))?.hash;
      if (hash === null || hash === undefined) throw new Error(`the node returned no block ${to}`);
      await this.moveCursor(to, hash);
    }
  }

  private async moveCursor(block: number, hash: string): Promise<void> {
    this.cursor = block;
    this.cursorHash = hash;
    await this.o.store.setCursor({ block, hash });
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
