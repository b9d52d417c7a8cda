import { expect } from "chai";

import { readHealth, readWaterfall } from "../../../devnet/chain.js";
import { USD } from "../../../devnet/constants.js";
import { deploySystemOverRpc } from "../../../devnet/deploy.js";
import type { DeployedSystem } from "../../../devnet/deploy.js";
import { actionCount, createTestKeeper, notCleared, runUntilQuiet } from "../../../devnet/keeper.js";
import type { TestKeeper } from "../../../devnet/keeper.js";
import { devWallet } from "../../../devnet/keys.js";
import { startHardhatNode } from "../../../devnet/node.js";
import type { HardhatNode } from "../../../devnet/node.js";
import { DEFAULT_GAP } from "../../../devnet/scenario/plan.js";
import { buildCrash, fundKeepers, priceGap, takeSnapshot } from "../../../devnet/scenario/crash.js";

const MIN_SHORTFALL_BPS = 1;

/**
 * A reorganisation under the keeper: it indexes one branch (a set of traders that opened positions), the node
 * reverts to the fork point and builds another branch (other traders, a price gap) past the old head. The keeper
 * must notice that the blocks it read are gone, read the new branch again and liquidate on it, and never act on
 * the accounts of the undone branch.
 */
describe("keeper integration: chain reorganisation", function () {
  this.timeout(120_000);

  let node: HardhatNode;
  let system: DeployedSystem;
  let keeper: TestKeeper;

  before(async function () {
    node = await startHardhatNode();
    system = await deploySystemOverRpc(node.url, devWallet(0));
    await fundKeepers(system, [devWallet(1).address], 1_000_000n * USD);
  });

  after(async function () {
    await keeper?.close();
    system?.provider.destroy();
    await node?.stop();
  });

  it("reads the new branch again from the fork point and liquidates on it, ignoring the undone one", async function () {
    keeper = createTestKeeper({ url: node.url, deployment: system.path, devKeys: [1] });
    const start = await keeper.cycle();
    expect(start.accounts).to.equal(1); // the funded keeper

    const fork = await system.provider.getBlockNumber();
    const snapshot = await takeSnapshot(system);
    const undone = await buildCrash(system, { accounts: 12, seed: "reorg-undone" });
    const onUndone = await keeper.cycle();
    expect(onUndone.accounts).to.equal(1 + undone.accounts.length);
    expect(onUndone.reorg).to.equal(undefined);
    const undoneHead = onUndone.block;
    expect(undoneHead).to.be.greaterThan(fork);

    // The other branch: different traders, more blocks than the undone one, then a gap.
    await snapshot.restore();
    const kept = await buildCrash(system, { accounts: 12, seed: "reorg-kept", classCycle: ["liquidatable"] });
    while ((await system.provider.getBlockNumber()) <= undoneHead) await node.rpc("evm_mine");
    const gap = await priceGap(system, DEFAULT_GAP);
    expect(kept.accounts.filter((a) => undone.accounts.includes(a))).to.deep.equal([]);
    const liquidatable = (await readHealth(system, kept.accounts)).filter((r) => r.liquidatable);
    expect(liquidatable.length).to.be.greaterThan(0);

    const afterReorg = await keeper.cycle();
    // Everything after the fork point was read again: the blocks the keeper had seen up to the undone head.
    expect(afterReorg.reorg).to.deep.equal({ fromBlock: fork + 1, toBlock: undoneHead });
    await runUntilQuiet(keeper);

    expect(notCleared(await readHealth(system, kept.accounts), MIN_SHORTFALL_BPS)).to.deep.equal([]);
    const logs = await readWaterfall(system, gap.blockNumber);
    for (const row of liquidatable) {
      expect(
        logs.liquidated.some((l) => l.account === row.account),
        row.account,
      ).to.equal(true);
    }
    const touched = new Set([...logs.liquidated.map((l) => l.account), ...logs.badDebtResolved.map((r) => r.account)]);
    expect(undone.accounts.filter((a) => touched.has(a))).to.deep.equal([]);
    expect(await actionCount(keeper, "failed")).to.equal(0);
  });
});
