import { existsSync, statSync } from "node:fs";
import { parseUnits } from "ethers";

import {
  InputError as ConfigError,
  Secret,
  checkKeystore,
  envValue,
  intSetting,
  optionalIntSetting,
  parseFlags,
  parsePrivateKeys,
  parseRpcUrl,
  setting,
  settingFlag,
  settingHelpLine,
  settingReader,
  type FlagSpec,
  type ParsedFlags,
} from "#sdk";

/** A configuration problem, described in one line fit for an operator's terminal: the SDK's input error. */
export { ConfigError };

/** Where the signing keys come from. Keys are never flags, so that they cannot end up in shell history. */
export type KeySource =
  { kind: "env"; privateKeys: Secret<string[]> } | { kind: "keystore"; files: string[]; password: Secret<string> };

/** `--isolated-signer <market>=<n>`: the n-th key (from 1) liquidates in that isolated market, and nowhere else. */
export interface IsolatedSigner {
  /** A market symbol of the deployment file or a market id. */
  market: string;
  /** Index of the key in BACKSTOP_PRIVATE_KEYS or among the --keystore files, from 1. */
  key: number;
}

export interface KeeperConfig {
  rpcUrl: string;
  keys: KeySource;
  /**
   * Keys dedicated to isolated markets. A liquidation hands the position to the liquidator, and an account holding
   * an isolated market may hold no other (IsolatedMarketConflict): such a key never signs for another market, and
   * is left out of the shared pool.
   */
  isolatedSigners: IsolatedSigner[];
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
  /** Transactions one signer may have sent and not yet mined. */
  maxInFlight: number;
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

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** The environment variables of a setting: `BACKSTOP_<name>`, then the alias `KEEPER_<name>`. */
const vars = (name: string): readonly string[] => [`BACKSTOP_${name}`, `KEEPER_${name}`];

function gwei(raw: string | undefined, flag: string): bigint | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+(\.\d{1,9})?$/.test(raw.trim())) throw new ConfigError(`${flag} must be a number of gwei, got '${raw}'`);
  const wei = parseUnits(raw.trim(), "gwei");
  if (wei === 0n) throw new ConfigError(`${flag} must be above zero`);
  return wei;
}

/**
 * Every setting the keeper reads from flags and environment (keys apart: see {@link keySource}), each with its
 * `BACKSTOP_*` variable first and the older `KEEPER_*` as an alias.
 */
