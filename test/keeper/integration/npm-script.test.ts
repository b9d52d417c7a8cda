import { spawn } from "node:child_process";
import { createServer } from "node:net";

import { expect } from "chai";

import { deploySystemOverRpc } from "../../../devnet/deploy.js";
import type { DeployedSystem } from "../../../devnet/deploy.js";
import { DEV_KEYS, devWallet } from "../../../devnet/keys.js";
import { PROJECT_ROOT, childEnv, freePort, startHardhatNode } from "../../../devnet/node.js";
import type { HardhatNode } from "../../../devnet/node.js";

/** Whether something still listens on 127.0.0.1:port: binding it fails with EADDRINUSE. */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) =>
      error.code === "EADDRINUSE" ? resolve(true) : reject(error),
    );
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}

async function healthCode(port: number): Promise<number | undefined> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return undefined;
  }
}

/**
 * `npm run keeper` as a process manager runs it: the PID it holds is npm's, and SIGTERM goes to that PID only
 * (not to a process group). The keeper must stop, log it, free its /health port and leave no process behind.
 */
describe("keeper integration: `npm run keeper` stopped by its PID", function () {
  this.timeout(120_000);

  let node: HardhatNode;
  let system: DeployedSystem;

  before(async function () {
    node = await startHardhatNode();
    system = await deploySystemOverRpc(node.url, devWallet(0));
  });

  after(async function () {
    system?.provider.destroy();
    await node?.stop();
  });

  it("SIGTERM to the script's PID stops the keeper and frees its port", async function () {
    const port = await freePort();
    const args = ["--rpc", node.url, "--deployment", system.path, "--metrics-port", String(port)];
    const child = spawn("npm", ["run", "--silent", "keeper", "--", ...args, "--block-stale-after-s", "0"], {
      cwd: PROJECT_ROOT,
      env: { ...childEnv(), KEEPER_PRIVATE_KEYS: DEV_KEYS[1] },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const closed = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while ((await healthCode(port)) !== 200) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`keeper did not serve /health:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(child.kill("SIGTERM")).to.equal(true);
      const code = await Promise.race([
        closed,
        new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 15_000)),
      ]);
      expect(code, output).to.equal(0);
      expect(output).to.match(/"signal":"SIGTERM","msg":"stopping"/);
      expect(output).to.match(/"msg":"stopped"/);
      expect(await portTaken(port)).to.equal(false);
    } finally {
      // Only if the test failed: whatever is left of the script's processes.
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
