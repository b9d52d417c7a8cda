import { existsSync, statSync } from "node:fs";
import { parseUnits } from "ethers";

import { InputError as ConfigError, Secret, checkKeystore, parsePrivateKeys, parseRpcUrl } from "#sdk";

/** A configuration problem, described in one line fit for an operator's terminal: the SDK's input error. */
export { ConfigError };

/** Where the signing keys come from. Keys are never flags, so that they cannot end up in shell history. */
export type KeySource =
  { kind: "env"; privateKeys: Secret<string[]> } | { kind: "keystore"; files: string[]; password: Secret<string> };

export interface KeeperConfig {
  rpcUrl: string;
  keys: KeySource;
  deploymentPath: string;
  /** First block of the event backfill; the deployment's `startBlock` when absent. */
  startBlock?: number;
  /** Use only the first n keys; all when absent. */
  signers?: number;
  /** Caps on the EIP-1559 fees, in wei. */
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  /** Blocks a transaction may stay unmined before it is replaced with higher fees. */
  feeBumpBlocks: number;
  /** Raise of both fee fields on each replacement, in percent (nodes refuse replacements under 10%). */
  feeBumpPercent: number;
  checkpointPath?: string;
  pollMs: number;
  /** Accounts per lens call. */
  batchSize: number;
  /** Blocks per eth_getLogs call. */
  logChunk: number;
  /** Blocks kept to detect and undo a reorganisation. */
  reorgDepth: number;
  /** Every account is re-read at least this often, in blocks, whatever the margin estimate says. */
  refreshBlocks: number;
  /** An account whose estimated equity is within this fraction of its maintenance margin is re-read (bps). */
  rereadBufferBps: number;
  /**
   * A solvent account whose shortfall is below this share of its maintenance margin (bps) is left alone: the
   * contract liquidates exactly back to maintenance, so funding alone makes such an account liquidatable again by
   * a few wei every block, and chasing that costs gas for nothing. Bankrupt accounts are always handled.
   */
  minShortfallBps: number;
  /** Health and metrics server port; 0 = off. */
  metricsPort: number;
  metricsHost: string;
  /** /health fails when the last completed loop iteration is older than this (seconds). */
  staleAfterS: number;
  /** /health fails when the head has not advanced for this long (seconds); 0 = never. */
  blockStaleAfterS: number;
  dryRun: boolean;
  once: boolean;
  logLevel: string;
}

type FlagKind = "string" | "int" | "gwei" | "bool";

interface FlagSpec {
  kind: FlagKind;
  key: keyof KeeperConfig | "keystore";
  env?: string;
  repeatable?: boolean;
}

const FLAGS: Record<string, FlagSpec> = {
  "--rpc": { kind: "string", key: "rpcUrl", env: "KEEPER_RPC_URL" },
  "--keystore": { kind: "string", key: "keystore", repeatable: true },
  "--deployment": { kind: "string", key: "deploymentPath", env: "KEEPER_DEPLOYMENT" },
  "--start-block": { kind: "int", key: "startBlock" },
  "--signers": { kind: "int", key: "signers" },
  "--max-fee-gwei": { kind: "gwei", key: "maxFeePerGas" },
  "--max-priority-fee-gwei": { kind: "gwei", key: "maxPriorityFeePerGas" },
  "--fee-bump-blocks": { kind: "int", key: "feeBumpBlocks" },
  "--fee-bump-percent": { kind: "int", key: "feeBumpPercent" },
  "--checkpoint": { kind: "string", key: "checkpointPath", env: "KEEPER_CHECKPOINT" },
  "--poll-ms": { kind: "int", key: "pollMs" },
  "--batch-size": { kind: "int", key: "batchSize" },
  "--log-chunk": { kind: "int", key: "logChunk" },
  "--reorg-depth": { kind: "int", key: "reorgDepth" },
  "--refresh-blocks": { kind: "int", key: "refreshBlocks" },
  "--reread-buffer-bps": { kind: "int", key: "rereadBufferBps" },
  "--min-shortfall-bps": { kind: "int", key: "minShortfallBps" },
  "--metrics-port": { kind: "int", key: "metricsPort" },
  "--metrics-host": { kind: "string", key: "metricsHost" },
  "--stale-after-s": { kind: "int", key: "staleAfterS" },
  "--block-stale-after-s": { kind: "int", key: "blockStaleAfterS" },
  "--log-level": { kind: "string", key: "logLevel", env: "KEEPER_LOG_LEVEL" },
  "--dry-run": { kind: "bool", key: "dryRun" },
  "--once": { kind: "bool", key: "once" },
};

