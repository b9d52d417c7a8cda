import {
  LOCAL_BTC_PRICE,
  LOCAL_CHAIN_ID,
  LOCAL_ETH_PRICE,
  LOCAL_FEED_DECIMALS,
  LOCAL_RISK,
  LOSS_POLICY,
  ROLES,
  localhost,
} from "#sdk";
import type { MarketParamsStruct } from "../typechain-types/ClearingHouse.js";

/** Numbers and parameters of the local system that the tests, the demo and the benchmarks deploy. */

export { SCALE, USD, WAD } from "#sdk";
/** Market ids in the order sdk/deploy/networks/local.ts lists them. */
export const ETH_MARKET = 0n;
export const BTC_MARKET = 1n;
export const LOSS_POLICY_ADL = LOSS_POLICY.adl;
export const LOSS_POLICY_SOCIALIZED = LOSS_POLICY.socialized;
export const LOSS_POLICY_HAIRCUT = LOSS_POLICY.haircut;
/** The `localhost` deployment parameters (sdk/deploy/networks/local.ts). Initial prices in whole dollars. */
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
export const CHAIN_ID = LOCAL_CHAIN_ID;
export const FEED_UNIT = 10n ** FEED_DECIMALS;
export const RISK_MANAGER_ROLE = ROLES.riskManager;
export const PAUSER_ROLE = ROLES.pauser;
export const TREASURY_ROLE = ROLES.treasury;
export const MARKETS = [ETH_MARKET, BTC_MARKET] as const;

/** The `localhost` market parameters (sdk/deploy/networks/local.ts) with `feed` and `lossPolicy`. */
export function marketParams(feed: string, lossPolicy: bigint): MarketParamsStruct {
  return { ...LOCAL_RISK, oracleFeed: feed, lossPolicy };
}
