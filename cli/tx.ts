import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";

import { revertError, type Decoding } from "./errors.js";

/** A contract method as typechain types it: callable to send, `staticCall` to simulate. */
export interface SendableMethod<A extends unknown[]> {
  staticCall(...args: A): Promise<unknown>;
  send(...args: A): Promise<ContractTransactionResponse>;
}

/**
 * Simulates the call from the signer (`staticCall`), and only if that passes sends it and waits for the receipt,
 * so that a call that would revert sends nothing. Reverts become {@link RevertError}s naming `label`.
 */
export async function transact<A extends unknown[]>(
  label: string,
  decoding: Decoding,
  method: SendableMethod<A>,
  ...args: A
): Promise<ContractTransactionReceipt> {
  try {
    await method.staticCall(...args);
  } catch (error) {
    throw revertError(label, error, decoding);
  }
  try {
    const response = await method.send(...args);
    const receipt = await response.wait();
    if (receipt === null) throw new Error(`${label}: no receipt`);
    return receipt;
  } catch (error) {
    throw revertError(label, error, decoding);
  }
}
