import { expect } from "chai";
import type { TransactionReceipt, Wallet } from "ethers";

import { decodeLayerLogs, groupLossEvents, orderDomain, ORDER_TYPES, readWaterfallEvents } from "#sdk";
import { BTC_MARKET, CHAIN_ID, LOSS_POLICY_SOCIALIZED, USD, WAD, marketParams } from "../../../devnet/constants.js";
import { deploySystemOverRpc } from "../../../devnet/deploy.js";
import type { DeployedSystem } from "../../../devnet/deploy.js";
import { createTestKeeper, runUntilQuiet } from "../../../devnet/keeper.js";
import type { TestKeeper } from "../../../devnet/keeper.js";
import { devWallet } from "../../../devnet/keys.js";
import { startHardhatNode } from "../../../devnet/node.js";
import type { HardhatNode } from "../../../devnet/node.js";
import { fundKeepers } from "../../../devnet/scenario/crash.js";
import { DefaultLayers__factory } from "../../../typechain-types/index.js";

const U = 10n ** 12n; // one token unit in 18-decimal wei

/**
 * The keeper against the local deployment, which has default layers (sdk/deploy/networks/local.ts): a bankrupt
 * account in BTC-USD (socialized; funding switched off) whose deficit walks pot → first loss → stakers →
 * members' fund → the member's capped assessment → socialization, every figure by hand. The layers' part of the
 * keeper's receipt is read with sdk/loss-events (decodeLayerLogs, and readWaterfallEvents + groupLossEvents).
 */
