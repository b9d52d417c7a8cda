import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { JsonRpcProvider, getCreateAddress } from "ethers";
import type { ContractDeployTransaction, Signer } from "ethers";

import {
  BackstopLens__factory,
  ChainlinkOracleAdapter__factory,
  ClearingHouse__factory,
  InsuranceFund__factory,
  LiquidationLogic__factory,
  MockAggregatorV3__factory,
  MockERC20__factory,
} from "../../../typechain-types/index.js";
import type {
  BackstopLens,
  ChainlinkOracleAdapter,
  ClearingHouse,
  InsuranceFund,
  LiquidationLogic,
  MockAggregatorV3,
  MockERC20,
} from "../../../typechain-types/index.js";
import { sendBatch } from "./batch.js";
import {
  BTC_PRICE,
  CHAIN_ID,
  DELEVERAGE_TIMEOUT,
  ETH_PRICE,
  FEED_DECIMALS,
  FEED_UNIT,
  FUND_COOLDOWN,
  FUND_DRAW_CAP,
  FUND_DRAW_WINDOW,
  INSURANCE_FEE_SHARE,
  LOSS_POLICY_ADL,
  LOSS_POLICY_SOCIALIZED,
  PAUSER_ROLE,
  RISK_MANAGER_ROLE,
  TREASURY_ROLE,
  marketParams,
} from "./constants.js";

/** Gas limit of each configuration call: listMarket, the largest, uses about 300k. */
const CONFIG_GAS = 1_000_000n;

/** The deployment file the keeper reads (keeper/src/deployment.ts validates the same shape). */
export interface DeploymentFile {
  network: string;
  chainId: number;
  startBlock: number;
  contracts: {
    clearingHouse: string;
    liquidationLogic: string;
    insuranceFund: string;
    lens: string;
    oracleAdapter: string;
    collateralToken: string;
  };
  markets: { id: number; symbol: string; feed: string; lossPolicy: "adl" | "socialized" }[];
}

export interface SystemContracts {
  clearingHouse: ClearingHouse;
  liquidationLogic: LiquidationLogic;
  insuranceFund: InsuranceFund;
  lens: BackstopLens;
  oracleAdapter: ChainlinkOracleAdapter;
  collateralToken: MockERC20;
  ethFeed: MockAggregatorV3;
  btcFeed: MockAggregatorV3;
}

/** A system deployed on a node, with the admin signer that holds every role. */
export interface DeployedSystem {
  url: string;
  provider: JsonRpcProvider;
  /** Deployer, admin, risk manager, pauser and treasury; connected to `provider`. */
  admin: Signer;
  deployment: DeploymentFile;
  /** Path of the deployment file. */
  path: string;
  contracts: SystemContracts;
}

export interface DeployOptions {
  /** Directory for the deployment file; a fresh temporary directory by default. */
  dir?: string;
  /** Name in the file and of the file (`<network>.json`); default "localhost". */
  network?: string;
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
 * Deploys the whole system over JSON-RPC with the typed factories' bytecode (ClearingHouse linked to a fresh
 * LiquidationLogic), configures it (every role to `signer`, both markets, a 60 s deleverage timeout, the fund),
 * and writes the deployment file. Two blocks: the contracts without dependencies, then the clearing house, the
 * fund and the lens at their predicted addresses with the configuration calls after them. `signer` must sign
 * transactions locally (a Wallet); unconnected, it is connected to `url`.
 */
