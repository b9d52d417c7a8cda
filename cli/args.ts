import { InputError } from "./errors.js";

/** Every flag the CLI knows and whether it takes a value; which command accepts which is in {@link COMMANDS}. */
const FLAG_TAKES_VALUE: Record<string, boolean> = {
  "--rpc": true,
  "--deployment": true,
  "--network": true,
  "--keystore": true,
  "--json": false,
  "--help": false,
  "--market": true,
  "--side": true,
  "--size": true,
  "--price": true,
  "--expiry-s": true,
  "--nonce": true,
  "--reduce-only": false,
  "--out": true,
  "--all": false,
};

/** Accepted by every command. */
const GLOBAL_FLAGS = ["--rpc", "--deployment", "--network", "--keystore", "--json", "--help"];

/** Flags that would put a key in shell history: refused by name. */
const KEY_FLAGS = new Set(["--private-key", "--private-keys", "--key", "--mnemonic", "--password"]);

export type CommandName =
  | "faucet"
  | "deposit"
  | "withdraw"
  | "order sign"
  | "order fill"
  | "order cancel"
  | "order cancel-below"
  | "positions"
  | "health"
  | "fund stake"
  | "fund request-unstake"
  | "fund confirm-unstake"
  | "fund unstake"
  | "fund status"
  | "market status"
  | "market set-price"
  | "help";

export interface CommandSpec {
  /** Positional arguments after the command words; a `?` suffix marks an optional one. */
  args: string[];
  flags: string[];
  summary: string;
  /** Arguments and flags as the help shows them, when generating them from `args` and `flags` is not enough. */
  synopsis?: string;
}

export const COMMANDS: Record<CommandName, CommandSpec> = {
  faucet: { args: ["amount"], flags: [], summary: "mint mock collateral to your wallet (local only)" },
  deposit: { args: ["amount"], flags: [], summary: "pay collateral tokens into your account" },
  withdraw: { args: ["amount"], flags: [], summary: "take collateral out of your account" },
  "order sign": {
    args: [],
    flags: ["--market", "--side", "--size", "--price", "--expiry-s", "--nonce", "--reduce-only", "--out"],
    summary: "sign an order (EIP-712) into a JSON file",
    synopsis:
      "--market <m> --side buy|sell --size <s> --price <p> --out <file> [--expiry-s <n>] [--nonce <n>] [--reduce-only]",
  },
  "order fill": { args: ["file"], flags: ["--size"], summary: "fill a signed order as the taker" },
  "order cancel": { args: ["file"], flags: [], summary: "cancel one of your signed orders" },
  "order cancel-below": {
    args: ["nonce"],
    flags: [],
    summary: "cancel all your orders with a lower nonce",
  },
  positions: { args: ["address?"], flags: [], summary: "open positions with PnL and charges" },
  health: {
    args: ["address?"],
    flags: [],
    summary: "equity, margins, liquidation prices, ADL rank",
  },
  "fund stake": { args: ["amount"], flags: [], summary: "stake collateral in the insurance fund" },
  "fund request-unstake": {
    args: ["shares?"],
    flags: ["--all"],
    summary: "start the unstake cooldown for some shares",
  },
  "fund confirm-unstake": {
    args: [],
    flags: [],
    summary: "decide to leave: after the cooldown, within the window; pays an hour later",
  },
  "fund unstake": { args: [], flags: [], summary: "collect a confirmed unstake after its exposure hour" },
  "fund status": { args: ["address?"], flags: [], summary: "insurance fund state and your stake" },
  "market status": { args: ["market?"], flags: [], summary: "price, open interest, funding, params" },
  "market set-price": {
    args: ["market", "price"],
    flags: [],
    summary: "publish a price on a mock feed (local only)",
  },
  help: { args: [], flags: [], summary: "this text" },
};

const GROUPS = new Set(["order", "fund", "market"]);

export interface ParsedArgs {
  command: CommandName;
  /** Positional arguments after the command words, by name (without `?`). */
  args: Record<string, string | undefined>;
  /** Flags given, by name with the dashes; boolean flags map to "true". */
  flags: Map<string, string>;
}

