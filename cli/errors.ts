import type { Interface } from "ethers";

import { decodeRevert, describeError, type DecodedRevert } from "#sdk";
import { formatToken } from "./commands/token.js";
import { money, percent, qty, timestamp, usd } from "./format.js";

/** What a revert is decoded and shown with: every ABI whose custom errors a call may revert with, and the
 * collateral token's symbol for the amounts in them. */
export interface Decoding {
  interfaces: readonly Interface[];
  symbol: string;
  /** The collateral token's decimals, for the token-unit amounts of the layers' errors; without, shown raw. */
  decimals?: number;
}

/** Bad input from the user: a wrong argument, flag, file or number (the SDK's class, which its parsers throw). */
export { InputError } from "#sdk";

/** A transaction or call the chain refused; `decoded` is the custom error, when the ABI knows it. */
export class RevertError extends Error {
  constructor(
    message: string,
    readonly decoded: DecodedRevert | undefined,
  ) {
    super(message);
    this.name = "RevertError";
  }
}

type Unit = "amount" | "token" | "size" | "price" | "ratio" | "time";

/**
 * The unit of each 18-decimal or time parameter of the clearing house's and the fund's custom errors, by error
 * and parameter name (a name alone is ambiguous: `requested` is an amount in one error, a size or a nonce in
 * others). `token` marks the default layers' amounts, which are in token decimals. Parameters not listed
 * (addresses, ids, nonces) are shown as they are.
 */
const ERROR_UNITS: Record<string, Record<string, Unit>> = {
  InsufficientCollateral: { available: "amount", requested: "amount" },
  InsufficientMargin: { equity: "amount", initialMargin: "amount" },
  NegativeEquity: { equity: "amount" },
  InsufficientProtocolFees: { available: "amount", requested: "amount" },
  NotLiquidatable: { equity: "amount", maintenanceMargin: "amount" },
  NotBankrupt: { equity: "amount" },
  CounterpartyNotProfitable: { unrealizedPnl: "amount" },
  DeleverageExceedsProfit: { loss: "amount", profit: "amount" },
  OrderOverfill: { filled: "size", requested: "size", size: "size" },
  ReduceOnlyViolated: { positionSize: "size", sizeDelta: "size" },
  CounterpartyWrongSide: { size: "size" },
  OpenInterestCapExceeded: { openInterest: "size", cap: "size" },
  PriceOutsideBand: { price: "price", oraclePrice: "price", band: "ratio" },
  OrderExpired: { expiry: "time" },
  CooldownNotElapsed: { readyAt: "time" },
  DeleverageTimeoutNotReached: { readyAt: "time" },
  OracleStale: { updatedAt: "time" },
  ContributionTooSmall: { amount: "token", required: "token" },
  NoticeAlreadyGiven: { leaveAt: "time" },
  NoticeNotElapsed: { leaveAt: "time" },
  NoticeLapsed: { closedAt: "time" },
  CoolingOff: { defaultAt: "time", until: "time" },
  TransferAmountMismatch: { expected: "token", received: "token" },
};

function formatArg(value: unknown, unit: Unit | undefined, symbol: string, decimals: number | undefined): string {
  if (typeof value === "bigint") {
    switch (unit) {
      case "amount":
        return money(value, symbol);
      case "token":
        return decimals === undefined ? value.toString() : formatToken(value, { decimals, symbol });
      case "size":
        return qty(value);
      case "price":
        return usd(value);
      case "ratio":
        return percent(value);
      case "time":
        return timestamp(value);
      default:
        return value.toString();
    }
  }
  if (typeof value === "string") return value;
  return String(value);
}

/**
 * `Name(arg=value, …)`, with the parameter names from whichever interface declares the error, amounts in units
 * with the token's symbol, sizes and prices in units, times as dates.
 */
export function formatDecoded(decoded: DecodedRevert, decoding: Decoding): string {
  const units = ERROR_UNITS[decoded.name] ?? {};
  const show = (value: unknown, name: string): string =>
    formatArg(value, units[name], decoding.symbol, decoding.decimals);
  for (const iface of decoding.interfaces) {
    let fragment;
    try {
      fragment = iface.getError(decoded.name);
    } catch {
      // Not an error name at all: decodeRevert's `unknown(0x…)` for a selector no ABI knows.
      break;
    }
    if (fragment === null || fragment.inputs.length !== decoded.args.length) continue;
    const args = fragment.inputs.map((input, i) => `${input.name || `arg${i}`}=${show(decoded.args[i], input.name)}`);
    return `${decoded.name}(${args.join(", ")})`;
  }
  if (decoded.args.length === 0 && decoded.name.endsWith(")")) return decoded.name;
  return `${decoded.name}(${decoded.args.map((a) => show(a, "")).join(", ")})`;
}

/**
 * What `action` failed with: the decoded custom error when there is revert data, the provider's one-line
 * message otherwise.
 */
export function revertError(action: string, error: unknown, decoding: Decoding): RevertError {
  let decoded: DecodedRevert | undefined;
  try {
    decoded = decodeRevert(error, decoding.interfaces);
  } catch {
    decoded = undefined;
  }
  const what = decoded === undefined ? describeError(error) : formatDecoded(decoded, decoding);
  return new RevertError(`${action} reverted: ${what}`, decoded);
}
