import type { NetworkParams } from "../params.js";
import { hardhat, localhost } from "./local.js";
import { sepolia } from "./sepolia.js";

const NETWORKS: Record<string, NetworkParams> = { hardhat, localhost, sepolia };

/**
 * Hardhat calls its in-process network `default` (and `node` the one `hardhat node` serves in-process); both
 * deploy with the in-process parameters.
 */
const ALIASES: Record<string, string> = { default: "hardhat", node: "hardhat" };

/** The parameters of a Hardhat network by its name in hardhat.config.ts; a clear error for an unknown one. */
export function networkParams(hardhatNetwork: string): NetworkParams {
  const name = ALIASES[hardhatNetwork] ?? hardhatNetwork;
  const params = NETWORKS[name];
  if (params === undefined) {
    throw new Error(
      `no deployment parameters for network '${hardhatNetwork}' (known: ${Object.keys(NETWORKS).join(", ")}); ` +
        "add sdk/deploy/networks/<name>.ts and list it in sdk/deploy/networks/index.ts",
    );
  }
  return params;
}
