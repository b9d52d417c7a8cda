import { expect } from "chai";

import {
  InputError,
  REFUSED_KEY_FLAGS,
  envValue,
  flagOrEnv,
  intSetting,
  optionalIntSetting,
  parseFlags,
  parseInteger,
  setting,
  settingFlag,
  settingHelpLine,
  settingReader,
  type FlagSpec,
} from "#sdk";

const SPECS: FlagSpec[] = [
  { name: "--rpc", takesValue: true, env: ["BACKSTOP_RPC_URL", "KEEPER_RPC_URL"] },
  { name: "--keystore", takesValue: true, repeatable: true },
  { name: "--once", takesValue: false },
  { name: "--help", takesValue: false, short: "h" },
];
const KEEPER = { positionals: false, keyHint: "keys come from the environment" };
const CLI = { positionals: true, keyHint: "keys come from the environment" };

function refusal(argv: string[], options = KEEPER): string {
  try {
    parseFlags(argv, SPECS, options);
  } catch (error) {
    expect(error).to.be.instanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("expected an InputError");
}

describe("sdk flags", function () {
  it("reads --flag value, --flag=value, switches, short aliases and repeated flags", function () {
    const parsed = parseFlags(
      ["--rpc=http://x", "--keystore", "a.json", "--once", "-h", "--keystore", "b.json"],
      SPECS,
      KEEPER,
    );
    expect(Object.fromEntries(parsed.values)).to.deep.equal({
      "--rpc": ["http://x"],
      "--keystore": ["a.json", "b.json"],
      "--once": ["true"],
      "--help": ["true"],
    });
    expect(parsed.positionals).to.deep.equal([]);
  });

  it("keeps words and negative numbers as positionals where a tool takes them", function () {
    const parsed = parseFlags(["withdraw", "-5.25", "--once", "-3"], SPECS, CLI);
    expect(parsed.positionals).to.deep.equal(["withdraw", "-5.25", "-3"]);
    expect(refusal(["stray"])).to.equal("unexpected argument 'stray'");
    expect(refusal(["-5"])).to.equal("unknown option -5");
  });

  it("refuses every key flag by name, with the tool's hint, before anything else", function () {
    for (const name of REFUSED_KEY_FLAGS) {
      expect(refusal([name, "0xabc"])).to.equal(`${name} is not accepted: keys come from the environment`);
      expect(refusal([`${name}=0xabc`], CLI)).to.equal(`${name} is not accepted: keys come from the environment`);
    }
  });

  it("names unknown, valueless, value-taking switches and repeated flags", function () {
    expect(refusal(["--frob"])).to.equal("unknown option --frob");
    expect(refusal(["-x"], CLI)).to.equal("unknown option -x");
    expect(refusal(["--rpc"])).to.equal("--rpc needs a value");
    expect(refusal(["--rpc", "--once"])).to.equal("--rpc needs a value");
    expect(refusal(["--once=yes"])).to.equal("--once takes no value");
    expect(refusal(["--rpc", "a", "--rpc=b"])).to.equal("--rpc given more than once");
    expect(refusal(["--"])).to.equal("unknown option --");
  });

  it("falls back to the first environment variable set, a flag winning over all", function () {
    const rpc = SPECS[0];
    const none = parseFlags([], SPECS, KEEPER);
    expect(flagOrEnv(none, rpc, {})).to.equal(undefined);
    expect(flagOrEnv(none, rpc, { KEEPER_RPC_URL: "http://k" })).to.equal("http://k");
    expect(flagOrEnv(none, rpc, { BACKSTOP_RPC_URL: "http://b", KEEPER_RPC_URL: "http://k" })).to.equal("http://b");
    // An empty variable counts as unset.
    expect(flagOrEnv(none, rpc, { BACKSTOP_RPC_URL: "", KEEPER_RPC_URL: "http://k" })).to.equal("http://k");
    const given = parseFlags(["--rpc", "http://f"], SPECS, KEEPER);
    expect(flagOrEnv(given, rpc, { BACKSTOP_RPC_URL: "http://b" })).to.equal("http://f");
    expect(envValue({ KEEPER_RPC_URL: "http://k" }, ["BACKSTOP_RPC_URL", "KEEPER_RPC_URL"])).to.deep.equal({
      name: "KEEPER_RPC_URL",
      value: "http://k",
    });
  });

  it("parses whole numbers within bounds, naming the flag", function () {
    expect(parseInteger("--n", " 42 ", 1, 100)).to.equal(42);
    expect(() => parseInteger("--n", "4.2", 1)).to.throw(InputError, "--n must be a whole number, got '4.2'");
    expect(() => parseInteger("--n", "0", 1)).to.throw(InputError, "--n must be at least 1, got 0");
    expect(() => parseInteger("--n", "101", 1, 100)).to.throw(InputError, "--n must be between 1 and 100, got 101");
  });

  it("reads a settings table: flag first, then its variables in order, each through its own parser", function () {
    const table = {
      port: setting({
        flag: "--port",
        arg: "<n>",
        env: ["BACKSTOP_PORT", "KEEPER_PORT"],
        help: "port",
        read: intSetting(80, 1),
      }),
      start: setting({ flag: "--start", arg: "<n>", help: "start", read: optionalIntSetting(0) }),
      once: setting({ flag: "--once", short: "o", help: "one run", read: (raw) => raw !== undefined }),
    };
    const specs = Object.values(table).map(settingFlag);
    expect(specs[2]).to.deep.equal({
      name: "--once",
      takesValue: false,
      repeatable: undefined,
      env: undefined,
      short: "o",
    });
    const read = (argv: string[], env: NodeJS.ProcessEnv) => settingReader(table, parseFlags(argv, specs, KEEPER), env);
    expect(read([], {})("port")).to.equal(80);
    expect(read([], { KEEPER_PORT: "81" })("port")).to.equal(81);
    expect(read([], { BACKSTOP_PORT: "82", KEEPER_PORT: "81" })("port")).to.equal(82);
    expect(read(["--port", "83"], { BACKSTOP_PORT: "82" })("port")).to.equal(83);
    expect(read([], {})("start")).to.equal(undefined);
    expect(read(["-o"], {})("once")).to.equal(true);
    expect(() => read(["--port", "0"], {})("port")).to.throw(InputError, "--port must be at least 1, got 0");
  });

  it("writes one help line per setting, naming its variable and any aliases", function () {
    const port = setting({
      flag: "--port",
      arg: "<n>",
      env: ["BACKSTOP_PORT", "KEEPER_PORT"],
      help: "port",
      read: String,
    });
    const db = setting({ flag: "--db", arg: "<file>", env: ["BACKSTOP_DB"], help: "book file", read: String });
    const once = setting({ flag: "--once", help: "one run", read: String });
    expect(settingHelpLine(port)).to.equal(`  ${"--port <n>".padEnd(29)}port (BACKSTOP_PORT, alias KEEPER_PORT)`);
    expect(settingHelpLine(db)).to.equal(`  ${"--db <file>".padEnd(29)}book file (BACKSTOP_DB)`);
    expect(settingHelpLine(once)).to.equal(`  ${"--once".padEnd(29)}one run`);
  });
});
