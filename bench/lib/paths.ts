// Where the benchmarks read and write their files (relative to the repository root, where npm runs them).
export const RESULTS_DIR = "bench/results";
export const GAS_RESULTS_FILE = `${RESULTS_DIR}/gas.json`;
export const KEEPER_RESULTS_FILE = `${RESULTS_DIR}/keeper.json`;
export const LATEST_JSON_FILE = `${RESULTS_DIR}/latest.json`;
export const LATEST_MD_FILE = `${RESULTS_DIR}/latest.md`;
export const SNAPSHOT_FILE = "bench/gas-snapshot.json";
