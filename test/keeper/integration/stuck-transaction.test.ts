import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { readCheckpoint, type PendingTx } from "#keeper";
import { readWaterfall } from "../../../devnet/chain.js";
import { USD } from "../../../devnet/constants.js";
import { deploySystemOverRpc } from "../../../devnet/deploy.js";
import type { DeployedSystem } from "../../../devnet/deploy.js";
import { actionCount, createTestKeeper, waitFor } from "../../../devnet/keeper.js";
import { devWallet } from "../../../devnet/keys.js";
import { startHardhatNode } from "../../../devnet/node.js";
import type { HardhatNode } from "../../../devnet/node.js";
import { DEFAULT_GAP } from "../../../devnet/scenario/plan.js";
import { buildCrash, fundKeepers, priceGap } from "../../../devnet/scenario/crash.js";

const FEE_BUMP_BLOCKS = 2;
const FEE_BUMP_PERCENT = 20n;

/**
 * With automine off and every block's base fee pinned just above the keeper's first fee cap, its first
 * transaction cannot be mined; after --fee-bump-blocks blocks the keeper must replace it (same nonce, both fees
 * raised by --fee-bump-percent), and only the replacement is mined.
 */
describe("keeper integration: stuck transaction", function () {
  this.timeout(120_000);

  let node: HardhatNode;
  let system: DeployedSystem;

  before(async function () {
    node = await startHardhatNode();
    system = await deploySystemOverRpc(node.url, devWallet(0));
    await buildCrash(system, { accounts: 12, seed: "keeper-stuck", classCycle: ["liquidatable"] });
    await fundKeepers(system, [devWallet(1).address], 1_000_000n * USD);
    await priceGap(system, DEFAULT_GAP);
  });

  after(async function () {
    await node?.rpc("evm_setAutomine", [true]).catch(() => undefined);
    system?.provider.destroy();
    await node?.stop();
  });

  it("replaces a transaction priced under the base fee: same nonce, higher fees, the original never mined", async function () {
    const checkpoint = path.join(await mkdtemp(path.join(tmpdir(), "keeper-stuck-")), "checkpoint.json");
    const k = createTestKeeper({
      url: node.url,
      deployment: system.path,
      devKeys: [1],
      args: [
        "--checkpoint",
        checkpoint,
        "--poll-ms",
        "50",
        "--fee-bump-blocks",
        String(FEE_BUMP_BLOCKS),
        "--fee-bump-percent",
        String(FEE_BUMP_PERCENT),
        // One transaction at a time, so that the first is the one watched; several in flight, and which of them
        // is replaced, are test/keeper/executor.test.ts's.
        "--max-in-flight",
        "1",
      ],
    });
    const signer = k.addresses[0];
    const nonceBefore = await system.provider.getTransactionCount(signer);
    const gapBlock = await system.provider.getBlockNumber();
    await node.rpc("evm_setAutomine", [false]);
    try {
      let settled = false;
      const cycle = k.cycle().finally(() => (settled = true));

      // The first transaction, as the keeper recorded it before broadcasting.
      const original = await waitFor("the first broadcast", async () => {
        const saved = readCheckpoint(checkpoint);
        const pending: PendingTx[] = Object.values(saved?.pending ?? {});
        const tx = pending.length === 1 ? pending[0] : undefined;
        if (tx === undefined) return undefined;
        return (await system.provider.getTransaction(tx.hashes[0])) === null ? undefined : tx;
      });
      expect(original.nonce).to.equal(nonceBefore);
      const originalHash = original.hashes[0];
      const originalMaxFee = BigInt(original.maxFeePerGas);
      const originalPriority = BigInt(original.maxPriorityFeePerGas);
      // A base fee one wei above what the original may pay and below what a 20% bump offers.
      const baseFee = originalMaxFee + 1n;

      let blocks = 0;
      while (!settled) {
        expect(blocks, "blocks mined").to.be.below(40);
        await node.rpc("hardhat_setNextBlockBaseFeePerGas", [`0x${baseFee.toString(16)}`]);
        await node.rpc("evm_mine");
        blocks++;
        // Gives the keeper time to see the block (it polls every 50 ms) and bump or send.
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      const report = await cycle;

      const first = report.results.find((r) => r.action.id === original.id);
      expect(first?.outcome).to.equal("confirmed");
      const replacementHash = first?.txHash ?? "";
      expect(replacementHash).to.not.equal(originalHash);
      const replacement = await system.provider.getTransaction(replacementHash);
      expect(replacement?.from).to.equal(signer);
      expect(replacement?.nonce).to.equal(original.nonce);
      expect(replacement?.data).to.equal(original.data);
      // Both fees raised by 20%, rounded up: ⌈fee × 120 / 100⌉.
      expect(replacement?.maxFeePerGas).to.equal((originalMaxFee * (100n + FEE_BUMP_PERCENT) + 99n) / 100n);
      expect(replacement?.maxPriorityFeePerGas).to.equal((originalPriority * (100n + FEE_BUMP_PERCENT) + 99n) / 100n);
      const receipt = await system.provider.getTransactionReceipt(replacementHash);
      expect(receipt?.status).to.equal(1);
      // Not before the keeper's bump: the original waited FEE_BUMP_BLOCKS blocks unmined.
      expect(receipt?.blockNumber).to.be.greaterThan(original.sentBlock + FEE_BUMP_BLOCKS);
      expect(await system.provider.getTransactionReceipt(originalHash)).to.equal(null);
      expect(await system.provider.getTransaction(originalHash)).to.equal(null);

      // The replacement did the liquidation, and every liquidation is one mined transaction of the signer.
      const logs = await readWaterfall(system, gapBlock + 1);
      const liquidation = logs.liquidated.find((l) => l.account === original.account);
      expect(liquidation?.liquidator).to.equal(signer);
      const confirmed = await actionCount(k, "confirmed");
      expect(confirmed).to.equal(logs.liquidated.length);
      expect(await system.provider.getTransactionCount(signer)).to.equal(nonceBefore + confirmed);
      expect(await actionCount(k, "failed")).to.equal(0);
      expect(Object.keys(readCheckpoint(checkpoint)?.pending ?? {})).to.deep.equal([]);
    } finally {
      await node.rpc("evm_setAutomine", [true]);
      await k.close();
    }
  });
});
