import type { Interface } from "ethers";

import { decodeRevert, describeError, type DecodedRevert } from "#sdk";

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

function formatArg(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return value;
  return String(value);
}

/** `Name(arg=value, …)`, with the parameter names from whichever interface declares the error. */
export function formatDecoded(decoded: DecodedRevert, interfaces: readonly Interface[]): string {
  for (const iface of interfaces) {
    let fragment;
    try {
      fragment = iface.getError(decoded.name);
    } catch {
      // Not an error name at all: decodeRevert's `unknown(0x…)` for a selector no ABI knows.
      break;
    }
    if (fragment === null || fragment.inputs.length !== decoded.args.length) continue;
    const args = fragment.inputs.map((input, i) => `${input.name || `arg${i}`}=${formatArg(decoded.args[i])}`);
    return `${decoded.name}(${args.join(", ")})`;
  }
  if (decoded.args.length === 0 && decoded.name.endsWith(")")) return decoded.name;
  return `${decoded.name}(${decoded.args.map(formatArg).join(", ")})`;
}

/**
 * What `action` failed with: the decoded custom error when there is revert data, the provider's one-line
 * message otherwise.
 */
export function revertError(action: string, error: unknown, interfaces: readonly Interface[]): RevertError {
  let decoded: DecodedRevert | undefined;
  try {
    decoded = decodeRevert(error, interfaces);
  } catch {
    decoded = undefined;
  }
  const what = decoded === undefined ? describeError(error) : formatDecoded(decoded, interfaces);
  return new RevertError(`${action} reverted: ${what}`, decoded);
}
