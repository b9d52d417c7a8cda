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
  OP.adl,
  OP.stake,
];
