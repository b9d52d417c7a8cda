import { parseArgs } from "node:util";

import { InputError } from "./errors.js";

/**
 * The one flag and environment layer under the keeper and the CLI, on `node:util` parseArgs. Each tool declares
 * its flags once ({@link FlagSpec}); this module splits argv, refuses key flags, and applies the rules both tools
 * share: `--flag value` or `--flag=value`, a value never taken from the next flag, a switch takes no value, a flag
 * given twice is an error unless repeatable, and an environment variable stands in for a missing flag.
 */

/** A flag a tool accepts. */
export interface FlagSpec {
  /** `--name`, with the dashes. */
  name: string;
  /** Takes a value (`--name <value>`); a switch otherwise. */
  takesValue: boolean;
  /** May be given more than once (every value is kept, in order). */
  repeatable?: boolean;
  /**
   * Environment variables read when the flag is absent, first set one wins: the `BACKSTOP_*` name first, then
   * any documented alias (the keeper's `KEEPER_*`).
   */
  env?: readonly string[];
  /** A one-letter alias (`-h`). */
  short?: string;
}

/** Flags that would put a key or a password in shell history: refused by name, by every tool. */
export const REFUSED_KEY_FLAGS: readonly string[] = [
  "--private-key",
  "--private-keys",
  "--key",
  "--keys",
  "--mnemonic",
  "--password",
];

/** What argv held: the values of each flag given, by `--name`, and the positional words in order. */
export interface ParsedFlags {
  values: Map<string, string[]>;
  positionals: string[];
}

export interface ParseFlagsOptions {
  /** Accept positional words (the CLI's command and arguments); the keeper takes none. */
  positionals: boolean;
  /** Where keys come from instead, for the refusal of a key flag: "keys come from … or --keystore". */
  keyHint: string;
}

// A dash before a digit is a negative number typed as an argument, left for the amount check to name.
const NEGATIVE_NUMBER = /^-\d/;

/** Splits `argv` by `specs`. Throws {@link InputError} with a one-line message on the first problem. */
export function parseFlags(
  argv: readonly string[],
  specs: readonly FlagSpec[],
  options: ParseFlagsOptions,
): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short !== undefined).map((s) => [`-${s.short}`, s]));
  // strict: false, so that the messages are ours and name the flag as typed; every check is made below.
  const { tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(
      specs.map((s) => [
        s.name.slice(2),
        {
          type: s.takesValue ? ("string" as const) : ("boolean" as const),
          multiple: true,
          ...(s.short === undefined ? {} : { short: s.short }),
        },
      ]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  const seen = new Set<number>();
  for (const token of tokens) {
    if (seen.has(token.index)) continue; // a short-option group (`-5.2`) yields one token per letter
    seen.add(token.index);
    const raw = argv[token.index];
    if (token.kind === "positional" || (options.positionals && NEGATIVE_NUMBER.test(raw))) {
      if (!options.positionals) throw new InputError(`unexpected argument '${raw}'`);
      positionals.push(raw);
      continue;
    }
    if (token.kind === "option-terminator") throw new InputError("unknown option --");
    const name = token.rawName;
    if (REFUSED_KEY_FLAGS.includes(name)) throw new InputError(`${name} is not accepted: ${options.keyHint}`);
    const spec = name.startsWith("--") ? byName.get(name) : byShort.get(name);
    if (spec === undefined) throw new InputError(`unknown option ${name}`);
    let value: string;
    if (spec.takesValue) {
      // parseArgs takes the next word as the value even when it is a flag; a value never starts with `--`.
      if (token.value === undefined || (!token.inlineValue && token.value.startsWith("--"))) {
        throw new InputError(`${name} needs a value`);
      }
      value = token.value;
    } else {
      if (token.value !== undefined) throw new InputError(`${name} takes no value`);
      value = "true";
    }
    const previous = values.get(spec.name);
    if (previous !== undefined && spec.repeatable !== true) throw new InputError(`${spec.name} given more than once`);
    values.set(spec.name, [...(previous ?? []), value]);
  }
  return { values, positionals };
}

/** A flag's value, else its first environment variable that is set and not empty; `undefined` when neither. */
export function flagOrEnv(parsed: ParsedFlags, spec: FlagSpec, env: NodeJS.ProcessEnv): string | undefined {
  const given = parsed.values.get(spec.name)?.[0];
  if (given !== undefined) return given;
  return envValue(env, spec.env ?? [])?.value;
}

/** The first of `names` set (and not empty) in `env`, with the name it came from. */
export function envValue(
  env: NodeJS.ProcessEnv,
  names: readonly string[],
): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") return { name, value };
  }
  return undefined;
}

/** A whole number in [min, max] typed for `label`. */
export function parseInteger(label: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(raw.trim())) throw new InputError(`${label} must be a whole number, got '${raw}'`);
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    throw new InputError(`${label} must be ${range}, got ${raw}`);
  }
  return value;
}

/**
 * One setting of a tool: its flag, the environment variables that stand in for it (first set one wins), its help
 * line, and how its text becomes a value (given `undefined` when unset). Each tool declares a table of these once;
 * its parser, validation and `--help` all come from the table.
 */
export interface Setting<T> {
  flag: string;
  /** `<n>` and the like, for the help; none for a switch. */
  arg?: string;
  env?: readonly string[];
  repeatable?: boolean;
  short?: string;
  help: string;
  read(raw: string | undefined, flag: string): T;
}

/** Types a table entry (so that each keeps its own value type). */
export const setting = <T>(s: Setting<T>): Setting<T> => s;

/** A setting as {@link parseFlags} sees it. */
export function settingFlag(s: Setting<unknown>): FlagSpec {
  return { name: s.flag, takesValue: s.arg !== undefined, repeatable: s.repeatable, env: s.env, short: s.short };
}

/** A setting's `--help` line: flag and argument, help, and its variables (the first, then any aliases). */
export function settingHelpLine(s: Setting<unknown>): string {
  const [first, ...aliases] = s.env ?? [];
  const variables =
    first === undefined ? "" : ` (${first}${aliases.length > 0 ? `, alias ${aliases.join(", ")}` : ""})`;
  // At least one space after a flag longer than the column.
  return `  ${`${s.flag}${s.arg === undefined ? "" : ` ${s.arg}`}`.padEnd(28)} ${s.help}${variables}`;
}

/**
 * Reads the settings of `table` from parsed flags, else their variables in `env`, each through its own parser.
 * (TypeScript cannot tie a table's entry to its key's type, hence the cast.)
 */
export function settingReader<S extends Record<string, Setting<unknown>>>(
  table: S,
  parsed: ParsedFlags,
  env: NodeJS.ProcessEnv,
): <K extends keyof S>(name: K) => ReturnType<S[K]["read"]> {
  return (name) => {
    const s = table[name];
    return s.read(flagOrEnv(parsed, settingFlag(s), env), s.flag) as ReturnType<S[typeof name]["read"]>;
  };
}

/** A whole-number setting in [min, max], `fallback` when unset. */
export const intSetting =
  (fallback: number, min: number, max?: number) =>
  (raw: string | undefined, flag: string): number =>
    raw === undefined ? fallback : parseInteger(flag, raw, min, max);

/** A whole-number setting of at least `min`, `undefined` when unset. */
export const optionalIntSetting =
  (min: number) =>
  (raw: string | undefined, flag: string): number | undefined =>
    raw === undefined ? undefined : parseInteger(flag, raw, min);
