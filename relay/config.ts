import { existsSync, statSync } from "node:fs";

import { InputError, flagOrEnv, parseFlags, parseInteger, parseRpcUrl, type FlagSpec } from "#sdk";

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
  logLevel: string;
}

/** One relay setting, declared once: flag, variable, help line, and how its text becomes a value. */
interface Setting<T> {
  flag: string;
  arg?: string;
  env?: string;
  help: string;
  read(raw: string | undefined, flag: string): T;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

const setting = <T>(s: Setting<T>): Setting<T> => s;
const int =
  (fallback: number, min: number, max?: number) =>
  (raw: string | undefined, flag: string): number =>
    raw === undefined ? fallback : parseInteger(flag, raw, min, max);

const SETTINGS = {
  rpcUrl: setting({
    flag: "--rpc",
    arg: "<url>",
    env: "BACKSTOP_RPC_URL",
    help: "JSON-RPC endpoint",
    read: (raw) => {
      if (raw === undefined) throw new InputError("missing RPC URL: give --rpc <url> or set BACKSTOP_RPC_URL");
      return parseRpcUrl(raw);
    },
  }),
  deploymentPath: setting({
    flag: "--deployment",
    arg: "<file>",
    env: "BACKSTOP_DEPLOYMENT",
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
    env: "BACKSTOP_RELAY_DB",
    help: "SQLite file of the book, :memory: for none (default .relay/orders.sqlite)",
    read: (raw) => raw ?? ".relay/orders.sqlite",
  }),
  host: setting({
    flag: "--host",
    arg: "<host>",
    env: "BACKSTOP_RELAY_HOST",
    help: "bind address (default 127.0.0.1)",
    read: (raw) => raw ?? "127.0.0.1",
  }),
  port: setting({
    flag: "--port",
    arg: "<n>",
    env: "BACKSTOP_RELAY_PORT",
    help: "HTTP and WebSocket port, 0 = any free one (default 8600)",
    read: int(8600, 0, 65535),
  }),
  pollMs: setting({
    flag: "--poll-ms",
    arg: "<n>",
    help: "event and expiry polling (default 1000)",
    read: int(1000, 10),
  }),
  logChunk: setting({
    flag: "--log-chunk",
    arg: "<n>",
    help: "blocks per eth_getLogs (default 2000)",
    read: int(2000, 1),
  }),
  maxBodyBytes: setting({
    flag: "--max-body-bytes",
    arg: "<n>",
    help: "largest POST /orders body, 413 above (default 4096)",
    read: int(4096, 512, 1_048_576),
  }),
  postLimit: setting({
    flag: "--post-limit",
    arg: "<n>",
    help: "order posts per IP per window, 429 above (default 60)",
    read: int(60, 1),
  }),
  readLimit: setting({
    flag: "--read-limit",
    arg: "<n>",
    help: "other requests per IP per window, 429 above (default 600)",
    read: int(600, 1),
  }),
  rateWindowMs: setting({
    flag: "--rate-window-ms",
    arg: "<n>",
    help: "rate limit window (default 60000)",
    read: int(60_000, 100),
  }),
  maxOrdersPerMaker: setting({
    flag: "--max-orders-per-maker",
    arg: "<n>",
    help: "orders one maker may hold in the book (default 100)",
    read: int(100, 1),
  }),
  bookDepth: setting({
    flag: "--book-depth",
    arg: "<n>",
    help: "entries per side in GET /orders?market= (default 200)",
    read: int(200, 1, 10_000),
  }),
  logLevel: setting({
    flag: "--log-level",
    arg: "<level>",
    env: "BACKSTOP_LOG_LEVEL",
    help: `${LOG_LEVELS.join("|")} (default info)`,
    read: (raw, flag) => {
      const level = raw ?? "info";
      if (!LOG_LEVELS.includes(level)) {
        throw new InputError(`${flag} must be one of ${LOG_LEVELS.join(", ")}, got '${level}'`);
      }
      return level;
    },
  }),
  help: setting({ flag: "--help", help: "show this help", read: (raw) => raw !== undefined }),
};

type SettingName = keyof typeof SETTINGS;

const flagSpec = (s: Setting<unknown>): FlagSpec => ({
  name: s.flag,
  takesValue: s.arg !== undefined,
  env: s.env === undefined ? undefined : [s.env],
  short: s.flag === "--help" ? "h" : undefined,
});

/**
 * Reads the relay's configuration from flags, with environment fallbacks, and validates all of it before anything
 * connects. Throws {@link InputError} with a one-line message on the first problem. `"help"` when `--help` is
 * given, whatever else is.
 */
export function parseRelayConfig(argv: readonly string[], env: NodeJS.ProcessEnv): RelayConfig | "help" {
  const parsed = parseFlags(argv, Object.values(SETTINGS).map(flagSpec), {
    positionals: false,
    keyHint: "the relay signs nothing and needs no key",
  });
  const read = <K extends SettingName>(name: K): ReturnType<(typeof SETTINGS)[K]["read"]> => {
    const s: Setting<unknown> = SETTINGS[name];
    return s.read(flagOrEnv(parsed, flagSpec(s), env), s.flag) as ReturnType<(typeof SETTINGS)[K]["read"]>;
  };
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
    logLevel: read("logLevel"),
  };
}

function helpLine(s: Setting<unknown>): string {
  const variable = s.env === undefined ? "" : ` (${s.env})`;
  return `  ${`${s.flag}${s.arg === undefined ? "" : ` ${s.arg}`}`.padEnd(29)}${s.help}${variable}`;
}

export const USAGE = [
  "usage: npm run relay -- --rpc <url> --deployment <file> [options]",
  "",
  "An order relay for one Backstop deployment: checks signed orders (signature, domain, expiry, nonce, market,",
  "the maker's margin by simulation), keeps the book in SQLite, and drops orders the chain fills, cancels or expires.",
  "",
  ...Object.values(SETTINGS).map(helpLine),
].join("\n");
