import { expect } from "chai";

import { parseArgs, usage } from "../../cli/args.js";
import { InputError } from "../../cli/errors.js";

function refusal(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (error) {
    expect(error).to.be.instanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("expected an InputError");
}

describe("cli arguments", function () {
  it("finds one- and two-word commands, positionals and flags anywhere", function () {
    const sign = parseArgs(["--rpc", "http://x", "order", "sign", "--market=ETH-USD", "--reduce-only", "--size", "1"]);
    expect(sign.command).to.equal("order sign");
    expect(Object.fromEntries(sign.flags)).to.deep.equal({
      "--rpc": "http://x",
      "--market": "ETH-USD",
      "--reduce-only": "true",
      "--size": "1",
    });
    const withdraw = parseArgs(["withdraw", "-5", "--json"]);
    expect(withdraw.command).to.equal("withdraw");
    // A negative number stays an argument, for the amount check to name.
    expect(withdraw.args).to.deep.equal({ amount: "-5" });
    expect(parseArgs(["health"]).args).to.deep.equal({ address: undefined });
    expect(parseArgs(["fund", "request-unstake", "--all"]).args).to.deep.equal({ shares: undefined });
    expect(parseArgs(["--help"]).command).to.equal("help");
  });

  it("refuses unknown commands and options, key flags, missing and extra arguments", function () {
    expect(refusal([])).to.equal("no command given (try 'help')");
    expect(refusal(["frobnicate"])).to.equal("unknown command 'frobnicate' (try 'help')");
    expect(refusal(["order", "burn"])).to.equal("unknown command 'order burn' (try 'help')");
    expect(refusal(["fund"])).to.equal("'fund' needs a subcommand (try 'help')");
    expect(refusal(["deposit"])).to.equal("'deposit' needs <amount>");
    expect(refusal(["deposit", "1", "2"])).to.equal("'deposit': unexpected argument '2'");
    expect(refusal(["deposit", "1", "--frob"])).to.equal("unknown option --frob");
    expect(refusal(["deposit", "1", "--size", "2"])).to.equal("'deposit' does not take --size");
    expect(refusal(["deposit", "1", "--private-key", "0xabc"])).to.equal(
      "--private-key is not accepted: the key comes from BACKSTOP_PRIVATE_KEY or --keystore",
    );
    expect(refusal(["order", "fill", "o.json", "--size"])).to.equal("--size needs a value");
    expect(refusal(["health", "--json=yes"])).to.equal("--json takes no value");
    expect(refusal(["health", "--json", "--json"])).to.equal("--json given more than once");
  });

  it("lists every command in the help text", function () {
    const text = usage();
    for (const command of [
      "deposit <amount>",
      "order sign",
      "order cancel-below <nonce>",
      "fund status",
      "market status",
    ]) {
      expect(text).to.include(command);
    }
  });
});
