import type { InsuranceFund, MockAggregatorV3 } from "../../typechain-types/index.js";
import {
  FUND_COOLDOWN,
  FUND_DRAW_CAP,
  FUND_DRAW_WINDOW,
  LOSS_POLICY_SOCIALIZED,
  ethers,
  marketParams,
} from "./fixture.js";
import type { System } from "./fixture.js";

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
