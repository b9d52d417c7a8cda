import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import type { Wallet } from "ethers";

import {
  RelayClient,
  WAD,
  orderHash,
  orderToJson,
  postOrderBody,
  type BookJson,
  type RelayEvent,
  type RelaySubscription,
  type SignedOrderFields,
} from "#sdk";
import { ETH_MARKET } from "../../devnet/constants.js";
import { deploySystemOverRpc, type DeployedSystem } from "../../devnet/deploy.js";
import { waitFor } from "../../devnet/keeper.js";
import { devWallet } from "../../devnet/keys.js";
import { startHardhatNode, type HardhatNode } from "../../devnet/node.js";
import { startTcpProxy } from "../../devnet/proxy.js";
import { dollars, fundTrader, signOrderAs } from "../../devnet/traders.js";
import type { RelayConfig } from "../../relay/config.js";
import { startRelay, type RunningRelay } from "../../relay/start.js";

/** The relay's settings for these tests: an in-memory book, fast polling, loose limits (the flood test tightens). */
function relayConfig(node: HardhatNode, system: DeployedSystem, overrides: Partial<RelayConfig> = {}): RelayConfig {
  return {
    rpcUrl: node.url,
    deploymentPath: system.path,
    dbPath: ":memory:",
    host: "127.0.0.1",
    port: 0,
    pollMs: 50,
    logChunk: 2000,
    maxBodyBytes: 4096,
    postLimit: 10_000,
    readLimit: 10_000,
    rateWindowMs: 60_000,
    maxOrdersPerMaker: 100,
    bookDepth: 200,
    staleAfterS: 30,
    logLevel: "silent",
    ...overrides,
  };
}

/**
 * The order relay against a `hardhat node` with the system deployed: what it accepts and serves, every reason it
 * refuses an order (each answered with a status and one line, nothing stored), and how it follows the chain's
 * fills, cancels and the clock, observed over its WebSocket.
 */
