import { InputError as DemoFlagError, parseFlags, parseInteger, type FlagSpec } from "#sdk";

/** Command-line flags of `npm run demo`, validated before anything starts. */

export interface DemoOptions {
  /** Seeds the scenario: keys, sizes, leverages. */
  seed: string;
  /** Trader accounts (half on each side of the crash). */
  accounts: number;
  /** How far both prices fall in total, percent. */
  crashPct: number;
  /** Directory of report.json, report.md and the deployment file. */
  outDir: string;
  /** Progress lines while running. */
  quiet: boolean;
}

export const DEFAULT_OPTIONS: DemoOptions = {
  seed: "backstop",
  accounts: 60,
  crashPct: 15,
  outDir: "results/demo",
  quiet: false,
};

/** Bounds: 12 accounts give every risk class in both markets; 1,000 keeps a run within minutes. */
export const ACCOUNTS_RANGE = [12, 1000] as const;
/** Below 1% nothing happens; at 80% and more a 10x long loses many times its margin and prices near zero. */
export const CRASH_RANGE = [1, 80] as const;

export const DEMO_USAGE = `usage: npm run demo -- [--seed <text>] [--accounts <n>] [--crash <percent>] [--out <dir>] [--quiet]

  --seed <text>        scenario seed (default ${DEFAULT_OPTIONS.seed})
  --accounts <n>       trader accounts, ${ACCOUNTS_RANGE[0]}–${ACCOUNTS_RANGE[1]} (default ${DEFAULT_OPTIONS.accounts})
  --crash <percent>    total fall of both prices, ${CRASH_RANGE[0]}–${CRASH_RANGE[1]} (default ${DEFAULT_OPTIONS.crashPct})
  --out <dir>          where report.json and report.md go (default ${DEFAULT_OPTIONS.outDir})
  --quiet              no progress lines, only the final report`;

/** A bad flag or value; the message is one line that names it (the SDK's input error). */
export { DemoFlagError };

const FLAGS: readonly FlagSpec[] = [
  { name: "--seed", takesValue: true },
  { name: "--accounts", takesValue: true },
  { name: "--crash", takesValue: true },
  { name: "--out", takesValue: true },
  { name: "--quiet", takesValue: false },
  { name: "--help", takesValue: false, short: "h" },
];

/** Parses `--flag value` and `--flag=value` through the SDK's flag layer; `help` is true for --help or -h. */
export function parseDemoFlags(argv: readonly string[]): { options: DemoOptions; help: boolean } {
  const { values } = parseFlags(argv, FLAGS, { positionals: false, keyHint: "the demo uses the dev accounts" });
  const given = (name: string): string | undefined => values.get(name)?.[0];
  const seed = given("--seed");
  const out = given("--out");
  const accounts = given("--accounts");
  const crash = given("--crash");
  return {
    options: {
      seed: seed === undefined ? DEFAULT_OPTIONS.seed : nonEmpty("--seed", seed),
      accounts:
        accounts === undefined
          ? DEFAULT_OPTIONS.accounts
          : parseInteger("--accounts", accounts, ACCOUNTS_RANGE[0], ACCOUNTS_RANGE[1]),
      crashPct: crash === undefined ? DEFAULT_OPTIONS.crashPct : percent("--crash", crash, CRASH_RANGE),
      outDir: out === undefined ? DEFAULT_OPTIONS.outDir : nonEmpty("--out", out),
      quiet: values.has("--quiet") || DEFAULT_OPTIONS.quiet,
    },
    help: values.has("--help"),
  };
}

function nonEmpty(name: string, value: string): string {
  if (value.trim() === "") throw new DemoFlagError(`${name} must not be empty`);
  return value;
}

/** A percentage with at most two decimals (the feeds move in whole basis points), '%' allowed. */
function percent(name: string, raw: string, [min, max]: readonly [number, number]): number {
  const text = raw.endsWith("%") ? raw.slice(0, -1) : raw;
  if (!/^\d+(\.\d{1,2})?$/.test(text)) {
    throw new DemoFlagError(`${name} must be a percentage such as 15 or 12.5, got '${raw}'`);
  }
  const value = Number(text);
  if (value < min || value > max)
    throw new DemoFlagError(`${name} must be between ${min} and ${max} percent, got ${raw}`);
  return value;
}
