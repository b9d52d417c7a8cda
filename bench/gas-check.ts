// Re-measures the snapshot's operations and fails when one costs more than the tolerance above
// bench/gas-snapshot.json: `npm run gas:check` (CI).
import { measureSnapshotOperations } from "./chain/snapshot-run.js";
import { readJson } from "./lib/files.js";
import { SNAPSHOT_FILE } from "./lib/paths.js";
import { SNAPSHOT_TOLERANCE, diffSnapshot, formatDiff, parseSnapshot, snapshotFails } from "./lib/snapshot.js";

try {
  const snapshot = parseSnapshot(await readJson(SNAPSHOT_FILE), SNAPSHOT_FILE);
  const diff = diffSnapshot(snapshot, await measureSnapshotOperations(), SNAPSHOT_TOLERANCE);
  for (const line of formatDiff(diff, SNAPSHOT_TOLERANCE)) console.log(line);
  if (snapshotFails(diff)) {
    console.error(`gas:check failed against ${SNAPSHOT_FILE} (tolerance ${SNAPSHOT_TOLERANCE * 100}%)`);
    process.exitCode = 1;
  } else
    console.log(`gas:check passed: every operation within ${SNAPSHOT_TOLERANCE * 100}% of ${SNAPSHOT_FILE} or cheaper`);
} catch (error) {
  console.error(`gas:check: ${(error as Error).message}`);
  process.exitCode = 1;
}
