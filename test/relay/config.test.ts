import { spawnSync } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { InputError } from "#sdk";
import { childEnv, PROJECT_ROOT } from "../../devnet/node.js";
import { USAGE, parseRelayConfig } from "../../relay/config.js";

const dir = mkdtempSync(path.join(tmpdir(), "relay-config-"));
const deployment = path.join(dir, "localhost.json");
writeFileSync(deployment, "{}");
const BASE = ["--rpc", "http://127.0.0.1:8545", "--deployment", deployment];

function refusal(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseRelayConfig(argv, env);
  } catch (error) {
    expect(error).to.be.instanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("not refused");
}

describe("relay configuration", function () {
  it("has defaults for everything but the RPC URL and the deployment file", function () {
    const config = parseRelayConfig(BASE, {});
    expect(config).to.deep.equal({
      rpcUrl: "http://127.0.0.1:8545",
      deploymentPath: deployment,
      dbPath: ".relay/orders.sqlite",
      host: "127.0.0.1",
      port: 8600,
      pollMs: 1000,
      logChunk: 2000,
      maxBodyBytes: 4096,
      postLimit: 60,
      readLimit: 600,
      rateWindowMs: 60_000,
      maxOrdersPerMaker: 100,
      bookDepth: 200,
      staleAfterS: 30,
      logLevel: "info",
    });
  });

  it("takes flags before BACKSTOP_* variables, and the variables when flags are absent", function () {
    const env = { BACKSTOP_RPC_URL: "http://node:1", BACKSTOP_DEPLOYMENT: deployment, BACKSTOP_RELAY_PORT: "9000" };
    expect(parseRelayConfig([], env)).to.include({ rpcUrl: "http://node:1", port: 9000 });
    expect(parseRelayConfig(["--port", "9001", "--db", ":memory:"], env)).to.include({
      port: 9001,
      dbPath: ":memory:",
    });
  });

  it("refuses bad values with one line naming the flag", function () {
    expect(refusal([])).to.equal("missing RPC URL: give --rpc <url> or set BACKSTOP_RPC_URL");
    expect(refusal(["--rpc", "ws://x"])).to.equal("--rpc must be an http(s) URL, got 'ws:'");
    expect(refusal(["--rpc", "http://x", "--deployment", path.join(dir, "none.json")])).to.include(
      "deployment file not found",
    );
    expect(refusal([...BASE, "--port", "70000"])).to.equal("--port must be between 0 and 65535, got 70000");
    expect(refusal([...BASE, "--max-body-bytes", "10"])).to.equal(
      "--max-body-bytes must be between 512 and 1048576, got 10",
    );
    expect(refusal([...BASE, "--post-limit", "0"])).to.equal("--post-limit must be at least 1, got 0");
    expect(refusal([...BASE, "--log-level", "loud"])).to.include("--log-level must be one of");
    expect(refusal([...BASE, "--bogus"])).to.equal("unknown option --bogus");
    expect(refusal([...BASE, "--private-key", "0x12"])).to.equal(
      "--private-key is not accepted: the relay signs nothing and needs no key",
    );
  });

  it("answers --help whatever else is given, with every flag in the usage", function () {
    expect(parseRelayConfig(["--help"], {})).to.equal("help");
    expect(parseRelayConfig(["-h", "--port", "x"], {})).to.equal("help");
    for (const flag of ["--rpc", "--deployment", "--db", "--port", "--max-body-bytes", "--post-limit"]) {
      expect(USAGE).to.include(flag);
    }
  });

  it("npm run relay -- --help prints the usage and exits 0; a bad flag exits 2 with one line", function () {
    this.timeout(60_000);
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const help = spawnSync(npm, ["run", "--silent", "relay", "--", "--help"], {
      cwd: PROJECT_ROOT,
      env: childEnv(),
      encoding: "utf8",
    });
    expect(help.status, help.stderr).to.equal(0);
    expect(help.stdout).to.include("usage: npm run relay -- --rpc <url> --deployment <file> [options]");
    const bad = spawnSync(npm, ["run", "--silent", "relay", "--", ...BASE, "--port", "x"], {
      cwd: PROJECT_ROOT,
      env: childEnv(),
      encoding: "utf8",
    });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.equal("relay: --port must be a whole number, got 'x'\n(see npm run relay -- --help)\n");
  });
});
