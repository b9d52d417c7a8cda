// Small, hand-written result objects for the benchmark's pure modules.
import type { GasResults, KeeperResults, LatestResults } from "../../bench/lib/results.js";

export function sampleGas(): GasResults {
  return {
    commit: "abc1234",
    date: "2026-11-21T04:00:00.000Z",
    machine: "2× test CPU",
    buildProfile: "production",
    runs: 5,
    operations: [
      { operation: "fill: open", role: "user", median: 263_294, min: 263_282, max: 263_294, runs: 5 },
      {
        operation: "ADL against one counterparty",
        role: "keeper",
        median: 100_000,
        min: 99_990,
        max: 100_010,
        runs: 5,
      },
      { operation: "deposit", role: "user", median: 51_697, min: 51_697, max: 51_697, runs: 5 },
    ],
    scaling: {
      positions: [
        {
          operation: "bankrupt liquidation, socialized",
          note: "",
          mustStayFlat: true,
          grows: true,
          points: [
            { n: 1, gas: 200_000, ratio: 1 },
            { n: 1000, gas: 220_000, ratio: 1.1 },
          ],
        },
      ],
      markets: [
        {
          operation: "withdraw",
          note: "",
          mustStayFlat: false,
          grows: true,
          points: [
            { n: 1, gas: 100_000, ratio: 1 },
            { n: 10, gas: 700_000, ratio: 7 },
          ],
        },
      ],
    },
    limits: {
      liquidationsPerBlock: {
        blockGasLimit: 30_000_000,
        operation: "partial liquidation",
        gasEach: 200_000,
        predicted: 150,
        sent: 170,
        included: 160,
        blockGasUsed: 29_900_000,
        txGasLimit: 210_000,
      },
      lensHealth: {
        callGasCap: 16_777_216,
        accountsAtCap: 800,
        gasAtCap: 16_700_000,
        positionsPerAccount: 2,
        budget: 30_000_000,
        accountsAtBudget: 1400,
        budgetVerified: false,
        curve: [
          { accounts: 100, gas: 2_100_000 },
          { accounts: 200, gas: 4_200_000 },
          { accounts: 400, gas: 8_400_000 },
        ],
      },
    },
    flags: ["bankrupt liquidation, socialized grows with the number of other positions"],
  };
}

export function sampleKeeper(): KeeperResults {
  return {
    commit: "def5678",
    date: "2026-11-21T05:00:00.000Z",
    machine: "2× test CPU",
    coldStart: [{ accounts: 10_000, ms: 8_000, rpcCalls: 40, rpcByMethod: { eth_call: 30, eth_getLogs: 10 } }],
    idle: [
      { accounts: 1_000, blocks: 10, rpcCallsPerBlock: 2 },
      { accounts: 10_000, blocks: 10, rpcCallsPerBlock: 4 },
    ],
    crash: [
      { accounts: 1_000, liquidatable: 100, blocks: 3, seconds: 4.5, handled: 100 },
      { accounts: 10_000, liquidatable: 1_000, blocks: 9, seconds: 30, handled: 1_000 },
    ],
  };
}

export function sampleLatest(keeper: KeeperResults | null): LatestResults {
  return { commit: "abc1234", date: "2026-11-21T06:00:00.000Z", gas: sampleGas(), keeper };
}
