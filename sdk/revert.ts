import type { Interface } from "ethers";

/** A custom error decoded from revert data. */
export interface DecodedRevert {
  name: string;
  args: unknown[];
}

/**
 * Errors that mean the work is already done or was done by someone else: another keeper won the race, or the
 * state moved on. Normal in operation; logged at info and counted as `lost_race`, never as a failure.
 */
export const RACE_ERRORS = new Set([
  "NotLiquidatable",
  "NoPosition",
  "NoDeleverageCase",
  "NotBankrupt",
  "DeleverageInProgress",
]);

/** Errors that rule out one ADL counterparty, not the case: the keeper tries the next one in score order. */
export const COUNTERPARTY_ERRORS = new Set([
  "CounterpartyWrongSide",
  "CounterpartyNotProfitable",
  "DeleverageExceedsProfit",
  // The indexer's view of the side lagged the chain's first entry bucket.
  "DeleverageOutOfOrder",
]);

const HEX_DATA = /^0x[0-9a-fA-F]{8}(?:[0-9a-fA-F]{2})*$/;

/** Revert data buried anywhere in an ethers / JSON-RPC error (providers nest it differently). */
export function findRevertData(error: unknown, depth = 0): string | undefined {
  if (depth > 6 || typeof error !== "object" || error === null) return undefined;
  const record = error as Record<string, unknown>;
  const data = record.data;
  if (typeof data === "string" && HEX_DATA.test(data)) return data;
  for (const key of ["data", "error", "info", "cause", "revert"]) {
    const found = findRevertData(record[key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Decodes a revert through the given interfaces (the clearing house's carries the library's errors). */
export function decodeRevert(error: unknown, interfaces: readonly Interface[]): DecodedRevert | undefined {
  const data = findRevertData(error);
  if (data === undefined) return undefined;
  for (const iface of interfaces) {
    try {
      const parsed = iface.parseError(data);
      if (parsed !== null) return { name: parsed.name, args: [...parsed.args] };
    } catch {
      // Not this interface's error; try the next.
    }
  }
  return { name: `unknown(${data.slice(0, 10)})`, args: [] };
}

/** One line for a log: the decoded error or the transport error's short message. */
export function describeError(error: unknown, decoded?: DecodedRevert): string {
  if (decoded !== undefined) {
    const args = decoded.args.map((a) => (typeof a === "bigint" ? a.toString() : String(a)));
    return `${decoded.name}(${args.join(", ")})`;
  }
  if (typeof error === "object" && error !== null) {
    const e = error as { shortMessage?: unknown; message?: unknown; code?: unknown };
    const text = typeof e.shortMessage === "string" ? e.shortMessage : typeof e.message === "string" ? e.message : "";
    const code = typeof e.code === "string" ? `${e.code}: ` : "";
    return `${code}${text.split("\n")[0]}`.slice(0, 300);
  }
  return String(error);
}

/** The ethers error code, if any. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** The node said the nonce was already used, or the transaction is already known. */
export function isNonceError(error: unknown): boolean {
  const code = errorCode(error);
  if (code === "NONCE_EXPIRED") return true;
  const text = describeError(error).toLowerCase();
  return (
    text.includes("nonce too low") || text.includes("nonce has already been used") || text.includes("already known")
  );
}

/**
 * The node refused a nonce above the sender's next one: a transaction of ours before it left the pool (dropped),
 * or an automining node, which queues nothing, saw them out of order. The sender reads its nonce again.
 */
export function isNonceAhead(error: unknown): boolean {
  const text = describeError(error).toLowerCase();
  return text.includes("nonce too high");
}

export function isReplacementUnderpriced(error: unknown): boolean {
  if (errorCode(error) === "REPLACEMENT_UNDERPRICED") return true;
  const text = describeError(error).toLowerCase();
  return text.includes("replacement") && text.includes("underpriced");
}
