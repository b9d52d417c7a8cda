import { expect } from "chai";
import type { Wallet } from "ethers";

import { ORDER_TYPES, USD, WAD, localhost, orderDomain, withIsolatedExample } from "#sdk";
import { CHAIN_ID } from "../../../devnet/constants.js";
import { deploySystemOverRpc } from "../../../devnet/deploy.js";
import type { DeployedSystem } from "../../../devnet/deploy.js";
import { createTestKeeper, runUntilQuiet } from "../../../devnet/keeper.js";
import type { TestKeeper } from "../../../devnet/keeper.js";
import { devWallet } from "../../../devnet/keys.js";
import { startHardhatNode } from "../../../devnet/node.js";
import type { HardhatNode } from "../../../devnet/node.js";
import { fundKeepers } from "../../../devnet/scenario/crash.js";

const FEED = 10n ** 8n;
const [BTC, SOL, AVAX] = [1, 2, 3];

/**
 * The keeper with isolated markets (withIsolatedExample: SOL-USD with a vault of its own, AVAX-USD with default
 * layers of its own). A liquidation hands the position to the liquidator and an account holding an isolated market
 * may hold no other, so SOL-USD's liquidations go through the key dedicated to it (`--isolated-signer SOL-USD=3`)
 * while BTC-USD's go on through the shared pool; AVAX-USD, with no signer of its own, is skipped and said so once.
 */