const SETTINGS = {
  rpcUrl: setting({
    flag: "--rpc",
    arg: "<url>",
    env: vars("RPC_URL"),
    help: "JSON-RPC endpoint",
    read: (raw) => {
      if (raw === undefined) throw new ConfigError("missing RPC URL: give --rpc <url> or set BACKSTOP_RPC_URL");
      return parseRpcUrl(raw);
    },
  }),
  deploymentPath: setting({
    flag: "--deployment",
    arg: "<file>",
    env: vars("DEPLOYMENT"),
    help: "deployments/<network>.json",
    read: (raw) => {
      if (raw === undefined) throw new ConfigError("missing deployment file: give --deployment <file>");
      if (!existsSync(raw) || !statSync(raw).isFile()) throw new ConfigError(`deployment file not found: ${raw}`);
      return raw;
    },
  }),
  keystores: setting({
    flag: "--keystore",
    arg: "<file>",
    repeatable: true,
    help: "encrypted JSON wallet (repeatable); password in BACKSTOP_KEYSTORE_PASSWORD",
    // Declared here for the parser and the help; keySource reads every value, with the private-key variables.
    read: () => undefined,
  }),
  isolatedSigners: setting({
    flag: "--isolated-signer",
    arg: "<market>=<n>",
    repeatable: true,
    env: vars("ISOLATED_SIGNERS"),
    help: "the n-th key (from 1) liquidates in this isolated market only (repeatable; env: comma-separated)",
    // Declared here for the parser and the help; isolatedSigners() reads every value.
    read: () => undefined,
  }),
  startBlock: setting({
    flag: "--start-block",
    arg: "<n>",
    help: "first block of the event backfill (default: the deployment's startBlock)",
    read: optionalIntSetting(0),
  }),
  signers: setting({
    flag: "--signers",
    arg: "<n>",
    help: "use the first n keys (default: all)",
    read: optionalIntSetting(1),
  }),
  maxFeePerGas: setting({ flag: "--max-fee-gwei", arg: "<n>", help: "cap on maxFeePerGas", read: gwei }),
  maxPriorityFeePerGas: setting({
    flag: "--max-priority-fee-gwei",
    arg: "<n>",
    help: "cap on maxPriorityFeePerGas",
    read: gwei,
  }),
  feeBumpBlocks: setting({
    flag: "--fee-bump-blocks",
    arg: "<n>",
    help: "replace a transaction unmined after n blocks (default 3)",
    read: intSetting(3, 1),
  }),
  feeBumpPercent: setting({
    flag: "--fee-bump-percent",
    arg: "<n>",
    help: "fee raise per replacement, at least 10 (default 20)",
    read: intSetting(20, 10, 1000),
  }),
  maxInFlight: setting({
    flag: "--max-in-flight",
    arg: "<n>",
    help: "transactions in flight per signer (default 64)",
    read: intSetting(64, 1, 1024),
  }),
  checkpointPath: setting({
    flag: "--checkpoint",
    arg: "<file>",
    env: vars("CHECKPOINT"),
    help: "restart state (default: none)",
    read: (raw) => raw,
  }),
  pollMs: setting({
    flag: "--poll-ms",
    arg: "<n>",
    help: "head polling interval (default 1000)",
    read: intSetting(1000, 10),
  }),
  batchSize: setting({
    flag: "--batch-size",
    arg: "<n>",
    help: "accounts per lens call (default 200)",
    read: intSetting(200, 1, 5000),
  }),
  logChunk: setting({
    flag: "--log-chunk",
    arg: "<n>",
    help: "blocks per eth_getLogs, halved when the provider refuses a range (default 50000)",
    read: intSetting(50_000, 1),
  }),
  reorgDepth: setting({
    flag: "--reorg-depth",
    arg: "<n>",
    help: "blocks kept to undo a reorg (default 5)",
    read: intSetting(5, 0, 1000),
  }),
  refreshBlocks: setting({
    flag: "--refresh-blocks",
    arg: "<n>",
    help: "re-read every account at least every n blocks (default 50)",
    read: intSetting(50, 1),
  }),
  rereadBufferBps: setting({
    flag: "--reread-buffer-bps",
    arg: "<n>",
    help: "re-read accounts estimated within n bps of maintenance (default 2000)",
    read: intSetting(2000, 0, 1_000_000),
  }),
  minShortfallBps: setting({
    flag: "--min-shortfall-bps",
    arg: "<n>",
    help: "leave solvent accounts less than n bps of maintenance short (default 1)",
    read: intSetting(1, 0, 10_000),
  }),
  metricsPort: setting({
    flag: "--metrics-port",
    arg: "<n>",
    help: "/health and /metrics port, 0 = off (default 0)",
    read: intSetting(0, 0, 65535),
  }),
  metricsHost: setting({
    flag: "--metrics-host",
    arg: "<host>",
    help: "bind address (default 127.0.0.1)",
    read: (raw) => raw ?? "127.0.0.1",
  }),
  staleAfterS: setting({
    flag: "--stale-after-s",
    arg: "<n>",
    help: "/health fails when the loop is older than n s (default 60)",
    read: intSetting(60, 1),
  }),
  blockStaleAfterS: setting({
    flag: "--block-stale-after-s",
    arg: "<n>",
    help: "/health fails when no new block for n s, 0 = never (default: --stale-after-s)",
    read: optionalIntSetting(0),
  }),
  logLevel: setting({
    flag: "--log-level",
    arg: "<level>",
    env: vars("LOG_LEVEL"),
    help: `${LOG_LEVELS.join("|")} (default info)`,
    read: (raw, flag) => {
      const level = raw ?? "info";
      if (!LOG_LEVELS.includes(level)) {
        throw new ConfigError(`${flag} must be one of ${LOG_LEVELS.join(", ")}, got '${level}'`);
      }
      return level;
    },
  }),
  dryRun: setting({ flag: "--dry-run", help: "simulate every action, send nothing", read: (raw) => raw !== undefined }),
  once: setting({
    flag: "--once",
    help: "run one cycle, wait for its transactions, exit (an ADL case may need more cycles: see keeper/README.md)",
    read: (raw) => raw !== undefined,
  }),
};

const FLAG_SPECS: FlagSpec[] = Object.values(SETTINGS).map(settingFlag);

const PRIVATE_KEYS = vars("PRIVATE_KEYS");
const KEYSTORE_PASSWORD = vars("KEYSTORE_PASSWORD");

/** Where the keys come from: BACKSTOP_PRIVATE_KEYS (alias KEEPER_PRIVATE_KEYS), or keystores and their password. */
function keySource(parsed: ParsedFlags, env: NodeJS.ProcessEnv): KeySource {
  const keystores = parsed.values.get("--keystore") ?? [];
  const envKeys = envValue(env, PRIVATE_KEYS);
  const keys = envKeys === undefined || envKeys.value.trim() === "" ? undefined : envKeys;
  if (keystores.length > 0 && keys !== undefined) {
    throw new ConfigError(`give either --keystore or ${keys.name}, not both`);
  }
  if (keystores.length > 0) {
    for (const file of keystores) checkKeystore(file);
    const password = envValue(env, KEYSTORE_PASSWORD);
    if (password === undefined) throw new ConfigError("--keystore needs the password in BACKSTOP_KEYSTORE_PASSWORD");
    return { kind: "keystore", files: keystores, password: new Secret(password.value) };
  }
  if (keys === undefined) throw new ConfigError("no signing key: set BACKSTOP_PRIVATE_KEYS or give --keystore <file>");
  return { kind: "env", privateKeys: parsePrivateKeys(keys.value.trim(), keys.name) };
}

/**
 * The `--isolated-signer` values (else BACKSTOP_ISOLATED_SIGNERS, comma-separated): each `<market>=<n>` with n a
 * key given, no key for two markets, no market with two keys, and at least one key left for the shared markets
 * among the first `signers`.
 */
