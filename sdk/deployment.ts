import { getAddress, isAddress } from "ethers";

import { LOSS_POLICY_NAMES, type LossPolicyName } from "./constants.js";

/** A deployment file could not be used; the message is one line and names the file. */
export class DeploymentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeploymentError";
  }
}

export interface DeployedMarket {
  id: number;
  symbol: string;
  feed: string;
  lossPolicy: LossPolicyName;
}

export interface DeployedContracts {
  clearingHouse: string;
  liquidationLogic: string;
  insuranceFund: string;
  lens: string;
  oracleAdapter: string;
  collateralToken: string;
  /** The default-layers contract the clearing house draws on; absent when it draws on the fund directly. */
  defaultLayers?: string;
}

/** `deployments/<network>.json`: where the system lives and from which block its events start. */
export interface Deployment {
  network: string;
  chainId: number;
  startBlock: number;
  contracts: DeployedContracts;
  markets: DeployedMarket[];
}

const CONTRACT_KEYS: (keyof DeployedContracts)[] = [
  "clearingHouse",
  "liquidationLogic",
  "insuranceFund",
  "lens",
  "oracleAdapter",
  "collateralToken",
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function address(path: string, where: string, value: unknown): string {
  if (value === undefined) throw new DeploymentError(`${path}: ${where} is missing`);
  if (typeof value !== "string" || !isAddress(value)) {
    throw new DeploymentError(`${path}: ${where} is not an address: ${JSON.stringify(value)}`);
  }
  return getAddress(value);
}

function wholeNumber(path: string, where: string, value: unknown): number {
  if (value === undefined) throw new DeploymentError(`${path}: ${where} is missing`);
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new DeploymentError(`${path}: ${where} is not a number: ${JSON.stringify(value)}`);
  }
  return value;
}

function market(path: string, index: number, value: unknown): DeployedMarket {
  const where = `markets[${index}]`;
  if (!isRecord(value)) throw new DeploymentError(`${path}: ${where} is not an object`);
  const { symbol, lossPolicy } = value;
  if (typeof symbol !== "string" || symbol === "") {
    throw new DeploymentError(`${path}: ${where}.symbol is missing`);
  }
  if (!LOSS_POLICY_NAMES.includes(lossPolicy as LossPolicyName)) {
    throw new DeploymentError(
      `${path}: ${where}.lossPolicy must be ${LOSS_POLICY_NAMES.map((n) => `"${n}"`).join(" or ")}`,
    );
  }
  return {
    id: wholeNumber(path, `${where}.id`, value.id),
    symbol,
    feed: address(path, `${where}.feed`, value.feed),
    lossPolicy: lossPolicy as LossPolicyName,
  };
}

/** Validates parsed JSON as a deployment; `path` only labels the messages. */
export function parseDeployment(path: string, json: unknown): Deployment {
  if (!isRecord(json)) throw new DeploymentError(`${path}: not a JSON object`);
  const { network, contracts, markets } = json;
  if (typeof network !== "string" || network === "") throw new DeploymentError(`${path}: network is missing`);
  const chainId = wholeNumber(path, "chainId", json.chainId);
  if (chainId === 0) throw new DeploymentError(`${path}: chainId is not a number: 0`);
  const startBlock = wholeNumber(path, "startBlock", json.startBlock);
  if (!isRecord(contracts)) throw new DeploymentError(`${path}: contracts is missing`);
  const parsedContracts = Object.fromEntries(
    CONTRACT_KEYS.map((key) => [key, address(path, `contracts.${key}`, contracts[key])]),
  ) as unknown as DeployedContracts;
  if (contracts.defaultLayers !== undefined) {
    parsedContracts.defaultLayers = address(path, "contracts.defaultLayers", contracts.defaultLayers);
  }
  if (!Array.isArray(markets) || markets.length === 0) throw new DeploymentError(`${path}: markets is missing`);
  const parsedMarkets = markets.map((m, i) => market(path, i, m));
  const ids = new Set(parsedMarkets.map((m) => m.id));
  if (ids.size !== parsedMarkets.length) throw new DeploymentError(`${path}: two markets share an id`);
  return { network, chainId, startBlock, contracts: parsedContracts, markets: parsedMarkets };
}

/** The one JSON-RPC method {@link deploymentProblem} needs: an ethers JsonRpcProvider or BrowserProvider. */
export interface RawRpc {
  send(method: string, params: unknown[]): Promise<unknown>;
}

/**
 * Why the chain behind `rpc` does not hold `deployment`, in one line, or `undefined` when it does: the chain id
 * must be the file's, the head at or past its start block, and every contract of the file must have code. A
 * `hardhat node` restarted after the deployment fails the last two (a fresh chain, nothing deployed), a file of
 * another network the first; without this check the first call to a missing contract fails with an
 * undecodable empty result.
 */
export async function deploymentProblem(rpc: RawRpc, deployment: Deployment): Promise<string | undefined> {
  const chainId = BigInt((await rpc.send("eth_chainId", [])) as string);
  if (chainId !== BigInt(deployment.chainId)) {
    return `the node runs chain ${chainId}, the deployment is for chain ${deployment.chainId}`;
  }
  const head = Number(BigInt((await rpc.send("eth_blockNumber", [])) as string));
  const restarted = "(was the node restarted? deploy again)";
  if (head < deployment.startBlock) {
    return `the node's head block ${head} is before the deployment's start block ${deployment.startBlock} ${restarted}`;
  }
  const entries = CONTRACT_KEYS.map((key) => [key, deployment.contracts[key]] as const);
  const codes = await Promise.all(entries.map(([, address]) => rpc.send("eth_getCode", [address, "latest"])));
  const missing = entries.filter((_, i) => codes[i] === "0x" || codes[i] === "0x0");
  if (missing.length > 0) {
    const [key, address] = missing[0];
    const more = missing.length > 1 ? ` and ${missing.length - 1} more of its contracts` : "";
    return `the chain holds no contract at the deployment's ${key} ${address}${more} ${restarted}`;
  }
  return undefined;
}