describe("keeper integration: isolated markets, each liquidated by its own signer", function () {
  this.timeout(180_000);

  let node: HardhatNode;
  let system: DeployedSystem;
  const keepers: TestKeeper[] = [];
  const [admin, k1, k2, alice, bob, dave, erin, frank, gail, k9] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) =>
    devWallet(i),
  );
  const as = (w: Wallet): Wallet => w.connect(system.provider);

  async function send(pending: Promise<{ wait(): Promise<unknown> }>): Promise<void> {
    await (await pending).wait();
  }

  /** `maker` buys `size` of `market` at `price` (whole dollars) from `taker`, by a signed order. */
  async function trade(market: number, maker: Wallet, taker: Wallet, size: bigint, price: bigint): Promise<void> {
    const { clearingHouse } = system.contracts;
    const head = await system.provider.getBlock("latest");
    if (head === null) throw new Error("no latest block");
    const order = {
      maker: maker.address,
      marketId: BigInt(market),
      isBuy: true,
      size,
      limitPrice: price * WAD,
      expiry: BigInt(head.timestamp) + 3600n,
      nonce: BigInt(market + 1),
      reduceOnly: false,
    };
    const domain = orderDomain(CHAIN_ID, await clearingHouse.getAddress());
    const signature = await maker.signTypedData(domain, ORDER_TYPES, order);
    await send(clearingHouse.connect(as(taker)).fillOrder(order, signature, size));
  }

  async function deposit(who: Wallet, amount: bigint): Promise<void> {
    const { clearingHouse, collateralToken: token } = system.contracts;
    await send(token.mint(who.address, amount));
    await send(token.connect(as(who)).approve(await clearingHouse.getAddress(), amount));
    await send(clearingHouse.connect(as(who)).deposit(amount));
  }

  function keeper(args: string[], logTo?: { write(line: string): void }): TestKeeper {
    const k = createTestKeeper({
      url: node.url,
      deployment: system.path,
      devKeys: [1, 2, 9],
      args,
      logLevel: "info",
      logTo: logTo ?? { write: () => undefined },
    });
    keepers.push(k);
    return k;
  }

  before(async function () {
    node = await startHardhatNode();
    system = await deploySystemOverRpc(node.url, admin, { params: withIsolatedExample(localhost) });
  });

  after(async function () {
    for (const k of keepers) await k.close();
    system?.provider.destroy();
    await node?.stop();
  });

  it("clears a bankrupt SOL-USD account with SOL's own signer while BTC-USD's go on; AVAX-USD is skipped, said once", async function () {
    const { clearingHouse, collateralToken: token, feeds, isolatedFunds } = system.contracts;
    const sol = isolatedFunds.find((f) => f.symbol === "SOL-USD");
    if (sol?.kind !== "vault") throw new Error("SOL-USD has no vault of its own");
    const solVault = sol.fund;
    // SOL's vault holds 300 of a staker's.
    await send(token.mint(admin.address, 300n * USD));
    await send(token.approve(await solVault.getAddress(), 300n * USD));
    await send(solVault.deposit(300n * USD, admin.address));
    // Shared: alice (6,100) buys 1 BTC at 60,000 from bob. SOL: dave (1,100) buys 100 at 100 from erin. AVAX:
    // frank (250) buys 100 at 20 from gail.
    for (const [who, amount] of [
      [alice, 6_100n],
      [bob, 100_000n],
      [dave, 1_100n],
      [erin, 100_000n],
      [frank, 250n],
      [gail, 100_000n],
    ] as const) {
      await deposit(who, amount * USD);
    }
    await trade(BTC, alice, bob, WAD, 60_000n);
    await trade(SOL, dave, erin, 100n * WAD, 100n);
    await trade(AVAX, frank, gail, 100n * WAD, 20n);
    await fundKeepers(system, [k1.address, k2.address, k9.address], 100_000n * USD);
    // BTC to 53,000 (alice −7,000), SOL to 80 (dave −2,000), AVAX to 15 (frank −500): all three bankrupt.
    await send(feeds[BTC].setAnswer(53_000n * FEED));
    await send(feeds[SOL].setAnswer(80n * FEED));
    await send(feeds[AVAX].setAnswer(15n * FEED));
    for (const who of [alice, dave, frank]) {
      expect((await clearingHouse.accountHealth(who.address)).equity, who.address).to.be.below(0n);
    }

    const lines: string[] = [];
    const k = keeper(["--isolated-signer", "SOL-USD=3"], { write: (line) => void lines.push(line) });
    await runUntilQuiet(k);
    await runUntilQuiet(k);

    // Who took what: alice's BTC went to a shared signer, dave's SOL to SOL's own signer (key 3 = dev wallet 9).
    const liquidated = await clearingHouse.queryFilter(clearingHouse.filters.Liquidated());
    const byAccount = new Map(liquidated.map((e) => [e.args.account, [e.args.liquidator, Number(e.args.marketId)]]));
    expect(byAccount.get(dave.address)).to.deep.equal([k9.address, SOL]);
    expect([k1.address, k2.address]).to.include(byAccount.get(alice.address)?.[0]);
    expect(byAccount.has(frank.address)).to.equal(false);
    // SOL's signer holds SOL only; the shared signers hold no SOL; SOL's vault paid its 300.
    const size = async (who: Wallet, market: number): Promise<bigint> =>
      (await clearingHouse.positionOf(who.address, market)).size;
    expect(await size(k9, SOL)).to.equal(100n * WAD);
    for (const m of [0, BTC, AVAX]) expect(await size(k9, m)).to.equal(0n);
    for (const w of [k1, k2]) expect(await size(w, SOL)).to.equal(0n);
    expect(await token.balanceOf(await solVault.getAddress())).to.equal(0n);
    // AVAX: untouched, and one warning in all the cycles, naming the market and the reason.
    expect(await size(frank, AVAX)).to.equal(100n * WAD);
    const warnings = lines
      .map((line) => JSON.parse(line) as { level: number; msg: string; market?: string; marketId?: number })
      .filter((l) => l.msg.startsWith("isolated market without a signer of its own"));
    expect(warnings.map((w) => [w.market, w.marketId])).to.deep.equal([["AVAX-USD", AVAX]]);
    expect(warnings[0].msg).to.include("IsolatedMarketConflict");
    expect(warnings[0].msg).to.include("--isolated-signer <market>=<n>");
  });

  /** The message `promise` is rejected with. */
  async function rejection(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
    throw new Error("expected a rejection");
  }

  it("refuses to start with a dedicated signer for a shared market, or one that holds another market", async function () {
    // Key 1 (dev wallet 1) or key 2 took alice's BTC position above.
    const holder = (await system.contracts.clearingHouse.positionOf(k1.address, BTC)).size !== 0n ? 1 : 2;
    const holderAddress = holder === 1 ? k1.address : k2.address;
    expect(await rejection(keeper(["--isolated-signer", "ETH-USD=3"]).cycle())).to.equal(
      `isolated signer ${k9.address}: ETH-USD is not an isolated market (it uses the shared pool)`,
    );
    expect(await rejection(keeper(["--isolated-signer", `AVAX-USD=${holder}`]).cycle())).to.equal(
      `isolated signer ${holderAddress} for AVAX-USD holds a position in market ${BTC}: it could take no AVAX-USD ` +
        "position over (IsolatedMarketConflict); give AVAX-USD an account of its own",
    );
  });
});
