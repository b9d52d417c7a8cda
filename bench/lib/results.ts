// The shapes of bench/results/{gas,keeper,latest}.json and their checked parsers.
import { asArray, asBoolean, asNumber, asNumberRecord, asObject, asString, field } from "./json-shape.js";
import type { At } from "./json-shape.js";

export interface RunInfo {
  commit: string;
  date: string;
  machine: string;
}

/** Median and spread of one operation's gas over repeated runs. */
export interface OperationFigure {
  operation: string;
  role: string;
  median: number;
  min: number;
  max: number;
  runs: number;
}

export interface ScalingPoint {
  n: number;
  gas: number;
  ratio: number;
}

export interface ScalingRow {
  operation: string;
  /** What the figure is when it is not a single call (e.g. the sum of N calls). */
  note: string;
  /** Must not grow with n (socialization and liquidation against other positions). */
  mustStayFlat: boolean;
  grows: boolean;
  points: ScalingPoint[];
}

/** Liquidations packed into one block with automine off. */
export interface BlockLimit {
  blockGasLimit: number;
  operation: string;
  gasEach: number;
  /** floor(blockGasLimit / gasEach). */
  predicted: number;
  sent: number;
  /** Liquidations the node put into the one block. */
  included: number;
  blockGasUsed: number;
  txGasLimit: number;
}

/** Partial liquidations of distinct accounts sent by one keeper in `ClearingHouse.batch` transactions. */
export interface BatchedLiquidations {
  blockGasLimit: number;
  /** No transaction may have more gas than this (EIP-7825), so a block holds at least two batches. */
  callGasCap: number;
  /** One batch of `items` liquidations per size, each from the same state. */
  batches: { items: number; gasUsed: number; gasPerItem: number }[];
  /** Fixed and per-item gas fitted through the two largest batches. */
  fixed: number;
  perItem: number;
  /** Items one transaction under the cap holds, and items a block holds in such transactions (from the fit). */
  itemsPerTransaction: number;
  perBlock: number;
}

/** How many accounts' health BackstopLens.healthOf reads in one eth_call. */
export interface LensLimit {
  /** Gas the node allows one call (EIP-7825's 2^24 from Osaka on). */
  callGasCap: number;
  accountsAtCap: number;
  gasAtCap: number;
  positionsPerAccount: number;
  budget: number;
  accountsAtBudget: number;
  /** False when the budget is above the node's cap and the figure comes from the measured curve. */
  budgetVerified: boolean;
  curve: { accounts: number; gas: number }[];
}

export interface GasResults extends RunInfo {
  buildProfile: string;
  runs: number;
  /** With one other open position in the market and one market held. */
  operations: OperationFigure[];
  scaling: { positions: ScalingRow[]; markets: ScalingRow[] };
  /** `batchedLiquidations` is absent from results written before batch existed. */
  limits: { liquidationsPerBlock: BlockLimit; batchedLiquidations?: BatchedLiquidations; lensHealth: LensLimit };
  /** Human-readable warnings: operations that must stay flat and grew. */
  flags: string[];
}

export interface KeeperResults extends RunInfo {
  coldStart: { accounts: number; ms: number; rpcCalls: number; rpcByMethod: Record<string, number> }[];
  idle: { accounts: number; blocks: number; rpcCallsPerBlock: number }[];
  crash: { accounts: number; liquidatable: number; blocks: number; seconds: number; handled: number | boolean }[];
}

export interface LatestResults {
  commit: string;
  date: string;
  gas: GasResults;
  /** null when bench/results/keeper.json was absent (the keeper benchmark did not run). */
  keeper: KeeperResults | null;
}

function runInfo(v: unknown, at: At): RunInfo {
  const o = asObject(v, at);
  return {
    commit: field(o, "commit", at, asString),
    date: field(o, "date", at, asString),
    machine: field(o, "machine", at, asString),
  };
}

function operationFigure(v: unknown, at: At): OperationFigure {
  const o = asObject(v, at);
  return {
    operation: field(o, "operation", at, asString),
    role: field(o, "role", at, asString),
    median: field(o, "median", at, asNumber),
    min: field(o, "min", at, asNumber),
    max: field(o, "max", at, asNumber),
    runs: field(o, "runs", at, asNumber),
  };
}

function scalingRow(v: unknown, at: At): ScalingRow {
  const o = asObject(v, at);
  return {
    operation: field(o, "operation", at, asString),
    note: field(o, "note", at, asString),
    mustStayFlat: field(o, "mustStayFlat", at, asBoolean),
    grows: field(o, "grows", at, asBoolean),
    points: field(o, "points", at, (p, pat) =>
      asArray(p, pat, (x, xat) => {
        const q = asObject(x, xat);
        return {
          n: field(q, "n", xat, asNumber),
          gas: field(q, "gas", xat, asNumber),
          ratio: field(q, "ratio", xat, asNumber),
        };
      }),
    ),
  };
}

function blockLimit(v: unknown, at: At): BlockLimit {
  const o = asObject(v, at);
  const n = (key: string) => field(o, key, at, asNumber);
  return {
    blockGasLimit: n("blockGasLimit"),
    operation: field(o, "operation", at, asString),
    gasEach: n("gasEach"),
    predicted: n("predicted"),
    sent: n("sent"),
    included: n("included"),
    blockGasUsed: n("blockGasUsed"),
    txGasLimit: n("txGasLimit"),
  };
}

