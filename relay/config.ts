import { existsSync, statSync } from "node:fs";

import {
  InputError,
  intSetting,
  parseFlags,
  parseRpcUrl,
  setting,
  settingFlag,
  settingHelpLine,
  settingReader,
} from "#sdk";

export interface RelayConfig {
  rpcUrl: string;
  deploymentPath: string;
  /** SQLite file of the book; `:memory:` keeps it in memory only. */
  dbPath: string;
  host: string;
  port: number;
  /** Head polling interval for the clearing house's events and expiry. */
  pollMs: number;
  /** Blocks per eth_getLogs call when catching up. */
  logChunk: number;
  /** Largest `POST /orders` body, in bytes (413 above). */
  maxBodyBytes: number;
  /** Requests per IP per `rateWindowMs`: order posts, and everything else (429 above). */
  postLimit: number;
  readLimit: number;
  rateWindowMs: number;
  /** Orders one maker may hold in the book at once. */
  maxOrdersPerMaker: number;
  /** Entries per side in `GET /orders?market=`. */
  bookDepth: number;
  /** /health answers 503 when the chain was last polled longer ago than this (seconds). */
  staleAfterS: number;
  logLevel: string;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

const SETTINGS = {
  rpcUrl: setting({
    flag: "--rpc",
    arg: "<url>",
    env: ["BACKSTOP_RPC_URL"],
    help: "JSON-RPC endpoint",
    read: (raw) => {
      if (raw === undefined) throw new InputError("missing RPC URL: give --rpc <url> or set BACKSTOP_RPC_URL");
      return parseRpcUrl(raw);
    },
  }),
  deploymentPath: setting({
    flag: "--deployment",
    arg: "<file>",
    env: ["BACKSTOP_DEPLOYMENT"],
    help: "deployments/<network>.json",
    read: (raw) => {
      if (raw === undefined) throw new InputError("missing deployment file: give --deployment <file>");
      if (!existsSync(raw) || !statSync(raw).isFile()) throw new InputError(`deployment file not found: ${raw}`);
      return raw;
    },
  }),
  dbPath: setting({
    flag: "--db",
    arg: "<file>",
    env: ["BACKSTOP_RELAY_DB"],
    help: "SQLite file of the book, :memory: for none (default .relay/orders.sqlite)",
    read: (raw) => raw ?? ".relay/orders.sqlite",
  }),
  host: setting({
    flag: "--host",
    arg: "<host>",
    env: ["BACKSTOP_RELAY_HOST"],
    help: "bind address (default 127.0.0.1)",
    read: (raw) => raw ?? "127.0.0.1",
  }),
  port: setting({
    flag: "--port",
    arg: "<n>",
    env: ["BACKSTOP_RELAY_PORT"],
    help: "HTTP and WebSocket port, 0 = any free one (default 8600)",
    read: intSetting(8600, 0, 65535),
  }),
  pollMs: setting({
    flag: "--poll-ms",
    arg: "<n>",
    help: "event and expiry polling (default 1000)",
    read: intSetting(1000, 10),
  }),
  logChunk: setting({
    flag: "--log-chunk",
    arg: "<n>",
    help: "blocks per eth_getLogs (default 2000)",
    read: intSetting(2000, 1),
  }),
  maxBodyBytes: setting({
    flag: "--max-body-bytes",
    arg: "<n>",
    help: "largest POST /orders body, 413 above (default 4096)",
    read: intSetting(4096, 512, 1_048_576),
  }),
  postLimit: setting({
    flag: "--post-limit",
    arg: "<n>",
    help: "order posts per IP per window, 429 above (default 60)",
    read: intSetting(60, 1),
  }),
  readLimit: setting({
    flag: "--read-limit",
    arg: "<n>",
    help: "other requests per IP per window, 429 above (default 600)",
    read: intSetting(600, 1),
  }),
  rateWindowMs: setting({
    flag: "--rate-window-ms",
    arg: "<n>",
    help: "rate limit window (default 60000)",
    read: intSetting(60_000, 100),
  }),
  maxOrdersPerMaker: setting({
    flag: "--max-orders-per-maker",
    arg: "<n>",
    help: "orders one maker may hold in the book (default 100)",
    read: intSetting(100, 1),
  }),
  bookDepth: setting({
    flag: "--book-depth",
    arg: "<n>",
    help: "entries per side in GET /orders?market= (default 200)",
    read: intSetting(200, 1, 10_000),
  }),
  staleAfterS: setting({
    flag: "--stale-after-s",
    arg: "<n>",
    help: "/health answers 503 when the chain was last polled more than n s ago (default 30)",
    read: intSetting(30, 1),
  }),
  logLevel: setting({
    flag: "--log-level",
    arg: "<level>",
    env: ["BACKSTOP_LOG_LEVEL"],
    help: `${LOG_LEVELS.join("|")} (default info)`,
    read: (raw, flag) => {
      const level = raw ?? "info";
      if (!LOG_LEVELS.includes(level)) {
        throw new InputError(`${flag} must be one of ${LOG_LEVELS.join(", ")}, got '${level}'`);
      }
      return level;
    },
  }),
  help: setting({ flag: "--help", short: "h", help: "show this help", read: (raw) => raw !== undefined }),
};

/**
 * Reads the relay's configuration from flags, with environment fallbacks, and validates all of it before anything
 * connects. Throws {@link InputError} with a one-line message on the first problem. `"help"` when `--help` is
 * given, whatever else is.
 */
export function parseRelayConfig(argv: readonly string[], env: NodeJS.ProcessEnv): RelayConfig | "help" {
  const parsed = parseFlags(argv, Object.values(SETTINGS).map(settingFlag), {
    positionals: false,
    keyHint: "the relay signs nothing and needs no key",
  });
  const read = settingReader(SETTINGS, parsed, env);
  if (read("help")) return "help";
  return {
    rpcUrl: read("rpcUrl"),
    deploymentPath: read("deploymentPath"),
    dbPath: read("dbPath"),
    host: read("host"),
    port: read("port"),
    pollMs: read("pollMs"),
    logChunk: read("logChunk"),
    maxBodyBytes: read("maxBodyBytes"),
    postLimit: read("postLimit"),
    readLimit: read("readLimit"),
    rateWindowMs: read("rateWindowMs"),
    maxOrdersPerMaker: read("maxOrdersPerMaker"),
    bookDepth: read("bookDepth"),
    staleAfterS: read("staleAfterS"),
    logLevel: read("logLevel"),
  };
}

export const USAGE = [
  "usage: npm run relay -- --rpc <url> --deployment <file> [options]",
  "",
  "An order relay for one Backstop deployment: checks signed orders (signature, domain, expiry, nonce, market,",
  "the maker's margin by simulation), keeps the book in SQLite, and drops orders the chain fills, cancels or expires.",
  "",
  ...Object.values(SETTINGS).map(settingHelpLine),
].join("\n");
