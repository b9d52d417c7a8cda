import { expect } from "chai";

import { formatProfile, profileTrace } from "../../bench/lib/trace-profile.js";
import type { StructLog } from "../../bench/lib/trace-profile.js";

const CH = "0x00000000000000000000000000000000000000c1";
const LIB = "0x00000000000000000000000000000000000000a1";
const FEED = "0x00000000000000000000000000000000000000f1";
const word = (address: string) => `0x${address.slice(2).padStart(64, "0")}`;
const names = new Map([
  [CH, "ClearingHouse"],
  [LIB, "Lib"],
  [FEED, "Feed"],
]);
const nameOf = (a: string) => names.get(a) ?? a;

// A transaction to CH: a cold and a warm read, a delegatecall into Lib that writes a fresh slot, updates one and
// rewrites it, and a staticcall from Lib to Feed that reads one cold slot. Gas left is what a node would report.
const LOGS: StructLog[] = [
  { op: "SLOAD", gas: 100_000, gasCost: 2_100, depth: 1 },
  { op: "SLOAD", gas: 97_900, gasCost: 100, depth: 1 },
  { op: "DELEGATECALL", gas: 97_800, gasCost: 90_000, depth: 1, stack: ["0x0", word(LIB), "0x1234"] },
  { op: "SSTORE", gas: 95_000, gasCost: 22_100, depth: 2 },
  { op: "SSTORE", gas: 72_900, gasCost: 2_900, depth: 2 },
  { op: "SSTORE", gas: 70_000, gasCost: 100, depth: 2 },
  { op: "STATICCALL", gas: 69_900, gasCost: 60_000, depth: 2, stack: ["0x0", word(FEED), "0x5"] },
  { op: "SLOAD", gas: 67_000, gasCost: 2_100, depth: 3 },
  { op: "RETURN", gas: 64_900, gasCost: 0, depth: 3 },
  { op: "POP", gas: 64_800, gasCost: 2, depth: 2 },
  { op: "RETURN", gas: 64_798, gasCost: 0, depth: 2 },
  { op: "STOP", gas: 64_700, gasCost: 0, depth: 1 },
];

describe("bench trace profile", function () {
  it("counts storage by EIP-2929 cost, calls by target, and gas by code, to the gas", function () {
    const p = profileTrace(LOGS, CH, nameOf);
    expect(p.storage).to.deep.equal({
      coldReads: 2,
      warmReads: 1,
      freshWrites: 1,
      updateWrites: 1,
      dirtyWrites: 1,
      coldWrites: 1,
    });
    expect(p.storageByCode.get("Feed")?.coldReads).to.equal(1);
    expect(p.storageByCode.get("Lib")?.freshWrites).to.equal(1);
    // Inclusive gas: gas left at the call opcode minus gas left at the caller's next step.
    expect(p.calls).to.deep.equal([
      { kind: "DELEGATECALL", target: "Lib", count: 1, inclusiveGas: 97_800 - 64_700 },
      { kind: "STATICCALL", target: "Feed", count: 1, inclusiveGas: 69_900 - 64_800 },
    ]);
    expect(p.exclusiveGas.get("ClearingHouse")).to.equal(2_200);
    expect(p.exclusiveGas.get("Lib")).to.equal(22_100 + 2_900 + 100 + 2);
    expect(p.exclusiveGas.get("Feed")).to.equal(2_100);
    expect(p.byOpcode.get("SSTORE")).to.deep.equal({ count: 3, gas: 25_100 });
  });

  it("prints the totals line a reader compares", function () {
    const lines = formatProfile("x", 35_300n, profileTrace(LOGS, CH, nameOf));
    expect(lines[1]).to.equal("   SLOAD cold 2, warm 1; SSTORE fresh 1, update 1, dirty 1; 1 of the writes cold");
  });
});
