import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import type { BaseContract, ContractTransactionResponse, Signer, TransactionReceipt } from "ethers";

import { LOSS_POLICY, ROLES } from "../constants.js";
import type { BackstopBindings } from "../contracts.js";
import { parseDeployment, type DeployedMarket, type Deployment } from "../deployment.js";
import {
  BackstopLens__factory,
  ChainlinkOracleAdapter__factory,
  ClearingHouse__factory,
  DefaultLayers__factory,
  InsuranceFund__factory,
  FillLogic__factory,
  FundingLogic__factory,
  MemberReserveLib__factory,
  AllocationLogic__factory,
  LiquidationLogic__factory,
  MockAggregatorV3__factory,
  MockERC20__factory,
} from "../../typechain-types/index.js";
import type { ClearingHouse, DefaultLayers, InsuranceFund, MockAggregatorV3 } from "../../typechain-types/index.js";
import type { FeedParams, FundParams, NetworkParams } from "./params.js";
import { isolatedListings } from "./validate.js";

/** Where `deployments/<network>.json` lives by default: the repository's `deployments/`. */
export const DEPLOYMENTS_DIR = path.resolve(import.meta.dirname, "..", "..", "deployments");

/** An isolated market's own fund as deployed: a vault, or default layers with their stakers' vault if any. */
export type DeployedIsolatedFund =
  | { marketId: number; symbol: string; name: string; kind: "vault"; fund: InsuranceFund }
  | { marketId: number; symbol: string; name: string; kind: "layers"; fund: DefaultLayers; stakers?: InsuranceFund };

/** What the deploy made: the deployment's bindings and, per market, its feed. */
export interface BackstopContracts extends BackstopBindings {
  /** Per market id. A MockAggregatorV3 binding: `setAnswer` works only where the parameters deployed mocks. */
  feeds: MockAggregatorV3[];
  /** The isolated markets' own funds, in market order (none unless the parameters list isolated markets). */
  isolatedFunds: DeployedIsolatedFund[];
}

export interface DeployedBackstop {
  contracts: BackstopContracts;
  deployment: Deployment;
  /** The deployment file written, or undefined when writing was turned off. */
  path: string | undefined;
}

export interface DeployBackstopOptions {
  /** Directory of the deployment file; default {@link DEPLOYMENTS_DIR}; `null` writes none. */
  dir?: string | null;
  /** Name in the file and of the file; default `params.name`. */
  network?: string;
  /** One line per transaction, for scripts that show progress. */
  log?: (line: string) => void;
}

/**
 * Deploys and configures the whole system from `signer`, one transaction after the other (so it works on any
 * network and any signer): the mock token and feeds where `params` ask for them, the oracle adapter,
 * AllocationLogic, LiquidationLogic and MemberReserveLib (linked to AllocationLogic), FundingLogic, FillLogic (linked
 * to AllocationLogic and MemberReserveLib) and the ClearingHouse linked to them, the insurance fund, the lens; then connects the fund, deploys each isolated
 * market's own fund, lists the markets in order (an isolated one with `listIsolatedMarket` and its fund), sets the
 * deleverage timeout, hands each role to its holder in `params.roles`, and writes `<dir>/<network>.json` in the
 * format the keeper reads. The deployer needs configuration rights only
 * while this runs: a role given to another address is renounced at the end.
 */
