import path from "node:path";
import { Wallet, getAddress, type Interface, type JsonRpcProvider } from "ethers";

import {
  BackstopLens__factory,
  ChainlinkOracleAdapter__factory,
  ClearingHouse__factory,
  InsuranceFund__factory,
  MockERC20__factory,
  type BackstopLens,
  type ChainlinkOracleAdapter,
  type ClearingHouse,
  type InsuranceFund,
  type MockERC20,
} from "../typechain-types/index.js";
import { ConfigError, checkKeystore, parsePrivateKeys, parseRpcUrl } from "../keeper/src/config.js";
import { readDeployment, type DeployedMarket, type Deployment } from "../keeper/src/deployment.js";
import { describeError } from "../keeper/src/errors.js";
import { createMetrics } from "../keeper/src/metrics.js";
import { createProvider } from "../keeper/src/rpc.js";
import { Secret } from "../keeper/src/secret.js";
import { decryptKeystore } from "../keeper/src/signers.js";
import { flag, type ParsedArgs } from "./args.js";
import { InputError } from "./errors.js";

/** The deployment's contracts, connected read-only (or to the signer, when there is one). */
export interface Contracts {
  clearingHouse: ClearingHouse;
  lens: BackstopLens;
  fund: InsuranceFund;
  oracle: ChainlinkOracleAdapter;
  /** Any ERC-20: only its standard functions are called. */
  token: MockERC20;
}

export interface Connection {
  provider: JsonRpcProvider;
  deployment: Deployment;
  contracts: Contracts;
  /** Every ABI whose custom errors a call may revert with. */
  interfaces: Interface[];
}

/** Where the deployment file is: `--deployment <file>`, or `--network <name>` for `deployments/<name>.json`. */
export function deploymentPath(parsed: ParsedArgs, cwd: string): string {
  const file = flag(parsed, "--deployment");
  const network = flag(parsed, "--network");
  if (file !== undefined && network !== undefined) throw new InputError("give --deployment or --network, not both");
  if (file !== undefined) return file;
  if (network === undefined) throw new InputError("no deployment: give --deployment <file> or --network <name>");
  if (!/^[A-Za-z0-9_-]+$/.test(network)) throw new InputError(`--network is not a network name: '${network}'`);
  return path.join(cwd, "deployments", `${network}.json`);
}

/** The RPC URL from `--rpc` or BACKSTOP_RPC_URL. */
export function rpcUrl(parsed: ParsedArgs, env: NodeJS.ProcessEnv): string {
  const raw = flag(parsed, "--rpc") ?? (env.BACKSTOP_RPC_URL || undefined);
  if (raw === undefined) throw new InputError("no RPC URL: give --rpc <url> or set BACKSTOP_RPC_URL");
  try {
    return parseRpcUrl(raw);
  } catch (error) {
    throw new InputError((error as ConfigError).message);
  }
}

/** Reads the deployment and connects to the node, checking that the node runs the deployment's chain. */
export async function connect(parsed: ParsedArgs, env: NodeJS.ProcessEnv, cwd: string): Promise<Connection> {
  const url = rpcUrl(parsed, env);
  let deployment: Deployment;
  try {
    deployment = readDeployment(deploymentPath(parsed, cwd));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError((error as Error).message);
  }
  const provider = createProvider(url, { chainId: deployment.chainId, metrics: createMetrics() });
  let chainId: bigint;
  try {
    chainId = BigInt((await provider.send("eth_chainId", [])) as string);
  } catch (error) {
    provider.destroy();
    throw new InputError(`cannot reach the node at ${url}: ${describeError(error)}`);
  }
  if (chainId !== BigInt(deployment.chainId)) {
    provider.destroy();
    throw new InputError(`the node at ${url} runs chain ${chainId}, the deployment is for chain ${deployment.chainId}`);
  }
  const c = deployment.contracts;
  const contracts: Contracts = {
    clearingHouse: ClearingHouse__factory.connect(c.clearingHouse, provider),
    lens: BackstopLens__factory.connect(c.lens, provider),
    fund: InsuranceFund__factory.connect(c.insuranceFund, provider),
    oracle: ChainlinkOracleAdapter__factory.connect(c.oracleAdapter, provider),
    token: MockERC20__factory.connect(c.collateralToken, provider),
  };
  const interfaces = [
    contracts.clearingHouse.interface,
    contracts.fund.interface,
    contracts.oracle.interface,
    contracts.token.interface,
  ];
  return { provider, deployment, contracts, interfaces };
}

/**
 * The signing key: BACKSTOP_PRIVATE_KEY, or `--keystore <file>` with the password in BACKSTOP_KEYSTORE_PASSWORD.
 * `undefined` when neither is given. Validation and decryption are the keeper's (keeper/src/config.ts).
 */
export async function loadKey(
  parsed: ParsedArgs,
  env: NodeJS.ProcessEnv,
  provider: JsonRpcProvider,
): Promise<Wallet | undefined> {
  const keystore = flag(parsed, "--keystore");
  const raw = env.BACKSTOP_PRIVATE_KEY?.trim();
  try {
    if (keystore !== undefined && raw) throw new InputError("give either --keystore or BACKSTOP_PRIVATE_KEY, not both");
    if (keystore !== undefined) {
      checkKeystore(keystore);
      const password = env.BACKSTOP_KEYSTORE_PASSWORD;
      if (!password) throw new InputError("--keystore needs the password in BACKSTOP_KEYSTORE_PASSWORD");
      return await decryptKeystore(keystore, new Secret(password), provider, "BACKSTOP_KEYSTORE_PASSWORD");
    }
    if (!raw) return undefined;
    const keys = parsePrivateKeys(raw, "BACKSTOP_PRIVATE_KEY").reveal();
    if (keys.length !== 1) throw new InputError("BACKSTOP_PRIVATE_KEY holds more than one key");
    return new Wallet(keys[0], provider);
  } catch (error) {
    if (error instanceof ConfigError) throw new InputError(error.message);
    throw error;
  }
}

/** The account a read-only command is about: the address given, else the key's. */
export function targetAccount(given: string | undefined, signer: Wallet | undefined): string {
  if (given !== undefined) {
    try {
      return getAddress(given);
    } catch {
      throw new InputError(`not an address: '${given}'`);
    }
  }
  if (signer === undefined) {
    throw new InputError("no account: give an address, or a key through BACKSTOP_PRIVATE_KEY or --keystore");
  }
  return signer.address;
}

/** A market of the deployment by symbol (any case) or id. */
export function findMarket(deployment: Deployment, name: string): DeployedMarket {
  const wanted = name.trim().toUpperCase();
  const market = deployment.markets.find((m) => m.symbol.toUpperCase() === wanted || String(m.id) === wanted);
  if (market === undefined) {
    const known = deployment.markets.map((m) => m.symbol).join(", ");
    throw new InputError(`unknown market '${name}' (this deployment has ${known})`);
  }
  return market;
}

/** A market's symbol for display, `#id` when the deployment file does not list it. */
export function marketLabel(deployment: Deployment, id: bigint | number): string {
  return deployment.markets.find((m) => m.id === Number(id))?.symbol ?? `#${id}`;
}
