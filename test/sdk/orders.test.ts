import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { AbiCoder, Wallet, concat, keccak256, toUtf8Bytes, verifyTypedData } from "ethers";

import { InputError } from "../../cli/errors.js";
import {
  ORDER_TYPES,
  orderDomain,
  orderHash,
  parseOrderFile,
  serializeOrderFile,
  type OrderFile,
  type SignedOrderFields,
} from "../../sdk/orders.js";
import { readOrderFile } from "../../sdk/files.js";

const WAD = 10n ** 18n;
const CLEARING_HOUSE = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707";
const CHAIN_ID = 31337;
const maker = new Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");

const ORDER: SignedOrderFields = {
  maker: maker.address,
  marketId: 0n,
  isBuy: true,
  size: (3n * WAD) / 2n,
  limitPrice: 2000n * WAD,
  expiry: 1_800_000_000n,
  nonce: 7n,
  reduceOnly: false,
};

/** The EIP-712 digest written out from OrderLib.sol and OpenZeppelin's EIP712, independently of ethers' encoder. */
function digestByHand(o: SignedOrderFields): string {
  const abi = AbiCoder.defaultAbiCoder();
  const typeHash = keccak256(
    toUtf8Bytes(
      "Order(address maker,uint256 marketId,bool isBuy,uint256 size,uint256 limitPrice,uint256 expiry,uint256 nonce,bool reduceOnly)",
    ),
  );
  const structHash = keccak256(
    abi.encode(
      ["bytes32", "address", "uint256", "bool", "uint256", "uint256", "uint256", "uint256", "bool"],
      [typeHash, o.maker, o.marketId, o.isBuy, o.size, o.limitPrice, o.expiry, o.nonce, o.reduceOnly],
    ),
  );
  const domainType = keccak256(
    toUtf8Bytes("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
  );
  const domainSeparator = keccak256(
    abi.encode(
      ["bytes32", "bytes32", "bytes32", "uint256", "address"],
      [domainType, keccak256(toUtf8Bytes("Backstop")), keccak256(toUtf8Bytes("1")), CHAIN_ID, CLEARING_HOUSE],
    ),
  );
  return keccak256(concat(["0x1901", domainSeparator, structHash]));
}

async function signedFile(order = ORDER): Promise<OrderFile> {
  const signature = await maker.signTypedData(orderDomain(CHAIN_ID, CLEARING_HOUSE), ORDER_TYPES, order);
  return {
    chainId: CHAIN_ID,
    clearingHouse: CLEARING_HOUSE,
    market: "ETH-USD",
    order,
    hash: orderHash(order, CHAIN_ID, CLEARING_HOUSE),
    signature,
  };
}

function refusal(json: unknown): string {
  try {
    parseOrderFile("o.json", json);
  } catch (error) {
    expect(error).to.be.instanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("expected an InputError");
}

describe("cli order file", function () {
  it("hashes the order as EIP-712 domain Backstop/1 with OrderLib's type", function () {
    expect(orderHash(ORDER, CHAIN_ID, CLEARING_HOUSE)).to.equal(digestByHand(ORDER));
    expect(orderHash({ ...ORDER, reduceOnly: true }, CHAIN_ID, CLEARING_HOUSE)).to.equal(
      digestByHand({ ...ORDER, reduceOnly: true }),
    );
  });

  it("round-trips through its JSON, with a format and version, and the signature recovers to the maker", async function () {
    const file = await signedFile();
    const json = JSON.parse(serializeOrderFile(file)) as Record<string, unknown>;
    expect(json.format).to.equal("backstop-order");
    expect(json.version).to.equal(1);
    expect((json.order as Record<string, unknown>).size).to.equal("1500000000000000000");
    expect(parseOrderFile("o.json", json)).to.deep.equal(file);
    const recovered = verifyTypedData(orderDomain(CHAIN_ID, CLEARING_HOUSE), ORDER_TYPES, ORDER, file.signature);
    expect(recovered).to.equal(maker.address);
  });

  it("refuses a malformed file with one line naming the field", async function () {
    const good = JSON.parse(serializeOrderFile(await signedFile())) as Record<string, unknown>;
    const order = good.order as Record<string, unknown>;
    const cases: [unknown, string][] = [
      [[], "not a JSON object"],
      [{ ...good, format: "other" }, 'format is not "backstop-order"'],
      [{ ...good, version: 2 }, "unsupported version 2 (this CLI reads version 1)"],
      [{ ...good, chainId: "31337" }, "chainId is not a positive integer"],
      [{ ...good, clearingHouse: "0x12" }, "clearingHouse is not an address"],
      [{ ...good, order: { ...order, maker: "bob" } }, "order.maker is not an address"],
      [{ ...good, order: { ...order, size: 1.5 } }, "order.size is not a whole number string"],
      [{ ...good, order: { ...order, size: "-1" } }, "order.size is not a whole number string"],
      [{ ...good, order: { ...order, nonce: (1n << 256n).toString() } }, "order.nonce is larger than uint256"],
      [{ ...good, order: { ...order, isBuy: "true" } }, "order.isBuy is not true or false"],
      [{ ...good, order: { ...order, size: "0" } }, "order.size is zero"],
      [{ ...good, signature: "0x123" }, "signature is not hex bytes"],
      [{ ...good, hash: "0x12" }, "hash is not a 32-byte hex string"],
      // A bigger size than signed: the hash no longer matches.
      [{ ...good, order: { ...order, size: "2000000000000000000" } }, "hash does not match the order"],
    ];
    for (const [json, message] of cases) {
      expect(refusal(json)).to.equal(
        message === "hash does not match the order"
          ? "order file o.json: hash does not match the order (the file was changed after signing)"
          : `order file o.json: ${message}`,
      );
    }
    const { order: _dropped, ...withoutOrder } = good;
    expect(refusal(withoutOrder)).to.equal("order file o.json: order is missing");
  });

  it("readOrderFile names a missing file and bad JSON", function () {
    const dir = mkdtempSync(path.join(tmpdir(), "cli-order-"));
    const missing = path.join(dir, "none.json");
    expect(() => readOrderFile(missing)).to.throw(InputError, `order file ${missing}: not found`);
    const bad = path.join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    expect(() => readOrderFile(bad)).to.throw(InputError, new RegExp(`^order file ${bad}: bad JSON \\(`));
  });
});
