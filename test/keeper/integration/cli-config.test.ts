import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo, Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { DEV_KEYS } from "../../../devnet/keys.js";
import { PROJECT_ROOT, childEnv } from "../../../devnet/node.js";

/** keeper/README.md: a configuration problem exits with status 2. */
const EXIT_CONFIG = 2;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the keeper CLI as an operator would (`tsx keeper/src/cli.ts`), with only the given variables of its own. */
function runCli(args: readonly string[], env: Record<string, string>): Promise<Run> {
  const base = childEnv();
  for (const key of Object.keys(base)) if (key.startsWith("KEEPER_") || key.startsWith("BACKSTOP_")) delete base[key];
  const child = spawn(process.execPath, ["--import", "tsx", "keeper/src/cli.ts", ...args], {
    cwd: PROJECT_ROOT,
    env: { ...base, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Bad configuration through the CLI: one line on stderr naming the problem, nothing on stdout, exit status 2,
 * and no connection to the RPC endpoint (a listening socket that counts who connects stands in for the node).
 */
describe("keeper integration: CLI configuration errors", function () {
  this.timeout(60_000);

  let rpc: Server;
  let rpcUrl: string;
  let connections = 0;
  let deployment: string;

  before(async function () {
    rpc = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => rpc.listen(0, "127.0.0.1", resolve));
    rpcUrl = `http://127.0.0.1:${(rpc.address() as AddressInfo).port}`;
    // Validation stops before the file is read when another problem comes first; it only has to exist.
    deployment = path.join(PROJECT_ROOT, "package.json");
  });

  after(async function () {
    await new Promise<void>((resolve) => rpc?.close(() => resolve()));
  });

  const cases: { name: string; args: () => string[]; env: () => Record<string, string>; line: () => string }[] = [
    {
      name: "a missing RPC URL",
      args: () => ["--deployment", deployment],
      env: () => ({ KEEPER_PRIVATE_KEYS: DEV_KEYS[1] }),
      line: () => "keeper: missing RPC URL: give --rpc <url> or set BACKSTOP_RPC_URL",
    },
    {
      name: "a malformed key",
      args: () => ["--rpc", rpcUrl, "--deployment", deployment],
      // The second key is one hex digit short.
      env: () => ({ KEEPER_PRIVATE_KEYS: `${DEV_KEYS[1]},${DEV_KEYS[2].slice(0, -1)}` }),
      line: () => "keeper: KEEPER_PRIVATE_KEYS: key 2 is not a 32-byte hex string",
    },
    {
      name: "an unknown deployment file",
      args: () => ["--rpc", rpcUrl, "--deployment", path.join(tmpdir(), "no-such-dir", "localhost.json")],
      env: () => ({ KEEPER_PRIVATE_KEYS: DEV_KEYS[1] }),
      line: () => `keeper: deployment file not found: ${path.join(tmpdir(), "no-such-dir", "localhost.json")}`,
    },
  ];

  it("rejects each problem with one line naming it, exit status 2, nothing on stdout, no connection", async function () {
    const runs = await Promise.all(cases.map((c) => runCli(c.args(), c.env())));
    runs.forEach((run, i) => {
      const { name, line } = cases[i];
      expect(run.stderr, name).to.equal(`${line()}\n`);
      expect(run.stdout, name).to.equal("");
      expect(run.code, name).to.equal(EXIT_CONFIG);
      // The keys never reach the output, not even the malformed one.
      for (const key of DEV_KEYS.slice(1, 3)) expect(run.stderr, name).to.not.include(key.slice(2, 20));
    });
    expect(connections).to.equal(0);
  });

  it("names a deployment file that is not a deployment, before connecting", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "keeper-cli-"));
    const run = await runCli(["--rpc", rpcUrl, "--deployment", deployment, "--checkpoint", path.join(dir, "c.json")], {
      KEEPER_PRIVATE_KEYS: DEV_KEYS[1],
    });
    expect(run.stdout).to.equal("");
    expect(run.code).to.equal(EXIT_CONFIG);
    expect(run.stderr.split("\n")).to.have.length(2); // one line and its newline
    expect(run.stderr).to.match(/^keeper: .*package\.json/);
    expect(connections).to.equal(0);
  });
});
