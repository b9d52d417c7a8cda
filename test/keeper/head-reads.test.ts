import { expect } from "chai";

import type { AccountRow } from "#sdk";
import { HeadReads } from "../../keeper/src/head-reads.js";

const account = (n: number): string => `0x${n.toString(16).padStart(40, "a")}`;

function row(a: string, liquidatable: boolean, bankrupt = false): AccountRow {
  return {
    account: a.toLowerCase(),
    collateral: 10n,
    equity: bankrupt ? -1n : 5n,
    initialMargin: 20n,
    maintenanceMargin: 10n,
    liquidatable,
    bankrupt,
  };
}

/** A lens whose rows are set per account; every health call is recorded with its block. */
function lens(rows: Map<string, AccountRow>, fail = false) {
  const calls: { accounts: string[]; block: number }[] = [];
  const health = (accounts: readonly string[], block: number): Promise<AccountRow[]> => {
    calls.push({ accounts: [...accounts], block });
    if (fail) return Promise.reject(new Error("node down"));
    return Promise.resolve(accounts.flatMap((a) => rows.get(a) ?? []));
  };
  return { calls, health };
}

describe("keeper head reads: one batched health read for the first steps starting at a head", function () {
  const [solvent, healthy, bankrupt, elsewhere] = [1, 2, 3, 4].map(account);
  const rows = new Map([
    [solvent, row(solvent, true)],
    [healthy, row(healthy, false)],
    [bankrupt, row(bankrupt, true, true)],
    [elsewhere, row(elsewhere, true)],
  ]);
  // `elsewhere` holds a position in market 1 only.
  const holds = (a: string, marketId: number): boolean => (a === elsewhere ? marketId === 1 : true);

  it("reads every account asked for in the window in one call, and says yes only for a solvent liquidatable holder", async function () {
    const l = lens(rows);
    const reads = new HeadReads({ health: l.health, holds, windowMs: 5 });
    const answers = await Promise.all([
      reads.liquidatable(solvent, 0, 120),
      reads.liquidatable(healthy, 0, 120),
      reads.liquidatable(bankrupt, 0, 120),
      reads.liquidatable(elsewhere, 0, 120),
      reads.liquidatable(account(9), 0, 120), // no row: its health could not be read
    ]);
    expect(answers).to.deep.equal([true, false, false, false, false]);
    expect(l.calls).to.deep.equal([{ accounts: [solvent, healthy, bankrupt, elsewhere, account(9)], block: 120 }]);
  });

  it("reads again for a new head, and for a call after the batch has gone out", async function () {
    const l = lens(rows);
    const reads = new HeadReads({ health: l.health, holds, windowMs: 5 });
    const [a, b] = await Promise.all([reads.liquidatable(solvent, 0, 120), reads.liquidatable(solvent, 0, 121)]);
    expect([a, b]).to.deep.equal([true, true]);
    expect(await reads.liquidatable(elsewhere, 1, 121)).to.equal(true);
    expect(l.calls.map((c) => c.block)).to.deep.equal([120, 121, 121]);
  });

  it("says no when the read fails, so that the caller simulates", async function () {
    const l = lens(rows, true);
    const reads = new HeadReads({ health: l.health, holds, windowMs: 5 });
    expect(await reads.liquidatable(solvent, 0, 120)).to.equal(false);
    expect(l.calls).to.have.length(1);
  });
});
