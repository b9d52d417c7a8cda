// Gas of the loss waterfall's four paths with 1 and with 1,000 other open positions in the market, on the
// production build: `npm run bench:waterfall`. Writes bench/results/waterfall-gas.{json,md}.
import { mkdir, writeFile } from "node:fs/promises";
import { execSync } from "node:child_process";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse, Wallet } from "ethers";

import type { ClearingHouse, InsuranceFund, MockAggregatorV3, MockERC20 } from "../typechain-types/index.js";
import type { MarketParamsStruct, OrderStruct } from "../typechain-types/ClearingHouse.js";

const { ethers, networkHelpers } = await network.getOrCreate();

const WAD = 10n ** 18n;
const USD = 10n ** 6n;
const FEED = 10n ** 8n;
const PRICE = 2000n;
const ADL = 0n;
const SOCIALIZED = 1n;

interface Deployment {
  clearingHouse: ClearingHouse;
  fund: InsuranceFund;
  token: MockERC20;
  feed: MockAggregatorV3;
  whale: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  staker: HardhatEthersSigner;
}

function params(feed: string, lossPolicy: bigint): MarketParamsStruct {
  return {
    oracleFeed: feed,
    oracleHeartbeat: 86_400n,
    lossPolicy,
    initialMarginRatio: WAD / 10n,
    maintenanceMarginRatio: WAD / 20n,
    liquidationDiscount: WAD / 100n,
    liquidationFeeRatio: WAD / 100n,
    makerFeeRatio: WAD / 5000n,
    takerFeeRatio: WAD / 2000n,
    priceBand: WAD / 20n,
    maxFundingRate: WAD / 100n,
    maxOpenInterest: 10n ** 30n,
  };
}

async function deploy(lossPolicy: bigint): Promise<Deployment> {
  const [admin, whale, keeper, staker] = await ethers.getSigners();
  const token = await ethers.deployContract("MockERC20", ["Mock USD", "mUSD", 6]);
  const adapter = await ethers.deployContract("ChainlinkOracleAdapter");
  const feed = await ethers.deployContract("MockAggregatorV3", [8, "ETH / USD", PRICE * FEED]);
  const logic = await ethers.deployContract("LiquidationLogic");
  const clearingHouse = await ethers.deployContract(
    "ClearingHouse",
    [await token.getAddress(), await adapter.getAddress(), admin.address, WAD / 5n],
    { libraries: { LiquidationLogic: await logic.getAddress() } },
  );
  const fund = await ethers.deployContract("InsuranceFund", [
    await token.getAddress(),
    await clearingHouse.getAddress(),
    admin.address,
    86_400n,
    0n,
    10n ** 15n,
    86_400n,
  ]);
  await clearingHouse.setInsuranceFund(await fund.getAddress());
  await clearingHouse.grantRole(await clearingHouse.RISK_MANAGER_ROLE(), admin.address);
  await clearingHouse.listMarket(params(await feed.getAddress(), lossPolicy));
  for (const signer of [whale, keeper, staker]) {
    await token.mint(signer.address, 10n ** 15n * USD);
    await token.connect(signer).approve(await clearingHouse.getAddress(), ethers.MaxUint256);
    await token.connect(signer).approve(await fund.getAddress(), ethers.MaxUint256);
  }
  await clearingHouse.connect(whale).deposit(10n ** 12n * USD);
  await clearingHouse.connect(keeper).deposit(10n ** 12n * USD);
  return { clearingHouse, fund, token, feed, whale, keeper, staker };
}

async function sign(clearingHouse: ClearingHouse, signer: HardhatEthersSigner | Wallet, order: OrderStruct) {
  const { chainId } = await ethers.provider.getNetwork();
  const domain = { name: "Backstop", version: "1", chainId, verifyingContract: await clearingHouse.getAddress() };
  const types = {
    Order: [
      { name: "maker", type: "address" },
      { name: "marketId", type: "uint256" },
      { name: "isBuy", type: "bool" },
      { name: "size", type: "uint256" },
      { name: "limitPrice", type: "uint256" },
      { name: "expiry", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "reduceOnly", type: "bool" },
    ],
  };
  return signer.signTypedData(domain, types, order);
}

let nonce = 0n;
/** `taker` buys (isBuy false on the maker's order) or sells `size` against the whale at `PRICE`. */
async function trade(d: Deployment, taker: HardhatEthersSigner | Wallet, takerBuys: boolean, size: bigint) {
  nonce += 1n;
  const order: OrderStruct = {
    maker: d.whale.address,
    marketId: 0n,
    isBuy: !takerBuys,
    size,
    limitPrice: PRICE * WAD,
    expiry: 2n ** 40n,
    nonce,
    reduceOnly: false,
  };
  await (
    await d.clearingHouse.connect(taker).fillOrder(order, await sign(d.clearingHouse, d.whale, order), size)
  ).wait();
}