export async function deployBackstop(
  signer: Signer,
  params: NetworkParams,
  options: DeployBackstopOptions = {},
): Promise<DeployedBackstop> {
  const log = options.log ?? ((): void => undefined);
  // Before the first transaction: a refused parameter set deploys nothing.
  const listings = isolatedListings(params);
  const provider = signer.provider;
  if (provider === null) throw new Error("deployBackstop: the signer is not connected to a provider");
  const deployer = await signer.getAddress();
  const { chainId } = await provider.getNetwork();
  const network = options.network ?? params.name;

  const deploy = async <C extends BaseContract>(
    label: string,
    pending: Promise<C>,
  ): Promise<[C, TransactionReceipt]> => {
    const contract = await pending;
    const receipt = await mined(label, contract.deploymentTransaction());
    log(`${label}: ${await contract.getAddress()} (block ${receipt.blockNumber})`);
    return [contract, receipt];
  };
  const send = async (label: string, pending: Promise<ContractTransactionResponse>): Promise<void> => {
    const receipt = await mined(label, await pending);
    log(`${label} (block ${receipt.blockNumber})`);
  };

  const [token] =
    params.collateral.kind === "mock"
      ? await deploy(
          "MockERC20",
          new MockERC20__factory(signer).deploy(
            params.collateral.name,
            params.collateral.symbol,
            params.collateral.decimals,
          ),
        )
      : [MockERC20__factory.connect(params.collateral.address, signer)];
  const tokenAddress = await token.getAddress();
  const [adapter] = await deploy("ChainlinkOracleAdapter", new ChainlinkOracleAdapter__factory(signer).deploy());
  const feeds: MockAggregatorV3[] = [];
  for (const market of params.markets) feeds.push(await feedFor(market.symbol, market.feed, signer, deploy));
  const [allocationLogic] = await deploy("AllocationLogic", new AllocationLogic__factory(signer).deploy());
  const allocationLink = {
    "project/contracts/libraries/AllocationLogic.sol:AllocationLogic": await allocationLogic.getAddress(),
  };
  const [logic] = await deploy("LiquidationLogic", new LiquidationLogic__factory(allocationLink, signer).deploy());
  const [fundingLogic] = await deploy("FundingLogic", new FundingLogic__factory(signer).deploy());
  const [memberReserve] = await deploy(
    "MemberReserveLib",
    new MemberReserveLib__factory(allocationLink, signer).deploy(),
  );
  const memberReserveLink = {
    "project/contracts/libraries/MemberReserveLib.sol:MemberReserveLib": await memberReserve.getAddress(),
  };
  const [fillLogic] = await deploy(
    "FillLogic",
    new FillLogic__factory({ ...allocationLink, ...memberReserveLink }, signer).deploy(),
  );
  const linked = new ClearingHouse__factory(
    {
      ...allocationLink,
      ...memberReserveLink,
      "project/contracts/libraries/FillLogic.sol:FillLogic": await fillLogic.getAddress(),
      "project/contracts/libraries/FundingLogic.sol:FundingLogic": await fundingLogic.getAddress(),
      "project/contracts/libraries/LiquidationLogic.sol:LiquidationLogic": await logic.getAddress(),
    },
    signer,
  );
  const [clearingHouse, chReceipt] = await deploy(
    "ClearingHouse",
    linked.deploy(tokenAddress, await adapter.getAddress(), deployer, params.insuranceFeeShare),
  );
  const chAddress = await clearingHouse.getAddress();
  const [layers] =
    params.layers === undefined
      ? [undefined]
      : await deploy("DefaultLayers", new DefaultLayers__factory(signer).deploy(chAddress, deployer, params.layers));
  const layersAddress = layers === undefined ? undefined : await layers.getAddress();
  const admin = params.roles.admin ?? deployer;
  const vault = (label: string, drawer: string, p: FundParams): Promise<[InsuranceFund, TransactionReceipt]> =>
    deploy(
      label,
      new InsuranceFund__factory(signer).deploy(
        tokenAddress,
        drawer,
        admin,
        p.cooldown,
        p.floor,
        p.drawCap,
        p.drawWindow,
      ),
    );
  // The layers' roles go to the admin once their stakers are connected (connectStakers needs the admin role).
  const handOverLayers = async (label: string, l: DefaultLayers): Promise<void> => {
    if (admin.toLowerCase() === deployer.toLowerCase()) return;
    for (const role of [await l.LAYERS_MANAGER_ROLE(), ROLES.admin]) {
      await send(`${label}: grantRole ${role} to ${admin}`, l.grantRole(role, admin));
      await send(`${label}: renounceRole ${role}`, l.renounceRole(role, deployer));
    }
  };
  const [fund] = await vault("InsuranceFund", layersAddress ?? chAddress, params.fund);
  const [lens] = await deploy("BackstopLens", new BackstopLens__factory(signer).deploy(chAddress));

  if (layers !== undefined) {
    await send("connectStakers", layers.connectStakers(await fund.getAddress()));
    await handOverLayers("layers", layers);
  }
  await send("setInsuranceFund", clearingHouse.setInsuranceFund(layersAddress ?? (await fund.getAddress())));

  const isolatedFunds: DeployedIsolatedFund[] = [];
  for (const { marketId, symbol, fundName: name, fund: spec } of listings) {
    const label = `${symbol} fund '${name}'`;
    if (spec.kind === "vault") {
      const [own] = await vault(`InsuranceFund ${label}`, chAddress, spec.fund);
      isolatedFunds.push({ marketId, symbol, name, kind: "vault", fund: own });
      continue;
    }
    const [own] = await deploy(
      `DefaultLayers ${label}`,
      new DefaultLayers__factory(signer).deploy(chAddress, deployer, spec.layers),
    );
    const [stakers] =
      spec.stakers === undefined
        ? [undefined]
        : await vault(`InsuranceFund ${label} stakers`, await own.getAddress(), spec.stakers);
    if (stakers !== undefined) await send(`${label}: connectStakers`, own.connectStakers(await stakers.getAddress()));
    await handOverLayers(label, own);
    isolatedFunds.push({
      marketId,
      symbol,
      name,
      kind: "layers",
      fund: own,
      ...(stakers === undefined ? {} : { stakers }),
    });
  }

  await send("grantRole risk manager to the deployer", clearingHouse.grantRole(ROLES.riskManager, deployer));
  const markets: DeployedMarket[] = [];
  for (const [i, market] of params.markets.entries()) {
    const feed = await feeds[i].getAddress();
    const marketParams = { ...market.risk, oracleFeed: feed, lossPolicy: LOSS_POLICY[market.lossPolicy] };
    const own = isolatedFunds.find((x) => x.marketId === i);
    await send(
      own === undefined ? `listMarket ${market.symbol}` : `listIsolatedMarket ${market.symbol}`,
      own === undefined
        ? clearingHouse.listMarket(marketParams)
        : clearingHouse.listIsolatedMarket(marketParams, await own.fund.getAddress()),
    );
    markets.push({ id: i, symbol: market.symbol, feed, lossPolicy: market.lossPolicy });
  }
  await send("setDeleverageTimeout", clearingHouse.setDeleverageTimeout(params.deleverageTimeout));
  await handOverRoles(clearingHouse, deployer, params, send);

  const deployment = parseDeployment(`deployment of ${network}`, {
    network,
    chainId: Number(chainId),
    startBlock: chReceipt.blockNumber,
    contracts: {
      clearingHouse: chAddress,
      liquidationLogic: await logic.getAddress(),
      insuranceFund: await fund.getAddress(),
      lens: await lens.getAddress(),
      oracleAdapter: await adapter.getAddress(),
      collateralToken: tokenAddress,
      ...(layersAddress === undefined ? {} : { defaultLayers: layersAddress }),
    },
    markets,
  });
  const file = options.dir === null ? undefined : await writeDeployment(deployment, options.dir ?? DEPLOYMENTS_DIR);
  if (file !== undefined) log(`deployment file: ${file}`);
  return {
    contracts: {
      clearingHouse,
      liquidationLogic: logic,
      insuranceFund: fund,
      lens,
      oracleAdapter: adapter,
      collateralToken: token,
      ...(layers === undefined ? {} : { defaultLayers: layers }),
      feeds,
      isolatedFunds,
    },
    deployment,
    path: file,
  };
}

