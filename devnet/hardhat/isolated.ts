import type { MarketParamsStruct } from "../../typechain-types/ClearingHouse.js";
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

/** An isolated market whose own fund is a DefaultLayers instance, with a stakers' vault as its second layer. */
export interface IsolatedLayersMarket {
  marketId: bigint;
  feed: MockAggregatorV3;
  layers: DefaultLayers;
  /** The layers' stakers (an InsuranceFund drawn by the layers). */
  stakers: InsuranceFund;
}

/**
 * Lists SOL-USD (100 USD, 8-decimal feed, funding off, the fixture's fees unless `overrides` say otherwise) as an
 * isolated market under `lossPolicy` with a fresh InsuranceFund of its own (no floor, the fixture's cap and
 * window), and approves that fund for the first eight traders.
 */
export async function listIsolatedSol(
  system: System,
  lossPolicy: bigint = LOSS_POLICY_SOCIALIZED,
  overrides: Partial<MarketParamsStruct> = {},
): Promise<IsolatedMarket> {
  const { clearingHouse, traders } = system;
  const feed = await solFeed();
  const fund = await insuranceFund(system, await clearingHouse.getAddress());
  const marketId = await listSol(system, feed, await fund.getAddress(), lossPolicy, overrides);
  for (const trader of traders.slice(0, 8)) {
    await (await system.token.connect(trader).approve(await fund.getAddress(), ethers.MaxUint256)).wait();
  }
  return { marketId, feed, fund };
}

/**
 * {@link listIsolatedSol} with a DefaultLayers of `layerParams` as SOL's own fund (the admin holds its roles),
 * whose stakers' layer is a fresh InsuranceFund; the first eight traders approve both.
 */
export async function listIsolatedSolWithLayers(
  system: System,
  layerParams: IDefaultLayers.ParamsStruct,
  lossPolicy: bigint = LOSS_POLICY_SOCIALIZED,
  overrides: Partial<MarketParamsStruct> = {},
): Promise<IsolatedLayersMarket> {
  const { clearingHouse, admin, traders } = system;
  const feed = await solFeed();
  const layers = await ethers.deployContract("DefaultLayers", [
    await clearingHouse.getAddress(),
    admin.address,
    layerParams,
  ]);
  const stakers = await insuranceFund(system, await layers.getAddress());
  await (await layers.connect(admin).connectStakers(await stakers.getAddress())).wait();
  const marketId = await listSol(system, feed, await layers.getAddress(), lossPolicy, overrides);
  for (const trader of traders.slice(0, 8)) {
    for (const spender of [layers, stakers]) {
      await (await system.token.connect(trader).approve(await spender.getAddress(), ethers.MaxUint256)).wait();
    }
  }
  return { marketId, feed, layers, stakers };
}

function solFeed(): Promise<MockAggregatorV3> {
  return ethers.deployContract("MockAggregatorV3", [8, "SOL / USD", 100n * 10n ** 8n]);
}

/** An InsuranceFund drawn by `drawer`: no floor, the fixture's cooldown, cap and window. */
async function insuranceFund(system: System, drawer: string): Promise<InsuranceFund> {
  return ethers.deployContract("InsuranceFund", [
    await system.token.getAddress(),
    drawer,
    system.admin.address,
    FUND_COOLDOWN,
    0n,
    FUND_DRAW_CAP,
    FUND_DRAW_WINDOW,
  ]);
}

async function listSol(
  system: System,
  feed: MockAggregatorV3,
  fund: string,
  lossPolicy: bigint,
  overrides: Partial<MarketParamsStruct>,
): Promise<bigint> {
  const { clearingHouse, riskManager } = system;
  const marketId = await clearingHouse.marketCount();
  const params = marketParams(await feed.getAddress(), { lossPolicy, maxFundingRate: 0n, ...overrides });
  await (await clearingHouse.connect(riskManager).listIsolatedMarket(params, fund)).wait();
  return marketId;
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