/** `count` fresh accounts, each long 0.01 against the whale. */
async function addOtherPositions(d: Deployment, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const wallet = ethers.Wallet.createRandom().connect(ethers.provider);
    await networkHelpers.setBalance(wallet.address, 10n ** 18n);
    await d.clearingHouse.connect(d.whale).depositFor(wallet.address, 1000n * USD);
    await trade(d, wallet, true, WAD / 100n);
  }
}

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("no receipt");
  return receipt.gasUsed;
}

/** A fresh account long `size` ETH with `margin` USD of collateral. */
async function victim(d: Deployment, margin: bigint, size: bigint): Promise<HardhatEthersSigner> {
  const signer = (await ethers.getSigners())[10 + Number(nonce % 5n)];
  await d.token.mint(signer.address, margin);
  await d.token.connect(signer).approve(await d.clearingHouse.getAddress(), margin);
  await d.clearingHouse.connect(signer).deposit(margin);
  await trade(d, signer, true, size);
  return signer;
}

async function setPrice(d: Deployment, price: bigint) {
  await d.feed.setAnswer(price * FEED);
}

const scenarios: Record<string, (d: Deployment) => Promise<bigint>> = {
  "partial liquidation": async (d) => {
    const v = await victim(d, 2100n * USD, 10n * WAD);
    await setPrice(d, 1850n);
    return gasOf(d.clearingHouse.connect(d.keeper).liquidate(v.address, 0n, 10n ** 30n));
  },
  "bankrupt liquidation covered by the fund": async (d) => {
    await d.fund.connect(d.staker).deposit(1_000_000n * USD, d.staker.address);
    const v = await victim(d, 2100n * USD, 10n * WAD);
    await setPrice(d, 1700n);
    return gasOf(d.clearingHouse.connect(d.keeper).liquidate(v.address, 0n, 10n ** 30n));
  },
  "bankrupt liquidation, socialized": async (d) => {
    const v = await victim(d, 2100n * USD, 10n * WAD);
    await setPrice(d, 1700n);
    return gasOf(d.clearingHouse.connect(d.keeper).liquidate(v.address, 0n, 10n ** 30n));
  },
  "ADL against one counterparty": async (d) => {
    const v = await victim(d, 2100n * USD, 10n * WAD);
    await setPrice(d, 1700n);
    await (await d.clearingHouse.connect(d.keeper).liquidate(v.address, 0n, 10n ** 30n)).wait(); // opens the case
    return gasOf(d.clearingHouse.connect(d.keeper).autoDeleverage(v.address, 0n, d.whale.address, 10n ** 30n));
  },
};

const policyOf: Record<string, bigint> = {
  "partial liquidation": ADL,
  "bankrupt liquidation covered by the fund": SOCIALIZED,
  "bankrupt liquidation, socialized": SOCIALIZED,
  "ADL against one counterparty": ADL,
};

const counts = [1, 1000];
const results: Record<string, Record<string, string>> = {};
for (const count of counts) {
  for (const policy of [ADL, SOCIALIZED]) {
    const d = await deploy(policy);
    await addOtherPositions(d, count);
    const snapshot = await networkHelpers.takeSnapshot();
    for (const [name, run] of Object.entries(scenarios)) {
      if (policyOf[name] !== policy) continue;
      await setPrice(d, PRICE);
      const gas = await run(d);
      results[name] ??= {};
      results[name][String(count)] = gas.toString();
      console.log(`${name.padEnd(42)} ${String(count).padStart(5)} other positions: ${gas} gas`);
      await snapshot.restore();
    }
  }
}

const commit = execSync("git rev-parse --short HEAD").toString().trim();
const lines = [
  `# Loss-waterfall gas (production build, commit ${commit}, ${new Date().toISOString()})`,
  "",
  "| operation | 1 other position | 1,000 other positions | ratio |",
  "| --- | ---: | ---: | ---: |",
  ...Object.entries(results).map(([name, byCount]) => {
    const ratio = (Number(byCount["1000"]) / Number(byCount["1"])).toFixed(3);
    return `| ${name} | ${byCount["1"]} | ${byCount["1000"]} | ${ratio} |`;
  }),
  "",
];
await mkdir("bench/results", { recursive: true });
await writeFile(
  "bench/results/waterfall-gas.json",
  JSON.stringify({ commit, date: new Date().toISOString(), results }, null, 2) + "\n",
);
await writeFile("bench/results/waterfall-gas.md", lines.join("\n"));
console.log(lines.join("\n"));