describe("keeper integration: a bankrupt account whose loss walks the default layers", function () {
  this.timeout(180_000);

  let node: HardhatNode;
  let system: DeployedSystem;
  let keeper: TestKeeper | undefined;
  const [admin, keeperKey, alice, bob, staker, member] = [0, 1, 3, 4, 5, 6].map((i) => devWallet(i));

  before(async function () {
    node = await startHardhatNode();
    system = await deploySystemOverRpc(node.url, admin);
  });

  after(async function () {
    await keeper?.close();
    system?.provider.destroy();
    await node?.stop();
  });

  async function send(pending: Promise<{ wait(): Promise<unknown> }>): Promise<void> {
    await (await pending).wait();
  }

  it("liquidates alice; the receipt's LayerDrawn events name every layer and amount, to the unit", async function () {
    const { clearingHouse, collateralToken: token, insuranceFund: fund, defaultLayers, btcFeed } = system.contracts;
    if (defaultLayers === undefined) throw new Error("the local deployment has no default layers");
    const as = (w: Wallet): Wallet => w.connect(system.provider);
    const chAddress = await clearingHouse.getAddress();
    const layersAddress = await defaultLayers.getAddress();
    // Funding off in BTC-USD, so that the deficit is the price move and the fees only.
    await send(
      clearingHouse.updateMarketParams(BTC_MARKET, {
        ...marketParams(await btcFeed.getAddress(), LOSS_POLICY_SOCIALIZED),
        maxFundingRate: 0n,
      }),
    );
    // The treasury's first loss 100; a staker's 200; a member with 1,000 in the clearing house contributes 150.
    await send(token.mint(admin.address, 100n * USD));
    await send(token.approve(layersAddress, 100n * USD));
    await send(defaultLayers.fundFirstLoss(100n * USD));
    await send(token.mint(staker.address, 200n * USD));
    await send(token.connect(as(staker)).approve(await fund.getAddress(), 200n * USD));
    await send(fund.connect(as(staker)).deposit(200n * USD, staker.address));
    await send(token.mint(member.address, 1_150n * USD));
    await send(token.connect(as(member)).approve(chAddress, 1_000n * USD));
    await send(clearingHouse.connect(as(member)).deposit(1_000n * USD));
    await send(token.connect(as(member)).approve(layersAddress, 150n * USD));
    await send(defaultLayers.connect(as(member)).join(150n * USD));
    // alice (6,100) buys 1 BTC at 60,000 from bob as the maker: fees 12 (alice) and 30 (bob), 30% of each to the
    // pot: 12.6.
    for (const [who, amount] of [
      [alice, 6_100n * USD],
      [bob, 100_000n * USD],
    ] as const) {
      await send(token.mint(who.address, amount));
      await send(token.connect(as(who)).approve(chAddress, amount));
      await send(clearingHouse.connect(as(who)).deposit(amount));
    }
    const head = await system.provider.getBlock("latest");
    if (head === null) throw new Error("no latest block");
    const order = {
      maker: alice.address,
      marketId: BTC_MARKET,
      isBuy: true,
      size: WAD,
      limitPrice: 60_000n * WAD,
      expiry: BigInt(head.timestamp) + 3600n,
      nonce: 1n,
      reduceOnly: false,
    };
    const signature = await alice.signTypedData(orderDomain(CHAIN_ID, chAddress), ORDER_TYPES, order);
    await send(clearingHouse.connect(as(bob)).fillOrder(order, signature, WAD));
    expect(await clearingHouse.insuranceFees()).to.equal((126n * WAD) / 10n);
    await fundKeepers(system, [keeperKey.address], 100_000n * USD);

    // BTC falls to 53,000: alice's equity 6,100 − 12 − 7,000 = −912.
    await send(btcFeed.setAnswer(53_000n * 10n ** 8n));
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(-912n * WAD);
    const fromBlock = (await system.provider.getBlockNumber()) + 1;

    const logLines: string[] = [];
    keeper = createTestKeeper({
      url: node.url,
      deployment: system.path,
      devKeys: [1],
      logLevel: "info",
      logTo: { write: (line: string) => void logLines.push(line) },
    });
    await runUntilQuiet(keeper);
    const receipts = keeper.results
      .filter((r) => r.outcome === "confirmed" && r.receipt !== undefined)
      .map((r) => r.receipt as TransactionReceipt);
    const iface = DefaultLayers__factory.createInterface();
    const layerLogs = receipts.map((r) => decodeLayerLogs(iface, layersAddress, r.logs)).filter((l) => l.length > 0);

    // The pot pays 12.6; the layers are asked 899.4: first loss 100, stakers 200, members' fund 150, then the
    // member ⌈449.4 × 150 / 150⌉ capped at 2 × 150 = 300 (its free collateral 1,000 pays it). The 149.4 left is
    // socialized over the shorts (bob's 1 BTC).
    expect(layerLogs).to.deep.equal([
      [
        { event: "LayerDrawn", args: { layer: "first loss", amount: 100n * USD } },
        { event: "LayerDrawn", args: { layer: "stakers", amount: 200n * USD } },
        { event: "LayerDrawn", args: { layer: "members' fund", amount: 150n * USD } },
        { event: "MemberAssessed", args: { member: member.address, asked: 300n * USD, collected: 300n * USD } },
        { event: "LayerDrawn", args: { layer: "assessments", amount: 300n * USD } },
      ],
    ]);

    // The keeper's log: one line per layer event of its receipt, amounts as the token-unit integers.
    const logged = logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((l) => l.event === "LayerDrawn" || l.event === "MemberAssessed")
      .map((l) => [l.msg, l.layer ?? l.member, l.amount ?? l.collected]);
    expect(logged).to.deep.equal([
      ["default layer drawn", "first loss", "100000000"],
      ["default layer drawn", "stakers", "200000000"],
      ["default layer drawn", "members' fund", "150000000"],
      ["member assessed", member.address, "300000000"],
      ["default layer drawn", "assessments", "300000000"],
    ]);

    // The same receipt through the event reader: fundPaid = pot + layers, the rest socialized, to the wei.
    const losses = groupLossEvents(await readWaterfallEvents(system.contracts, fromBlock));
    expect(losses).to.have.length(1);
    const [loss] = losses;
    expect(loss.receipt.account).to.equal(alice.address);
    expect([loss.receipt.shortfall, loss.receipt.fundPaid, loss.receipt.socialized]).to.deep.equal([
      912n * WAD,
      762_600_000n * U,
      149_400_000n * U,
    ]);
    expect(loss.layers.map((d) => [d.layer, d.amount])).to.deep.equal([
      ["first loss", 100n * USD],
      ["stakers", 200n * USD],
      ["members' fund", 150n * USD],
      ["assessments", 300n * USD],
    ]);
    expect(loss.assessments.map((a) => [a.member, a.asked, a.collected])).to.deep.equal([
      [member.address, 300n * USD, 300n * USD],
    ]);
    expect(await clearingHouse.collateralOf(member.address)).to.equal(700n * USD * U);
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(0n);
  });
});
