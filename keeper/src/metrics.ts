import { Counter, Gauge, Histogram, Registry } from "prom-client";

import type { RequestHook } from "#sdk";

export type ActionKind = "liquidate" | "deleverage" | "socialize";
export type ActionOutcome = "sent" | "confirmed" | "lost_race" | "failed" | "dry_run";

/** The keeper's Prometheus metrics, all in one registry (a fresh one unless given). */
export interface Metrics {
  registry: Registry;
  accountsTracked: Gauge;
  liquidatableNow: Gauge;
  blockLag: Gauge;
  actions: Counter<"kind" | "outcome">;
  rpcCalls: Counter<"method">;
  timeToLiquidation: Histogram;
}

/** Creates the metrics in `registry`, or in a new registry so that two keepers in one process stay apart. */
export function createMetrics(registry: Registry = new Registry()): Metrics {
  const registers = [registry];
  return {
    registry,
    accountsTracked: new Gauge({ name: "accounts_tracked", help: "Accounts discovered from events", registers }),
    liquidatableNow: new Gauge({
      name: "liquidatable_now",
      help: "Accounts below maintenance margin at the last read",
      registers,
    }),
    blockLag: new Gauge({ name: "block_lag", help: "Head block minus the last block indexed", registers }),
    actions: new Counter({
      name: "actions_total",
      help: "Keeper actions by kind and outcome",
      labelNames: ["kind", "outcome"] as const,
      registers,
    }),
    rpcCalls: new Counter({
      name: "rpc_calls_total",
      help: "JSON-RPC requests sent, by method",
      labelNames: ["method"] as const,
      registers,
    }),
    timeToLiquidation: new Histogram({
      name: "time_to_liquidation_seconds",
      help: "From first seeing an account liquidatable to its liquidation confirmed",
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers,
    }),
  };
}

/** Sum of a counter over the label values that match `labels` (all when empty). */
export async function counterTotal<T extends string>(
  counter: Counter<T>,
  labels: Partial<Record<T, string>> = {},
): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k as T] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

// One hook per metrics, so that observing a provider twice for the same keeper counts each request once.
const counters = new WeakMap<Metrics, RequestHook>();

/** The RPC request hook that counts into `metrics.rpcCalls` by method. */
export function rpcCounter(metrics: Metrics): RequestHook {
  let hook = counters.get(metrics);
  if (hook === undefined) {
    hook = (method) => metrics.rpcCalls.inc({ method });
    counters.set(metrics, hook);
  }
  return hook;
}
