// Merges bench/results/gas.json with bench/results/keeper.json (when the keeper benchmark ran) into
// bench/results/latest.json and latest.md: `npm run bench:report`.
import { readJson, readJsonIfPresent, writeJson, writeText } from "./lib/files.js";
import { renderReport } from "./lib/markdown.js";
import { GAS_RESULTS_FILE, KEEPER_RESULTS_FILE, LATEST_JSON_FILE, LATEST_MD_FILE } from "./lib/paths.js";
import { parseGasResults, parseKeeperResults } from "./lib/results.js";
import type { LatestResults } from "./lib/results.js";
import { currentCommit } from "./lib/run-info.js";

try {
  const gas = parseGasResults(await readJson(GAS_RESULTS_FILE), GAS_RESULTS_FILE);
  const keeperJson = await readJsonIfPresent(KEEPER_RESULTS_FILE);
  const keeper = keeperJson === undefined ? null : parseKeeperResults(keeperJson, KEEPER_RESULTS_FILE);
  const latest: LatestResults = { commit: currentCommit(), date: new Date().toISOString(), gas, keeper };
  const markdown = renderReport(latest);
  await writeJson(LATEST_JSON_FILE, latest);
  await writeText(LATEST_MD_FILE, markdown);
  console.log(markdown);
  console.log(`wrote ${LATEST_JSON_FILE} and ${LATEST_MD_FILE}${keeper === null ? " (keeper: not run)" : ""}`);
} catch (error) {
  console.error(`bench:report: ${(error as Error).message}`);
  process.exitCode = 1;
}
