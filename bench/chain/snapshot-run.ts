// The fixed scenario behind bench/gas-snapshot.json: each snapshot operation once, from the same state, with the
// same account, one other open position and one market; the bankrupt account's single calls and liquidateAccount
// also with the account in ten markets (issue 15). Deterministic keys, nonces and expiries make it repeatable.
import {
  SNAPSHOT_ACCOUNT_MARKETS,
  SNAPSHOT_MANY_MARKETS,
  SNAPSHOT_OPERATIONS,
  snapshotKey,
  type OperationName,
} from "../lib/operation-names.js";
import type { GasSnapshot } from "../lib/snapshot.js";
import { saveState } from "./measure.js";
import { operationNamed } from "./operations.js";
import { addOtherAccounts, createBench } from "./setup.js";

export async function measureSnapshotOperations(): Promise<GasSnapshot> {
  const bench = await createBench();
  await addOtherAccounts(bench, 1);
  const base = await saveState();
  const out: GasSnapshot = {};
  const runs: [OperationName, number][] = [
    ...SNAPSHOT_OPERATIONS.map((name): [OperationName, number] => [name, 1]),
    ...SNAPSHOT_MANY_MARKETS.map((name): [OperationName, number] => [name, SNAPSHOT_ACCOUNT_MARKETS]),
  ];
  for (const [name, markets] of runs) {
    await base.restore();
    out[snapshotKey(name, markets)] = Number(
      await operationNamed(name).run({ bench, actor: bench.actors[0], markets }),
    );
  }
  return out;
}