/** Writes `<dir>/<network>.json` (pretty JSON, newline-terminated) and returns its path. */
export async function writeDeployment(deployment: Deployment, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${deployment.network}.json`);
  await writeFile(file, `${JSON.stringify(deployment, null, 2)}\n`);
  return file;
}

type Deploy = <C extends BaseContract>(label: string, pending: Promise<C>) => Promise<[C, TransactionReceipt]>;

async function feedFor(symbol: string, feed: FeedParams, signer: Signer, deploy: Deploy): Promise<MockAggregatorV3> {
  if (feed.kind === "existing") return MockAggregatorV3__factory.connect(feed.address, signer);
  const answer = feed.price * 10n ** BigInt(feed.decimals);
  const [mock] = await deploy(
    `MockAggregatorV3 ${symbol}`,
    new MockAggregatorV3__factory(signer).deploy(feed.decimals, feed.description, answer),
  );
  return mock;
}

/**
 * Gives every role to its holder. The deployer got the admin role from the constructor and the risk-manager
 * role for listing; it keeps a role only where it is the holder (or no holder is named).
 */
async function handOverRoles(
  clearingHouse: ClearingHouse,
  deployer: string,
  params: NetworkParams,
  send: (label: string, pending: Promise<ContractTransactionResponse>) => Promise<void>,
): Promise<void> {
  const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
  // The admin role last: renouncing it first would leave the deployer unable to grant the others.
  for (const name of ["riskManager", "pauser", "treasury", "admin"] as const) {
    const holder = params.roles[name] ?? deployer;
    if (name === "pauser" || name === "treasury" || !same(holder, deployer)) {
      await send(`grantRole ${name} to ${holder}`, clearingHouse.grantRole(ROLES[name], holder));
    }
    if (!same(holder, deployer)) {
      await send(`renounceRole ${name}`, clearingHouse.renounceRole(ROLES[name], deployer));
    }
  }
}

async function mined(label: string, tx: ContractTransactionResponse | null): Promise<TransactionReceipt> {
  if (tx === null) throw new Error(`deploy: ${label}: no transaction`);
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`deploy: ${label}: transaction ${tx.hash} failed`);
  return receipt;
}
