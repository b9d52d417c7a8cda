import { getAddress, verifyTypedData, type Interface, type Provider } from "ethers";

import {
  ORDER_TYPES,
  decodeRevert,
  describeError,
  formatUsd,
  formatWad,
  isCallException,
  orderDomain,
  orderHash,
  type RemovalReason,
  type SignedOrderFields,
} from "#sdk";
import {
  ChainlinkOracleAdapter__factory,
  ClearingHouse__factory,
  type ClearingHouse,
} from "../typechain-types/index.js";

/**
 * An order the relay refuses: the HTTP status and the one-line reason the client is sent, and, for an order
 * already in the book, why it leaves (`invalid` unless the chain filled, cancelled or expired it).
 */
export class Rejection extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly removal: RemovalReason = "invalid",
  ) {
    super(message);
    this.name = "Rejection";
  }
}

/**
 * The taker of the margin simulation: an address nobody holds a key for and with no account, so that the
 * simulated fill always opens a new position for it and fails its margin check, which the clearing house makes
 * after the maker's (ClearingHouse._executeFill): reaching the taker's check means the maker's passed.
 */
export const SIMULATED_TAKER = getAddress("0x00000000000000000000000000000000000b0057");

const INTERFACES: readonly Interface[] = [
  ClearingHouse__factory.createInterface(),
  ChainlinkOracleAdapter__factory.createInterface(),
];

/** What the chain says of an order that passed every check at block `block`. */
export interface Checked {
  hash: string;
  /** Filled on chain at `block` (the book offers the rest). */
  filled: bigint;
}

export interface OrderCheckerOptions {
  provider: Provider;
  chainId: number;
  clearingHouse: ClearingHouse;
  clearingHouseAddress: string;
  /** The collateral token's symbol, for amounts in messages. */
  symbol: string;
}

/** Unix seconds as a date, when it is one. */
function when(seconds: bigint): string {
  return seconds < 10n ** 11n ? new Date(Number(seconds) * 1000).toISOString() : `${seconds} s`;
}

/**
 * The checks of `POST /orders` against one deployment. Each failure is a {@link Rejection} whose message names
 * what was wrong. The order must be signed by its maker over this deployment's EIP-712 domain, unexpired,
 * in a listed market, neither cancelled nor filled nor below the maker's minimum nonce, and the clearing house
 * must accept a fill of all of it from the maker's side now (margin, price band, pause, open-interest cap,
 * reduce-only) — decided by simulating `fillOrder` itself, not by a copy of its rules.
 */
export class OrderChecker {
  constructor(private readonly o: OrderCheckerOptions) {}

  /** Checks `order` against the chain at `block`, with `now` (unix seconds) as the current time. */
  async check(order: SignedOrderFields, signature: string, block: number, now: bigint): Promise<Checked> {
    const { chainId, clearingHouse, clearingHouseAddress } = this.o;
    const hash = orderHash(order, chainId, clearingHouseAddress);
    const domain = `chain ${chainId}, clearing house ${clearingHouseAddress}`;

    let signer: string;
    try {
      signer = verifyTypedData(orderDomain(chainId, clearingHouseAddress), ORDER_TYPES, order, signature);
    } catch (error) {
      throw new Rejection(422, `signature is not a valid ECDSA signature (${describeError(error)})`);
    }
    // A contract maker signs through ERC-1271, which the simulation below checks as fillOrder does.
    const isContract = signer !== order.maker && (await this.o.provider.getCode(order.maker, block)) !== "0x";
    if (signer !== order.maker && !isContract) {
      throw new Rejection(
        422,
        `signature is by ${signer}, not order.maker ${order.maker}, over this relay's domain (${domain}): ` +
          "signed with another key, for another chain or clearing house, or the order was changed",
      );
    }
    if (order.expiry <= now)
      throw new Rejection(422, `order expired at ${when(order.expiry)} (now ${when(now)})`, "expired");

    const at = { blockTag: block };
    const [marketCount, minNonce, status] = await Promise.all([
      clearingHouse.marketCount(at),
      clearingHouse.minValidNonce(order.maker, at),
      clearingHouse.orderStatus(hash, at),
    ]);
    if (order.marketId >= marketCount) {
      throw new Rejection(
        422,
        `unknown market ${order.marketId}: the clearing house lists markets 0 to ${marketCount - 1n}`,
      );
    }
    if (order.nonce < minNonce) {
      throw new Rejection(
        422,
        `nonce ${order.nonce} is below the maker's minimum valid nonce ${minNonce}: cancelled on chain`,
        "nonce",
      );
    }
    if (status.cancelled) throw new Rejection(422, "order was cancelled on chain", "cancelled");
    const filled = status.filled;
    if (filled >= order.size) throw new Rejection(422, "order is already filled on chain", "filled");

    await this.simulate(order, signature, order.size - filled, block, domain);
    return { hash, filled };
  }

  /**
   * eth_call of `fillOrder` for what is left of the order, from {@link SIMULATED_TAKER}. The fill is refused
   * either for the maker (its margin after the fill, reduce-only, price band, pause, caps: the order is refused)
   * or, once everything on the maker's side has passed, for the empty taker's margin (the order is accepted).
   */
  private async simulate(
    order: SignedOrderFields,
    signature: string,
    size: bigint,
    block: number,
    domain: string,
  ): Promise<void> {
    try {
      await this.o.clearingHouse.fillOrder.staticCall(order, signature, size, {
        from: SIMULATED_TAKER,
        blockTag: block,
      });
      return;
    } catch (error) {
      if (!isCallException(error)) {
        throw new Rejection(503, `cannot check the order against the chain: ${describeError(error)}`);
      }
      const revert = decodeRevert(error, INTERFACES);
      if (revert === undefined)
        throw new Rejection(422, `the clearing house refuses a fill of this order: ${describeError(error)}`);
      const account = typeof revert.args[0] === "string" ? getAddress(revert.args[0]) : undefined;
      const marginError = revert.name === "InsufficientMargin" || revert.name === "NegativeEquity";
      if (marginError && account === SIMULATED_TAKER) return;
      const symbol = this.o.symbol;
      if (revert.name === "InsufficientMargin" && account === order.maker) {
        const [, equity, initialMargin] = revert.args as [string, bigint, bigint];
        throw new Rejection(
          422,
          `insufficient margin: after a fill of ${formatWad(size)} the maker's equity would be ${formatUsd(equity)} ` +
            `${symbol}, below its initial margin ${formatUsd(initialMargin)} ${symbol}`,
        );
      }
      if (revert.name === "NegativeEquity" && account === order.maker) {
        const [, equity] = revert.args as [string, bigint];
        throw new Rejection(
          422,
          `insufficient margin: after the fill the maker's equity would be ${formatUsd(equity)} ${symbol}`,
        );
      }
      if (revert.name === "InvalidSignature") {
        throw new Rejection(
          422,
          `signature is not valid for order.maker ${order.maker} (ERC-1271) over this relay's domain (${domain})`,
        );
      }
      if (revert.name === "PriceOutsideBand") {
        const [price, oraclePrice, band] = revert.args as [bigint, bigint, bigint];
        throw new Rejection(
          422,
          `limit price ${formatUsd(price)} is outside the band of ±${formatWad(band * 100n)} % around the oracle ` +
            `price ${formatUsd(oraclePrice)}: no fill can use it now`,
        );
      }
      throw new Rejection(422, `the clearing house refuses a fill of this order now: ${describeError(error, revert)}`);
    }
  }
}
