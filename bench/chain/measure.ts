// Runs a scenario repeatedly from one saved state, each time with a different account.
import { networkHelpers } from "../../devnet/hardhat/fixture.js";
import type { Operation } from "./operations.js";
import type { Bench } from "./setup.js";

export type SavedState = Awaited<ReturnType<typeof networkHelpers.takeSnapshot>>;

export function saveState(): Promise<SavedState> {
  return networkHelpers.takeSnapshot();
}

/** Gas of `runs` runs of `op`, each from `base`; the chain is back at `base` afterwards. */
export async function sampleGas(
  bench: Bench,
  op: Operation,
  markets: number,
  runs: number,
  base: SavedState,
): Promise<number[]> {
  if (runs > bench.actors.length) throw new Error(`${runs} runs but only ${bench.actors.length} actors`);
  const samples: number[] = [];
  for (let r = 0; r < runs; r += 1) {
    await base.restore();
    samples.push(Number(await op.run({ bench, actor: bench.actors[r], markets })));
  }
  await base.restore();
  return samples;
}
