import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";

import { expect } from "chai";

import { listening, startHealthServer, type HealthStatus } from "#keeper";
import { USD } from "../../../devnet/constants.js";
import { deploySystemOverRpc, type DeployedSystem } from "../../../devnet/deploy.js";
import { createTestKeeper, waitFor, type TestKeeper } from "../../../devnet/keeper.js";
import { devWallet } from "../../../devnet/keys.js";
import { PROJECT_ROOT, childEnv, startHardhatNode, type HardhatNode } from "../../../devnet/node.js";
import { fundKeepers } from "../../../devnet/scenario/crash.js";

/** What a restarted node tells about the deployment: no history before its start block (and no code). */
const GONE = /the chain does not hold the deployment: the node's head block 0 is before the deployment's start block/;

/**
 * A `hardhat node` restarted under a running keeper and a CLI user: reverting to a snapshot taken before the
 * deployment gives the same chain a restart gives (block 0, no contracts) on the same URL. The keeper must
 * report it through /health (503, the reason in lastError) instead of "recovering" onto an empty chain, and
 * come back once the deployment is there again; the CLI must say it in one line.
 */
describe("keeper integration: the chain no longer holds the deployment", function () {
  this.timeout(120_000);

  let node: HardhatNode;
  let system: DeployedSystem;
  let keeper: TestKeeper;
  let server: Server;
  let genesis: string;

  before(async function () {
    node = await startHardhatNode();
    genesis = await node.rpc<string>("evm_snapshot");
    system = await deploySystemOverRpc(node.url, devWallet(0));
    await fundKeepers(system, [devWallet(1).address], 1_000n * USD);
  });

  after(async function () {
    await keeper?.close();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    system?.provider.destroy();
    await node?.stop();
  });

  async function health(): Promise<{ code: number; status: HealthStatus }> {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    return { code: response.status, status: (await response.json()) as HealthStatus };
  }
  const healthIs = (code: number) => async () => {
    const h = await health();
    return h.code === code ? h : undefined;
  };

  function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
        cwd: PROJECT_ROOT,
        env: { ...childEnv(), BACKSTOP_RPC_URL: node.url },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  it("/health fails with the reason while the deployment is gone, the CLI says so in one line", async function () {
    keeper = createTestKeeper({
      url: node.url,
      deployment: system.path,
      args: ["--poll-ms", "100", "--block-stale-after-s", "0"],
    });
    server = startHealthServer(keeper.keeper, keeper.metrics, { host: "127.0.0.1", port: 0 });
    await listening(server);
    const loop = keeper.keeper.start();
    const up = await waitFor("/health 200", healthIs(200));
    expect(up.status.lastBlock).to.be.at.least(system.deployment.startBlock);
    const market = ["market", "status", "ETH-USD", "--deployment", system.path];
    expect((await cli(market)).code).to.equal(0);

    // The "restart".
    await node.rpc("evm_revert", [genesis]);
    const down = await waitFor("/health 503", healthIs(503), 10_000);
    expect(down.status.ok).to.equal(false);
    expect(down.status.running).to.equal(true);
    expect(down.status.lastError).to.match(GONE);
    // It stays down: nothing re-indexed onto the empty chain, no "recovered".
    await new Promise((resolve) => setTimeout(resolve, 500));
    const still = await health();
    expect(still.code).to.equal(503);
    expect(still.status.lastBlock).to.equal(up.status.lastBlock);

    const run = await cli(market);
    expect(run.code).to.equal(2);
    expect(run.stdout).to.equal("");
    expect(run.stderr).to.equal(
      `backstop: the node at ${node.url} does not hold the deployment of ${system.path}: the node's head block 0 ` +
        `is before the deployment's start block ${system.deployment.startBlock} (was the node restarted? deploy again)\n`,
    );

    // The same deployment again (same deployer, same nonces, same addresses): the keeper sees it and is healthy.
    system.provider.destroy();
    system = await deploySystemOverRpc(node.url, devWallet(0), { dir: system.path.replace(/\/[^/]+$/, "") });
    const back = await waitFor("/health 200 again", healthIs(200), 20_000);
    expect(back.status.lastError).to.equal(undefined);
    expect((await cli(market)).code).to.equal(0);
    await keeper.close();
    await loop;
  });
});
