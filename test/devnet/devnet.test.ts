import { readFile } from "node:fs/promises";
import { connect } from "node:net";

import { expect } from "chai";
import { isAddress } from "ethers";

import { readDeleverageCases, readFund, readHealth, readOpenCases, readPositions } from "../../devnet/chain.js";
import { BTC_MARKET, DELEVERAGE_TIMEOUT, ETH_MARKET, SCALE, USD } from "../../devnet/constants.js";
import { deploySystemOverRpc } from "../../devnet/deploy.js";
import type { Deployment } from "#sdk";
import type { DeployedSystem } from "../../devnet/deploy.js";
import { devWallet } from "../../devnet/keys.js";
import { jsonRpc, startHardhatNode } from "../../devnet/node.js";
import type { HardhatNode } from "../../devnet/node.js";
import { DEFAULT_GAP, modelHealth } from "../../devnet/scenario/plan.js";
import type { RiskClass } from "../../devnet/scenario/plan.js";
import { startTcpProxy } from "../../devnet/proxy.js";
import { advanceTime, buildCrash, fundKeepers, priceGap, takeSnapshot } from "../../devnet/scenario/crash.js";
import type { Crash } from "../../devnet/scenario/crash.js";

/** The support code of the keeper tests, on its own: node, proxy, deployment, crash. */
describe("keeper test support", function () {
  // A node start and a 60-account crash take a few seconds each on a loaded machine.
  this.timeout(120_000);

  let node: HardhatNode;
  let system: DeployedSystem;
  let crash: Crash;

  before(async function () {
    node = await startHardhatNode();
  });

  after(async function () {
    system?.provider.destroy();
    await node?.stop();
  });

  it("starts a node on a free loopback port that answers JSON-RPC", async function () {
    expect(node.url).to.equal(`http://127.0.0.1:${node.port}`);
    expect(await node.rpc<string>("eth_chainId")).to.equal("0x7a69");
    expect(await node.rpc<boolean>("hardhat_getAutomine")).to.equal(true);
  });

  it("deploys the system over JSON-RPC and writes a valid deployment file", async function () {
    system = await deploySystemOverRpc(node.url, devWallet(0));
    const file = JSON.parse(await readFile(system.path, "utf8")) as Deployment;
    expect(file).to.deep.equal(system.deployment);
    expect(file.network).to.equal("localhost");
    expect(file.chainId).to.equal(31337);
    expect(file.startBlock)
      .to.be.a("number")
      .and.to.be.within(1, await system.provider.getBlockNumber());
    for (const address of [...Object.values({ ...file.contracts }), ...file.markets.map((m) => m.feed)]) {
      expect(isAddress(address), address).to.equal(true);
      expect(await system.provider.getCode(address), address).to.not.equal("0x");
    }
    expect(file.markets.map((m) => [m.id, m.symbol, m.lossPolicy])).to.deep.equal([
      [0, "ETH-USD", "adl"],
      [1, "BTC-USD", "socialized"],
    ]);

    const { clearingHouse, lens, insuranceFund, collateralToken, oracleAdapter, defaultLayers } = system.contracts;
    // The local deployment has default layers: the clearing house draws on them, the fund is their second layer.
    expect(file.contracts.defaultLayers).to.equal(await defaultLayers?.getAddress());
    expect(await clearingHouse.insuranceFund()).to.equal(file.contracts.defaultLayers);
    expect(await defaultLayers?.stakers()).to.equal(file.contracts.insuranceFund);
    expect(await clearingHouse.collateralToken()).to.equal(file.contracts.collateralToken);
    expect(await clearingHouse.oracle()).to.equal(file.contracts.oracleAdapter);
    expect(await lens.clearingHouse()).to.equal(file.contracts.clearingHouse);
    expect(await insuranceFund.clearingHouse()).to.equal(file.contracts.defaultLayers);
    expect(await collateralToken.decimals()).to.equal(6n);
    expect(await clearingHouse.deleverageTimeout()).to.equal(DELEVERAGE_TIMEOUT);
    expect(await clearingHouse.marketCount()).to.equal(2n);
    const [eth, btc] = await Promise.all([
      clearingHouse.marketParams(ETH_MARKET),
      clearingHouse.marketParams(BTC_MARKET),
    ]);
    expect([eth.oracleFeed, eth.lossPolicy, eth.oracleHeartbeat]).to.deep.equal([file.markets[0].feed, 0n, 86_400n]);
    expect([btc.oracleFeed, btc.lossPolicy, btc.oracleHeartbeat]).to.deep.equal([file.markets[1].feed, 1n, 86_400n]);
    expect(await oracleAdapter.getPrice(file.markets[0].feed, 86_400n)).to.equal(2000n * 10n ** 18n);
    // Deployed from the first block it can hold events in: no ClearingHouse log before it.
    const logs = await system.provider.getLogs({
      address: file.contracts.clearingHouse,
      fromBlock: 0,
      toBlock: file.startBlock - 1,
    });
    expect(logs).to.have.length(0);
  });

  it("proxies the node, refuses and drops connections while closed, and comes back with the same chain", async function () {
    const proxy = await startTcpProxy(node.url);
    try {
      const head = await jsonRpc<string>(proxy.url, "eth_blockNumber");
      expect(head).to.equal(await node.rpc<string>("eth_blockNumber"));

      // A connection open through the proxy is reset when it closes.
      const socket = connect(proxy.port, "127.0.0.1");
      await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
      const dropped = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      socket.on("error", () => undefined);
      // fetch may keep its own connection alive through the proxy too.
      await waitFor(() => proxy.connections() >= 1);
      await proxy.close();
      await dropped;
      expect(proxy.isOpen()).to.equal(false);
      expect(proxy.connections()).to.equal(0);

      const refused = await jsonRpc(proxy.url, "eth_blockNumber", [], 2_000).then(
        () => "answered",
        (error: unknown) => (error instanceof Error ? String((error.cause as { code?: string })?.code) : "?"),
      );
      expect(refused).to.equal("ECONNREFUSED");

      await node.rpc("evm_mine");
      await proxy.open();
      await proxy.open(); // idempotent
      expect(BigInt(await jsonRpc<string>(proxy.url, "eth_blockNumber"))).to.equal(BigInt(head) + 1n);
    } finally {
      await proxy.close();
    }
  });

  it("builds a 60-account crash whose gap makes liquidatable and bankrupt accounts in both markets", async function () {
    crash = await buildCrash(system, { accounts: 60, seed: "support" });
    const { plan } = crash;
    expect(crash.accounts).to.have.length(60);
    expect(new Set(crash.accounts).size).to.equal(60);

    // Before the gap: every account as planned to the wei, none liquidatable, the fund staked.
    const before = await readHealth(system, crash.accounts);
    before.forEach((row, i) => {
      const model = modelHealth(crash.traders[i], plan.prices);
      expect(row.equity, `equity #${i}`).to.equal(model.equity);
      expect(row.maintenanceMargin, `maintenance #${i}`).to.equal(model.maintenanceMargin);
      expect(row.liquidatable, `#${i}`).to.equal(false);
    });
    const positions = await readPositions(system, crash.accounts);
    crash.traders.forEach((trader) => {
      const held = positions.get(trader.address) ?? [];
      expect(held.map((p) => [p.marketId, p.size])).to.deep.equal(
        trader.legs.map((leg) => [leg.marketId, leg.side === "long" ? leg.size : -leg.size]),
      );
    });
    const fund = await readFund(system);
    expect(fund.totalAssets).to.equal(plan.stakes[0] + plan.stakes[1]);
    expect(fund.openDeleverageCases).to.equal(0n);

    // After the gap: the designed classes, in both markets.
    const gap = await priceGap(system, DEFAULT_GAP);
    expect(gap.prices).to.deep.equal({ eth: 1700n * 10n ** 18n, btc: 69_000n * 10n ** 18n });
    const after = await readHealth(system, crash.accounts);
    const classOf = (row: { liquidatable: boolean; bankrupt: boolean }): RiskClass =>
      row.bankrupt ? "bankrupt" : row.liquidatable ? "liquidatable" : "safe";
    after.forEach((row, i) => {
      expect(classOf(row), `#${i} (${crash.traders[i].role}, ${crash.traders[i].leverage}x)`).to.equal(
        crash.traders[i].designed,
      );
      expect(row.equity).to.equal(modelHealth(crash.traders[i], gap.prices).equity);
    });
    for (const market of [ETH_MARKET, BTC_MARKET]) {
      const inMarket = after.filter((_, i) => crash.traders[i].legs.some((leg) => leg.marketId === market));
      const label = `market ${market}`;
      expect(
        inMarket.filter((r) => r.liquidatable && !r.bankrupt),
        label,
      ).to.have.length.greaterThan(1);
      expect(
        inMarket.filter((r) => r.bankrupt),
        label,
      ).to.have.length.greaterThan(1);
      expect(
        inMarket.filter((r) => !r.liquidatable),
        label,
      ).to.have.length.greaterThan(1);
    }
    // The bad debt the fund cannot cover alone, so that ADL and socialization are reached.
    const badDebt = after.filter((r) => r.bankrupt).reduce((sum, r) => sum - r.equity, 0n);
    expect(badDebt).to.be.greaterThan((fund.totalAssets * SCALE * 3n) / 2n);
    expect((await readOpenCases(system, crash.accounts)).cases).to.have.length(0);
    expect(await readDeleverageCases(system)).to.have.length(0);
  });

  it("funds keeper accounts with collateral, leaving automine as it found it", async function () {
    const keepers = [devWallet(1).address, devWallet(2).address];
    await node.rpc("evm_setAutomine", [false]);
    await fundKeepers(system, keepers, 1_000_000n * USD);
    expect(await node.rpc<boolean>("hardhat_getAutomine")).to.equal(false);
    await node.rpc("evm_setAutomine", [true]);
    for (const keeper of keepers) {
      expect(await system.contracts.clearingHouse.collateralOf(keeper)).to.equal(1_000_000n * USD * SCALE);
    }
  });

  it("restores a snapshot more than once", async function () {
    const snapshot = await takeSnapshot(system);
    const head = await system.provider.getBlockNumber();
    for (let i = 0; i < 2; ++i) {
      await advanceTime(system, 120);
      expect(await system.provider.getBlockNumber()).to.equal(head + 1);
      await snapshot.restore();
      expect(await system.provider.getBlockNumber()).to.equal(head);
    }
  });

  it("stops the node: its process group is gone and the port refuses connections", async function () {
    const { pid, url } = node;
    await node.stop();
    await node.stop(); // idempotent
    expect(() => process.kill(-pid, 0)).to.throw();
    const refused = await jsonRpc(url, "eth_chainId", [], 2_000).then(
      () => false,
      () => true,
    );
    expect(refused).to.equal(true);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
