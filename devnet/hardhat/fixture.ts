import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { network } from "hardhat";

import type {
  BackstopLens,
  ChainlinkOracleAdapter,
  ClearingHouse,
  DefaultLayers,
  InsuranceFund,
  MockAggregatorV3,
  MockERC20,
} from "../../typechain-types/index.js";
import type { MarketParamsStruct, OrderStruct } from "../../typechain-types/ClearingHouse.js";
import type { IDefaultLayers } from "../../typechain-types/insurance/DefaultLayers.js";
import { DRAWDOWN_TRIGGER, LOCAL_LAYERS, ORDER_TYPES, USD, WAD, orderDomain } from "#sdk";
import { ETH_MARKET, LOSS_POLICY_ADL, LOSS_POLICY_SOCIALIZED } from "../constants.js";

export { SCALE, USD, WAD } from "#sdk";
export { BTC_MARKET, ETH_MARKET, LOSS_POLICY_ADL, LOSS_POLICY_HAIRCUT, LOSS_POLICY_SOCIALIZED } from "../constants.js";

export const { ethers, networkHelpers } = await network.getOrCreate();

/** Deploys the clearing house with fresh {AllocationLogic}, {LiquidationLogic}, {FundingLogic}, {MemberReserveLib} and {FillLogic} libraries linked to it. */
export async function deployClearingHouse(args: readonly (string | bigint)[]): Promise<ClearingHouse> {
  const allocationLogic = await ethers.deployContract("AllocationLogic");
  const AllocationLogic = await allocationLogic.getAddress();
  const logic = await ethers.deployContract("LiquidationLogic", { libraries: { AllocationLogic } });
  const fundingLogic = await ethers.deployContract("FundingLogic");
  const memberReserve = await ethers.deployContract("MemberReserveLib", { libraries: { AllocationLogic } });
  const MemberReserveLib = await memberReserve.getAddress();
  const fillLogic = await ethers.deployContract("FillLogic", { libraries: { AllocationLogic, MemberReserveLib } });
  return ethers.deployContract("ClearingHouse", [...args], {
    libraries: {
      AllocationLogic,
      MemberReserveLib,
      FillLogic: await fillLogic.getAddress(),
      LiquidationLogic: await logic.getAddress(),
      FundingLogic: await fundingLogic.getAddress(),
    },
  });
}

/** Parameters of a market inside every hard bound: 10x initial, 20x maintenance leverage. */
export function marketParams(feed: string, overrides: Partial<MarketParamsStruct> = {}): MarketParamsStruct {
  return {
    oracleFeed: feed,
    oracleHeartbeat: 3600n,
    lossPolicy: LOSS_POLICY_ADL,
    initialMarginRatio: WAD / 10n,
    maintenanceMarginRatio: WAD / 20n,
    liquidationDiscount: WAD / 100n,
    liquidationFeeRatio: WAD / 100n,
    makerFeeRatio: WAD / 5000n, // 2 bp
    takerFeeRatio: WAD / 2000n, // 5 bp
    priceBand: WAD / 20n, // 5%
    maxFundingRate: WAD / 100n, // 1% a day
    maxOpenInterest: 1_000_000n * WAD,
    liquidationBuffer: 0n, // exactly maintenance: the hand-computed liquidation tests assume it
    ...overrides,
  };
}

export interface System {
  clearingHouse: ClearingHouse;
  fund: InsuranceFund;
  /** The default-layers contract the clearing house draws on, when deployed with {@link deploySystemWithLayers}. */
  layers?: DefaultLayers;
  lens: BackstopLens;
  token: MockERC20;
  adapter: ChainlinkOracleAdapter;
  ethFeed: MockAggregatorV3;
  btcFeed: MockAggregatorV3;
  admin: HardhatEthersSigner;
  riskManager: HardhatEthersSigner;
  pauser: HardhatEthersSigner;
  treasury: HardhatEthersSigner;
  traders: HardhatEthersSigner[];
}

export const FUND_COOLDOWN = 86_400n;
export const FUND_DRAW_CAP = 1_000_000n * USD;
export const FUND_DRAW_WINDOW = 86_400n;

export const INSURANCE_FEE_SHARE = (WAD * 3n) / 10n; // 30%
export const ETH_PRICE = 2000n; // whole dollars
export const BTC_PRICE = 60000n;

/**
 * Default-layer parameters for tests: the local deploy's (sdk/deploy/networks/local.ts: k = 2 over 28 days, 50 USD
 * minimum, 10% of margin) with the drawdown trigger a real network would use (30% within 8 hours) and swept fees
 * going to the stakers only, so that a worked example's first loss and members' fund move by draws alone.
 */
export const LAYER_PARAMS: IDefaultLayers.ParamsStruct = {
  ...LOCAL_LAYERS,
  ...DRAWDOWN_TRIGGER,
  firstLossTarget: 0n,
  refillShare: 0n,
  memberFeeShare: 0n,
};

