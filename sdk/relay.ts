import { isHexString } from "ethers";

import { InputError } from "./errors.js";
import { isSignatureHex, orderToJson, parseOrderJson, type OrderJson, type SignedOrderFields } from "./orders.js";

/**
 * The order relay's API, shared by the server (relay/) and its clients (the web app, the bench, tests): the JSON
 * each route takes and returns, the WebSocket messages, and {@link RelayClient}. Integers travel as decimal
 * strings ({@link OrderJson}); the parsed forms hold bigints.
 *
 *   POST /orders                {order, signature}  → 201 {hash}        | 4xx {error}
 *   GET  /orders?market=<id>                        → 200 {marketId, bids, asks} (best first)
 *   GET  /orders/<hash>                             → 200 entry          | 404 {error}
 *   GET  /health                                    → 200 {ok, chainId, clearingHouse, block, orders}
 *   WS   /ws?market=<id>         server → client: {type:"subscribed"}, then {type:"added"|"removed", hash, …}
 *
 * Nothing here touches Node's own modules, so that a browser bundle can use it.
 */

/** Body of `POST /orders`. */
export interface PostOrderBody {
  order: OrderJson;
  signature: string;
}

/** `201` answer of `POST /orders`: the order's EIP-712 digest, its id everywhere else. */
export interface PostOrderReply {
  hash: string;
}

/** Every 4xx and 5xx answer: one line saying what was wrong. */
export interface ErrorReply {
  error: string;
}

/** An order in the book, as JSON. `filled` + `remaining` = `order.size`; `postedAt` in unix milliseconds. */
export interface BookEntryJson {
  hash: string;
  order: OrderJson;
  signature: string;
  filled: string;
  remaining: string;
  postedAt: number;
}

/** `GET /orders?market=<id>`: bids by price high to low, asks low to high, older first at one price. */
export interface BookJson {
  marketId: string;
  bids: BookEntryJson[];
  asks: BookEntryJson[];
}

/** `GET /health`. `block` is the last block whose events the relay has applied. */
export interface HealthReply {
  ok: boolean;
  chainId: number;
  clearingHouse: string;
  block: number;
  orders: number;
}

/**
 * Why an order left the book: filled, cancelled, below a nonce its maker invalidated, expired, or (`invalid`) it
 * failed a check again after the chain under the book changed (a reorganisation, a restarted dev node).
 */
export type RemovalReason = "filled" | "cancelled" | "nonce" | "expired" | "invalid";

/** Messages the relay pushes on `/ws?market=<id>`; `subscribed` comes first, once. */
export type RelayEventJson =
  | { type: "subscribed"; marketId: string }
  | { type: "added"; hash: string; entry: BookEntryJson }
  | { type: "removed"; hash: string; reason: RemovalReason }
  | { type: "filled"; hash: string; filled: string; remaining: string };

/** An order in the book, parsed. */
export interface BookEntry {
  hash: string;
  order: SignedOrderFields;
  signature: string;
  filled: bigint;
  remaining: bigint;
  postedAt: number;
}

export interface Book {
  marketId: bigint;
  bids: BookEntry[];
  asks: BookEntry[];
}

export type RelayEvent =
  | { type: "added"; hash: string; entry: BookEntry }
  | { type: "removed"; hash: string; reason: RemovalReason }
  | { type: "filled"; hash: string; filled: bigint; remaining: bigint };

/** The body of `POST /orders` for a signed order. */
export function postOrderBody(order: SignedOrderFields, signature: string): PostOrderBody {
  return { order: orderToJson(order), signature };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const REMOVAL_REASONS: readonly RemovalReason[] = ["filled", "cancelled", "nonce", "expired", "invalid"];
const WHOLE = /^\d+$/;

/**
 * Validates a `POST /orders` body. Throws {@link InputError} with the one-line reason the relay answers 400 with
 * ("order.size is zero", "signature is not hex bytes").
 */
export function parsePostOrderBody(json: unknown): { order: SignedOrderFields; signature: string } {
  const fail = (what: string): never => {
    throw new InputError(what);
  };
  if (!isRecord(json)) return fail("body is not a JSON object");
  const extra = Object.keys(json).filter((k) => k !== "order" && k !== "signature");
  if (extra.length > 0) return fail(`unknown field ${extra[0]} (the body is {order, signature})`);
  const order = parseOrderJson(json.order, fail);
  if (!isSignatureHex(json.signature)) return fail("signature is not hex bytes");
  return { order, signature: json.signature };
}

/** A whole-number string as a bigint, for `what`. */
function whole(value: unknown, what: string): bigint {
  if (typeof value !== "string" || !WHOLE.test(value)) throw new InputError(`${what} is not a whole number string`);
  return BigInt(value);
}

/** Parses a book entry from the relay. Throws {@link InputError} when the relay sent something else. */
export function parseBookEntry(json: unknown): BookEntry {
  const fail = (what: string): never => {
    throw new InputError(`relay book entry: ${what}`);
  };
  if (!isRecord(json)) return fail("not an object");
  if (typeof json.hash !== "string" || !isHexString(json.hash, 32)) return fail("hash is not 32 bytes");
  if (!isSignatureHex(json.signature)) return fail("signature is not hex bytes");
  if (typeof json.postedAt !== "number") return fail("postedAt is not a number");
  return {
    hash: json.hash,
    order: parseOrderJson(json.order, fail),
    signature: json.signature,
    filled: whole(json.filled, "filled"),
    remaining: whole(json.remaining, "remaining"),
    postedAt: json.postedAt,
  };
}

/** The JSON form of a book entry. */
export function bookEntryToJson(entry: BookEntry): BookEntryJson {
  return {
    hash: entry.hash,
    order: orderToJson(entry.order),
    signature: entry.signature,
    filled: entry.filled.toString(),
    remaining: entry.remaining.toString(),
    postedAt: entry.postedAt,
  };
}

/** Parses `GET /orders?market=<id>`. */
export function parseBook(json: unknown): Book {
  if (!isRecord(json) || !Array.isArray(json.bids) || !Array.isArray(json.asks)) {
    throw new InputError("relay book: not {marketId, bids, asks}");
  }
  return {
    marketId: whole(json.marketId, "relay book: marketId"),
    bids: json.bids.map(parseBookEntry),
    asks: json.asks.map(parseBookEntry),
  };
}

/** Parses one WebSocket message; `undefined` for `subscribed` (handled by the client) and unknown types. */
export function parseRelayEvent(json: unknown): RelayEvent | undefined {
  if (!isRecord(json) || typeof json.hash !== "string") return undefined;
  switch (json.type) {
    case "added":
      return { type: "added", hash: json.hash, entry: parseBookEntry(json.entry) };
    case "removed": {
      const reason = REMOVAL_REASONS.find((r) => r === json.reason);
      if (reason === undefined) throw new InputError(`relay event: unknown removal reason ${String(json.reason)}`);
      return { type: "removed", hash: json.hash, reason };
    }
    case "filled":
      return {
        type: "filled",
        hash: json.hash,
        filled: whole(json.filled, "filled"),
        remaining: whole(json.remaining, "remaining"),
      };
    default:
      return undefined;
  }
}

/** A 4xx/5xx answer of the relay: `status` and its one-line `reason`. */
export class RelayError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`relay answered ${status}: ${reason}`);
    this.name = "RelayError";
  }
}