function batchedLiquidations(v: unknown, at: At): BatchedLiquidations {
  const o = asObject(v, at);
  const n = (key: string) => field(o, key, at, asNumber);
  return {
    blockGasLimit: n("blockGasLimit"),
    callGasCap: n("callGasCap"),
    batches: field(o, "batches", at, (x, xat) =>
      asArray(x, xat, (b, bat) => {
        const q = asObject(b, bat);
        const m = (key: string) => field(q, key, bat, asNumber);
        return { items: m("items"), gasUsed: m("gasUsed"), gasPerItem: m("gasPerItem") };
      }),
    ),
    fixed: n("fixed"),
    perItem: n("perItem"),
    itemsPerTransaction: n("itemsPerTransaction"),
    perBlock: n("perBlock"),
  };
}

function lensLimit(v: unknown, at: At): LensLimit {
  const o = asObject(v, at);
  const n = (key: string) => field(o, key, at, asNumber);
  return {
    callGasCap: n("callGasCap"),
    accountsAtCap: n("accountsAtCap"),
    gasAtCap: n("gasAtCap"),
    positionsPerAccount: n("positionsPerAccount"),
    budget: n("budget"),
    accountsAtBudget: n("accountsAtBudget"),
    budgetVerified: field(o, "budgetVerified", at, asBoolean),
    curve: field(o, "curve", at, (c, cat) =>
      asArray(c, cat, (x, xat) => {
        const q = asObject(x, xat);
        return { accounts: field(q, "accounts", xat, asNumber), gas: field(q, "gas", xat, asNumber) };
      }),
    ),
  };
}

export function parseGasResults(v: unknown, source: string, path = ""): GasResults {
  const at = { source, path };
  const o = asObject(v, at);
  const scaling = field(o, "scaling", at, asObject);
  const scalingAt = { source, path: path ? `${path}.scaling` : "scaling" };
  const limits = field(o, "limits", at, asObject);
  const limitsAt = { source, path: path ? `${path}.limits` : "limits" };
  return {
    ...runInfo(v, at),
    buildProfile: field(o, "buildProfile", at, asString),
    runs: field(o, "runs", at, asNumber),
    operations: field(o, "operations", at, (x, xat) => asArray(x, xat, operationFigure)),
    scaling: {
      positions: field(scaling, "positions", scalingAt, (x, xat) => asArray(x, xat, scalingRow)),
      markets: field(scaling, "markets", scalingAt, (x, xat) => asArray(x, xat, scalingRow)),
    },
    limits: {
      liquidationsPerBlock: field(limits, "liquidationsPerBlock", limitsAt, blockLimit),
      ...(limits.batchedLiquidations === undefined
        ? {}
        : { batchedLiquidations: field(limits, "batchedLiquidations", limitsAt, batchedLiquidations) }),
      lensHealth: field(limits, "lensHealth", limitsAt, lensLimit),
    },
    flags: field(o, "flags", at, (x, xat) => asArray(x, xat, asString)),
  };
}

function handled(v: unknown, at: At): number | boolean {
  return typeof v === "boolean" ? v : asNumber(v, at);
}

export function parseKeeperResults(v: unknown, source: string, path = ""): KeeperResults {
  const at = { source, path };
  const o = asObject(v, at);
  return {
    ...runInfo(v, at),
    coldStart: field(o, "coldStart", at, (x, xat) =>
      asArray(x, xat, (r, rat) => {
        const q = asObject(r, rat);
        return {
          accounts: field(q, "accounts", rat, asNumber),
          ms: field(q, "ms", rat, asNumber),
          rpcCalls: field(q, "rpcCalls", rat, asNumber),
          rpcByMethod: field(q, "rpcByMethod", rat, asNumberRecord),
        };
      }),
    ),
    idle: field(o, "idle", at, (x, xat) =>
      asArray(x, xat, (r, rat) => {
        const q = asObject(r, rat);
        return {
          accounts: field(q, "accounts", rat, asNumber),
          blocks: field(q, "blocks", rat, asNumber),
          rpcCallsPerBlock: field(q, "rpcCallsPerBlock", rat, asNumber),
        };
      }),
    ),
    crash: field(o, "crash", at, (x, xat) =>
      asArray(x, xat, (r, rat) => {
        const q = asObject(r, rat);
        return {
          accounts: field(q, "accounts", rat, asNumber),
          liquidatable: field(q, "liquidatable", rat, asNumber),
          blocks: field(q, "blocks", rat, asNumber),
          seconds: field(q, "seconds", rat, asNumber),
          handled: field(q, "handled", rat, handled),
        };
      }),
    ),
  };
}

export function parseLatestResults(v: unknown, source: string): LatestResults {
  const at = { source, path: "" };
  const o = asObject(v, at);
  return {
    commit: field(o, "commit", at, asString),
    date: field(o, "date", at, asString),
    gas: parseGasResults(o.gas, source, "gas"),
    keeper: o.keeper === null ? null : parseKeeperResults(o.keeper, source, "keeper"),
  };
}
