import { id } from "ethers";

import type { MarketParamsStruct } from "../../../typechain-types/ClearingHouse.js";

/** Numbers and parameters of the system the keeper tests deploy. */

export const WAD = 10n ** 18n;
/** One unit of the 6-decimal collateral token. */
export const USD = 10n ** 6n;
/** Token units → 18-decimal internal units. */
export const SCALE = 10n ** 12n;
export const ETH_MARKET = 0n;
export const BTC_MARKET = 1n;
export const LOSS_POLICY_ADL = 0n;
export const LOSS_POLICY_SOCIALIZED = 1n;
/** Initial prices in whole dollars, as in test/helpers/fixture.ts. */
export const ETH_PRICE = 2000n;
export const BTC_PRICE = 60000n;
export const FEED_DECIMALS = 8n;
/** A day, so that the feeds stay fresh through a test that moves time forward by minutes. */
export const ORACLE_HEARTBEAT = 86_400n;
/** Short, so that a test reaches socializeAfterTimeout with one evm_increaseTime; the contract's minimum. */
export const DELEVERAGE_TIMEOUT = 60n;
export const FUND_COOLDOWN = 86_400n;
export const FUND_DRAW_WINDOW = 86_400n;
/** Large enough never to bind in a test. */
export const FUND_DRAW_CAP = 10n ** 12n * USD;
export const INSURANCE_FEE_SHARE = (WAD * 3n) / 10n;
export const CHAIN_ID = 31337;
export const FEED_UNIT = 10n ** FEED_DECIMALS;
export const RISK_MANAGER_ROLE = id("RISK_MANAGER_ROLE");
export const PAUSER_ROLE = id("PAUSER_ROLE");
export const TREASURY_ROLE = id("TREASURY_ROLE");
export const MARKETS = [ETH_MARKET, BTC_MARKET] as const;

/**
 * The parameters of `marketParams()` in test/helpers/fixture.ts (10x initial, 20x maintenance leverage, 1%
 * discount and fee, 2/5 bp maker/taker fees, 5% band, 1%/day funding cap) with a one-day heartbeat. Copied
 * rather than imported: the fixture module opens Hardhat's in-process network when loaded.
 */
export function marketParams(feed: string, lossPolicy: bigint): MarketParamsStruct {
  return {
    oracleFeed: feed,
    oracleHeartbeat: ORACLE_HEARTBEAT,
    lossPolicy,
    initialMarginRatio: WAD / 10n,
    maintenanceMarginRatio: WAD / 20n,
    liquidationDiscount: WAD / 100n,
    liquidationFeeRatio: WAD / 100n,
    makerFeeRatio: WAD / 5000n,
    takerFeeRatio: WAD / 2000n,
    priceBand: WAD / 20n,
    maxFundingRate: WAD / 100n,
    maxOpenInterest: 1_000_000n * WAD,
  };
}
