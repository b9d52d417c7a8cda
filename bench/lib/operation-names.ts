// Names of the measured operations, shared by the chain scenarios, the goals, the report and the snapshot.

export const OP = {
  deposit: "deposit",
  withdraw: "withdraw",
  fillOpen: "fill: open",
  fillIncrease: "fill: increase",
  fillReduce: "fill: reduce",
  fillClose: "fill: close",
  partialLiquidation: "partial liquidation",
  fullLiquidation: "full liquidation",
  bankruptCovered: "bankrupt liquidation, covered by the fund",
  bankruptSocialized: "bankrupt liquidation, socialized",
  bankruptAccount: "bankrupt account, every market in one call",
  adl: "ADL against one counterparty",
  stake: "insurance stake",
  unstakeRequest: "unstake request",
  unstake: "unstake",
} as const;

export type OperationName = (typeof OP)[keyof typeof OP];

/** The main operations whose gas is committed in bench/gas-snapshot.json and checked in CI. */
export const SNAPSHOT_OPERATIONS: readonly OperationName[] = [
  OP.deposit,
  OP.withdraw,
  OP.fillOpen,
  OP.fillClose,
  OP.partialLiquidation,
  OP.bankruptCovered,
  OP.bankruptSocialized,
  OP.bankruptAccount,
  OP.adl,
  OP.stake,
];

/** Issue 15: a bankrupt account in this many markets, resolved by single calls and by one liquidateAccount. */
export const SNAPSHOT_ACCOUNT_MARKETS = 10;

/** Snapshot operations also measured with the account in {@link SNAPSHOT_ACCOUNT_MARKETS} markets. */
export const SNAPSHOT_MANY_MARKETS: readonly OperationName[] = [OP.bankruptSocialized, OP.bankruptAccount];

/** The snapshot key of an operation measured in `markets` markets (1: the operation's name). */
export function snapshotKey(name: OperationName, markets: number): string {
  return markets === 1 ? name : `${name} @ ${markets} markets`;
}
