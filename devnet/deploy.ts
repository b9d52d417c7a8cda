import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { JsonRpcProvider } from "ethers";
import type { Signer } from "ethers";

import {
  deployBackstop,
  localhost,
  type BackstopBindings,
  type DeployedIsolatedFund,
  type Deployment,
  type NetworkParams,
} from "#sdk";
import type { MockAggregatorV3 } from "../typechain-types/index.js";
import { CHAIN_ID } from "./constants.js";

/** The deployment's bindings and the mock feeds of the local parameters. */
export interface SystemContracts extends BackstopBindings {
  ethFeed: MockAggregatorV3;
  btcFeed: MockAggregatorV3;
  /** Every market's feed, by market id (more than two with {@link DeployOptions.params}). */
  feeds: MockAggregatorV3[];
  /** The isolated markets' own funds (none with the `localhost` parameters). */
  isolatedFunds: DeployedIsolatedFund[];
}

/** A system deployed on a node, with the admin signer that holds every role. */
export interface DeployedSystem {
  url: string;
  provider: JsonRpcProvider;
  /** Deployer, admin, risk manager, pauser and treasury; connected to `provider`. */
  admin: Signer;
  deployment: Deployment;
  /** Path of the deployment file. */
  path: string;
  contracts: SystemContracts;
}

export interface DeployOptions {
  /** Directory for the deployment file; a fresh temporary directory by default. */
  dir?: string;
  /** Name in the file and of the file (`<network>.json`); default "localhost". */
  network?: string;
  /** The parameters to deploy; default the `localhost` network's. */
  params?: NetworkParams;
}

/**
 * A provider for a local node that never asks for the chain id (it is fixed), polls fast and sends requests made
 * in the same tick as one JSON-RPC batch. Its result cache is off: by default ethers reuses a result for 250 ms,
 * which on an automining node returns a stale `pending` nonce for the next transaction.
 */
export function localProvider(url: string): JsonRpcProvider {
  return new JsonRpcProvider(url, CHAIN_ID, { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 });
}

/**
 * Deploys the whole system over JSON-RPC through sdk/deploy/system.ts with the `localhost` parameters (every role to
 * `signer`, both markets, a 60 s deleverage timeout, the fund) and writes the deployment file. `signer` must sign
 * transactions locally (a Wallet); unconnected, it is connected to `url`.
 */
export async function deploySystemOverRpc(
  url: string,
  signer: Signer,
  options: DeployOptions = {},
): Promise<DeployedSystem> {
  const provider = localProvider(url);
  const admin = signer.provider === null ? signer.connect(provider) : signer;
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), "keeper-deploy-")));
  const deployed = await deployBackstop(admin, options.params ?? localhost, {
    dir,
    network: options.network ?? "localhost",
  });
  if (deployed.path === undefined) throw new Error("deploy: no deployment file written");
  const [ethFeed, btcFeed] = deployed.contracts.feeds;
  return {
    url,
    provider,
    admin,
    deployment: deployed.deployment,
    path: deployed.path,
    contracts: { ...deployed.contracts, ethFeed, btcFeed },
  };
}