const KEY_FLAGS = new Set(["--private-key", "--private-keys", "--key", "--keys", "--mnemonic"]);
const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

type RawValues = Map<string, string[]>;

/** Splits argv into flag values, accepting `--flag value` and `--flag=value`. */
function collectFlags(argv: string[]): RawValues {
  const values: RawValues = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (KEY_FLAGS.has(name)) {
      throw new ConfigError(`${name} is not accepted: keys come from KEEPER_PRIVATE_KEYS or --keystore, never flags`);
    }
    const spec = FLAGS[name];
    if (spec === undefined) {
      throw new ConfigError(arg.startsWith("-") ? `unknown option ${name}` : `unexpected argument '${arg}'`);
    }
    let value: string;
    if (spec.kind === "bool") {
      if (eq > 0) throw new ConfigError(`${name} takes no value`);
      value = "true";
    } else if (eq > 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new ConfigError(`${name} needs a value`);
      value = next;
      i++;
    }
    const previous = values.get(name);
    if (previous !== undefined && !spec.repeatable) throw new ConfigError(`${name} given more than once`);
    values.set(name, [...(previous ?? []), value]);
  }
  return values;
}

function parseInteger(name: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got '${raw}'`);
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    throw new ConfigError(`${name} must be ${range}, got ${raw}`);
  }
  return value;
}

function parseGwei(name: string, raw: string): bigint {
  if (!/^\d+(\.\d{1,9})?$/.test(raw.trim())) throw new ConfigError(`${name} must be a number of gwei, got '${raw}'`);
  const wei = parseUnits(raw.trim(), "gwei");
  if (wei === 0n) throw new ConfigError(`${name} must be above zero`);
  return wei;
}

function keySource(flags: RawValues, env: NodeJS.ProcessEnv): KeySource {
  const keystores = flags.get("--keystore") ?? [];
  const envKeys = env.KEEPER_PRIVATE_KEYS?.trim();
  if (keystores.length > 0 && envKeys) {
    throw new ConfigError("give either --keystore or KEEPER_PRIVATE_KEYS, not both");
  }
  if (keystores.length > 0) {
    for (const file of keystores) checkKeystore(file);
    const password = env.KEEPER_KEYSTORE_PASSWORD;
    if (password === undefined || password === "") {
      throw new ConfigError("--keystore needs the password in KEEPER_KEYSTORE_PASSWORD");
    }
    return { kind: "keystore", files: keystores, password: new Secret(password) };
  }
  if (!envKeys) throw new ConfigError("no signing key: set KEEPER_PRIVATE_KEYS or give --keystore <file>");
  return { kind: "env", privateKeys: parsePrivateKeys(envKeys, "KEEPER_PRIVATE_KEYS") };
}

/** The value of a flag, falling back to its environment variable. */
function rawValue(flags: RawValues, name: string, env: NodeJS.ProcessEnv): string | undefined {
  const fromFlag = flags.get(name)?.[0];
  if (fromFlag !== undefined) return fromFlag;
  const variable = FLAGS[name].env;
  const fromEnv = variable === undefined ? undefined : env[variable];
  return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
}

function keyCount(keys: KeySource): number {
  return keys.kind === "env" ? keys.privateKeys.reveal().length : keys.files.length;
}

/**
 * Reads the keeper's configuration from command-line flags, with environment fallbacks, and validates all of
 * it before anything connects. Throws {@link ConfigError} with a one-line message on the first problem.
 */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): KeeperConfig {
  const flags = collectFlags(argv);
  const int = (name: string, fallback: number, min: number, max?: number): number => {
    const raw = rawValue(flags, name, env);
    return raw === undefined ? fallback : parseInteger(name, raw, min, max);
  };
  const optionalInt = (name: string, min: number): number | undefined => {
    const raw = rawValue(flags, name, env);
    return raw === undefined ? undefined : parseInteger(name, raw, min);
  };
  const gwei = (name: string): bigint | undefined => {
    const raw = rawValue(flags, name, env);
    return raw === undefined ? undefined : parseGwei(name, raw);
  };

  const rpc = rawValue(flags, "--rpc", env);
  if (rpc === undefined) throw new ConfigError("missing RPC URL: give --rpc <url> or set KEEPER_RPC_URL");
  const rpcUrl = parseRpcUrl(rpc);

  const deploymentPath = rawValue(flags, "--deployment", env);
  if (deploymentPath === undefined) throw new ConfigError("missing deployment file: give --deployment <file>");
  if (!existsSync(deploymentPath) || !statSync(deploymentPath).isFile()) {
    throw new ConfigError(`deployment file not found: ${deploymentPath}`);
  }

  const keys = keySource(flags, env);
  const signers = optionalInt("--signers", 1);
  if (signers !== undefined && signers > keyCount(keys)) {
    throw new ConfigError(`--signers ${signers} asks for more keys than the ${keyCount(keys)} given`);
  }

  const maxFeePerGas = gwei("--max-fee-gwei");
  const maxPriorityFeePerGas = gwei("--max-priority-fee-gwei");
  if (maxFeePerGas !== undefined && maxPriorityFeePerGas !== undefined && maxPriorityFeePerGas > maxFeePerGas) {
    throw new ConfigError("--max-priority-fee-gwei is above --max-fee-gwei");
  }

  const logLevel = rawValue(flags, "--log-level", env) ?? "info";
  if (!LOG_LEVELS.has(logLevel)) {
    throw new ConfigError(`--log-level must be one of ${[...LOG_LEVELS].join(", ")}, got '${logLevel}'`);
  }

  const staleAfterS = int("--stale-after-s", 60, 1);
  return {
    rpcUrl,
    keys,
    deploymentPath,
    startBlock: optionalInt("--start-block", 0),
    signers,
    maxFeePerGas,
    maxPriorityFeePerGas,
    feeBumpBlocks: int("--fee-bump-blocks", 3, 1),
    feeBumpPercent: int("--fee-bump-percent", 20, 10, 1000),
    checkpointPath: rawValue(flags, "--checkpoint", env),
    pollMs: int("--poll-ms", 1000, 10),
    batchSize: int("--batch-size", 200, 1, 5000),
    logChunk: int("--log-chunk", 2000, 1),
    reorgDepth: int("--reorg-depth", 5, 0, 1000),
    refreshBlocks: int("--refresh-blocks", 50, 1),
    rereadBufferBps: int("--reread-buffer-bps", 2000, 0, 1_000_000),
    minShortfallBps: int("--min-shortfall-bps", 1, 0, 10_000),
    metricsPort: int("--metrics-port", 0, 0, 65535),
    metricsHost: rawValue(flags, "--metrics-host", env) ?? "127.0.0.1",
    staleAfterS,
    blockStaleAfterS: int("--block-stale-after-s", staleAfterS, 0),
    dryRun: flags.has("--dry-run"),
    once: flags.has("--once"),
    logLevel,
  };
}

/** Flags and environment, for `--help`. */
export const USAGE = `usage: npm run keeper -- --rpc <url> --deployment <file> [options]

keys:   KEEPER_PRIVATE_KEYS=0x..,0x..   or   --keystore <file> (repeatable) with KEEPER_KEYSTORE_PASSWORD
  --rpc <url>                  JSON-RPC endpoint (KEEPER_RPC_URL)
  --deployment <file>          deployments/<network>.json (KEEPER_DEPLOYMENT)
  --start-block <n>            first block of the event backfill (default: the deployment's startBlock)
  --signers <n>                use the first n keys (default: all)
  --max-fee-gwei <n>           cap on maxFeePerGas
  --max-priority-fee-gwei <n>  cap on maxPriorityFeePerGas
  --fee-bump-blocks <n>        replace a transaction unmined after n blocks (default 3)
  --fee-bump-percent <n>       fee raise per replacement, at least 10 (default 20)
  --checkpoint <file>          restart state (KEEPER_CHECKPOINT; default: none)
  --poll-ms <n>                head polling interval (default 1000)
  --batch-size <n>             accounts per lens call (default 200)
  --log-chunk <n>              blocks per eth_getLogs (default 2000)
  --reorg-depth <n>            blocks kept to undo a reorg (default 5)
  --refresh-blocks <n>         re-read every account at least every n blocks (default 50)
  --reread-buffer-bps <n>      re-read accounts estimated within n bps of maintenance (default 2000)
  --min-shortfall-bps <n>      leave solvent accounts less than n bps of maintenance short (default 1)
  --metrics-port <n>           /health and /metrics port, 0 = off (default 0)
  --metrics-host <host>        bind address (default 127.0.0.1)
  --stale-after-s <n>          /health fails when the loop is older than n s (default 60)
  --block-stale-after-s <n>    /health fails when no new block for n s, 0 = never (default: --stale-after-s)
  --log-level <level>          fatal|error|warn|info|debug|trace|silent (KEEPER_LOG_LEVEL; default info)
  --dry-run                    simulate every action, send nothing
  --once                       run one cycle, wait for its transactions, exit`;
