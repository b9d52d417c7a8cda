// The committed gas snapshot (bench/gas-snapshot.json: operation → gas) and its comparison with a new measurement.
import { asNumber, asObject, child } from "./json-shape.js";

export type GasSnapshot = Record<string, number>;

/** An operation may cost this much more (as a fraction) than its snapshot before the check fails. */
export const SNAPSHOT_TOLERANCE = 0.01;

export function parseSnapshot(value: unknown, source: string): GasSnapshot {
  const at = { source, path: "" };
  const obj = asObject(value, at);
  const out: GasSnapshot = {};
  for (const [operation, gas] of Object.entries(obj)) {
    const n = asNumber(gas, child(at, operation));
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`${source}: ${operation} must be a positive whole gas figure, got ${n}`);
    out[operation] = n;
  }
  if (Object.keys(out).length === 0) throw new Error(`${source}: the snapshot is empty`);
  return out;
}

export interface Change {
  operation: string;
  snapshot: number;
  measured: number;
  /** (measured − snapshot) / snapshot. */
  change: number;
}

export interface SnapshotDiff {
  /** More than the tolerance above the snapshot. */
  regressions: Change[];
  /** More than the tolerance below: the snapshot should be rewritten. */
  improvements: Change[];
  withinTolerance: Change[];
  /** Measured but not in the snapshot. */
  missing: string[];
  /** In the snapshot but no longer measured. */
  stale: string[];
}

export function diffSnapshot(snapshot: GasSnapshot, measured: GasSnapshot, tolerance: number): SnapshotDiff {
  if (!(tolerance >= 0)) throw new Error(`diffSnapshot: tolerance ${tolerance} must be ≥ 0`);
  const diff: SnapshotDiff = { regressions: [], improvements: [], withinTolerance: [], missing: [], stale: [] };
  for (const [operation, gas] of Object.entries(measured)) {
    const expected = snapshot[operation];
    if (expected === undefined) {
      diff.missing.push(operation);
      continue;
    }
    const c: Change = { operation, snapshot: expected, measured: gas, change: (gas - expected) / expected };
    if (c.change > tolerance) diff.regressions.push(c);
    else if (c.change < -tolerance) diff.improvements.push(c);
    else diff.withinTolerance.push(c);
  }
  for (const operation of Object.keys(snapshot)) if (!(operation in measured)) diff.stale.push(operation);
  return diff;
}

/** A regression, or a snapshot that does not list exactly the measured operations, fails the check. */
export function snapshotFails(diff: SnapshotDiff): boolean {
  return diff.regressions.length > 0 || diff.missing.length > 0 || diff.stale.length > 0;
}

function percent(change: number): string {
  return `${change >= 0 ? "+" : ""}${(change * 100).toFixed(2)}%`;
}

/** One line per operation and per problem, for the CI log. */
export function formatDiff(diff: SnapshotDiff, tolerance: number): string[] {
  const tol = `${(tolerance * 100).toFixed(2)}%`;
  const line = (c: Change, what: string) =>
    `${what} ${c.operation}: ${c.measured} gas, snapshot ${c.snapshot} (${percent(c.change)})`;
  return [
    ...diff.regressions.map((c) => line(c, `FAIL  more than ${tol} above the snapshot:`)),
    ...diff.improvements.map((c) =>
      line(c, `CHEAPER by more than ${tol}, update the snapshot (npm run gas:snapshot):`),
    ),
    ...diff.withinTolerance.map((c) => line(c, "ok   ")),
    ...diff.missing.map((op) => `FAIL  ${op}: measured but not in the snapshot (npm run gas:snapshot)`),
    ...diff.stale.map((op) => `FAIL  ${op}: in the snapshot but no longer measured (npm run gas:snapshot)`),
  ];
}
