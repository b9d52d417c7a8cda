import { id } from "ethers";

import {
  LOCAL_BTC_PRICE,
  LOCAL_ETH_PRICE,
  LOCAL_FEED_DECIMALS,
  LOCAL_RISK,
  localhost,
} from "../../../deploy/networks/local.js";
import { BTC_MARKET, ETH_MARKET } from "../../../scripts/demo/units.js";
import type { MarketParamsStruct } from "../../../typechain-types/ClearingHouse.js";

/** Numbers and parameters of the system the keeper tests deploy. */

export { BTC_MARKET, ETH_MARKET, SCALE, USD, WAD } from "../../../scripts/demo/units.js";
export const LOSS_POLICY_ADL = 0n;
export const LOSS_POLICY_SOCIALIZED = 1n;
/** The `localhost` deployment parameters (deploy/networks/local.ts). Initial prices in whole dollars. */
export const ETH_PRICE = LOCAL_ETH_PRICE;
export const BTC_PRICE = LOCAL_BTC_PRICE;
export const FEED_DECIMALS = BigInt(LOCAL_FEED_DECIMALS);
/** A day, so that the feeds stay fresh through a test that moves time forward by minutes. */
export const ORACLE_HEARTBEAT = BigInt(LOCAL_RISK.oracleHeartbeat);
/** Short, so that a test reaches socializeAfterTimeout with one evm_increaseTime; the contract's minimum. */
export const DELEVERAGE_TIMEOUT = localhost.deleverageTimeout;
export const FUND_COOLDOWN = localhost.fund.cooldown;
export const FUND_DRAW_WINDOW = localhost.fund.drawWindow;
/** Large enough never to bind in a test. */
export const FUND_DRAW_CAP = localhost.fund.drawCap;
export const INSURANCE_FEE_SHARE = localhost.insuranceFeeShare;
export const CHAIN_ID = 31337;
export const FEED_UNIT = 10n ** FEED_DECIMALS;
export const RISK_MANAGER_ROLE = id("RISK_MANAGER_ROLE");
export const PAUSER_ROLE = id("PAUSER_ROLE");
export const TREASURY_ROLE = id("TREASURY_ROLE");
export const MARKETS = [ETH_MARKET, BTC_MARKET] as const;

/** The `localhost` market parameters (deploy/networks/local.ts) with `feed` and `lossPolicy`. */
export function marketParams(feed: string, lossPolicy: bigint): MarketParamsStruct {
  return { ...LOCAL_RISK, oracleFeed: feed, lossPolicy };
}
