import { writeFileSync } from "node:fs";

import {
  ORDER_TYPES,
  orderDomain,
  orderHash,
  parsePositive,
  parseWhole,
  readOrderFile,
  serializeOrderFile,
  type OrderFile,
  type SignedOrderFields,
} from "#sdk";
import { flag, requiredFlag } from "../args.js";
import { requireSigner, type CommandContext, type CommandResult } from "../command.js";
import { findMarket, marketLabel } from "../connection.js";
import { InputError } from "../errors.js";
import { duration, qty, timestamp, usd, wad } from "../format.js";
import { transact } from "../tx.js";

const SIZE_DECIMALS = 18;
const DEFAULT_EXPIRY_S = 3600n;

/** `--side buy|sell`, or `long|short` (the same), → isBuy. */
export function parseSide(text: string): boolean {
  const side = text.trim().toLowerCase();
  if (side === "buy" || side === "long") return true;
  if (side === "sell" || side === "short") return false;
  throw new InputError(`--side must be buy or sell (or long or short), got '${text}'`);
}

/** `order sign`: signs an EIP-712 order with the key and writes it, with its hash, to `--out`. */
export async function signOrder(ctx: CommandContext): Promise<CommandResult> {
  const signer = requireSigner(ctx);
  const { parsed, conn } = ctx;
  const market = findMarket(conn.deployment, requiredFlag(parsed, "--market"));
  const isBuy = parseSide(requiredFlag(parsed, "--side"));
  const size = parsePositive(requiredFlag(parsed, "--size"), SIZE_DECIMALS, "--size");
  const limitPrice = parsePositive(requiredFlag(parsed, "--price"), SIZE_DECIMALS, "--price");
  const expiryText = flag(parsed, "--expiry-s");
  const lifetime = expiryText === undefined ? DEFAULT_EXPIRY_S : parseWhole(expiryText, "--expiry-s");
  if (lifetime === 0n) throw new InputError("--expiry-s must be above zero");
  const out = requiredFlag(parsed, "--out");
  const { clearingHouse } = conn.contracts;
  const [head, minNonce] = await Promise.all([
    conn.provider.getBlock("latest"),
    clearingHouse.minValidNonce(signer.address),
  ]);
  if (head === null) throw new Error("the node returned no latest block");
  const nonceText = flag(parsed, "--nonce");
  // Without --nonce: the time in milliseconds, so that two otherwise equal orders differ, and never below the
  // maker's minimum.
  const nonce = nonceText === undefined ? maxOf(minNonce, BigInt(Date.now())) : parseWhole(nonceText, "--nonce");
  if (nonce < minNonce) {
    throw new InputError(`--nonce ${nonce} is below your minimum valid nonce ${minNonce} (cancelled by cancel-below)`);
  }
  const nowS = BigInt(Math.floor(Date.now() / 1000));
  const order: SignedOrderFields = {
    maker: signer.address,
    marketId: BigInt(market.id),
    isBuy,
    size,
    limitPrice,
    expiry: orderExpiry(nowS, BigInt(head.timestamp), lifetime),
    nonce,
    reduceOnly: parsed.flags.has("--reduce-only"),
  };
  const chainId = conn.deployment.chainId;
  const address = conn.deployment.contracts.clearingHouse;
  const hash = orderHash(order, chainId, address);
  // The contract's own digest: a deployment file pointing at the wrong contract would make a useless signature.
  const onChain = await clearingHouse.hashOrder(order);
  if (onChain !== hash) throw new Error(`the clearing house hashes the order as ${onChain}, expected ${hash}`);
  const signature = await signer.signTypedData(orderDomain(chainId, address), ORDER_TYPES, order);
  const file: OrderFile = { chainId, clearingHouse: address, market: market.symbol, order, hash, signature };
  try {
    writeFileSync(out, serializeOrderFile(file));
  } catch (error) {
    throw new InputError(`cannot write ${out}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
  }
  const side = isBuy ? "buy" : "sell";
  return {
    text:
      `signed ${side} ${qty(size)} ${market.symbol} at ${usd(limitPrice)} (nonce ${nonce}, ` +
      `expires ${timestamp(order.expiry)}, in ${duration(order.expiry - nowS)}) → ${out}\nhash ${hash}`,
    json: {
      action: "sign",
      file: out,
      hash,
      market: market.symbol,
      side,
      size: wad(size),
      price: wad(limitPrice),
      nonce: nonce.toString(),
      expiry: order.expiry.toString(),
    },
  };
}

const maxOf = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/**
 * An order's expiry: `lifetime` seconds from the later of the wall clock and the latest block. The contract
 * compares with the block timestamp of the fill, which on an idle automining node can lag the clock by minutes
 * (the next block jumps to now), and on a node whose time was moved forward can lead it: counting from the later
 * of both gives the order its full lifetime in either case.
 */
export function orderExpiry(nowS: bigint, blockTimestamp: bigint, lifetime: bigint): bigint {
  return maxOf(nowS, blockTimestamp) + lifetime;
}

/** An order file, checked to be for this deployment's chain and clearing house. */
function orderFor(ctx: CommandContext, path: string): OrderFile {
  const file = readOrderFile(path);
  const { chainId, contracts } = ctx.conn.deployment;
  if (file.chainId !== chainId || file.clearingHouse !== contracts.clearingHouse) {
    throw new InputError(
      `order file ${path} is for clearing house ${file.clearingHouse} on chain ${file.chainId}, not this deployment's`,
    );
  }
  return file;
}

