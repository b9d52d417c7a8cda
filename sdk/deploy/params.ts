import type { MarketParamsStruct } from "../../typechain-types/ClearingHouse.js";
import type { LossPolicyName } from "../constants.js";

/** What one network's deployment is made of; `sdk/deploy/networks/<name>.ts` holds one per network. */

/** A feed to deploy (a settable MockAggregatorV3) or an existing Chainlink AggregatorV3 to use. */
export type FeedParams =
  | { kind: "mock"; description: string; decimals: number; /** Initial answer in whole dollars. */ price: bigint }
  | { kind: "existing"; address: string };

/** A collateral token to deploy (MockERC20) or an existing 6-decimal stablecoin. */
export type CollateralParams =
  { kind: "mock"; name: string; symbol: string; decimals: number } | { kind: "existing"; address: string };

/** A market's risk parameters without its feed and policy, which come from the network's market entry. */
export type RiskParams = Omit<MarketParamsStruct, "oracleFeed" | "lossPolicy">;

export interface MarketSpec {
  symbol: string;
  lossPolicy: LossPolicyName;
  feed: FeedParams;
  risk: RiskParams;
  /**
   * The name of an entry of {@link NetworkParams.isolatedFunds}: the market is listed isolated
   * (`listIsolatedMarket`), its losses drawn on that fund only; absent: a shared market. One fund per market.
   */
  isolatedFund?: string;
}

/**
 * Holders of the clearing house's and the fund's roles. An absent one stays with the deployer; a given one is
 * granted to that address and the deployer renounces the role (it keeps the admin role only while configuring).
 */
export interface RoleHolders {
  /** DEFAULT_ADMIN_ROLE of the clearing house and the fund, and the fund's FUND_MANAGER_ROLE. */
  admin?: string;
  riskManager?: string;
  pauser?: string;
  treasury?: string;
}

export interface FundParams {
  /** Unstake cooldown, seconds. */
  cooldown: bigint;
  /** Balance the fund never draws below, token units. */
  floor: bigint;
  /** Largest total draw per window, token units. */
  drawCap: bigint;
  /** Length of the draw window, seconds. */
  drawWindow: bigint;
}

/**
 * The default layers between the fees set aside and the loss policy (issue 11; bounds in DefaultLayers). Token
 * amounts in token units, shares and k in 18 decimals, times in seconds.
 */
export interface LayerParams {
  firstLossTarget: bigint;
  refillShare: bigint;
  memberFeeShare: bigint;
  minContribution: bigint;
  contributionRatio: bigint;
  assessmentMultiple: bigint;
  coolingOffPeriod: bigint;
  drawdownFraction: bigint;
  drawdownWindow: bigint;
}

/**
 * An isolated market's own fund, deployed for it: an InsuranceFund vault drawn by the clearing house, or a
 * DefaultLayers with its own parameters (first loss, members, assessments, trigger) whose stakers' layer is a
 * vault of `stakers` when given (none: that layer is skipped). Roles as the shared fund's (`roles.admin`).
 */
export type IsolatedFundParams =
  { kind: "vault"; fund: FundParams } | { kind: "layers"; layers: LayerParams; stakers?: FundParams };

export interface NetworkParams {
  /** Name in the deployment file and of the file (`deployments/<name>.json`). */
  name: string;
  collateral: CollateralParams;
  /** Listed in this order: market ids 0, 1, … */
  markets: MarketSpec[];
  /** Share of every trading fee that goes to the insurance fund (18 decimals). */
  insuranceFeeShare: bigint;
  fund: FundParams;
  /**
   * With these, the clearing house draws on a DefaultLayers (first loss → the fund → members → assessments),
   * the fund being its second layer; without, on the fund directly. The lens reads both (fundState,
   * layersState).
   */
  layers?: LayerParams;
  /** Funds of isolated markets by name; each is named by exactly one market's `isolatedFund`. */
  isolatedFunds?: Record<string, IsolatedFundParams>;
  /** Seconds after which anyone may socialize a stuck deleverage case. */
  deleverageTimeout: bigint;
  roles: RoleHolders;
}
