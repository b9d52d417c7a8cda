import { envValue, parseFlags, type FlagSpec } from "#sdk";
import { InputError } from "./errors.js";

const value = (name: string, env?: readonly string[]): FlagSpec => ({ name, takesValue: true, env });
const toggle = (name: string, short?: string): FlagSpec => ({ name, takesValue: false, short });

/** Every flag the CLI knows, declared once; which command accepts which is in {@link COMMANDS}. */
export const CLI_FLAGS: readonly FlagSpec[] = [
  value("--rpc", ["BACKSTOP_RPC_URL"]),
  value("--deployment"),
  value("--network"),
  value("--keystore"),
  toggle("--json"),
  toggle("--help", "h"),
  value("--market"),
  value("--side"),
  value("--size"),
  value("--price"),
  value("--expiry-s"),
  value("--nonce"),
  toggle("--reduce-only"),
  value("--out"),
  toggle("--all"),
  value("--max-records"),
];

const SPECS = new Map(CLI_FLAGS.map((f) => [f.name, f]));

/** Accepted by every command. */
const GLOBAL_FLAGS = ["--rpc", "--deployment", "--network", "--keystore", "--json", "--help"];

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
  | "member join"
  | "member leave"
  | "member status"
  | "market status"
  | "market set-price"
  | "loss-events"
  | "claims list"
  | "claims repay"
  | "claims totals"
  | "claims fund"
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
      "--market <m> --side buy|sell|long|short --size <s> --price <p> --out <file> [--expiry-s <n>] [--nonce <n>] [--reduce-only]",
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
    summary: "equity, margins, liquidation prices, ADL rank, repayable claims",
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
  "fund status": {
    args: ["address?"],
    flags: [],
    summary: "insurance fund, a row per default layer, each isolated market's own fund, and your stake",
  },
  "member join": {
    args: ["amount"],
    flags: [],
    summary: "contribute to the members' default fund (join as a clearing member)",
  },
  "member leave": {
    args: ["step"],
    flags: [],
    summary: "leave the members' fund: 'request' gives notice, 'complete' leaves after it",
    synopsis: "request|complete",
  },
  "member status": {
    args: ["address?"],
    flags: [],
    summary: "contribution, share, assessments and cap, notice to leave",
  },
  "market status": { args: ["market?"], flags: [], summary: "price, open interest, funding, params" },
  "market set-price": {
    args: ["market", "price"],
    flags: [],
    summary: "publish a price on a mock feed (local only)",
  },
  "loss-events": {
    args: [],
    flags: [],
    summary: "liquidations and bad debts: fund, ADL, socialized parts",
  },
  "claims list": {
    args: ["address?"],
    flags: [],
    summary: "what loss rules took from an account: claim records, repaid, repayable now",
  },
  "claims repay": {
    args: ["address?"],
    flags: ["--max-records"],
    summary: "credit an account what its claims may be repaid now (anyone may send it)",
  },
  "claims totals": {
    args: [],
    flags: ["--market"],
    summary: "per claims pool (shared, each isolated market's): taken, funded, still owed",
  },
  "claims fund": {
    args: ["amount"],
    flags: ["--market"],
    summary: "pay tokens into a claims pool (shared; an isolated market's own with --market)",
  },
  help: { args: [], flags: [], summary: "this text" },
};

const GROUPS = new Set(["order", "fund", "market", "member", "claims"]);

export interface ParsedArgs {
  command: CommandName;
  /** Positional arguments after the command words, by name (without `?`). */
  args: Record<string, string | undefined>;
  /** Flags given, by name with the dashes; boolean flags map to "true". */
  flags: Map<string, string>;
}

/**
 * Splits argv into command words, positionals and flags (`--flag value` or `--flag=value`, through the SDK's
 * flag layer), and checks them against the command.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const parsed = parseFlags(argv, CLI_FLAGS, {
    positionals: true,
    keyHint: "the key comes from BACKSTOP_PRIVATE_KEY or --keystore",
  });
  const words = parsed.positionals;
  const flags = new Map([...parsed.values].map(([name, values]) => [name, values[0]]));

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

/** The value of a flag, else of its environment variable (`--rpc`, BACKSTOP_RPC_URL), or `undefined`. */
export function flagOrEnvOf(parsed: ParsedArgs, name: string, env: NodeJS.ProcessEnv): string | undefined {
  return parsed.flags.get(name) ?? envValue(env, SPECS.get(name)?.env ?? [])?.value;
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
    const flags = spec.flags.map((f) => (SPECS.get(f)?.takesValue === true ? `[${f} <v>]` : `[${f}]`));
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
