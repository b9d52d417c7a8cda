import type { AddressInfo } from "node:net";
import type { Server } from "node:http";

import { expect } from "chai";

import { listening, startHealthServer, type HealthStatus } from "#keeper";
import { readHealth, readWaterfall } from "../../../devnet/chain.js";
import { USD } from "../../../devnet/constants.js";
import { deploySystemOverRpc } from "../../../devnet/deploy.js";
import type { DeployedSystem } from "../../../devnet/deploy.js";
import { actionCount, createTestKeeper, waitFor } from "../../../devnet/keeper.js";
import type { TestKeeper } from "../../../devnet/keeper.js";
import { devWallet } from "../../../devnet/keys.js";
import { startHardhatNode } from "../../../devnet/node.js";
import type { HardhatNode } from "../../../devnet/node.js";
import { DEFAULT_GAP } from "../../../devnet/scenario/plan.js";
import { startTcpProxy } from "../../../devnet/proxy.js";
import type { TcpProxy } from "../../../devnet/proxy.js";
import { buildCrash, fundKeepers, priceGap } from "../../../devnet/scenario/crash.js";
import type { Crash } from "../../../devnet/scenario/crash.js";

/** Seconds after which a loop without a successful cycle makes /health fail (the smallest allowed). */
const STALE_AFTER_S = 1;

/**
 * The keeper reaches the node through a TCP proxy that the test closes and opens again: /health turns 503 while
 * the node is away and 200 when it is back, with the same keeper loop running throughout, which then handles
 * the liquidations a price gap made while it could not see the chain.
 */
describe("keeper integration: node going away and coming back", function () {
  this.timeout(120_000);

  let node: HardhatNode;
  let system: DeployedSystem;
  let crash: Crash;
  let proxy: TcpProxy;
  let keeper: TestKeeper;
  let server: Server;

  before(async function () {
    node = await startHardhatNode();
    system = await deploySystemOverRpc(node.url, devWallet(0));
    crash = await buildCrash(system, { accounts: 12, seed: "keeper-outage", classCycle: ["liquidatable"] });
    await fundKeepers(system, [devWallet(1).address], 1_000_000n * USD);
    proxy = await startTcpProxy(node.url);
  });

  after(async function () {
    await keeper?.close();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    await proxy?.close();
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

  it("answers 503 while the node is away, 200 once it is back, and then liquidates", async function () {
    keeper = createTestKeeper({
      url: proxy.url,
      deployment: system.path,
      devKeys: [1],
      // Blocks only come when something happens on this node: judge health by the loop alone.
      args: ["--poll-ms", "100", "--stale-after-s", String(STALE_AFTER_S), "--block-stale-after-s", "0"],
    });
    server = startHealthServer(keeper.keeper, keeper.metrics, { host: "127.0.0.1", port: 0 });
    await listening(server);
    const loop = keeper.keeper.start();

    const up = await waitFor("/health 200", healthIs(200));
    expect(up.status.ok).to.equal(true);
    expect(up.status.running).to.equal(true);
    expect(up.status.accounts).to.equal(crash.accounts.length + 1); // the traders and the funded keeper
    expect(up.status.liquidatable).to.equal(0);

    await proxy.close();
    const down = await waitFor("/health 503", healthIs(503), 10_000);
    expect(down.status.ok).to.equal(false);
    expect(down.status.running).to.equal(true);
    expect(down.status.loopAgeS).to.be.greaterThan(STALE_AFTER_S);
    expect(down.status.lastError).to.be.a("string").and.not.equal("");

    // While the keeper cannot see it, the chain moves on: the gap makes accounts liquidatable.
    const gap = await priceGap(system, DEFAULT_GAP);
    const liquidatable = (await readHealth(system, crash.accounts)).filter((r) => r.liquidatable);
    expect(liquidatable.length).to.be.greaterThan(0);
    expect((await health()).code).to.equal(503);

    await proxy.open();
    const back = await waitFor("/health 200 again", healthIs(200), 10_000);
    expect(back.status.ok).to.equal(true);
    expect(back.status.lastError).to.equal(undefined);
    expect(back.status.head).to.be.at.least(gap.blockNumber);

    // The same loop, never restarted, liquidates every account the gap made liquidatable.
    await waitFor("the liquidations", async () => {
      const logs = await readWaterfall(system, gap.blockNumber);
      const done = liquidatable.every((r) => logs.liquidated.some((l) => l.account === r.account));
      return done ? true : undefined;
    });
    const logs = await readWaterfall(system, gap.blockNumber);
    expect(logs.liquidated.every((l) => l.liquidator === keeper.addresses[0])).to.equal(true);
    expect(await actionCount(keeper, "failed")).to.equal(0);
    expect((await health()).code).to.equal(200);
    await keeper.close();
    await loop;
  });
});
