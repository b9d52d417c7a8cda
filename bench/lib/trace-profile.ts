// Profile of one transaction from its `debug_traceTransaction` struct logs: storage reads and writes (cold or warm,
// told apart by their EIP-2929 gas cost), calls by kind and target, and the gas spent inside each called contract.
// Pure: the trace and the address names come in, the profile goes out (bench/trace.ts prints it).

/** One step of a geth-style struct-log trace (only the fields used here). */
export interface StructLog {
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  /** Stack, bottom first (hex words). */
  stack?: string[];
}

export interface CallRow {
  kind: string;
  target: string;
  count: number;
  /** Gas from the call opcode to the step after it returns: the call's own cost plus everything run inside. */
  inclusiveGas: number;
}

export interface StorageCounts {
  coldReads: number;
  warmReads: number;
  /** Zero to non-zero on a slot unchanged so far in the transaction (20,000, + 2,100 when cold). */
  freshWrites: number;
  /** Non-zero change of a slot unchanged so far in the transaction (2,900, + 2,100 when cold). */
  updateWrites: number;
  /** A slot already written in the transaction, or written with its own value (100, + 2,100 when cold). */
  dirtyWrites: number;
  /** Writes to a slot not read or written before in the transaction (each of the above can be). */
  coldWrites: number;
}

export interface TraceProfile {
  steps: number;
  storage: StorageCounts;
  /** Storage counts by the code that ran the opcode (a library's reads are its caller's storage). */
  storageByCode: Map<string, StorageCounts>;
  calls: CallRow[];
  /** Gas of the opcodes run with each contract's code, not counting the calls it makes. */
  exclusiveGas: Map<string, number>;
  /** Gas and count by opcode, calls excluded (their cost is in `calls`). */
  byOpcode: Map<string, { count: number; gas: number }>;
}

const CALL_OPS = new Set(["CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"]);
// EIP-2929/2200 SSTORE costs: cold adds 2,100; 20,000 sets a clean zero slot, 2,900 changes a clean slot, 100 the rest.
const SSTORE_FRESH = new Set([20_000, 22_100]);
const SSTORE_UPDATE = new Set([2_900, 5_000]);
const SSTORE_COLD = new Set([22_100, 5_000, 2_200]);

function emptyCounts(): StorageCounts {
  return { coldReads: 0, warmReads: 0, freshWrites: 0, updateWrites: 0, dirtyWrites: 0, coldWrites: 0 };
}

function addStorage(counts: StorageCounts, log: StructLog): void {
  if (log.op === "SLOAD") {
    if (log.gasCost >= 2_100) counts.coldReads += 1;
    else counts.warmReads += 1;
    return;
  }
  if (SSTORE_FRESH.has(log.gasCost)) counts.freshWrites += 1;
  else if (SSTORE_UPDATE.has(log.gasCost)) counts.updateWrites += 1;
  else counts.dirtyWrites += 1;
  if (SSTORE_COLD.has(log.gasCost)) counts.coldWrites += 1;
}

function addressOf(word: string): string {
  return `0x${word.replace(/^0x/, "").padStart(64, "0").slice(24)}`.toLowerCase();
}

/**
 * Profiles `logs` of a transaction sent to `to`. `nameOf` names an address (a contract or library); unnamed
 * addresses keep their hex. A call's target is the stack's second word from the top at the call opcode.
 */
