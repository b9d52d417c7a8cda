// The fixed scenario behind bench/gas-snapshot.json: each snapshot operation once, from the same state, with the
// same account, one other open position and one market. Deterministic keys, nonces and expiries make it repeatable.
import { SNAPSHOT_OPERATIONS } from "../lib/operation-names.js";
import type { GasSnapshot } from "../lib/snapshot.js";
import { saveState } from "./measure.js";
import { operationNamed } from "./operations.js";
import { addOtherAccounts, createBench } from "./setup.js";

export async function measureSnapshotOperations(): Promise<GasSnapshot> {
  const bench = await createBench();
  await addOtherAccounts(bench, 1);
  const base = await saveState();
  const out: GasSnapshot = {};
  for (const name of SNAPSHOT_OPERATIONS) {
    await base.restore();
    out[name] = Number(await operationNamed(name).run({ bench, actor: bench.actors[0], markets: 1 }));
  }
  return out;
}