/** What {@link RelayClient} needs from its environment; the globals of Node 22 and browsers by default. */
export interface RelayClientOptions {
  fetch?: typeof globalThis.fetch;
  WebSocket?: typeof globalThis.WebSocket;
}

/** A live `/ws` subscription. */
export interface RelaySubscription {
  close(): void;
}

/**
 * A client of the relay: `new RelayClient("http://127.0.0.1:8600")`. Every method throws {@link RelayError} when
 * the relay answers with an error.
 */
export class RelayClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly WebSocketImpl: typeof globalThis.WebSocket;

  constructor(baseUrl: string, options: RelayClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
  }

  /** Posts a signed order; resolves to its hash once the relay has checked and stored it. */
  async postOrder(order: SignedOrderFields, signature: string): Promise<string> {
    const json = await this.request("/orders", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(postOrderBody(order, signature)),
    });
    if (!isRecord(json) || typeof json.hash !== "string") throw new InputError("relay: POST /orders answered no hash");
    return json.hash;
  }

  /** The book of one market, best first on each side. */
  async book(marketId: bigint | number): Promise<Book> {
    return parseBook(await this.request(`/orders?market=${marketId.toString()}`));
  }

  /** One order still in the book; `undefined` when the relay does not hold it (never posted, or removed). */
  async order(hash: string): Promise<BookEntry | undefined> {
    try {
      return parseBookEntry(await this.request(`/orders/${encodeURIComponent(hash)}`));
    } catch (error) {
      if (error instanceof RelayError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** `GET /health`. */
  async health(): Promise<HealthReply> {
    return (await this.request("/health")) as HealthReply;
  }

  /**
   * Follows one market's book over WebSocket. Resolves once the relay has confirmed the subscription, so that
   * nothing that happens afterwards is missed; `onEvent` then gets every change.
   */
  subscribe(marketId: bigint | number, onEvent: (event: RelayEvent) => void): Promise<RelaySubscription> {
    const url = `${this.baseUrl.replace(/^http/, "ws")}/ws?market=${marketId.toString()}`;
    const socket = new this.WebSocketImpl(url);
    const subscription = { close: () => socket.close() };
    return new Promise((resolve, reject) => {
      let confirmed = false;
      socket.addEventListener("message", (message: MessageEvent) => {
        const json: unknown = JSON.parse(String(message.data));
        if (!confirmed) {
          if (isRecord(json) && json.type === "subscribed") {
            confirmed = true;
            resolve(subscription);
          } else if (isRecord(json) && typeof json.error === "string") {
            reject(new RelayError(400, json.error));
          }
          return;
        }
        const event = parseRelayEvent(json);
        if (event !== undefined) onEvent(event);
      });
      socket.addEventListener("error", () => {
        if (!confirmed) reject(new Error(`relay: cannot open ${url}`));
      });
      socket.addEventListener("close", () => {
        if (!confirmed) reject(new Error(`relay: ${url} closed before the subscription was confirmed`));
      });
    });
  }

  private async request(path: string, init?: RequestInit): Promise<unknown> {
    const response = await this.fetchImpl(`${this.baseUrl}${path}`, init);
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RelayError(response.status, `not JSON: ${text.slice(0, 80)}`);
    }
    if (!response.ok) {
      const reason = isRecord(json) && typeof json.error === "string" ? json.error : text.slice(0, 200);
      throw new RelayError(response.status, reason);
    }
    return json;
  }
}
