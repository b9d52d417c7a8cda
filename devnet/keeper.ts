import { Wallet } from "ethers";
import type { JsonRpcProvider } from "ethers";
import type { DestinationStream } from "pino";

import { createProvider, readDeployment } from "#sdk";
import {
  assignKeys,
  counterTotal,
  createLogger,
  createMetrics,
  Keeper,
  parseConfig,
  rpcCounter,
  type ActionKind,
  type ActionOutcome,
  type CycleReport,
  type ExecResult,
  type Metrics,
} from "#keeper";
import type { HealthRow } from "./chain.js";
import { DEV_KEYS } from "./keys.js";

/** A keeper run in process against a node, with what a test needs to look at it. */
export interface TestKeeper {
  keeper: Keeper;
  metrics: Metrics;
  provider: JsonRpcProvider;
  /** Signer addresses, in the order of `keys` (those of the shared pool and the isolated markets' own alike). */
  addresses: string[];
  /** Every result of every `cycle()` so far. */
  results: ExecResult[];
  /** One runOnce(); its results are appended to `results`. */
  cycle(): Promise<CycleReport>;
  /** Stops the keeper (if started) and closes its provider. Safe to call twice. */
  close(): Promise<void>;
}

export interface TestKeeperOptions {
  /** RPC URL (the node's, or a proxy's). */
  url: string;
  /** Deployment file. */
  deployment: string;
  /** Indexes into DEV_KEYS; default [1]. */
  devKeys?: readonly number[];
  /** Keys instead of dev keys. */
  privateKeys?: readonly string[];
  /** More flags, e.g. ["--checkpoint", file]. */
  args?: readonly string[];
  /** pino level; `silent` by default so that test output stays readable. */
  logLevel?: string;
  /** Where the log's JSON lines go (standard output by default), for a test that reads them. */
  logTo?: DestinationStream;
  /** Per-request timeout of the keeper's provider; 5 s by default, so that an outage shows quickly. */
  timeoutMs?: number;
}

/**
 * A keeper configured through parseConfig exactly as the CLI would be (flags plus KEEPER_PRIVATE_KEYS), with
 * its own metrics registry and provider, so that two of them in one process stay apart.
 */
export function createTestKeeper(options: TestKeeperOptions): TestKeeper {
  const keys = options.privateKeys ?? (options.devKeys ?? [1]).map((i) => DEV_KEYS[i]);
  const config = parseConfig(
    ["--rpc", options.url, "--deployment", options.deployment, "--log-level", options.logLevel ?? "silent"].concat(
      options.args ?? [],
    ),
    { KEEPER_PRIVATE_KEYS: keys.join(",") },
  );
  const deployment = readDeployment(config.deploymentPath);
  const metrics = createMetrics();
  const provider = createProvider(config.rpcUrl, {
    chainId: deployment.chainId,
    onRequest: rpcCounter(metrics),
    timeoutMs: options.timeoutMs ?? 5_000,
  });
  const signers = keys.map((key) => new Wallet(key, provider));
  // Every key in the shared pool, unless --isolated-signer dedicates some to isolated markets.
  const assigned = assignKeys({ ...config, signers: undefined }, deployment, keys.length);
  const keeper = new Keeper({
    provider,
    signers: assigned.shared.map((i) => signers[i]),
    isolatedSigners: new Map([...assigned.isolated].map(([market, i]) => [market, signers[i]])),
    deployment,
    config,
    logger: createLogger({
      level: config.logLevel,
      ...(options.logTo === undefined ? {} : { destination: options.logTo }),
    }),
    metrics,
  });
  const results: ExecResult[] = [];
  let closed = false;
  return {
    keeper,
    metrics,
    provider,
    addresses: signers.map((s) => s.address),
    results,
    cycle: async () => {
      const report = await keeper.runOnce();
      results.push(...report.results);
      return report;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await keeper.stop();
      provider.destroy();
    },
  };
}

/**
 * Runs cycles until one confirms nothing (every liquidation, ADL step and socialization it could take is
 * taken), at most `maxCycles`. Returns the number of cycles run, the quiet one included.
 */
export async function runUntilQuiet(keeper: TestKeeper, maxCycles = 20): Promise<number> {
  for (let n = 1; n <= maxCycles; ++n) {
    const report = await keeper.cycle();
    if (!report.results.some((r) => r.outcome === "confirmed")) return n;
  }
  throw new Error(`the keeper was still acting after ${maxCycles} cycles`);
}

/** actions_total for one kind and outcome (all kinds when `kind` is undefined). */
export function actionCount(keeper: TestKeeper, outcome: ActionOutcome, kind?: ActionKind): Promise<number> {
  return counterTotal(keeper.metrics.actions, kind === undefined ? { outcome } : { outcome, kind });
}

/** rpc_calls_total by method, and their sum. */
export async function rpcCalls(metrics: Metrics): Promise<{ total: number; byMethod: Record<string, number> }> {
  const { values } = await metrics.rpcCalls.get();
  const byMethod: Record<string, number> = {};
  let total = 0;
  for (const v of values) {
    const method = String(v.labels.method);
    byMethod[method] = (byMethod[method] ?? 0) + v.value;
    total += v.value;
  }
  return { total, byMethod };
}

/**
 * The accounts still short of maintenance by at least `minShortfallBps` of it, or bankrupt: what a keeper
 * with that --min-shortfall-bps must leave none of. `maintenance − equity` ≥ bps/10⁴ × maintenance.
 */
export function notCleared(rows: readonly HealthRow[], minShortfallBps: number): HealthRow[] {
  return rows.filter(
    (r) =>
      r.equity < 0n ||
      (r.equity < r.maintenanceMargin &&
        (r.maintenanceMargin - r.equity) * 10_000n >= r.maintenanceMargin * BigInt(minShortfallBps)),
  );
}

/** Polls `read` every 20 ms until it returns a value other than `undefined`; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
