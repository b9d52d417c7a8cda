import { TypedDataEncoder, getAddress, isAddress, isHexString } from "ethers";

import { InputError } from "./errors.js";

/** Tells an order file from any other JSON; bumped with `ORDER_FILE_VERSION` when the layout changes. */
export const ORDER_FILE_FORMAT = "backstop-order";
export const ORDER_FILE_VERSION = 1;

/** The EIP-712 type of contracts/libraries/OrderLib.sol. */
export const ORDER_TYPES = {
  Order: [
    { name: "maker", type: "address" },
    { name: "marketId", type: "uint256" },
    { name: "isBuy", type: "bool" },
    { name: "size", type: "uint256" },
    { name: "limitPrice", type: "uint256" },
    { name: "expiry", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "reduceOnly", type: "bool" },
  ],
};

/** An order as the clearing house takes it; size and price in 18 decimals, expiry in unix seconds. */
export interface SignedOrderFields {
  maker: string;
  marketId: bigint;
  isBuy: boolean;
  size: bigint;
  limitPrice: bigint;
  expiry: bigint;
  nonce: bigint;
  reduceOnly: boolean;
}

/** An order file: the order, where it is valid, its EIP-712 digest and the maker's signature. */
export interface OrderFile {
  chainId: number;
  clearingHouse: string;
  /** The market's symbol, for people reading the file; the order's `marketId` is what counts. */
  market: string;
  order: SignedOrderFields;
  hash: string;
  signature: string;
}

/** The EIP-712 domain of ClearingHouse (`EIP712("Backstop", "1")`). */
export function orderDomain(chainId: number, clearingHouse: string) {
  return { name: "Backstop", version: "1", chainId, verifyingContract: clearingHouse };
}

/** The digest a maker signs and the clearing house's `hashOrder` returns. */
export function orderHash(order: SignedOrderFields, chainId: number, clearingHouse: string): string {
  return TypedDataEncoder.hash(orderDomain(chainId, clearingHouse), ORDER_TYPES, order);
}

/** An order as JSON: integers as decimal strings, so that no reader (JavaScript's numbers) loses precision. */
export interface OrderJson {
  maker: string;
  marketId: string;
  isBuy: boolean;
  size: string;
  limitPrice: string;
  expiry: string;
  nonce: string;
  reduceOnly: boolean;
}

/** The JSON form of an order, as order files and the relay carry it. */
export function orderToJson(o: SignedOrderFields): OrderJson {
  return {
    maker: o.maker,
    marketId: o.marketId.toString(),
    isBuy: o.isBuy,
    size: o.size.toString(),
    limitPrice: o.limitPrice.toString(),
    expiry: o.expiry.toString(),
    nonce: o.nonce.toString(),
    reduceOnly: o.reduceOnly,
  };
}

/** The JSON text of an order file (integers as decimal strings, so that no reader loses precision). */
export function serializeOrderFile(file: OrderFile): string {
  const json = {
    format: ORDER_FILE_FORMAT,
    version: ORDER_FILE_VERSION,
    chainId: file.chainId,
    clearingHouse: file.clearingHouse,
    market: file.market,
    order: orderToJson(file.order),
    hash: file.hash,
    signature: file.signature,
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

const UINT = /^\d+$/;
const MAX_UINT256 = (1n << 256n) - 1n;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Validates the JSON form of an order ({@link OrderJson}); `fail` throws with what was wrong ("order.size is zero").
 * Size and limit price must be above zero, as no clearing house fill could use them otherwise.
 */
export function parseOrderJson(order: unknown, fail: (what: string) => never): SignedOrderFields {
  if (!isRecord(order)) return fail("order is missing");
  const uint = (name: string): bigint => {
    const value = order[name];
    if (typeof value !== "string" || !UINT.test(value)) return fail(`order.${name} is not a whole number string`);
    const n = BigInt(value);
    if (n > MAX_UINT256) return fail(`order.${name} is larger than uint256`);
    return n;
  };
  const bool = (name: string): boolean => {
    const value = order[name];
    if (typeof value !== "boolean") return fail(`order.${name} is not true or false`);
    return value;
  };
  if (typeof order.maker !== "string" || !isAddress(order.maker)) return fail("order.maker is not an address");
  const fields: SignedOrderFields = {
    maker: getAddress(order.maker),
    marketId: uint("marketId"),
    isBuy: bool("isBuy"),
    size: uint("size"),
    limitPrice: uint("limitPrice"),
    expiry: uint("expiry"),
    nonce: uint("nonce"),
    reduceOnly: bool("reduceOnly"),
  };
  if (fields.size === 0n) return fail("order.size is zero");
  if (fields.limitPrice === 0n) return fail("order.limitPrice is zero");
  return fields;
}

/** Whether `value` is a `0x` string of whole, non-empty bytes (a signature's shape; not whether it verifies). */
export function isSignatureHex(value: unknown): value is string {
  return typeof value === "string" && isHexString(value) && value.length > 2 && value.length % 2 === 0;
}

/** Validates parsed JSON as an order file; `label` (the path) starts every message. */
export function parseOrderFile(label: string, json: unknown): OrderFile {
  const fail = (what: string): never => {
    throw new InputError(`order file ${label}: ${what}`);
  };
  if (!isRecord(json)) return fail("not a JSON object");
  if (json.format !== ORDER_FILE_FORMAT) return fail(`format is not "${ORDER_FILE_FORMAT}"`);
  if (json.version !== ORDER_FILE_VERSION) {
    return fail(`unsupported version ${JSON.stringify(json.version)} (this CLI reads version ${ORDER_FILE_VERSION})`);
  }
  const { chainId, clearingHouse, market, order, hash, signature } = json;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) {
    return fail("chainId is not a positive integer");
  }
  if (typeof clearingHouse !== "string" || !isAddress(clearingHouse)) return fail("clearingHouse is not an address");
  if (typeof market !== "string") return fail("market is missing");
  const fields = parseOrderJson(order, fail);
  if (!isSignatureHex(signature)) return fail("signature is not hex bytes");
  if (typeof hash !== "string" || !isHexString(hash, 32)) return fail("hash is not a 32-byte hex string");
  const address = getAddress(clearingHouse);
  if (orderHash(fields, chainId, address) !== hash.toLowerCase()) {
    return fail("hash does not match the order (the file was changed after signing)");
  }
  return { chainId, clearingHouse: address, market, order: fields, hash: hash.toLowerCase(), signature };
}