export function isolatedSigners(
  parsed: ParsedFlags,
  env: NodeJS.ProcessEnv,
  keys: number,
  signers: number | undefined,
): IsolatedSigner[] {
  const flag = "--isolated-signer";
  const fromEnv = envValue(env, vars("ISOLATED_SIGNERS"));
  const raw = parsed.values.get(flag) ?? fromEnv?.value.split(",").map((v) => v.trim()) ?? [];
  const label = parsed.values.has(flag) ? flag : (fromEnv?.name ?? flag);
  const out: IsolatedSigner[] = [];
  for (const value of raw) {
    const match = /^([^=\s]+)=(\d+)$/.exec(value);
    if (match === null) throw new ConfigError(`${label} must be <market>=<key number>, e.g. SOL-USD=2; got '${value}'`);
    const [, market, n] = match;
    const key = Number(n);
    if (key < 1 || key > keys) {
      throw new ConfigError(
        `${label} ${value}: there is no key ${n} (${keys} key${keys === 1 ? "" : "s"} given, counted from 1)`,
      );
    }
    const sameKey = out.find((s) => s.key === key);
    if (sameKey !== undefined) {
      throw new ConfigError(
        `${label}: key ${key} is given to ${sameKey.market} and ${market}: each isolated market needs a signer of its own`,
      );
    }
    const sameMarket = out.find((s) => s.market === market);
    if (sameMarket !== undefined) {
      throw new ConfigError(`${label}: ${market} is given two keys (${sameMarket.key} and ${key}): one per market`);
    }
    out.push({ market, key });
  }
  const pool = Array.from({ length: signers ?? keys }, (_, i) => i + 1).filter((k) => !out.some((s) => s.key === k));
  if (out.length > 0 && pool.length === 0) {
    throw new ConfigError(
      `${label}: every key${signers === undefined ? "" : ` of the first ${signers} (--signers)`} is dedicated to an ` +
        "isolated market: give one more key for the shared markets",
    );
  }
  return out;
}

function keyCount(keys: KeySource): number {
  return keys.kind === "env" ? keys.privateKeys.reveal().length : keys.files.length;
}

/**
 * Reads the keeper's configuration from command-line flags, with environment fallbacks, and validates all of
 * it before anything connects. Throws {@link ConfigError} with a one-line message on the first problem.
 */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): KeeperConfig {
  const parsed = parseFlags(argv, FLAG_SPECS, {
    positionals: false,
    keyHint: "keys come from BACKSTOP_PRIVATE_KEYS or --keystore, never flags",
  });
  const read = settingReader(SETTINGS, parsed, env);

  const rpcUrl = read("rpcUrl");
  const deploymentPath = read("deploymentPath");
  const keys = keySource(parsed, env);
  const signers = read("signers");
  if (signers !== undefined && signers > keyCount(keys)) {
    throw new ConfigError(`--signers ${signers} asks for more keys than the ${keyCount(keys)} given`);
  }
  const dedicated = isolatedSigners(parsed, env, keyCount(keys), signers);
  const maxFeePerGas = read("maxFeePerGas");
  const maxPriorityFeePerGas = read("maxPriorityFeePerGas");
  if (maxFeePerGas !== undefined && maxPriorityFeePerGas !== undefined && maxPriorityFeePerGas > maxFeePerGas) {
    throw new ConfigError("--max-priority-fee-gwei is above --max-fee-gwei");
  }
  const logLevel = read("logLevel");
  const staleAfterS = read("staleAfterS");
  return {
    rpcUrl,
    keys,
    isolatedSigners: dedicated,
    deploymentPath,
    startBlock: read("startBlock"),
    signers,
    maxFeePerGas,
    maxPriorityFeePerGas,
    feeBumpBlocks: read("feeBumpBlocks"),
    feeBumpPercent: read("feeBumpPercent"),
    maxInFlight: read("maxInFlight"),
    checkpointPath: read("checkpointPath"),
    pollMs: read("pollMs"),
    batchSize: read("batchSize"),
    logChunk: read("logChunk"),
    reorgDepth: read("reorgDepth"),
    refreshBlocks: read("refreshBlocks"),
    rereadBufferBps: read("rereadBufferBps"),
    minShortfallBps: read("minShortfallBps"),
    metricsPort: read("metricsPort"),
    metricsHost: read("metricsHost"),
    staleAfterS,
    blockStaleAfterS: read("blockStaleAfterS") ?? staleAfterS,
    dryRun: read("dryRun"),
    once: read("once"),
    logLevel,
  };
}

/** Flags and environment, for `--help`. */
export const USAGE = [
  "usage: npm run keeper -- --rpc <url> --deployment <file> [options]",
  "",
  "keys:   BACKSTOP_PRIVATE_KEYS=0x..,0x..   or   --keystore <file> (repeatable) with BACKSTOP_KEYSTORE_PASSWORD",
  "        (the KEEPER_ names of every variable are accepted as aliases)",
  ...Object.values(SETTINGS).map(settingHelpLine),
].join("\n");
