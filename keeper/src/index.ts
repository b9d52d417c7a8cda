/** The keeper as a library: everything the CLI uses, for scripts, the demo and tests that run it in process. */
export { Keeper, type CycleReport, type KeeperDeps } from "./keeper.js";
export { ConfigError, parseConfig, USAGE, type KeeperConfig, type KeySource } from "./config.js";
export {
  counterTotal,
  createMetrics,
  rpcCounter,
  type ActionKind,
  type ActionOutcome,
  type Metrics,
} from "./metrics.js";
export { listening, startHealthServer, type HealthServerOptions, type HealthStatus } from "./health.js";
export { createLogger, type Logger, type LoggerOptions } from "./logger.js";
export { assignKeys, loadSigners, type KeyAssignment, type KeeperSigners } from "./signers.js";
export { readCheckpoint, writeCheckpoint, CheckpointError, type Checkpoint } from "./checkpoint.js";
export type { Action, ExecOutcome, ExecResult, PendingTx } from "./executor.js";
