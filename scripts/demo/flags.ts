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

/** A bad flag or value; the message is one line that names it. */
export class DemoFlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DemoFlagError";
  }
}

const VALUE_FLAGS = new Set(["--seed", "--accounts", "--crash", "--out"]);

/** Parses `--flag value` and `--flag=value`; `help` is true for --help or -h. */
export function parseDemoFlags(argv: readonly string[]): { options: DemoOptions; help: boolean } {
  const options = { ...DEFAULT_OPTIONS };
  const seen = new Set<string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (arg === "--quiet") {
      options.quiet = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (!VALUE_FLAGS.has(name)) {
      throw new DemoFlagError(arg.startsWith("-") ? `unknown option ${name}` : `unexpected argument '${arg}'`);
    }
    if (seen.has(name)) throw new DemoFlagError(`${name} given more than once`);
    seen.add(name);
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new DemoFlagError(`${name} needs a value`);
      value = next;
      i++;
    }
    if (name === "--seed") options.seed = nonEmpty(name, value);
    else if (name === "--out") options.outDir = nonEmpty(name, value);
    else if (name === "--accounts") options.accounts = wholeNumber(name, value, ACCOUNTS_RANGE);
    else options.crashPct = percent(name, value, CRASH_RANGE);
  }
  return { options, help };
}

function nonEmpty(name: string, value: string): string {
  if (value.trim() === "") throw new DemoFlagError(`${name} must not be empty`);
  return value;
}

function wholeNumber(name: string, raw: string, [min, max]: readonly [number, number]): number {
  if (!/^\d+$/.test(raw)) throw new DemoFlagError(`${name} must be a whole number, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max) throw new DemoFlagError(`${name} must be between ${min} and ${max}, got ${raw}`);
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