describe("order relay", function () {
  this.timeout(120_000);

  let node: HardhatNode;
  let system: DeployedSystem;
  let running: RunningRelay;
  let client: RelayClient;
  let subscription: RelaySubscription;
  const events: RelayEvent[] = [];
  // Makers with 10,000 mUSD; `poor` with 100; the taker fills on chain.
  const maker = devWallet(3);
  const other = devWallet(4);
  const poor = devWallet(5);
  const taker = devWallet(6);
  // Cancels on chain while other tests compare the book before and after; holds no order in the book.
  const canceller = devWallet(7);
  let nonce = 0n;

  /** The chain's latest block time: expiries are set from it, as the node's clock may run ahead of the wall's. */
  async function chainNow(): Promise<bigint> {
    const block = await system.provider.getBlock("latest");
    if (block === null) throw new Error("no latest block");
    return BigInt(block.timestamp);
  }

  /** A 1 ETH bid at 2,000 of `maker` valid for an hour, with `fields` changed. */
  async function makeOrder(fields: Partial<SignedOrderFields> = {}, by: Wallet = maker): Promise<SignedOrderFields> {
    nonce += 1n;
    return {
      maker: by.address,
      marketId: ETH_MARKET,
      isBuy: true,
      size: WAD,
      limitPrice: 2000n * WAD,
      expiry: (await chainNow()) + 3600n,
      nonce,
      reduceOnly: false,
      ...fields,
    };
  }

  /** Posts raw text to /orders; the status and the parsed answer. */
  async function postRaw(body: string, url = running.url): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${url}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  async function bookOf(marketId = ETH_MARKET): Promise<BookJson> {
    const response = await fetch(`${running.url}/orders?market=${marketId}`);
    expect(response.status).to.equal(200);
    return (await response.json()) as BookJson;
  }

  /**
   * Posts `body` and expects it refused with `status` and a one-line reason containing `reason`, and the store
   * and the book exactly as they were.
   */
  async function expectRefused(body: string, status: number, reason: string, relay = running): Promise<void> {
    const countBefore = await relay.store.count();
    const bookBefore = await bookOf();
    const { status: got, json } = await postRaw(body, relay.url);
    expect(json.error, JSON.stringify(json)).to.be.a("string");
    expect(got, String(json.error)).to.equal(status);
    expect(json.error).to.include(reason);
    expect(json.error).to.not.include("\n");
    expect(Object.keys(json)).to.deep.equal(["error"]);
    expect(await relay.store.count()).to.equal(countBefore);
    expect(await bookOf()).to.deep.equal(bookBefore);
  }

  async function signed(order: SignedOrderFields, by: Wallet = maker): Promise<string> {
    return JSON.stringify(postOrderBody(order, await signOrderAs(by, system.deployment, order)));
  }

  function hashOf(order: SignedOrderFields): string {
    return orderHash(order, system.deployment.chainId, system.deployment.contracts.clearingHouse);
  }

  function removal(hash: string): Promise<RelayEvent> {
    return waitFor(`removed ${hash}`, () =>
      Promise.resolve(events.find((e) => e.type === "removed" && e.hash === hash)),
    );
  }

  before(async function () {
    node = await startHardhatNode();
    system = await deploySystemOverRpc(node.url, devWallet(0));
    for (const w of [maker, other, taker]) await fundTrader(system, w, dollars(10_000));
    await fundTrader(system, poor, dollars(100));
    running = await startRelay(relayConfig(node, system));
    client = new RelayClient(running.url);
    subscription = await client.subscribe(ETH_MARKET, (event) => events.push(event));
  });

  after(async function () {
    subscription?.close();
    await running?.close();
    system?.provider.destroy();
    await node?.stop();
  });

  describe("accepting", function () {
    it("accepts a signed order, answers 201 with its EIP-712 hash, serves it in the book and pushes `added`", async function () {
      const order = await makeOrder();
      const signature = await signOrderAs(maker, system.deployment, order);
      const response = await fetch(`${running.url}/orders`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(postOrderBody(order, signature)),
      });
      expect(response.status).to.equal(201);
      const { hash } = (await response.json()) as { hash: string };
      expect(hash).to.equal(hashOf(order));
      expect(hash).to.equal(await system.contracts.clearingHouse.hashOrder(order));

      const book = await bookOf();
      const entry = book.bids.find((b) => b.hash === hash);
      expect(entry).to.include({ signature, filled: "0", remaining: WAD.toString() });
      expect(entry?.order).to.deep.equal(orderToJson(order));
      expect((await client.order(hash))?.order).to.deep.equal(order);
      const added = await waitFor("added", () =>
        Promise.resolve(events.find((e) => e.type === "added" && e.hash === hash)),
      );
      expect(added.type === "added" && added.entry.signature).to.equal(signature);
    });

    it("serves bids from the highest price and asks from the lowest, each side through RelayClient.book", async function () {
      const prices = [1990n, 2010n, 2000n];
      const bids = await Promise.all(prices.map((p) => makeOrder({ limitPrice: p * WAD }, other)));
      const asks = await Promise.all(prices.map((p) => makeOrder({ limitPrice: p * WAD, isBuy: false }, other)));
      for (const o of [...bids, ...asks]) await client.postOrder(o, await signOrderAs(other, system.deployment, o));
      const book = await client.book(ETH_MARKET);
      const mine = (side: typeof book.bids) =>
        side.filter((e) => e.order.maker === other.address).map((e) => e.order.limitPrice / WAD);
      expect(mine(book.bids)).to.deep.equal([2010n, 2000n, 1990n]);
      expect(mine(book.asks)).to.deep.equal([1990n, 2000n, 2010n]);
      const health = await client.health();
      expect(health).to.include({ ok: true, chainId: 31337, orders: await running.store.count() });
    });

    it("lets a page on another origin call it (CORS preflight), as it holds no credentials", async function () {
      const preflight = await fetch(`${running.url}/orders`, {
        method: "OPTIONS",
        headers: {
          origin: "http://localhost:5173",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
      expect(preflight.status).to.equal(204);
      expect(preflight.headers.get("access-control-allow-origin")).to.equal("*");
    });

    it("refuses a WebSocket subscription without a market id with a one-line error and close code 1008", async function () {
      const socket = new WebSocket(`${running.url.replace("http", "ws")}/ws?market=eth`);
      const messages: string[] = [];
      socket.addEventListener("message", (m: MessageEvent) => messages.push(String(m.data)));
      const code = await new Promise<number>((resolve) => socket.addEventListener("close", (e) => resolve(e.code)));
      expect(code).to.equal(1008);
      expect(messages.map((m) => JSON.parse(m) as unknown)).to.deep.equal([
        { error: 'market must be a market id (a whole number), got "eth"' },
      ]);
    });

    it("answers 409 to the same order posted twice and keeps one copy", async function () {
      const body = await signed(await makeOrder());
      expect((await postRaw(body)).status).to.equal(201);
      await expectRefused(body, 409, "is already in the book");
    });
  });

  describe("refusing (status, one-line reason, nothing stored)", function () {
    it("a signature by another key", async function () {
      const order = await makeOrder();
      const body = JSON.stringify(postOrderBody(order, await signOrderAs(other, system.deployment, order)));
      await expectRefused(body, 422, `signature is by ${other.address}, not order.maker ${maker.address}`);
    });

    it("a signature over another chain id", async function () {
      const order = await makeOrder();
      const deployment = { ...system.deployment, chainId: 1 };
      const body = JSON.stringify(postOrderBody(order, await signOrderAs(maker, deployment, order)));
      await expectRefused(body, 422, "over this relay's domain (chain 31337, clearing house");
    });

    it("a signature over another clearing house", async function () {
      const order = await makeOrder();
      const elsewhere = { ...system.deployment.contracts, clearingHouse: system.deployment.contracts.lens };
      const deployment = { ...system.deployment, contracts: elsewhere };
      const body = JSON.stringify(postOrderBody(order, await signOrderAs(maker, deployment, order)));
      await expectRefused(body, 422, `clearing house ${system.deployment.contracts.clearingHouse})`);
    });

    it("an order that has expired", async function () {
      const order = await makeOrder({ expiry: (await chainNow()) - 10n });
      await expectRefused(await signed(order), 422, "order expired at");
    });

    it("a nonce the maker invalidated on chain, and an order the maker cancelled on chain", async function () {
      const below = await makeOrder({}, canceller);
      const ch = system.contracts.clearingHouse.connect(canceller.connect(system.provider));
      await (await ch.cancelOrdersBelowNonce(below.nonce + 1n)).wait();
      await expectRefused(
        await signed(below, canceller),
        422,
        `nonce ${below.nonce} is below the maker's minimum valid nonce ${below.nonce + 1n}`,
      );
      const cancelled = await makeOrder({}, canceller);
      await (await ch.cancelOrder(cancelled)).wait();
      await expectRefused(await signed(cancelled, canceller), 422, "order was cancelled on chain");
    });

    it("an order for a market the clearing house does not list", async function () {
      const order = await makeOrder({ marketId: 7n });
      await expectRefused(await signed(order), 422, "unknown market 7: the clearing house lists markets 0 to 1");
    });

    it("an order the maker's margin cannot carry, by simulating fillOrder", async function () {
      // 100 mUSD of collateral; 1 ETH at 2,000 needs 200 of initial margin (10 %) and pays a 0.40 maker fee.
      const order = await makeOrder({}, poor);
      await expectRefused(
        await signed(order, poor),
        422,
        "insufficient margin: after a fill of 1 the maker's equity would be 99.60 mUSD, below its initial margin 200.00 mUSD",
      );
      // Half an ETH needs 100 and leaves 99.80: still short. A quarter needs 50: accepted.
      const half = await makeOrder({ size: WAD / 2n }, poor);
      await expectRefused(await signed(half, poor), 422, "equity would be 99.80 mUSD, below its initial margin 100.00");
      const quarter = await makeOrder({ size: WAD / 4n }, poor);
      expect((await postRaw(await signed(quarter, poor))).status).to.equal(201);
    });

    it("a limit price outside the market's band around the oracle", async function () {
      const order = await makeOrder({ limitPrice: 2200n * WAD });
      await expectRefused(
        await signed(order),
        422,
        "limit price 2,200.00 is outside the band of ±5 % around the oracle price 2,000.00",
      );
    });

    it("a body over the size limit (413), malformed JSON, a wrong field and a wrong content type", async function () {
      const order = await makeOrder();
      const padded = JSON.stringify({ ...JSON.parse(await signed(order)), pad: "x".repeat(5000) });
      await expectRefused(padded, 413, "body is larger than 4096 bytes");
      await expectRefused('{"order": {"maker": ', 400, "body is not valid JSON");
      await expectRefused(
        JSON.stringify({ order: { ...orderToJson(order), size: "1.5" }, signature: "0x12" }),
        400,
        "order.size is not a whole number string",
      );
      await expectRefused(
        JSON.stringify({ order: orderToJson(order), signature: "0x12", extra: 1 }),
        400,
        "unknown field extra",
      );
      const text = await fetch(`${running.url}/orders`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: await signed(order),
      });
      expect(text.status).to.equal(415);
      expect(await text.json()).to.deep.equal({ error: "content-type must be application/json" });
    });

    it("a flood from one address: 429 once the per-IP post limit is spent, and the refused order is not stored", async function () {
      const strict = await startRelay(relayConfig(node, system, { postLimit: 3 }));
      try {
        for (let i = 0; i < 3; ++i) expect((await postRaw("{}", strict.url)).status).to.equal(400);
        const order = await makeOrder();
        await expectRefused(await signed(order), 429, "too many requests from this address: at most 3 per", strict);
        expect(await strict.store.get(hashOf(order))).to.equal(undefined);
      } finally {
        await strict.close();
      }
    });

    it("an order while the node does not answer: 503, and /health answers 503 until the node is back", async function () {
      const proxy = await startTcpProxy(node.url);
      const cut = await startRelay(relayConfig(node, system, { rpcUrl: proxy.url, staleAfterS: 1 }));
      try {
        expect((await fetch(`${cut.url}/health`)).status).to.equal(200);
        await proxy.close();
        const order = await makeOrder();
        const { status, json } = await postRaw(await signed(order), cut.url);
        expect(status).to.equal(503);
        expect(json.error).to.match(/^cannot check the order against the chain: /);
        expect(await cut.store.count()).to.equal(0);
        await waitFor("/health to fail", async () =>
          (await fetch(`${cut.url}/health`)).status === 503 ? true : undefined,
        );
        const health = (await (await fetch(`${cut.url}/health`)).json()) as { ok: boolean };
        expect(health.ok).to.equal(false);
        await proxy.open();
        await waitFor("/health to pass", async () =>
          (await fetch(`${cut.url}/health`)).status === 200 ? true : undefined,
        );
      } finally {
        await cut.close();
        await proxy.close();
      }
    });

    it("bad query and path parameters with 400 and unknown orders with 404", async function () {
      const bad = await fetch(`${running.url}/orders?market=eth`);
      expect(bad.status).to.equal(400);
      expect(await bad.json()).to.deep.equal({ error: 'market must be a market id (a whole number), got "eth"' });
      const missing = await fetch(`${running.url}/orders/0x${"ab".repeat(32)}`);
      expect(missing.status).to.equal(404);
      expect(((await missing.json()) as { error: string }).error).to.include("in the book");
    });
  });

  describe("following the chain", function () {
    it("updates a partial fill with `filled`, then drops the order with `removed: filled` when the rest fills", async function () {
      const order = await makeOrder({ size: 2n * WAD });
      const signature = await signOrderAs(maker, system.deployment, order);
      const hash = await client.postOrder(order, signature);
      const ch = system.contracts.clearingHouse.connect(taker.connect(system.provider));
      await (await ch.fillOrder(order, signature, WAD / 2n)).wait();
      const partial = await waitFor("filled", () =>
        Promise.resolve(events.find((e) => e.type === "filled" && e.hash === hash)),
      );
      expect(partial).to.deep.equal({ type: "filled", hash, filled: WAD / 2n, remaining: (3n * WAD) / 2n });
      expect((await client.order(hash))?.remaining).to.equal((3n * WAD) / 2n);

      await (await ch.fillOrder(order, signature, (3n * WAD) / 2n)).wait();
      expect(await removal(hash)).to.deep.equal({ type: "removed", hash, reason: "filled" });
      expect(await client.order(hash)).to.equal(undefined);
      expect((await bookOf()).bids.map((b) => b.hash)).to.not.include(hash);
    });

    it("drops an order its maker cancels on chain, with `removed: cancelled`", async function () {
      const order = await makeOrder();
      const hash = await client.postOrder(order, await signOrderAs(maker, system.deployment, order));
      await (await system.contracts.clearingHouse.connect(maker.connect(system.provider)).cancelOrder(order)).wait();
      expect(await removal(hash)).to.deep.equal({ type: "removed", hash, reason: "cancelled" });
      expect(await running.store.get(hash)).to.equal(undefined);
    });

    it("drops every order below a nonce the maker invalidates, with `removed: nonce`, and keeps the ones above", async function () {
      const low = await makeOrder();
      const high = await makeOrder({ nonce: low.nonce + 10n });
      const lowHash = await client.postOrder(low, await signOrderAs(maker, system.deployment, low));
      const highHash = await client.postOrder(high, await signOrderAs(maker, system.deployment, high));
      const ch = system.contracts.clearingHouse.connect(maker.connect(system.provider));
      await (await ch.cancelOrdersBelowNonce(low.nonce + 1n)).wait();
      expect(await removal(lowHash)).to.deep.equal({ type: "removed", hash: lowHash, reason: "nonce" });
      expect(await running.store.get(highHash)).to.not.equal(undefined);
    });

    it("keeps its book in a SQLite file across a restart and applies the fills it missed while down", async function () {
      const dir = await mkdtemp(path.join(tmpdir(), "relay-restart-"));
      const dbPath = path.join(dir, "orders.sqlite");
      const first = await startRelay(relayConfig(node, system, { dbPath }));
      const kept = await makeOrder();
      const filled = await makeOrder();
      const keptSig = await signOrderAs(maker, system.deployment, kept);
      const filledSig = await signOrderAs(maker, system.deployment, filled);
      const firstClient = new RelayClient(first.url);
      const keptHash = await firstClient.postOrder(kept, keptSig);
      const filledHash = await firstClient.postOrder(filled, filledSig);
      await first.close();

      const ch = system.contracts.clearingHouse.connect(taker.connect(system.provider));
      await (await ch.fillOrder(filled, filledSig, filled.size)).wait();

      const second = await startRelay(relayConfig(node, system, { dbPath }));
      try {
        expect((await second.store.get(keptHash))?.signature).to.equal(keptSig);
        expect(await second.store.get(filledHash)).to.equal(undefined);
      } finally {
        await second.close();
      }
    });

    it("checks every stored order again when the block at its cursor is gone (a restarted node) and drops what fails", async function () {
      const dir = await mkdtemp(path.join(tmpdir(), "relay-reset-"));
      const dbPath = path.join(dir, "orders.sqlite");
      const first = await startRelay(relayConfig(node, system, { dbPath }));
      const kept = await makeOrder();
      const cancelled = await makeOrder();
      const firstClient = new RelayClient(first.url);
      const keptHash = await firstClient.postOrder(kept, await signOrderAs(maker, system.deployment, kept));
      const cancelledHash = await firstClient.postOrder(
        cancelled,
        await signOrderAs(maker, system.deployment, cancelled),
      );
      // A cursor on no block of this chain: its events cannot be replayed from there.
      await first.store.setCursor({
        block: (await system.provider.getBlockNumber()) + 1000,
        hash: `0x${"00".repeat(32)}`,
      });
      await first.close();
      await (
        await system.contracts.clearingHouse.connect(maker.connect(system.provider)).cancelOrder(cancelled)
      ).wait();

      const second = await startRelay(relayConfig(node, system, { dbPath }));
      try {
        expect(await second.store.get(keptHash)).to.not.equal(undefined);
        expect(await second.store.get(cancelledHash)).to.equal(undefined);
        const head = await system.provider.getBlock("latest");
        expect(await second.store.cursor()).to.deep.equal({ block: head?.number, hash: head?.hash });
      } finally {
        await second.close();
      }
    });

    it("checks every order again when the chain under the book changes while running, and drops with `invalid` what fails", async function () {
      const keep = await makeOrder();
      const keepHash = await client.postOrder(keep, await signOrderAs(maker, system.deployment, keep));
      const snapshot = (await system.provider.send("evm_snapshot", [])) as string;
      // A maker whose collateral only exists on the blocks the revert below throws away.
      const fresh = devWallet(8);
      await fundTrader(system, fresh, dollars(10_000));
      const order = await makeOrder({}, fresh);
      const hash = await client.postOrder(order, await signOrderAs(fresh, system.deployment, order));
      expect(await system.provider.send("evm_revert", [snapshot])).to.equal(true);
      expect(await removal(hash)).to.deep.equal({ type: "removed", hash, reason: "invalid" });
      expect(await running.store.get(keepHash)).to.not.equal(undefined);
      expect(events.some((e) => e.type === "removed" && e.hash === keepHash)).to.equal(false);
    });

    // Last: it moves the node's clock forward.
    it("drops an order once the chain's time passes its expiry, with `removed: expired`", async function () {
      const order = await makeOrder({ expiry: (await chainNow()) + 120n });
      const hash = await client.postOrder(order, await signOrderAs(maker, system.deployment, order));
      expect(await running.store.get(hash)).to.not.equal(undefined);
      await system.provider.send("evm_increaseTime", [300]);
      await system.provider.send("evm_mine", []);
      expect(await removal(hash)).to.deep.equal({ type: "removed", hash, reason: "expired" });
      expect(await client.order(hash)).to.equal(undefined);
    });
  });
});