/** Splits argv into command words, positionals and flags (`--flag value` or `--flag=value`), and checks them. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const words: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h") {
      flags.set("--help", "true");
      continue;
    }
    // A single dash before a digit is a negative number, left for the amount check to name.
    if (!arg.startsWith("--")) {
      words.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (KEY_FLAGS.has(name)) {
      throw new InputError(`${name} is not accepted: the key comes from BACKSTOP_PRIVATE_KEY or --keystore`);
    }
    const takesValue = FLAG_TAKES_VALUE[name];
    if (takesValue === undefined) throw new InputError(`unknown option ${name}`);
    if (flags.has(name)) throw new InputError(`${name} given more than once`);
    if (!takesValue) {
      if (eq > 0) throw new InputError(`${name} takes no value`);
      flags.set(name, "true");
    } else if (eq > 0) {
      flags.set(name, arg.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new InputError(`${name} needs a value`);
      flags.set(name, next);
      i++;
    }
  }

  const command = commandOf(words, flags.has("--help"));
  const spec = COMMANDS[command];
  for (const name of flags.keys()) {
    if (!GLOBAL_FLAGS.includes(name) && !spec.flags.includes(name)) {
      throw new InputError(`'${command}' does not take ${name}`);
    }
  }
  const rest = words.slice(command === "help" ? words.length : command.split(" ").length);
  const required = spec.args.filter((a) => !a.endsWith("?")).length;
  if (rest.length > spec.args.length)
    throw new InputError(`'${command}': unexpected argument '${rest[spec.args.length]}'`);
  if (rest.length < required) {
    throw new InputError(`'${command}' needs <${spec.args[rest.length].replace("?", "")}>`);
  }
  const args: Record<string, string | undefined> = {};
  spec.args.forEach((name, i) => (args[name.replace("?", "")] = rest[i]));
  return { command, args, flags };
}

function commandOf(words: readonly string[], help: boolean): CommandName {
  if (words.length === 0) {
    if (help) return "help";
    throw new InputError("no command given (try 'help')");
  }
  const [first, second] = words;
  if (first === "help") return "help";
  if (GROUPS.has(first)) {
    if (second === undefined) {
      if (help) return "help";
      throw new InputError(`'${first}' needs a subcommand (try 'help')`);
    }
    const name = `${first} ${second}`;
    if (name in COMMANDS) return name as CommandName;
    throw new InputError(`unknown command '${name}' (try 'help')`);
  }
  if (first in COMMANDS) return first as CommandName;
  throw new InputError(`unknown command '${first}' (try 'help')`);
}

/** The value of a flag, or `undefined`. */
export function flag(parsed: ParsedArgs, name: string): string | undefined {
  return parsed.flags.get(name);
}

/** The value of a flag the command cannot do without. */
export function requiredFlag(parsed: ParsedArgs, name: string): string {
  const value = parsed.flags.get(name);
  if (value === undefined) throw new InputError(`'${parsed.command}' needs ${name}`);
  return value;
}

/** The help text. */
export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, spec]) => {
    const args = spec.args.map((a) => (a.endsWith("?") ? `[${a.slice(0, -1)}]` : `<${a}>`));
    const flags = spec.flags.map((f) => (FLAG_TAKES_VALUE[f] ? `[${f} <v>]` : `[${f}]`));
    const synopsis = [name, ...(spec.synopsis === undefined ? [...args, ...flags] : [spec.synopsis])].join(" ");
    // A long synopsis gets its summary on the next line.
    return synopsis.length > 56
      ? `  ${synopsis}\n  ${"".padEnd(58)} ${spec.summary}`
      : `  ${synopsis.padEnd(58)} ${spec.summary}`;
  });
  return [
    "usage: npm run cli -- <command> [options]",
    "",
    "commands:",
    ...lines,
    "",
    "options (every command):",
    "  --rpc <url>           JSON-RPC endpoint (or BACKSTOP_RPC_URL)",
    "  --deployment <file>   deployment file, or --network <name> for deployments/<name>.json",
    "  --keystore <file>     encrypted JSON wallet; password in BACKSTOP_KEYSTORE_PASSWORD",
    "  --json                machine-readable output",
    "",
    "The signing key comes from BACKSTOP_PRIVATE_KEY or --keystore, never from a flag; read-only commands need none.",
  ].join("\n");
}
