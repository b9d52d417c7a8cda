import { LOCAL_CHAIN_ID, hardhat, localhost } from "#sdk";
import { InputError } from "./errors.js";

/** The deployment networks whose collateral is the freely mintable mock (sdk/deploy/networks/local.ts). */
export const LOCAL_NETWORKS: readonly string[] = [hardhat.name, localhost.name];

/**
 * Refuses `command` unless the chain is local: chain id 31337 and a deployment made for `hardhat` or
 * `localhost`. Both must hold, so that a file mislabelled either way cannot turn a real chain into a faucet.
 */
export function requireLocalChain(command: string, chainId: number, network: string): void {
  if (chainId === LOCAL_CHAIN_ID && LOCAL_NETWORKS.includes(network)) return;
  throw new InputError(
    `'${command}' only runs on a local network (chain ${LOCAL_CHAIN_ID}, deployment ${LOCAL_NETWORKS.join(" or ")}); ` +
      `this is chain ${chainId}, deployment ${network}`,
  );
}
