import path from "node:path";

import { expect } from "chai";
import { ZeroAddress as ZERO } from "ethers";

import { parseArgs, usage } from "../../cli/args.js";
import { deploymentPath, findMarket, rpcUrl } from "../../cli/connection.js";
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
      "faucet <amount>",
      "deposit <amount>",
      "order sign",
      "order cancel-below <nonce>",
      "fund status",
      "market status",
      "market set-price <market> <price>",
      "member join <amount>",
      "member leave request|complete",
      "member status [address]",
    ]) {
      expect(text).to.include(command);
    }
  });
});

describe("cli connection options", function () {
  const deployment = {
    network: "localhost",
    chainId: 31337,
    startBlock: 1,
    contracts: {
      clearingHouse: ZERO,
      liquidationLogic: ZERO,
      insuranceFund: ZERO,
      lens: ZERO,
      oracleAdapter: ZERO,
      collateralToken: ZERO,
    },
    markets: [
      { id: 0, symbol: "ETH-USD", feed: ZERO, lossPolicy: "adl" as const },
      { id: 1, symbol: "BTC-USD", feed: ZERO, lossPolicy: "socialized" as const },
    ],
  };

  it("reads the deployment from --deployment or deployments/<network>.json, one of them", function () {
    expect(deploymentPath(parseArgs(["health", "--deployment", "x/y.json"]), "/repo")).to.equal("x/y.json");
    expect(deploymentPath(parseArgs(["health", "--network", "sepolia"]), "/repo")).to.equal(
      path.join("/repo", "deployments", "sepolia.json"),
    );
    expect(() => deploymentPath(parseArgs(["health"]), "/repo")).to.throw(
      InputError,
      "no deployment: give --deployment <file> or --network <name>",
    );
    expect(() => deploymentPath(parseArgs(["health", "--network", "a", "--deployment", "b"]), "/repo")).to.throw(
      InputError,
      "give --deployment or --network, not both",
    );
    expect(() => deploymentPath(parseArgs(["health", "--network", "../etc"]), "/repo")).to.throw(
      InputError,
      "--network is not a network name: '../etc'",
    );
  });

  it("takes the RPC URL from --rpc before BACKSTOP_RPC_URL, and checks it", function () {
    const env = { BACKSTOP_RPC_URL: "http://env:8545" };
    expect(rpcUrl(parseArgs(["health", "--rpc", "http://flag:8545"]), env)).to.equal("http://flag:8545");
    expect(rpcUrl(parseArgs(["health"]), env)).to.equal("http://env:8545");
    expect(() => rpcUrl(parseArgs(["health"]), {})).to.throw(
      InputError,
      "no RPC URL: give --rpc <url> or set BACKSTOP_RPC_URL",
    );
    expect(() => rpcUrl(parseArgs(["health", "--rpc", "ws://x"]), {})).to.throw(
      InputError,
      "--rpc must be an http(s) URL",
    );
  });

  it("finds a market by symbol in any case or by id, and names the known ones otherwise", function () {
    expect(findMarket(deployment, "eth-usd").id).to.equal(0);
    expect(findMarket(deployment, "1").symbol).to.equal("BTC-USD");
    expect(() => findMarket(deployment, "DOGE-USD")).to.throw(
      InputError,
      "unknown market 'DOGE-USD' (this deployment has ETH-USD, BTC-USD)",
    );
  });
});