/**
 * Deploys the system (clearing house, insurance fund with a one-day cooldown and a 1,000,000 USD daily draw
 * cap and no floor, lens) with two markets (ETH-USD with the ADL policy, BTC-USD socialized; 8-decimal feeds)
 * and gives each trader 1,000,000 USD of the token, approved to the clearing house.
 */
export function deploySystem(): Promise<System> {
  return deploy(undefined);
}

/**
 * {@link deploySystem} with ETH-USD and BTC-USD listed under the given loss policies (LOSS_POLICY_*; a policy is fixed
 * at listing): the stress engine's differential tests of each policy.
 */
export function deploySystemWithPolicies(eth: bigint, btc: bigint): Promise<System> {
  return deploy(undefined, [eth, btc]);
}

/**
 * {@link deploySystem} with the default layers between the clearing house and the insurance fund: the clearing
 * house draws on a {DefaultLayers} with `layerParams`, whose second layer is the fund (deployed with the layers
 * as the account allowed to draw on it). Traders approve the layers too.
 */
export function deploySystemWithLayers(layerParams: IDefaultLayers.ParamsStruct): Promise<System> {
  return deploy(layerParams);
}

async function deploy(
  layerParams: IDefaultLayers.ParamsStruct | undefined,
  [ethPolicy, btcPolicy]: [bigint, bigint] = [LOSS_POLICY_ADL, LOSS_POLICY_SOCIALIZED],
): Promise<System> {
  const [admin, riskManager, pauser, treasury, ...traders] = await ethers.getSigners();
  const token = await ethers.deployContract("MockERC20", ["Mock USD", "mUSD", 6]);
  const adapter = await ethers.deployContract("ChainlinkOracleAdapter");
  const ethFeed = await ethers.deployContract("MockAggregatorV3", [8, "ETH / USD", ETH_PRICE * 10n ** 8n]);
  const btcFeed = await ethers.deployContract("MockAggregatorV3", [8, "BTC / USD", BTC_PRICE * 10n ** 8n]);
  const clearingHouse = await deployClearingHouse([
    await token.getAddress(),
    await adapter.getAddress(),
    admin.address,
    INSURANCE_FEE_SHARE,
  ]);
  const layers =
    layerParams === undefined
      ? undefined
      : await ethers.deployContract("DefaultLayers", [await clearingHouse.getAddress(), admin.address, layerParams]);
  const fund = await ethers.deployContract("InsuranceFund", [
    await token.getAddress(),
    layers === undefined ? await clearingHouse.getAddress() : await layers.getAddress(),
    admin.address,
    FUND_COOLDOWN,
    0n,
    FUND_DRAW_CAP,
    FUND_DRAW_WINDOW,
  ]);
  if (layers !== undefined) await (await layers.connectStakers(await fund.getAddress())).wait();
  await clearingHouse.setInsuranceFund(layers === undefined ? await fund.getAddress() : await layers.getAddress());
  const lens = await ethers.deployContract("BackstopLens", [await clearingHouse.getAddress()]);
  await clearingHouse.grantRole(await clearingHouse.RISK_MANAGER_ROLE(), riskManager.address);
  await clearingHouse.grantRole(await clearingHouse.PAUSER_ROLE(), pauser.address);
  await clearingHouse.grantRole(await clearingHouse.TREASURY_ROLE(), treasury.address);
  await clearingHouse
    .connect(riskManager)
    .listMarket(marketParams(await ethFeed.getAddress(), { lossPolicy: ethPolicy }));
  await clearingHouse
    .connect(riskManager)
    .listMarket(marketParams(await btcFeed.getAddress(), { lossPolicy: btcPolicy }));
  for (const trader of traders.slice(0, 8)) {
    await token.mint(trader.address, 1_000_000n * USD);
    await token.connect(trader).approve(await clearingHouse.getAddress(), ethers.MaxUint256);
    await token.connect(trader).approve(await fund.getAddress(), ethers.MaxUint256);
    if (layers !== undefined) await token.connect(trader).approve(await layers.getAddress(), ethers.MaxUint256);
  }
  return {
    clearingHouse,
    fund,
    layers,
    lens,
    token,
    adapter,
    ethFeed,
    btcFeed,
    admin,
    riskManager,
    pauser,
    treasury,
    traders,
  };
}

/** An order valid for one day from the latest block, with defaults that tests override. */
export async function makeOrder(maker: string, fields: Partial<OrderStruct> = {}): Promise<OrderStruct> {
  const now = BigInt(await networkHelpers.time.latest());
  return {
    maker,
    marketId: ETH_MARKET,
    isBuy: true,
    size: WAD,
    limitPrice: ETH_PRICE * WAD,
    expiry: now + 86_400n,
    nonce: 0n,
    reduceOnly: false,
    ...fields,
  };
}

/** The maker's EIP-712 signature of `order` for this clearing house. */
export async function signOrder(
  clearingHouse: ClearingHouse,
  signer: HardhatEthersSigner,
  order: OrderStruct,
): Promise<string> {
  const { chainId } = await ethers.provider.getNetwork();
  return signer.signTypedData(orderDomain(Number(chainId), await clearingHouse.getAddress()), ORDER_TYPES, order);
}