/** `order fill <file> [--size s]`: fills as the taker, by default what is left of the order. */
export async function fillOrder(ctx: CommandContext): Promise<CommandResult> {
  const signer = requireSigner(ctx);
  const path = ctx.parsed.args.file ?? "";
  const file = orderFor(ctx, path);
  const { clearingHouse } = ctx.conn.contracts;
  const sizeText = flag(ctx.parsed, "--size");
  let size: bigint;
  if (sizeText === undefined) {
    const [filled] = await clearingHouse.orderStatus(file.hash);
    // Nothing left: ask for the whole order and let the contract say why it refuses (OrderOverfill).
    size = filled < file.order.size ? file.order.size - filled : file.order.size;
  } else {
    size = parsePositive(sizeText, SIZE_DECIMALS, "--size");
  }
  const receipt = await transact(
    "fillOrder",
    ctx.conn.decoding,
    clearingHouse.connect(signer).fillOrder,
    file.order,
    file.signature,
    size,
  );
  const position = await clearingHouse.positionOf(signer.address, file.order.marketId);
  const market = marketLabel(ctx.conn.deployment, file.order.marketId);
  const side = file.order.isBuy ? "sold" : "bought";
  return {
    text: `${side} ${qty(size)} ${market} at ${usd(file.order.limitPrice)}; your position now ${qty(position.size)} (tx ${receipt.hash})`,
    json: {
      action: "fill",
      hash: file.hash,
      market,
      size: wad(size),
      price: wad(file.order.limitPrice),
      position: wad(position.size),
      txs: [receipt.hash],
    },
  };
}

/** `order cancel <file>`. */
export async function cancelOrder(ctx: CommandContext): Promise<CommandResult> {
  const signer = requireSigner(ctx);
  const file = orderFor(ctx, ctx.parsed.args.file ?? "");
  const { clearingHouse } = ctx.conn.contracts;
  // The contract accepts these and changes nothing: a transaction for nothing, refused here instead.
  const [filled, cancelled] = await clearingHouse.orderStatus(file.hash);
  if (cancelled) throw new InputError(`order ${file.hash} is already cancelled`);
  if (filled >= file.order.size) {
    throw new InputError(`order ${file.hash} is fully filled (${qty(filled)}): nothing left to cancel`);
  }
  const receipt = await transact(
    "cancelOrder",
    ctx.conn.decoding,
    clearingHouse.connect(signer).cancelOrder,
    file.order,
  );
  return {
    text: `cancelled order ${file.hash} (tx ${receipt.hash})`,
    json: { action: "cancel", hash: file.hash, txs: [receipt.hash] },
  };
}

/** `order cancel-below <nonce>`. */
export async function cancelBelow(ctx: CommandContext): Promise<CommandResult> {
  const signer = requireSigner(ctx);
  const nonce = parseWhole(ctx.parsed.args.nonce ?? "", "nonce");
  const { clearingHouse } = ctx.conn.contracts;
  const receipt = await transact(
    "cancelOrdersBelowNonce",
    ctx.conn.decoding,
    clearingHouse.connect(signer).cancelOrdersBelowNonce,
    nonce,
  );
  return {
    text: `cancelled every order with a nonce below ${nonce} (tx ${receipt.hash})`,
    json: { action: "cancel-below", minValidNonce: nonce.toString(), txs: [receipt.hash] },
  };
}
