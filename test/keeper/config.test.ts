import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { expect } from "chai";

import { ConfigError, assignKeys, parseConfig, type KeeperConfig } from "#keeper";
import type { Deployment } from "#sdk";

const KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const KEY_2 = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

const dir = mkdtempSync(join(tmpdir(), "keeper-config-"));
const deployment = join(dir, "localhost.json");
writeFileSync(deployment, "{}");
const keystore = join(dir, "key.json");
writeFileSync(keystore, JSON.stringify({ address: "00", crypto: { cipher: "aes-128-ctr" }, version: 3 }));

const BASE = ["--rpc", "http://127.0.0.1:8545", "--deployment", deployment];
const ENV = { KEEPER_PRIVATE_KEYS: `${KEY_1},${KEY_2}` };
const KEY_3 = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const ENV_3 = { KEEPER_PRIVATE_KEYS: `${KEY_1},${KEY_2},${KEY_3}` };

function parse(argv: string[], env: NodeJS.ProcessEnv = ENV): KeeperConfig {
  return parseConfig(argv, env);
}

/** Asserts a ConfigError whose one-line message matches `pattern`. */
function rejects(argv: string[], env: NodeJS.ProcessEnv, pattern: RegExp): ConfigError {
  let caught: unknown;
  try {
    parseConfig(argv, env);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a ConfigError for ${argv.join(" ")}`).to.be.instanceOf(ConfigError);
  const error = caught as ConfigError;
  expect(error.message).to.match(pattern);
  expect(error.message, "one line").not.to.include("\n");
  return error;
}

describe("keeper config", function () {
  describe("valid configurations", function () {
    it("takes the defaults around the required flags", function () {
      const config = parse(BASE);
      expect(config.rpcUrl).to.equal("http://127.0.0.1:8545");
      expect(config.deploymentPath).to.equal(deployment);
      expect(config.keys.kind).to.equal("env");
      expect(config.startBlock).to.equal(undefined);
      expect(config.signers).to.equal(undefined);
      expect(config.feeBumpBlocks).to.equal(3);
      expect(config.feeBumpPercent).to.equal(20);
      expect(config.batchSize).to.equal(200);
      expect(config.logChunk).to.equal(50_000);
      expect(config.maxInFlight).to.equal(64);
      expect(config.reorgDepth).to.equal(5);
      expect(config.metricsPort).to.equal(0);
      expect(config.metricsHost).to.equal("127.0.0.1");
      expect(config.blockStaleAfterS).to.equal(config.staleAfterS);
      expect(config.dryRun).to.equal(false);
      expect(config.once).to.equal(false);
    });

    it("reads every flag, in both --flag value and --flag=value forms", function () {
      const config = parse([
        ...BASE,
        "--start-block=12",
        "--signers",
        "1",
        "--max-fee-gwei",
        "1.5",
        "--max-priority-fee-gwei=0.1",
        "--fee-bump-blocks",
        "2",
        "--fee-bump-percent",
        "10",
        "--max-in-flight=3",
        "--checkpoint",
        join(dir, "cp.json"),
        "--poll-ms",
        "250",
        "--batch-size",
        "50",
        "--log-chunk",
        "100",
        "--metrics-port",
        "9464",
        "--stale-after-s",
        "5",
        "--block-stale-after-s",
        "0",
        "--log-level",
        "warn",
        "--dry-run",
        "--once",
      ]);
      expect(config.startBlock).to.equal(12);
      expect(config.signers).to.equal(1);
      expect(config.maxFeePerGas).to.equal(1_500_000_000n);
      expect(config.maxPriorityFeePerGas).to.equal(100_000_000n);
      expect(config.feeBumpBlocks).to.equal(2);
      expect(config.feeBumpPercent).to.equal(10);
      expect(config.maxInFlight).to.equal(3);
      expect(config.checkpointPath).to.equal(join(dir, "cp.json"));
      expect(config.pollMs).to.equal(250);
      expect(config.batchSize).to.equal(50);
      expect(config.logChunk).to.equal(100);
      expect(config.metricsPort).to.equal(9464);
      expect(config.staleAfterS).to.equal(5);
      expect(config.blockStaleAfterS).to.equal(0);
      expect(config.logLevel).to.equal("warn");
      expect(config.dryRun).to.equal(true);
      expect(config.once).to.equal(true);
    });

    it("falls back to the environment, and a flag wins over it", function () {
      const env = { ...ENV, KEEPER_RPC_URL: "https://rpc.example.org/v1" };
      expect(parse(["--deployment", deployment], env).rpcUrl).to.equal("https://rpc.example.org/v1");
      expect(parse(BASE, env).rpcUrl).to.equal("http://127.0.0.1:8545");
    });

    it("reads BACKSTOP_* variables, the KEEPER_* names as aliases, BACKSTOP_* first", function () {
      const both = {
        BACKSTOP_PRIVATE_KEYS: KEY_2,
        KEEPER_PRIVATE_KEYS: KEY_1,
        BACKSTOP_RPC_URL: "https://backstop.example.org",
        KEEPER_RPC_URL: "https://keeper.example.org",
        BACKSTOP_LOG_LEVEL: "debug",
        KEEPER_LOG_LEVEL: "warn",
        KEEPER_CHECKPOINT: "/tmp/keeper-checkpoint.json",
      };
      const config = parse(["--deployment", deployment], both);
      expect(config.rpcUrl).to.equal("https://backstop.example.org");
      expect(config.keys.kind === "env" && config.keys.privateKeys.reveal()).to.deep.equal([KEY_2]);
      expect(config.logLevel).to.equal("debug");
      expect(config.checkpointPath).to.equal("/tmp/keeper-checkpoint.json");
      const fromDeploymentVariable = parse(["--rpc", "http://127.0.0.1:8545"], {
        ...ENV,
        BACKSTOP_DEPLOYMENT: deployment,
      });
      expect(fromDeploymentVariable.deploymentPath).to.equal(deployment);
      const keystoreAlias = parse([...BASE, "--keystore", keystore], { BACKSTOP_KEYSTORE_PASSWORD: "pw" });
      expect(keystoreAlias.keys.kind === "keystore" && keystoreAlias.keys.password.reveal()).to.equal("pw");
      // A bad key is named by the variable it came from.
      rejects(BASE, { BACKSTOP_PRIVATE_KEYS: "0x12" }, /^BACKSTOP_PRIVATE_KEYS: key 1 is not a 32-byte hex string$/);
      rejects(BASE, { KEEPER_PRIVATE_KEYS: "0x12" }, /^KEEPER_PRIVATE_KEYS: key 1 is not a 32-byte hex string$/);
    });

    it("accepts keys without 0x and a keystore with its password", function () {
      const config = parse(BASE, { KEEPER_PRIVATE_KEYS: KEY_1.slice(2) });
      expect(config.keys.kind === "env" && config.keys.privateKeys.reveal()).to.deep.equal([KEY_1]);
      const fromKeystore = parse([...BASE, "--keystore", keystore], { KEEPER_KEYSTORE_PASSWORD: "pw" });
      expect(fromKeystore.keys.kind === "keystore" && fromKeystore.keys.files).to.deep.equal([keystore]);
    });

    it("never shows a key or a password when the config is printed", function () {
      const config = parse(BASE);
      for (const text of [JSON.stringify(config), inspect(config, { depth: 10 })]) {
        expect(text).not.to.include(KEY_1.slice(2));
        expect(text).not.to.include(KEY_2.slice(2));
      }
      const fromKeystore = parse([...BASE, "--keystore", keystore], { KEEPER_KEYSTORE_PASSWORD: "hunter2" });
      expect(JSON.stringify(fromKeystore)).not.to.include("hunter2");
      expect(inspect(fromKeystore, { depth: 10 })).not.to.include("hunter2");
    });
  });

  describe("isolated markets' own signers", function () {
    const file = (markets: string[]): Deployment => ({
      network: "localhost",
      chainId: 31337,
      startBlock: 0,
      contracts: {
        clearingHouse: "",
        liquidationLogic: "",
        insuranceFund: "",
        lens: "",
        oracleAdapter: "",
        collateralToken: "",
      },
      markets: markets.map((symbol, id) => ({ id, symbol, feed: "", lossPolicy: "socialized" })),
    });
    const deployed = file(["ETH-USD", "BTC-USD", "SOL-USD", "AVAX-USD"]);

    it("takes a key out of the shared pool for each market, by symbol or id, from the flag or the environment", function () {
      const config = parse([...BASE, "--isolated-signer", "SOL-USD=3", "--isolated-signer", "3=1"], ENV_3);
      expect(config.isolatedSigners).to.deep.equal([
        { market: "SOL-USD", key: 3 },
        { market: "3", key: 1 },
      ]);
      expect(assignKeys(config, deployed, 3)).to.deep.equal({
        shared: [1],
        isolated: new Map([
          [2, 2],
          [3, 0],
        ]),
      });
      const fromEnv = parse(BASE, { ...ENV_3, BACKSTOP_ISOLATED_SIGNERS: "SOL-USD=2, AVAX-USD=3" });
      expect(fromEnv.isolatedSigners).to.deep.equal([
        { market: "SOL-USD", key: 2 },
        { market: "AVAX-USD", key: 3 },
      ]);
      expect(assignKeys(fromEnv, deployed, 3).shared).to.deep.equal([0]);
      // --signers 1 keeps key 1 for the shared pool; a dedicated key may lie beyond it.
      expect(
        assignKeys(parse([...BASE, "--signers", "1", "--isolated-signer", "SOL-USD=3"], ENV_3), deployed, 3),
      ).to.deep.equal({
        shared: [0],
        isolated: new Map([[2, 2]]),
      });
      expect(parse(BASE).isolatedSigners).to.deep.equal([]);
    });

    it("refuses a malformed value, a key not given, one key for two markets, two keys for one market, no shared key, an unknown market", function () {
      const flag = (value: string): string[] => [...BASE, "--isolated-signer", value];
      rejects(
        flag("SOL-USD"),
        ENV_3,
        /^--isolated-signer must be <market>=<key number>, e\.g\. SOL-USD=2; got 'SOL-USD'$/,
      );
      rejects(flag("SOL-USD=x"), ENV_3, /^--isolated-signer must be <market>=<key number>/);
      rejects(
        flag("SOL-USD=4"),
        ENV_3,
        /^--isolated-signer SOL-USD=4: there is no key 4 \(3 keys given, counted from 1\)$/,
      );
      rejects(flag("SOL-USD=0"), ENV_3, /^--isolated-signer SOL-USD=0: there is no key 0/);
      rejects(
        [...flag("SOL-USD=3"), "--isolated-signer", "AVAX-USD=3"],
        ENV_3,
        /^--isolated-signer: key 3 is given to SOL-USD and AVAX-USD: each isolated market needs a signer of its own$/,
      );
      rejects(
        [...flag("SOL-USD=3"), "--isolated-signer", "SOL-USD=2"],
        ENV_3,
        /^--isolated-signer: SOL-USD is given two keys \(3 and 2\): one per market$/,
      );
      rejects(
        [...flag("SOL-USD=1"), "--isolated-signer", "AVAX-USD=2"],
        ENV,
        /^--isolated-signer: every key is dedicated to an isolated market: give one more key for the shared markets$/,
      );
      rejects(
        [...flag("SOL-USD=1"), "--signers", "1"],
        ENV_3,
        /^--isolated-signer: every key of the first 1 \(--signers\) is dedicated to an isolated market/,
      );
      rejects(
        BASE,
        { ...ENV_3, BACKSTOP_ISOLATED_SIGNERS: "SOL-USD" },
        /^BACKSTOP_ISOLATED_SIGNERS must be <market>=<key number>/,
      );
      const config = parse(flag("DOGE-USD=3"), ENV_3);
      expect(() => assignKeys(config, deployed, 3)).to.throw(
        ConfigError,
        "--isolated-signer: unknown market 'DOGE-USD' (the deployment has ETH-USD, BTC-USD, SOL-USD, AVAX-USD; or give a market id)",
      );
    });
  });

  describe("invalid configurations", function () {
    it("missing RPC URL", function () {
      rejects(["--deployment", deployment], ENV, /^missing RPC URL: give --rpc <url> or set BACKSTOP_RPC_URL$/);
    });

    it("malformed RPC URL or a non-HTTP scheme", function () {
      rejects(["--rpc", "localhost:8545:x", "--deployment", deployment], ENV, /--rpc/);
      rejects(["--rpc", "not a url", "--deployment", deployment], ENV, /--rpc is not a valid URL/);
      rejects(["--rpc", "ws://127.0.0.1:8545", "--deployment", deployment], ENV, /--rpc must be an http\(s\) URL/);
    });

    it("missing or unknown deployment file", function () {
      rejects(["--rpc", "http://127.0.0.1:8545"], ENV, /^missing deployment file/);
      const missing = join(dir, "nope.json");
      rejects(
        ["--rpc", "http://127.0.0.1:8545", "--deployment", missing],
        ENV,
        /^deployment file not found: .*nope\.json$/,
      );
      rejects(["--rpc", "http://127.0.0.1:8545", "--deployment", dir], ENV, /^deployment file not found/);
    });

    it("no key at all", function () {
      rejects(BASE, {}, /^no signing key: set BACKSTOP_PRIVATE_KEYS or give --keystore <file>$/);
    });

    it("malformed keys, named by position and never echoed", function () {
      const short = "0x1234";
      const error = rejects(BASE, { KEEPER_PRIVATE_KEYS: `${KEY_1},${short}` }, /key 2 is not a 32-byte hex string/);
      expect(error.message).not.to.include(short);
      rejects(BASE, { KEEPER_PRIVATE_KEYS: `0x${"zz".repeat(32)}` }, /key 1 is not a 32-byte hex string/);
      rejects(BASE, { KEEPER_PRIVATE_KEYS: `${KEY_1}00` }, /key 1 is not a 32-byte hex string/);
      rejects(BASE, { KEEPER_PRIVATE_KEYS: `0x${"00".repeat(32)}` }, /key 1 is not a valid secp256k1 private key/);
      rejects(BASE, { KEEPER_PRIVATE_KEYS: `${KEY_1},${KEY_1}` }, /the same key is given twice/);
      rejects([...BASE, "--private-key", KEY_1], {}, /--private-key is not accepted/);
      rejects([...BASE, "--mnemonic=test"], {}, /^--mnemonic is not accepted: keys come from BACKSTOP_PRIVATE_KEYS/);
    });

    it("keystore problems", function () {
      rejects(
        [...BASE, "--keystore", join(dir, "none.json")],
        { KEEPER_KEYSTORE_PASSWORD: "pw" },
        /keystore file not found/,
      );
      rejects([...BASE, "--keystore", deployment], { KEEPER_KEYSTORE_PASSWORD: "pw" }, /not an encrypted JSON wallet/);
      rejects([...BASE, "--keystore", keystore], {}, /needs the password in BACKSTOP_KEYSTORE_PASSWORD/);
      rejects([...BASE, "--keystore", keystore], { ...ENV, KEEPER_KEYSTORE_PASSWORD: "pw" }, /not both/);
    });

    it("non-integers and out-of-range numbers", function () {
      rejects([...BASE, "--poll-ms", "1.5"], ENV, /^--poll-ms must be a whole number, got '1\.5'$/);
      rejects([...BASE, "--start-block", "-3"], ENV, /--start-block must be a whole number/);
      rejects([...BASE, "--batch-size", "abc"], ENV, /--batch-size must be a whole number/);
      rejects([...BASE, "--batch-size", "0"], ENV, /--batch-size must be between 1 and 5000/);
      rejects([...BASE, "--fee-bump-percent", "5"], ENV, /--fee-bump-percent must be between 10 and 1000/);
      rejects([...BASE, "--metrics-port", "70000"], ENV, /--metrics-port must be between 0 and 65535/);
      rejects([...BASE, "--log-chunk", "0"], ENV, /--log-chunk must be at least 1/);
      rejects([...BASE, "--max-in-flight", "0"], ENV, /--max-in-flight must be between 1 and 1024/);
      rejects([...BASE, "--signers", "3"], ENV, /--signers 3 asks for more keys than the 2 given/);
      rejects([...BASE, "--max-fee-gwei", "ten"], ENV, /--max-fee-gwei must be a number of gwei/);
      rejects([...BASE, "--max-fee-gwei", "1", "--max-priority-fee-gwei", "2"], ENV, /above --max-fee-gwei/);
    });

    it("unknown, repeated, valueless and misplaced options", function () {
      rejects([...BASE, "--frobnicate"], ENV, /^unknown option --frobnicate$/);
      rejects([...BASE, "stray"], ENV, /^unexpected argument 'stray'$/);
      rejects([...BASE, "--poll-ms"], ENV, /^--poll-ms needs a value$/);
      rejects([...BASE, "--poll-ms", "--once"], ENV, /^--poll-ms needs a value$/);
      rejects([...BASE, "--rpc", "http://x:1"], ENV, /^--rpc given more than once$/);
      rejects([...BASE, "--dry-run=yes"], ENV, /^--dry-run takes no value$/);
      rejects([...BASE, "--log-level", "loud"], ENV, /--log-level must be one of/);
    });
  });
});