export function profileTrace(
  logs: readonly StructLog[],
  to: string,
  nameOf: (address: string) => string,
): TraceProfile {
  const storage = emptyCounts();
  const storageByCode = new Map<string, StorageCounts>();
  const calls = new Map<string, CallRow>();
  const exclusiveGas = new Map<string, number>();
  const byOpcode = new Map<string, { count: number; gas: number }>();
  // codeAt[d] names the code running at depth d (1 = the transaction's target).
  const codeAt: string[] = ["", nameOf(to.toLowerCase())];
  // Calls waiting for their return: the step index of the opcode and its row.
  const open: { depth: number; gasBefore: number; row: CallRow }[] = [];

  for (let i = 0; i < logs.length; i += 1) {
    const log = logs[i];
    while (open.length > 0 && log.depth <= open[open.length - 1].depth) {
      const call = open.pop();
      if (call !== undefined) call.row.inclusiveGas += call.gasBefore - log.gas;
    }
    const code = codeAt[log.depth] ?? "?";
    const next = logs[i + 1];
    const entersCall = CALL_OPS.has(log.op) && next !== undefined && next.depth === log.depth + 1;
    // A call's gasCost includes the gas it forwards; charge its own part by what is left when it returns.
    if (!CALL_OPS.has(log.op)) {
      exclusiveGas.set(code, (exclusiveGas.get(code) ?? 0) + log.gasCost);
      const op = byOpcode.get(log.op) ?? { count: 0, gas: 0 };
      op.count += 1;
      op.gas += log.gasCost;
      byOpcode.set(log.op, op);
    }
    if (log.op === "SLOAD" || log.op === "SSTORE") {
      addStorage(storage, log);
      const counts = storageByCode.get(code) ?? emptyCounts();
      addStorage(counts, log);
      storageByCode.set(code, counts);
    }
    if (CALL_OPS.has(log.op)) {
      const stack = log.stack ?? [];
      const target = nameOf(addressOf(stack[stack.length - 2] ?? "0x0"));
      const key = `${log.op} ${target}`;
      const row = calls.get(key) ?? { kind: log.op, target, count: 0, inclusiveGas: 0 };
      row.count += 1;
      calls.set(key, row);
      if (entersCall) {
        codeAt[log.depth + 1] = target;
        open.push({ depth: log.depth, gasBefore: log.gas, row });
      } else if (next !== undefined) {
        // A call to an address without code (or a precompile) returns at once.
        row.inclusiveGas += log.gas - next.gas;
        exclusiveGas.set(code, (exclusiveGas.get(code) ?? 0) + (log.gas - next.gas));
      }
    }
  }
  return {
    steps: logs.length,
    storage,
    storageByCode,
    calls: [...calls.values()].sort((a, b) => b.inclusiveGas - a.inclusiveGas),
    exclusiveGas,
    byOpcode,
  };
}

/** The profile as plain text lines: totals, then calls, then storage and gas by code. */
export function formatProfile(title: string, gasUsed: bigint, profile: TraceProfile): string[] {
  const s = profile.storage;
  const lines = [
    `== ${title}: ${gasUsed} gas, ${profile.steps} steps`,
    `   SLOAD cold ${s.coldReads}, warm ${s.warmReads}; SSTORE fresh ${s.freshWrites}, update ${s.updateWrites}, ` +
      `dirty ${s.dirtyWrites}; ${s.coldWrites} of the writes cold`,
    "   calls (kind, target, count, gas inclusive):",
  ];
  for (const row of profile.calls) {
    lines.push(
      `     ${row.kind.padEnd(12)} ${row.target.padEnd(28)} ${String(row.count).padStart(4)} ${String(row.inclusiveGas).padStart(9)}`,
    );
  }
  lines.push("   by code (gas of its own opcodes; SLOAD cold/warm; SSTORE fresh/update/dirty):");
  const codes = [...profile.exclusiveGas.entries()].sort((a, b) => b[1] - a[1]);
  for (const [code, gas] of codes) {
    const c = profile.storageByCode.get(code) ?? emptyCounts();
    lines.push(
      `     ${code.padEnd(28)} ${String(gas).padStart(9)}   ${c.coldReads}/${c.warmReads}   ` +
        `${c.freshWrites}/${c.updateWrites}/${c.dirtyWrites}`,
    );
  }
  const ops = [...profile.byOpcode.entries()].sort((a, b) => b[1].gas - a[1].gas).slice(0, 10);
  lines.push(`   top opcodes by gas: ${ops.map(([op, v]) => `${op} ${v.gas} (${v.count})`).join(", ")}`);
  return lines;
}