export async function deploySystemOverRpc(
  url: string,
  signer: Signer,
  options: DeployOptions = {},
): Promise<DeployedSystem> {
  const provider = localProvider(url);
  const admin = signer.provider === null ? signer.connect(provider) : signer;
  const from = await admin.getAddress();

  const first = await deployBatch(
    provider,
    admin,
    [
      new MockERC20__factory().getDeployTransaction("Mock USD", "mUSD", 6),
      new ChainlinkOracleAdapter__factory().getDeployTransaction(),
      new MockAggregatorV3__factory().getDeployTransaction(FEED_DECIMALS, "ETH / USD", ETH_PRICE * FEED_UNIT),
      new MockAggregatorV3__factory().getDeployTransaction(FEED_DECIMALS, "BTC / USD", BTC_PRICE * FEED_UNIT),
      new LiquidationLogic__factory().getDeployTransaction(),
    ],
    [],
  );
  const [tokenAddress, adapterAddress, ethFeedAddress, btcFeedAddress, logicAddress] = first.addresses;

  const nonce = await provider.getTransactionCount(from, "pending");
  const chAddress = getCreateAddress({ from, nonce });
  const fundAddress = getCreateAddress({ from, nonce: nonce + 1 });
  const ch = ClearingHouse__factory.createInterface();
  const configuration = [
    ch.encodeFunctionData("setInsuranceFund", [fundAddress]),
    ch.encodeFunctionData("grantRole", [RISK_MANAGER_ROLE, from]),
    ch.encodeFunctionData("grantRole", [PAUSER_ROLE, from]),
    ch.encodeFunctionData("grantRole", [TREASURY_ROLE, from]),
    ch.encodeFunctionData("listMarket", [marketParams(ethFeedAddress, LOSS_POLICY_ADL)]),
    ch.encodeFunctionData("listMarket", [marketParams(btcFeedAddress, LOSS_POLICY_SOCIALIZED)]),
    ch.encodeFunctionData("setDeleverageTimeout", [DELEVERAGE_TIMEOUT]),
  ].map((data) => ({ to: chAddress, data }));
  const linked = new ClearingHouse__factory({
    "project/contracts/libraries/LiquidationLogic.sol:LiquidationLogic": logicAddress,
  });
  const second = await deployBatch(
    provider,
    admin,
    [
      linked.getDeployTransaction(tokenAddress, adapterAddress, from, INSURANCE_FEE_SHARE),
      new InsuranceFund__factory().getDeployTransaction(
        tokenAddress,
        chAddress,
        from,
        FUND_COOLDOWN,
        0n,
        FUND_DRAW_CAP,
        FUND_DRAW_WINDOW,
      ),
      new BackstopLens__factory().getDeployTransaction(chAddress),
    ],
    configuration,
  );
  const [clearingHouseAddress, insuranceFundAddress, lensAddress] = second.addresses;
  if (clearingHouseAddress !== chAddress || insuranceFundAddress !== fundAddress) {
    throw new Error("deploy: contracts did not land at their predicted addresses");
  }

  const network = options.network ?? "localhost";
  const deployment: DeploymentFile = {
    network,
    chainId: CHAIN_ID,
    startBlock: second.firstBlock,
    contracts: {
      clearingHouse: chAddress,
      liquidationLogic: logicAddress,
      insuranceFund: fundAddress,
      lens: lensAddress,
      oracleAdapter: adapterAddress,
      collateralToken: tokenAddress,
    },
    markets: [
      { id: 0, symbol: "ETH-USD", feed: ethFeedAddress, lossPolicy: "adl" },
      { id: 1, symbol: "BTC-USD", feed: btcFeedAddress, lossPolicy: "socialized" },
    ],
  };
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), "keeper-deploy-")));
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${network}.json`);
  await writeFile(file, `${JSON.stringify(deployment, null, 2)}\n`);

  return {
    url,
    provider,
    admin,
    deployment,
    path: file,
    contracts: {
      clearingHouse: ClearingHouse__factory.connect(chAddress, admin),
      liquidationLogic: LiquidationLogic__factory.connect(logicAddress, admin),
      insuranceFund: InsuranceFund__factory.connect(fundAddress, admin),
      lens: BackstopLens__factory.connect(lensAddress, admin),
      oracleAdapter: ChainlinkOracleAdapter__factory.connect(adapterAddress, admin),
      collateralToken: MockERC20__factory.connect(tokenAddress, admin),
      ethFeed: MockAggregatorV3__factory.connect(ethFeedAddress, admin),
      btcFeed: MockAggregatorV3__factory.connect(btcFeedAddress, admin),
    },
  };
}

/**
 * Sends the deployments, then the calls, from `admin` in one batch. Deployments get estimated gas (they must
 * not depend on each other); calls get a fixed limit, as they may depend on contracts of the same batch.
 * Returns the deployed addresses and the block of the first deployment.
 */
async function deployBatch(
  provider: JsonRpcProvider,
  admin: Signer,
  deployments: Promise<ContractDeployTransaction>[],
  calls: { to: string; data: string }[],
): Promise<{ addresses: string[]; firstBlock: number }> {
  const from = await admin.getAddress();
  const transactions = await Promise.all(deployments);
  const gas = await Promise.all(transactions.map((tx) => provider.estimateGas({ from, data: tx.data })));
  const receipts = await sendBatch(provider, [
    ...transactions.map((tx, i) => ({
      signer: admin,
      data: tx.data,
      gasLimit: (gas[i] * 12n) / 10n,
      label: `deploy #${i}`,
    })),
    ...calls.map((call, i) => ({ signer: admin, ...call, gasLimit: CONFIG_GAS, label: `configuration call #${i}` })),
  ]);
  const addresses = receipts.slice(0, transactions.length).map((receipt) => {
    if (receipt.contractAddress === null) throw new Error("deploy: no contract address");
    return receipt.contractAddress;
  });
  return { addresses, firstBlock: receipts[0].blockNumber };
}
