import { expect } from "chai";
import { Wallet } from "ethers";

import { InputError } from "../../sdk/errors.js";
import { ORDER_TYPES, orderDomain, orderHash, type SignedOrderFields } from "../../sdk/orders.js";
import {
  RelayClient,
  RelayError,
  bookEntryToJson,
  parseBook,
  parsePostOrderBody,
  parseRelayEvent,
  postOrderBody,
  type BookEntry,
} from "../../sdk/relay.js";

const WAD = 10n ** 18n;
const CLEARING_HOUSE = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707";
const CHAIN_ID = 31337;
const maker = new Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");

// Size and nonce above 2^53: a JSON number would lose them, the wire's decimal strings must not.
const ORDER: SignedOrderFields = {
  maker: maker.address,
  marketId: 1n,
  isBuy: false,
  size: 9_007_199_254_740_993n,
  limitPrice: 61_000n * WAD,
  expiry: 1_800_000_000n,
  nonce: 2n ** 200n + 1n,
  reduceOnly: true,
};

async function signature(order: SignedOrderFields): Promise<string> {
  return maker.signTypedData(orderDomain(CHAIN_ID, CLEARING_HOUSE), ORDER_TYPES, order);
}

function entry(sig: string): BookEntry {
  return {
    hash: orderHash(ORDER, CHAIN_ID, CLEARING_HOUSE),
    order: ORDER,
    signature: sig,
    filled: 3n,
    remaining: ORDER.size - 3n,
    postedAt: 1_700_000_000_123,
  };
}

/** A fetch that answers every request with `status` and `body`, and records what it was asked. */
function fakeFetch(status: number, body: string, calls: { url: string; init?: RequestInit }[]): typeof fetch {
  return (input, init) => {
    calls.push({ url: input instanceof Request ? input.url : input.toString(), init });
    return Promise.resolve(new Response(body, { status, headers: { "content-type": "application/json" } }));
  };
}

describe("sdk relay API", function () {
  describe("POST /orders body", function () {
    it("round-trips an order through JSON text with integers above 2^53 intact", async function () {
      const sig = await signature(ORDER);
      const text = JSON.stringify(postOrderBody(ORDER, sig));
      expect(text).to.include('"size":"9007199254740993"');
      const parsed = parsePostOrderBody(JSON.parse(text));
      expect(parsed).to.deep.equal({ order: ORDER, signature: sig });
    });

    const bad: [string, unknown, string][] = [
      ["an array", [], "body is not a JSON object"],
      ["no order", { signature: "0x12" }, "order is missing"],
      [
        "an unknown field",
        { order: {}, signature: "0x12", hash: "0x" },
        "unknown field hash (the body is {order, signature})",
      ],
      [
        "a JSON number for size",
        { order: { ...postOrderBody(ORDER, "0x").order, size: 1 } },
        "order.size is not a whole number string",
      ],
      ["no signature", { order: postOrderBody(ORDER, "0x").order }, "signature is not hex bytes"],
      [
        "an odd-length signature",
        { order: postOrderBody(ORDER, "0x").order, signature: "0x123" },
        "signature is not hex bytes",
      ],
    ];
    for (const [what, body, reason] of bad) {
      it(`refuses ${what} with a one-line reason`, function () {
        let thrown: unknown;
        try {
          parsePostOrderBody(body);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).to.be.instanceOf(InputError);
        expect((thrown as Error).message).to.include(reason);
        expect((thrown as Error).message).to.not.include("\n");
      });
    }

    it("names the field that is wrong", function () {
      const order = { ...postOrderBody(ORDER, "0x12").order, size: "0" };
      expect(() => parsePostOrderBody({ order, signature: "0x12" })).to.throw(InputError, "order.size is zero");
      const maker = { ...order, size: "1", maker: "0x1234" };
      expect(() => parsePostOrderBody({ order: maker, signature: "0x12" })).to.throw(
        InputError,
        "order.maker is not an address",
      );
    });
  });

  describe("book and events", function () {
    it("parses a book back to the entries it was built from", async function () {
      const e = entry(await signature(ORDER));
      const json = JSON.parse(JSON.stringify({ marketId: "1", bids: [], asks: [bookEntryToJson(e)] })) as unknown;
      expect(parseBook(json)).to.deep.equal({ marketId: 1n, bids: [], asks: [e] });
    });

    it("parses added, removed and filled events and ignores the subscription notice", async function () {
      const e = entry(await signature(ORDER));
      const added = JSON.parse(JSON.stringify({ type: "added", hash: e.hash, entry: bookEntryToJson(e) })) as unknown;
      expect(parseRelayEvent(added)).to.deep.equal({ type: "added", hash: e.hash, entry: e });
      expect(parseRelayEvent({ type: "removed", hash: e.hash, reason: "cancelled" })).to.deep.equal({
        type: "removed",
        hash: e.hash,
        reason: "cancelled",
      });
      expect(parseRelayEvent({ type: "filled", hash: e.hash, filled: "5", remaining: "7" })).to.deep.equal({
        type: "filled",
        hash: e.hash,
        filled: 5n,
        remaining: 7n,
      });
      expect(parseRelayEvent({ type: "subscribed", marketId: "1" })).to.equal(undefined);
      expect(() => parseRelayEvent({ type: "removed", hash: e.hash, reason: "bored" })).to.throw(
        InputError,
        "unknown removal reason bored",
      );
    });
  });

  describe("RelayClient", function () {
    it("posts {order, signature} as JSON to /orders and returns the hash", async function () {
      const calls: { url: string; init?: RequestInit }[] = [];
      const sig = await signature(ORDER);
      const hash = orderHash(ORDER, CHAIN_ID, CLEARING_HOUSE);
      const client = new RelayClient("http://relay.test:8600/", {
        fetch: fakeFetch(201, JSON.stringify({ hash }), calls),
      });
      expect(await client.postOrder(ORDER, sig)).to.equal(hash);
      expect(calls).to.have.length(1);
      expect(calls[0].url).to.equal("http://relay.test:8600/orders");
      expect(calls[0].init?.method).to.equal("POST");
      expect(parsePostOrderBody(JSON.parse(calls[0].init?.body as string))).to.deep.equal({
        order: ORDER,
        signature: sig,
      });
    });

    it("throws RelayError with the status and the relay's one-line reason", async function () {
      const client = new RelayClient("http://relay.test", {
        fetch: fakeFetch(400, JSON.stringify({ error: "order expired at 2020-01-01T00:00:00Z" }), []),
      });
      let thrown: unknown;
      try {
        await client.postOrder(ORDER, "0x12");
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(RelayError);
      expect((thrown as RelayError).status).to.equal(400);
      expect((thrown as RelayError).reason).to.equal("order expired at 2020-01-01T00:00:00Z");
    });

    it("asks for a market's book and one order by hash; an order the relay does not hold is undefined", async function () {
      const calls: { url: string; init?: RequestInit }[] = [];
      const e = entry(await signature(ORDER));
      const book = new RelayClient("http://relay.test", {
        fetch: fakeFetch(200, JSON.stringify({ marketId: "1", bids: [bookEntryToJson(e)], asks: [] }), calls),
      });
      expect((await book.book(1n)).bids).to.deep.equal([e]);
      expect(calls[0].url).to.equal("http://relay.test/orders?market=1");
      const missing = new RelayClient("http://relay.test", {
        fetch: fakeFetch(404, JSON.stringify({ error: "no order 0x12 in the book" }), calls),
      });
      expect(await missing.order(e.hash)).to.equal(undefined);
      expect(calls[1].url).to.equal(`http://relay.test/orders/${e.hash}`);
    });
  });
});
