import path from "node:path";
import { Wallet, getAddress, type JsonRpcProvider } from "ethers";

import {
  Secret,
  checkKeystore,
  connectDeployment,
  deploymentProblem,
  createProvider,
  decryptKeystore,
  describeError,
  parsePrivateKeys,
  parseRpcUrl,
  readDeployment,
  type DeployedMarket,
  type Deployment,
} from "#sdk";
import type {
  BackstopLens,
  ChainlinkOracleAdapter,
  ClearingHouse,
  DefaultLayers,
  InsuranceFund,
  MockERC20,
} from "../typechain-types/index.js";
import { flag, flagOrEnvOf, type ParsedArgs } from "./args.js";
import { InputError, type Decoding } from "./errors.js";

/** The deployment's contracts, connected read-only (or to the signer, when there is one). */
export interface Contracts {
  clearingHouse: ClearingHouse;
  lens: BackstopLens;
  fund: InsuranceFund;
  oracle: ChainlinkOracleAdapter;
  /** Any ERC-20: only its standard functions are called. */
  token: MockERC20;
  /** The default layers the clearing house draws on, when the deployment has them. */
  layers?: DefaultLayers;
}

export interface Connection {
  provider: JsonRpcProvider;
  deployment: Deployment;
  contracts: Contracts;
  /** Every ABI whose custom errors a call may revert with, and the collateral's symbol. */
  decoding: Decoding;
  /** The collateral token's symbol, for amounts shown to people. */
  symbol: string;
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
  const raw = flagOrEnvOf(parsed, "--rpc", env);
  if (raw === undefined) throw new InputError("no RPC URL: give --rpc <url> or set BACKSTOP_RPC_URL");
  return parseRpcUrl(raw);
}

/**
 * Reads the deployment and connects to the node, checking that the node runs the deployment's chain and holds
 * its contracts.
 */
export async function connect(parsed: ParsedArgs, env: NodeJS.ProcessEnv, cwd: string): Promise<Connection> {
  const url = rpcUrl(parsed, env);
  let deployment: Deployment;
  let file: string;
  try {
    file = deploymentPath(parsed, cwd);
    deployment = readDeployment(file);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError((error as Error).message);
  }
  const provider = createProvider(url, { chainId: deployment.chainId });
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
  // A restarted node or a file of another chain: one line saying so, not an undecodable empty result later.
  const problem = await deploymentProblem(provider, deployment);
  if (problem !== undefined) {
    provider.destroy();
    throw new InputError(`the node at ${url} does not hold the deployment of ${file}: ${problem}`);
  }
  const bound = connectDeployment(deployment, provider);
  const contracts: Contracts = {
    clearingHouse: bound.clearingHouse,
    lens: bound.lens,
    fund: bound.insuranceFund,
    oracle: bound.oracleAdapter,
    token: bound.collateralToken,
    ...(bound.defaultLayers === undefined ? {} : { layers: bound.defaultLayers }),
  };
  const interfaces = [
    contracts.clearingHouse.interface,
    contracts.fund.interface,
    contracts.oracle.interface,
    contracts.token.interface,
    ...(contracts.layers === undefined ? [] : [contracts.layers.interface]),
  ];
  // The symbol is optional in ERC-20.
  const [symbol, decimals] = await Promise.all([
    contracts.token.symbol().catch(() => "tokens"),
    contracts.token.decimals(),
  ]);
  return { provider, deployment, contracts, decoding: { interfaces, symbol, decimals: Number(decimals) }, symbol };
}

/**
 * The signing key: BACKSTOP_PRIVATE_KEY, or `--keystore <file>` with the password in BACKSTOP_KEYSTORE_PASSWORD.
 * `undefined` when neither is given. Validation and decryption are the SDK's (sdk/keys.ts).
 */
export async function loadKey(
  parsed: ParsedArgs,
  env: NodeJS.ProcessEnv,
  provider: JsonRpcProvider,
): Promise<Wallet | undefined> {
  const keystore = flag(parsed, "--keystore");
  const raw = env.BACKSTOP_PRIVATE_KEY?.trim();
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
