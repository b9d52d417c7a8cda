// Rewrites the committed gas snapshot from a fresh measurement: `npm run gas:snapshot` (on purpose, after a
// change whose gas cost is understood).
import { measureSnapshotOperations } from "./chain/snapshot-run.js";
import { writeJson } from "./lib/files.js";
import { SNAPSHOT_FILE } from "./lib/paths.js";

const measured = await measureSnapshotOperations();
await writeJson(SNAPSHOT_FILE, measured);
for (const [operation, gas] of Object.entries(measured)) console.log(`${operation.padEnd(44)} ${gas}`);
console.log(`wrote ${SNAPSHOT_FILE}`);
