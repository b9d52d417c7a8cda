import type { DefaultLayers, InsuranceFund, MockAggregatorV3 } from "../../typechain-types/index.js";
import type { IDefaultLayers } from "../../typechain-types/insurance/DefaultLayers.js";
import {
  FUND_COOLDOWN,
  FUND_DRAW_CAP,
  FUND_DRAW_WINDOW,
  LOSS_POLICY_SOCIALIZED,
  ethers,
  marketParams,
} from "./fixture.js";
import type { System } from "./fixture.js";
import { layersOf } from "./layers.js";

/** An isolated market listed on a deployed system, with its own feed and insurance fund. */
export interface IsolatedMarket {
  marketId: bigint;
  feed: MockAggregatorV3;
  /** The market's own InsuranceFund (drawn by the clearing house directly, no layers). */
  fund: InsuranceFund;
}

/**
 * Lists SOL-USD (100 USD, 8-decimal feed, funding off, the fixture's fees) as an isolated market under `lossPolicy`
 * with a fresh InsuranceFund of its own (no floor, the fixture's cap and window), and approves that fund for the
 * first eight traders.
 */
export async function listIsolatedSol(
  system: System,
  lossPolicy: bigint = LOSS_POLICY_SOCIALIZED,
): Promise<IsolatedMarket> {
  const { clearingHouse, token, admin, riskManager, traders } = system;
  const feed = await ethers.deployContract("MockAggregatorV3", [8, "SOL / USD", 100n * 10n ** 8n]);
  const fund = await ethers.deployContract("InsuranceFund", [
    await token.getAddress(),
    await clearingHouse.getAddress(),
    admin.address,
    FUND_COOLDOWN,
    0n,
    FUND_DRAW_CAP,
    FUND_DRAW_WINDOW,
  ]);
  const marketId = await clearingHouse.marketCount();
  const params = marketParams(await feed.getAddress(), { lossPolicy, maxFundingRate: 0n });
  await (await clearingHouse.connect(riskManager).listIsolatedMarket(params, await fund.getAddress())).wait();
  for (const trader of traders.slice(0, 8)) {
    await (await token.connect(trader).approve(await fund.getAddress(), ethers.MaxUint256)).wait();
  }
  return { marketId, feed, fund };
}

/** An isolated market whose own fund is a DefaultLayers instance, with that instance's stakers' vault. */
export interface IsolatedLayersMarket {
  marketId: bigint;
  feed: MockAggregatorV3;
  /** The market's own default layers (first loss, stakers, members' fund, assessments), drawn by the clearing house. */
  layers: DefaultLayers;
  /** The layers' stakers' vault (its `clearingHouse` is the layers). */
  stakers: InsuranceFund;
}

/**
 * Lists SOL-USD as {@link listIsolatedSol} does, but backed by a fresh {DefaultLayers} with `params` (admin: the
 * system's admin) whose stakers' layer is a fresh InsuranceFund drawn by the layers only; approves both for the
 * first eight traders.
 */
export async function listIsolatedSolWithLayers(
  system: System,
  params: IDefaultLayers.ParamsStruct,
  lossPolicy: bigint = LOSS_POLICY_SOCIALIZED,
): Promise<IsolatedLayersMarket> {
  const { clearingHouse, token, admin, riskManager, traders } = system;
  const feed = await ethers.deployContract("MockAggregatorV3", [8, "SOL / USD", 100n * 10n ** 8n]);
  const layers = await ethers.deployContract("DefaultLayers", [
    await clearingHouse.getAddress(),
    admin.address,
    params,
  ]);
  const stakers = await ethers.deployContract("InsuranceFund", [
    await token.getAddress(),
    await layers.getAddress(),
    admin.address,
    FUND_COOLDOWN,
    0n,
    FUND_DRAW_CAP,
    FUND_DRAW_WINDOW,
  ]);
  await (await layers.connect(admin).connectStakers(await stakers.getAddress())).wait();
  const marketId = await clearingHouse.marketCount();
  const market = marketParams(await feed.getAddress(), { lossPolicy, maxFundingRate: 0n });
  await (await clearingHouse.connect(riskManager).listIsolatedMarket(market, await layers.getAddress())).wait();
  for (const trader of traders.slice(0, 8)) {
    await (await token.connect(trader).approve(await layers.getAddress(), ethers.MaxUint256)).wait();
    await (await token.connect(trader).approve(await stakers.getAddress(), ethers.MaxUint256)).wait();
  }
  return { marketId, feed, layers, stakers };
}

/**
 * Every balance of the shared layers, and `member`'s collateral and cap left there: the shared pot, first loss (held
 * and paid), the stakers' fund (assets and tokens), the members' fund, what was assessed, the last default, the
 * layers' tokens and the drawdown window. An isolated market's default must leave all of it as it was.
 */
export async function sharedLayerBalances(system: System, member: string): Promise<bigint[]> {
  const layers = layersOf(system);
  const drawdown = await layers.drawdown();
  return [
    await system.clearingHouse.insuranceFees(),
    await layers.firstLoss(),
    await layers.firstLossPaid(),
    await system.fund.totalAssets(),
    await system.token.balanceOf(await system.fund.getAddress()),
    await layers.memberAssets(),
    await layers.assessedTotal(),
    await layers.lastDefaultAt(),
    await system.token.balanceOf(await layers.getAddress()),
    await layers.assessmentCapLeft(member),
    await system.clearingHouse.collateralOf(member),
    drawdown.base,
    drawdown.drawn,
  ];
}
