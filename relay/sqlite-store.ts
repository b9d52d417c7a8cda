import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";

import { InputError, orderToJson, parseOrderJson, type BookEntry } from "#sdk";
import { sortableUint, type Cursor, type OrderStore } from "./store.js";

/**
 * Schema, version 1. Integers that can exceed 64 bits are text: `price` and `expiry` zero-padded (sortableUint),
 * so that ORDER BY on them is numeric; `filled` plain decimal. The order itself is kept as its JSON form, which
 * the SDK parses back.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS orders (
    hash TEXT PRIMARY KEY,
    market TEXT NOT NULL,
    is_buy INTEGER NOT NULL,
    price TEXT NOT NULL,
    expiry TEXT NOT NULL,
    maker TEXT NOT NULL,
    order_json TEXT NOT NULL,
    signature TEXT NOT NULL,
    filled TEXT NOT NULL,
    posted_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS orders_book ON orders (market, is_buy, price, posted_at);
  CREATE INDEX IF NOT EXISTS orders_maker ON orders (maker);
  CREATE INDEX IF NOT EXISTS orders_expiry ON orders (expiry);
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
`;

interface Row {
  hash: string;
  order_json: string;
  signature: string;
  filled: string;
  posted_at: number;
}

function toEntry(row: Row): BookEntry {
  const order = parseOrderJson(JSON.parse(row.order_json), (what) => {
    throw new InputError(`order store: row ${row.hash}: ${what}`);
  });
  const filled = BigInt(row.filled);
  return {
    hash: row.hash,
    order,
    signature: row.signature,
    filled,
    remaining: order.size - filled,
    postedAt: row.posted_at,
  };
}

/**
 * The embedded default store: one SQLite file through Node's built-in `node:sqlite` (`:memory:` for tests), in
 * WAL mode so that a reader never waits for the writer.
 */
export class SqliteOrderStore implements OrderStore {
  private readonly db: DatabaseSync;
  private readonly statements: Record<string, StatementSync>;

  constructor(file: string) {
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new DatabaseSync(file);
    if (file !== ":memory:") this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec(SCHEMA);
    const columns = "hash, order_json, signature, filled, posted_at";
    const prepare = (sql: string) => this.db.prepare(sql);
    this.statements = {
      insert: prepare(
        `INSERT INTO orders (hash, market, is_buy, price, expiry, maker, order_json, signature, filled, posted_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      get: prepare(`SELECT ${columns} FROM orders WHERE hash = ?`),
      bids: prepare(
        `SELECT ${columns} FROM orders WHERE market = ? AND is_buy = 1 ORDER BY price DESC, posted_at, hash LIMIT ?`,
      ),
      asks: prepare(
        `SELECT ${columns} FROM orders WHERE market = ? AND is_buy = 0 ORDER BY price ASC, posted_at, hash LIMIT ?`,
      ),
      all: prepare(`SELECT ${columns} FROM orders ORDER BY posted_at, hash`),
      byMaker: prepare(`SELECT ${columns} FROM orders WHERE maker = ? ORDER BY posted_at, hash`),
      expired: prepare(`SELECT ${columns} FROM orders WHERE expiry < ? ORDER BY posted_at, hash`),
      setFilled: prepare(`UPDATE orders SET filled = ? WHERE hash = ?`),
      remove: prepare(`DELETE FROM orders WHERE hash = ?`),
      count: prepare(`SELECT COUNT(*) AS n FROM orders`),
      countByMaker: prepare(`SELECT COUNT(*) AS n FROM orders WHERE maker = ?`),
      getMeta: prepare(`SELECT value FROM meta WHERE key = ?`),
      setMeta: prepare(
        `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ),
    };
  }

  insert(entry: BookEntry): Promise<void> {
    const o = entry.order;
    this.statements.insert.run(
      entry.hash,
      sortableUint(o.marketId),
      o.isBuy ? 1 : 0,
      sortableUint(o.limitPrice),
      sortableUint(o.expiry),
      o.maker,
      JSON.stringify(orderToJson(o)),
      entry.signature,
      entry.filled.toString(),
      entry.postedAt,
    );
    return Promise.resolve();
  }

  get(hash: string): Promise<BookEntry | undefined> {
    const row = this.statements.get.get(hash) as Row | undefined;
    return Promise.resolve(row === undefined ? undefined : toEntry(row));
  }

  side(marketId: bigint, isBuy: boolean, limit: number): Promise<BookEntry[]> {
    const rows = this.statements[isBuy ? "bids" : "asks"].all(sortableUint(marketId), limit) as unknown as Row[];
    return Promise.resolve(rows.map(toEntry));
  }

  all(): Promise<BookEntry[]> {
    return Promise.resolve((this.statements.all.all() as unknown as Row[]).map(toEntry));
  }

  byMaker(maker: string): Promise<BookEntry[]> {
    return Promise.resolve((this.statements.byMaker.all(maker) as unknown as Row[]).map(toEntry));
  }

  expiredAt(time: bigint): Promise<BookEntry[]> {
    return Promise.resolve((this.statements.expired.all(sortableUint(time)) as unknown as Row[]).map(toEntry));
  }

  setFilled(hash: string, filled: bigint): Promise<void> {
    this.statements.setFilled.run(filled.toString(), hash);
    return Promise.resolve();
  }

  remove(hash: string): Promise<boolean> {
    return Promise.resolve(this.statements.remove.run(hash).changes !== 0);
  }

  count(): Promise<number> {
    return Promise.resolve(Number((this.statements.count.get() as { n: number }).n));
  }

  countByMaker(maker: string): Promise<number> {
    return Promise.resolve(Number((this.statements.countByMaker.get(maker) as { n: number }).n));
  }

  cursor(): Promise<Cursor | undefined> {
    const row = this.statements.getMeta.get("cursor") as { value: string } | undefined;
    return Promise.resolve(row === undefined ? undefined : (JSON.parse(row.value) as Cursor));
  }

  setCursor(cursor: Cursor): Promise<void> {
    this.statements.setMeta.run("cursor", JSON.stringify({ block: cursor.block, hash: cursor.hash }));
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
    return Promise.resolve();
  }
}
