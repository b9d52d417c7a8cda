import { ZeroHash, id } from "ethers";

/** Numbers every tool shares with the contracts. */

/** 18-decimal fixed point, the clearing house's internal unit (FixedPointMath.WAD). */
export const WAD = 10n ** 18n;
/** One unit of the 6-decimal collateral token of the local and test deployments. */
export const USD = 10n ** 6n;
/** Token units → 18-decimal internal units for the 6-decimal collateral. */
export const SCALE = 10n ** 12n;
export const MAX_UINT256 = (1n << 256n) - 1n;

/** The loss policies of a market as the deployment file and the flags name them. */
export const LOSS_POLICY_NAMES = ["adl", "socialized", "haircut"] as const;
export type LossPolicyName = (typeof LOSS_POLICY_NAMES)[number];

/** `LossPolicy` of contracts/interfaces/ClearingHouseTypes.sol, by name. */
export const LOSS_POLICY: Readonly<Record<LossPolicyName, bigint>> = { adl: 0n, socialized: 1n, haircut: 2n };

/** The name of a `LossPolicy` enum value read from the chain. */
export function lossPolicyName(value: bigint): LossPolicyName {
  const name = LOSS_POLICY_NAMES.find((n) => LOSS_POLICY[n] === value);
  if (name === undefined) throw new Error(`unknown loss policy ${value}`);
  return name;
}

/** ClearingHouse's AccessControl roles (`keccak256("…_ROLE")`, the admin role is zero). */
export const ROLES = {
  admin: ZeroHash,
  riskManager: id("RISK_MANAGER_ROLE"),
  pauser: id("PAUSER_ROLE"),
  treasury: id("TREASURY_ROLE"),
} as const;

/** Σ of bigints (0 for none). */
export function sum(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => a + b, 0n);
}

/** The shared claims pool (ClaimsLib.SHARED_POOL): every shared market's loss events. */
export const SHARED_CLAIMS_POOL = 0n;

/**
 * The claims pool of a market's loss events, as `repayClaims` and `claimsTotals` take it: 1 + the market's id for
 * an isolated market (its own pool, repaid from its own fee pot), the shared pool for any other.
 */
export function claimsPoolOf(marketId: bigint, isolated: boolean): bigint {
  return isolated ? marketId + 1n : SHARED_CLAIMS_POOL;
}
