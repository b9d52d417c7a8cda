import { expect } from "chai";

import { USD } from "../../../devnet/constants.js";
import { deploySystemOverRpc } from "../../../devnet/deploy.js";
import type { DeployedSystem } from "../../../devnet/deploy.js";
import { createTestKeeper, rpcCalls } from "../../../devnet/keeper.js";
import { devWallet } from "../../../devnet/keys.js";
import { startHardhatNode } from "../../../devnet/node.js";
import type { HardhatNode } from "../../../devnet/node.js";
import { buildCrash, fundKeepers } from "../../../devnet/scenario/crash.js";

const ACCOUNTS = 150;
/** Empty blocks between the set-up and the keeper's start: more than the old --log-chunk default of 2,000. */
const HISTORY_BLOCKS = 6_000;
const BATCH = 200;

/**
 * The RPC calls of a keeper's cold start and of quiet blocks, counted by method through the keeper's own
 * counting provider (rpc_calls_total), on a chain whose history spans thousands of blocks.
 */
describe("keeper integration: RPC calls of a cold start and of quiet blocks (issue 15)", function () {
  this.timeout(180_000);

  let node: HardhatNode;
  let system: DeployedSystem;

  before(async function () {
    node = await startHardhatNode();
    system = await deploySystemOverRpc(node.url, devWallet(0));
    await buildCrash(system, { accounts: ACCOUNTS, seed: "keeper-cold-start", classCycle: ["liquidatable"] });
    await fundKeepers(system, [devWallet(1).address], 1_000_000n * USD);
    await node.rpc("hardhat_mine", [`0x${HISTORY_BLOCKS.toString(16)}`]);
  });

  after(async function () {
    system?.provider.destroy();
    await node?.stop();
  });

  it("loads every account in one eth_getLogs and one lens call per batch, then a quiet block costs two calls", async function () {
    const k = createTestKeeper({
      url: node.url,
      deployment: system.path,
      args: ["--batch-size", String(BATCH), "--reread-buffer-bps", "0"],
    });
    try {
      const report = await k.cycle();
      const accounts = report.accounts;
      expect(accounts).to.be.at.least(ACCOUNTS);
      expect(report.read).to.equal(accounts);
      const cold = await rpcCalls(k.metrics);
      const batches = Math.ceil(accounts / BATCH);
      // The whole history in one eth_getLogs; eth_call: the market count, both markets' parameters and isolated
      // pools (none: both are shared), the deleverage timeout, the oracle prices, and the health batches.
      expect(cold.byMethod).to.deep.equal({
        eth_chainId: 1,
        eth_blockNumber: 1,
        eth_getCode: 6, // every address of the deployment file holds code
        eth_getBlockByNumber: 1,
        eth_getLogs: 1,
        eth_call: 7 + batches,
      });
      expect(cold.total).to.be.at.most(30);

      // Quiet blocks: the head (its bloom rules out the clearing house's logs) and the prices; nothing else.
      const blocks = 10;
      for (let i = 0; i < blocks; ++i) {
        await node.rpc("evm_mine");
        expect((await k.cycle()).jobs).to.equal(0);
      }
      const idle = await rpcCalls(k.metrics);
      const spent = Object.fromEntries(
        Object.entries(idle.byMethod)
          .map(([m, n]) => [m, n - (cold.byMethod[m] ?? 0)])
          .filter(([, n]) => n !== 0),
      ) as Record<string, number>;
      expect(spent).to.deep.equal({ eth_getBlockByNumber: blocks, eth_call: blocks });
    } finally {
      await k.close();
    }
  });
});
