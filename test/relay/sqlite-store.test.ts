import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import type { BookEntry, SignedOrderFields } from "#sdk";
import { SqliteOrderStore } from "../../relay/sqlite-store.js";
import { sortableUint } from "../../relay/store.js";

const WAD = 10n ** 18n;
const MAKER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

let serial = 0;

/** An entry of `maker` with a made-up hash; the store checks no signature, the relay does before inserting. */
function entry(fields: Partial<SignedOrderFields>, filled = 0n): BookEntry {
  serial += 1;
  const order: SignedOrderFields = {
    maker: MAKER,
    marketId: 0n,
    isBuy: true,
    size: 2n * WAD,
    limitPrice: 2000n * WAD,
    expiry: 1_800_000_000n,
    nonce: BigInt(serial),
    reduceOnly: false,
    ...fields,
  };
  return {
    hash: `0x${serial.toString(16).padStart(64, "0")}`,
    order,
    signature: `0x${"11".repeat(65)}`,
    filled,
    remaining: order.size - filled,
    postedAt: 1_700_000_000_000 + serial,
  };
}

describe("relay SQLite order store", function () {
  let store: SqliteOrderStore;

  beforeEach(function () {
    store = new SqliteOrderStore(":memory:");
  });

  afterEach(async function () {
    await store.close();
  });

  it("sorts uint256 text in numeric order, up to 2^256 - 1", function () {
    const values = [0n, 9n, 10n, 2000n * WAD, 2n ** 255n, 2n ** 256n - 1n];
    const texts = values.map(sortableUint);
    expect([...texts].sort()).to.deep.equal(texts);
    expect(sortableUint(2n ** 256n - 1n)).to.have.length(78);
  });

  it("returns an entry as inserted, with integers above 64 bits intact", async function () {
    const e = entry({ size: 2n ** 200n, limitPrice: 2n ** 100n, expiry: 2n ** 70n, nonce: 2n ** 255n }, 5n);
    await store.insert(e);
    expect(await store.get(e.hash)).to.deep.equal(e);
    expect(await store.get(`0x${"ff".repeat(32)}`)).to.equal(undefined);
  });

  it("refuses a second insert of one hash", async function () {
    const e = entry({});
    await store.insert(e);
    let thrown: unknown;
    try {
      await store.insert(e);
    } catch (error) {
      thrown = error;
    }
    expect(String(thrown)).to.include("UNIQUE");
    expect(await store.count()).to.equal(1);
  });

  it("serves each side best first (bids high to low, asks low to high, older first at one price), per market, to a depth", async function () {
    const bid1990 = entry({ limitPrice: 1990n * WAD });
    const bid2010 = entry({ limitPrice: 2010n * WAD });
    const bid2000old = entry({ limitPrice: 2000n * WAD });
    const bid2000new = entry({ limitPrice: 2000n * WAD });
    // 10,000 sorts below 9,000 as plain text; the padded column must not.
    const ask10000 = entry({ isBuy: false, limitPrice: 10_000n * WAD });
    const ask9000 = entry({ isBuy: false, limitPrice: 9000n * WAD });
    const otherMarket = entry({ marketId: 1n, limitPrice: 3000n * WAD });
    for (const e of [bid2000new, bid1990, ask10000, bid2010, otherMarket, bid2000old, ask9000]) await store.insert(e);
    // Inserted out of order; posting time (old before new) decides between the two at 2,000.
    const hashes = (list: BookEntry[]) => list.map((e) => e.hash);
    expect(hashes(await store.side(0n, true, 10))).to.deep.equal(hashes([bid2010, bid2000old, bid2000new, bid1990]));
    expect(hashes(await store.side(0n, false, 10))).to.deep.equal([ask9000.hash, ask10000.hash]);
    expect(hashes(await store.side(0n, true, 2))).to.have.length(2);
    expect(hashes(await store.side(1n, true, 10))).to.deep.equal([otherMarket.hash]);
  });

  it("finds a maker's orders and counts them; finds orders expired before a time", async function () {
    const a = entry({ expiry: 100n });
    const b = entry({ expiry: 200n });
    const c = entry({ maker: OTHER, expiry: 150n });
    for (const e of [a, b, c]) await store.insert(e);
    expect((await store.byMaker(MAKER)).map((e) => e.hash)).to.deep.equal([a.hash, b.hash]);
    expect(await store.countByMaker(MAKER)).to.equal(2);
    expect(await store.countByMaker(OTHER)).to.equal(1);
    // Expired means expiry < time: the clearing house still fills at block.timestamp == expiry.
    expect((await store.expiredAt(150n)).map((e) => e.hash)).to.deep.equal([a.hash]);
    expect((await store.expiredAt(151n)).map((e) => e.hash)).to.deep.equal([a.hash, c.hash]);
  });

  it("records fills, removes once, lists every order oldest first, and keeps one cursor", async function () {
    const e = entry({});
    const later = entry({ marketId: 1n });
    await store.insert(later);
    await store.insert(e);
    expect((await store.all()).map((x) => x.hash)).to.deep.equal([e.hash, later.hash]);
    await store.setFilled(e.hash, WAD / 2n);
    expect(await store.get(e.hash)).to.include({ filled: WAD / 2n, remaining: (3n * WAD) / 2n });
    expect(await store.remove(e.hash)).to.equal(true);
    expect(await store.remove(e.hash)).to.equal(false);
    expect(await store.count()).to.equal(1);
    expect(await store.cursor()).to.equal(undefined);
    await store.setCursor({ block: 41, hash: "0x41" });
    await store.setCursor({ block: 42, hash: "0x42" });
    expect(await store.cursor()).to.deep.equal({ block: 42, hash: "0x42" });
  });

  it("persists orders, fills and the cursor across a reopen of a file", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "relay-store-"));
    const file = path.join(dir, "nested", "orders.sqlite");
    const first = new SqliteOrderStore(file);
    const kept = entry({ isBuy: false });
    const gone = entry({});
    await first.insert(kept);
    await first.insert(gone);
    await first.setFilled(kept.hash, 7n);
    await first.remove(gone.hash);
    await first.setCursor({ block: 1234, hash: `0x${"12".repeat(32)}` });
    await first.close();

    const second = new SqliteOrderStore(file);
    try {
      expect(await second.get(kept.hash)).to.deep.equal({ ...kept, filled: 7n, remaining: kept.order.size - 7n });
      expect(await second.get(gone.hash)).to.equal(undefined);
      expect(await second.count()).to.equal(1);
      expect(await second.cursor()).to.deep.equal({ block: 1234, hash: `0x${"12".repeat(32)}` });
    } finally {
      await second.close();
    }
  });
});
