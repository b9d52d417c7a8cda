import { Wallet, id, toQuantity } from "ethers";
import type { JsonRpcApiProvider } from "ethers";

import { createLogger, createMetrics, Keeper, parseConfig, type ActionKind, type ExecOutcome } from "#keeper";
import { USD, type Deployment } from "#sdk";
import { advanceTime, fundKeepers } from "../../devnet/scenario/crash.js";
import type { CrashSystem } from "../../devnet/scenario/crash.js";

/** The project's keeper, run in the demo's process against its in-process chain. */

/** Collateral each keeper signer keeps in the clearing house: liquidators take positions over. */
const KEEPER_COLLATERAL = 1_000_000n * USD;
const KEEPER_GAS = 1000n * 10n ** 18n;
/** A waterfall of a few hundred accounts settles in tens of cycles; more means the keeper is stuck. */
const MAX_CYCLES = 200;

export interface DemoKeeper {
  keeper: Keeper;
  addresses: string[];
}

/**
 * A Keeper with `signers` wallets derived from the seed, each given gas and collateral, configured through the
 * keeper's own flag parser (the RPC URL is a placeholder: the keeper is handed the in-process provider).
 */
export async function startKeeper(
  system: CrashSystem,
  deployment: Deployment,
  deploymentPath: string,
  seed: string,
  signers: number,
): Promise<DemoKeeper> {
  const keys = Array.from({ length: signers }, (_, i) => id(`backstop-demo/${seed}/keeper/${i}`));
  const config = parseConfig(
    ["--rpc", "http://in-process.invalid", "--deployment", deploymentPath, "--poll-ms", "10", "--log-level", "silent"],
    { KEEPER_PRIVATE_KEYS: keys.join(",") },
  );
  const wallets = keys.map((key) => new Wallet(key, system.provider));
  const addresses = wallets.map((w) => w.address);
  await Promise.all(addresses.map((a) => system.provider.send("hardhat_setBalance", [a, toQuantity(KEEPER_GAS)])));
  await fundKeepers(system, addresses, KEEPER_COLLATERAL);
  const keeper = new Keeper({
    provider: system.provider,
    signers: wallets,
    deployment,
    config,
    logger: createLogger({ level: config.logLevel }),
    metrics: createMetrics(),
  });
  return { keeper, addresses };
}

export type ActionTally = Record<ActionKind, Partial<Record<ExecOutcome, number>>>;

export interface SettleReport {
  cycles: number;
  actions: ActionTally;
  /** Times the demo moved the clock past the deleverage timeout because a case had no eligible counterparty. */
  timeoutsWaited: number;
  /** False when the keeper still had work after MAX_CYCLES. */
  settled: boolean;
}

/**
 * Runs keeper cycles until one plans nothing and no deleverage case is open. A case the keeper cannot advance
 * (no counterparty eligible) waits for the deleverage timeout, which the demo skips over with the node's clock.
 */
export async function settle(
  keeper: Keeper,
  provider: JsonRpcApiProvider,
  deleverageTimeout: bigint,
): Promise<SettleReport> {
  const actions: ActionTally = { liquidate: {}, deleverage: {}, socialize: {} };
  let timeoutsWaited = 0;
  for (let cycle = 1; cycle <= MAX_CYCLES; cycle++) {
    const report = await keeper.runOnce();
    for (const r of report.results) {
      const byOutcome = actions[r.action.kind];
      byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
    }
    if (report.jobs > 0) continue;
    if (report.openCases === 0) return { cycles: cycle, actions, timeoutsWaited, settled: true };
    await advanceTime({ provider }, Number(deleverageTimeout) + 1);
    timeoutsWaited++;
  }
  return { cycles: MAX_CYCLES, actions, timeoutsWaited, settled: false };
}
