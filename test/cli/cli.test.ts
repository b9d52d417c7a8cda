import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { MaxUint256, Wallet, encryptKeystoreJsonSync } from "ethers";

import { timestamp } from "../../cli/format.js";
import { DRAWDOWN_TRIGGER, LOCAL_LAYERS, LOCAL_RISK } from "../../sdk/deploy/networks/local.js";
import {
  DefaultLayers__factory,
  InsuranceFund__factory,
  MockAggregatorV3__factory,
} from "../../typechain-types/index.js";
import { ORDER_TYPES, orderDomain, orderHash, serializeOrderFile } from "../../sdk/orders.js";
import { CHAIN_ID, ETH_MARKET, SCALE, USD, WAD } from "../../devnet/constants.js";
import { deploySystemOverRpc, type DeployedSystem } from "../../devnet/deploy.js";
import { devWallet } from "../../devnet/keys.js";
import { PROJECT_ROOT, childEnv, startHardhatNode, type HardhatNode } from "../../devnet/node.js";
import { advanceTime, fundKeepers, takeSnapshot } from "../../devnet/scenario/crash.js";
import { SHARED_CLAIMS_POOL } from "../../sdk/constants.js";

const FEED_UNIT = 10n ** 8n;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * End to end: the CLI spawned as `node --import tsx cli/main.ts` against one `hardhat node`. The base state, built
 * once with plain ethers: traders 1–3 hold 1000 each in the clearing house and trade ETH-USD at the oracle price
 * 2000 (trader 2 sells 1.5 by a signed order, trader 1 takes 1 and trader 3 takes 0.5), so that the funding
 * rate stays zero; traders 4 and 5 hold 10,000 mUSD in their wallets. Each test starts from that state.
 */
describe("trader and staker CLI against a node", function () {
  this.timeout(180_000);

  let node: HardhatNode;
  let system: DeployedSystem;
  let snapshot: { restore(): Promise<void> };
  let dir: string;
  const [t1, t2, t3, t4, t5, t6, t7] = [1, 2, 3, 4, 5, 6, 7].map((i) => devWallet(i));

  function cli(args: readonly string[], key?: Wallet, extraEnv: NodeJS.ProcessEnv = {}): Promise<CliRun> {
    const env: NodeJS.ProcessEnv = { ...childEnv(), BACKSTOP_RPC_URL: node.url };
    delete env.BACKSTOP_PRIVATE_KEY;
    delete env.BACKSTOP_KEYSTORE_PASSWORD;
    if (key !== undefined) env.BACKSTOP_PRIVATE_KEY = key.privateKey;
    Object.assign(env, extraEnv);
    // A test about another deployment file gives its own --deployment.
    const argv = args.includes("--deployment") ? [...args] : [...args, "--deployment", system.path];
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "cli/main.ts", ...argv], {
        cwd: PROJECT_ROOT,
        env,
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

  /** Runs a command that must succeed and returns its stdout. */
  async function ok(args: readonly string[], key?: Wallet, extraEnv?: NodeJS.ProcessEnv): Promise<string> {
    const run = await cli(args, key, extraEnv);
    expect(run.stderr, `${args.join(" ")}: stderr`).to.equal("");
    expect(run.code, `${args.join(" ")}: exit code`).to.equal(0);
    return run.stdout;
  }

  async function okJson<T>(args: readonly string[], key?: Wallet): Promise<T> {
    return JSON.parse(await ok([...args, "--json"], key)) as T;
  }

  /**
   * Runs a command that must fail: non-zero exit (`exitCode` when given), nothing on stdout, exactly one line on
   * stderr; returns it.
   */
  async function refused(
    args: readonly string[],
    key?: Wallet,
    extraEnv?: NodeJS.ProcessEnv,
    exitCode?: number,
  ): Promise<string> {
    const run = await cli(args, key, extraEnv);
    if (exitCode === undefined) expect(run.code, `${args.join(" ")}: exit code`).to.not.equal(0);
    else expect(run.code, `${args.join(" ")}: exit code`).to.equal(exitCode);
    expect(run.stdout, `${args.join(" ")}: stdout`).to.equal("");
    const lines = run.stderr.split("\n");
    expect(lines, `${args.join(" ")}: stderr ${JSON.stringify(run.stderr)}`).to.have.length(2);
    expect(lines[1]).to.equal("");
    return lines[0];
  }

  /** What a refused command must leave as it was: the head block (nothing mined), collateral, wallets, fund. */
  async function chainState(): Promise<unknown> {
    const { clearingHouse, collateralToken, insuranceFund } = system.contracts;
    const accounts = [t1, t2, t3, t4, t5].map((w) => w.address);
    return {
      block: await system.provider.getBlockNumber(),
      collateral: await Promise.all(accounts.map((a) => clearingHouse.collateralOf(a))),
      positions: await Promise.all(accounts.map(async (a) => (await clearingHouse.positionOf(a, ETH_MARKET)).size)),
      wallets: await Promise.all(accounts.map((a) => collateralToken.balanceOf(a))),
      shares: await Promise.all(accounts.map((a) => insuranceFund.balanceOf(a))),
      minNonces: await Promise.all(accounts.map((a) => clearingHouse.minValidNonce(a))),
    };
  }

  async function signDirect(maker: Wallet, isBuy: boolean, size: bigint, price: bigint, nonce: bigint) {
    const head = await system.provider.getBlock("latest");
    if (head === null) throw new Error("no latest block");
    const order = {
      maker: maker.address,
      marketId: ETH_MARKET,
      isBuy,
      size,
      limitPrice: price,
      expiry: BigInt(head.timestamp) + 3600n,
      nonce,
      reduceOnly: false,
    };
    const domain = orderDomain(CHAIN_ID, await system.contracts.clearingHouse.getAddress());
    return { order, signature: await maker.signTypedData(domain, ORDER_TYPES, order) };
  }

  /** Signs an order with plain ethers and writes it as the CLI would, for tests about other commands. */
  async function writeOrder(maker: Wallet, isBuy: boolean, size: bigint, nonce: bigint, file: string): Promise<string> {
    const { order, signature } = await signDirect(maker, isBuy, size, 2000n * WAD, nonce);
    const clearingHouse = await system.contracts.clearingHouse.getAddress();
    const hash = orderHash(order, CHAIN_ID, clearingHouse);
    writeFileSync(
      file,
      serializeOrderFile({ chainId: CHAIN_ID, clearingHouse, market: "ETH-USD", order, hash, signature }),
    );
    return hash;
  }

  async function setEthPrice(answer: bigint): Promise<void> {
    await (await system.contracts.ethFeed.setAnswer(answer)).wait();
  }

  before(async function () {
    node = await startHardhatNode();
    system = await deploySystemOverRpc(node.url, devWallet(0));
    dir = mkdtempSync(path.join(tmpdir(), "cli-test-"));
    const { clearingHouse, collateralToken } = system.contracts;
    await fundKeepers(system, [t1.address, t2.address, t3.address], 1000n * USD);
    for (const w of [t4, t5]) await (await collateralToken.mint(w.address, 10_000n * USD)).wait();
    const sell = await signDirect(t2, false, (3n * WAD) / 2n, 2000n * WAD, 1n);
    for (const [taker, size] of [
      [t1, WAD],
      [t3, WAD / 2n],
    ] as const) {
      const connected = clearingHouse.connect(taker.connect(system.provider));
      await (await connected.fillOrder(sell.order, sell.signature, size)).wait();
    }
    snapshot = await takeSnapshot(system);
  });

  afterEach(async function () {
    await snapshot.restore();
  });

  after(async function () {
    system?.provider.destroy();
    await node?.stop();
  });

  it("deposit approves and pays in 1500.25; withdraw takes 500.25 out; a keystore key works too", async function () {
    const { clearingHouse, collateralToken } = system.contracts;
    const out = await ok(["deposit", "1500.25"], t5);
    expect(out).to.match(/^deposited 1,500\.25 mUSD; collateral now 1,500\.25 mUSD \(tx 0x[0-9a-f]{64}\)\n$/);
    expect(await clearingHouse.collateralOf(t5.address)).to.equal(1_500_250_000n * SCALE);
    expect(await collateralToken.balanceOf(t5.address)).to.equal(10_000n * USD - 1_500_250_000n);

    await ok(["withdraw", "500.25"], t5);
    expect(await clearingHouse.collateralOf(t5.address)).to.equal(1000n * USD * SCALE);
    expect(await collateralToken.balanceOf(t5.address)).to.equal(9000n * USD);

    // A cheap scrypt so that the test does not spend seconds decrypting.
    const keystore = path.join(dir, "t5.json");
    const password = "correct horse";
    writeFileSync(
      keystore,
      encryptKeystoreJsonSync({ address: t5.address, privateKey: t5.privateKey }, password, { scrypt: { N: 1 << 10 } }),
    );
    await ok(["deposit", "1", "--keystore", keystore], undefined, { BACKSTOP_KEYSTORE_PASSWORD: password });
    expect(await clearingHouse.collateralOf(t5.address)).to.equal(1001n * USD * SCALE);
    const wrong = await refused(["deposit", "1", "--keystore", keystore], undefined, {
      BACKSTOP_KEYSTORE_PASSWORD: "nope",
    });
    expect(wrong).to.equal(
      `backstop: cannot decrypt keystore ${keystore}: wrong BACKSTOP_KEYSTORE_PASSWORD or damaged file`,
    );
  });

  it("faucet mints mock tokens to the key's wallet and prints the new balance; a deposit can follow", async function () {
    const { clearingHouse, collateralToken } = system.contracts;
    expect(await collateralToken.balanceOf(t6.address)).to.equal(0n);
    interface FaucetJson {
      action: string;
      account: string;
      amount: string;
      balance: string;
      txs: string[];
    }
    const minted = await okJson<FaucetJson>(["faucet", "10000"], t6);
    expect(minted).to.deep.include({ action: "faucet", account: t6.address, amount: "10000", balance: "10000" });
    expect(minted.txs).to.have.length(1);
    expect(minted.txs[0]).to.match(/^0x[0-9a-f]{64}$/);
    expect(await collateralToken.balanceOf(t6.address)).to.equal(10_000n * USD);

    // 10000 + 0.5 = 10000.5 mUSD = 10_000_500_000 units of 6 decimals.
    expect(await ok(["faucet", "0.5"], t6)).to.match(
      /^minted 0\.5 mUSD; wallet balance now 10,000\.5 mUSD \(tx 0x[0-9a-f]{64}\)\n$/,
    );
    expect(await collateralToken.balanceOf(t6.address)).to.equal(10_000_500_000n);

    await ok(["deposit", "10000"], t6);
    expect(await clearingHouse.collateralOf(t6.address)).to.equal(10_000n * USD * SCALE);
    expect(await collateralToken.balanceOf(t6.address)).to.equal(USD / 2n);
  });

  it("faucet refuses bad amounts, a missing key and a deployment not made for a local network, sending nothing", async function () {
    const deployment = JSON.parse(readFileSync(system.path, "utf8")) as { network: string; chainId: number };
    // Same contracts and chain id, so connect's chain check passes and the faucet's own network check refuses.
    const sepoliaLabel = path.join(dir, "sepolia-label.json");
    writeFileSync(sepoliaLabel, JSON.stringify({ ...deployment, network: "sepolia" }));
    // A file for another chain id never reaches the faucet: connect refuses the node first.
    const sepoliaChain = path.join(dir, "sepolia-chain.json");
    writeFileSync(sepoliaChain, JSON.stringify({ ...deployment, network: "sepolia", chainId: 11_155_111 }));

    const before = await chainState();
    const cases: [string[], Wallet | undefined, string][] = [
      [
        ["faucet", "100", "--deployment", sepoliaLabel],
        t4,
        "backstop: 'faucet' only runs on a local network (chain 31337, deployment hardhat or localhost); this is chain 31337, deployment sepolia",
      ],
      [
        ["faucet", "100", "--deployment", sepoliaChain],
        t4,
        `backstop: the node at ${node.url} runs chain 31337, the deployment is for chain 11155111`,
      ],
      [["faucet", "-5"], t4, "backstop: amount must not be negative: -5"],
      [["faucet", "0"], t4, "backstop: amount must be above zero: 0"],
      [["faucet", "1.0000001"], t4, "backstop: amount has more than 6 decimals: 1.0000001"],
      [["faucet", "lots"], t4, "backstop: amount is not a number: 'lots'"],
      [
        ["faucet", "1"],
        undefined,
        "backstop: 'faucet' needs a key: set BACKSTOP_PRIVATE_KEY or give --keystore <file>",
      ],
    ];
    const lines = await Promise.all(cases.map(([args, key]) => refused(args, key, {}, 2)));
    lines.forEach((line, i) => expect(line, cases[i][0].join(" ")).to.equal(cases[i][2]));
    expect(await chainState()).to.deep.equal(before);
  });

  it("market set-price publishes a mock feed answer the clearing house then reads; bad input sends nothing", async function () {
    const { clearingHouse, oracleAdapter } = system.contracts;
    const oraclePrice = async (marketId: bigint): Promise<bigint> => {
      const params = await clearingHouse.marketParams(marketId);
      return oracleAdapter.getPrice(params.oracleFeed, params.oracleHeartbeat);
    };
    interface SetPriceJson {
      action: string;
      market: string;
      price: string;
      txs: string[];
    }
    // 1,812.34567891 with the feed's 8 decimals → 1812.34567891e18 through the adapter.
    const set = await okJson<SetPriceJson>(["market", "set-price", "eth-usd", "1812.34567891"], t4);
    expect(set).to.deep.include({ action: "set-price", market: "ETH-USD", price: "1812.34567891" });
    expect(set.txs[0]).to.match(/^0x[0-9a-f]{64}$/);
    expect(await oraclePrice(0n)).to.equal(181_234_567_891n * 10n ** 10n);
    expect(await ok(["market", "set-price", "BTC-USD", "51000"], t4)).to.match(
      /^BTC-USD oracle price now 51,000\.00 \(tx 0x[0-9a-f]{64}\)\n$/,
    );
    expect(await oraclePrice(1n)).to.equal(51_000n * 10n ** 18n);

    const deployment = JSON.parse(readFileSync(system.path, "utf8")) as { network: string };
    const sepoliaLabel = path.join(dir, "sepolia-label-price.json");
    writeFileSync(sepoliaLabel, JSON.stringify({ ...deployment, network: "sepolia" }));
    const before = await chainState();
    const cases: [string[], Wallet | undefined, string][] = [
      [
        ["market", "set-price", "ETH-USD", "1000", "--deployment", sepoliaLabel],
        t4,
        "backstop: 'market set-price' only runs on a local network (chain 31337, deployment hardhat or localhost); this is chain 31337, deployment sepolia",
      ],
      [
        ["market", "set-price", "DOGE-USD", "1"],
        t4,
        "backstop: unknown market 'DOGE-USD' (this deployment has ETH-USD, BTC-USD)",
      ],
      [["market", "set-price", "ETH-USD", "0"], t4, "backstop: price must be above zero: 0"],
      [["market", "set-price", "ETH-USD", "1.123456789"], t4, "backstop: price has more than 8 decimals: 1.123456789"],
      [
        ["market", "set-price", "ETH-USD", "1000"],
        undefined,
        "backstop: 'market set-price' needs a key: set BACKSTOP_PRIVATE_KEY or give --keystore <file> " +
          "(any funded account of the local node, e.g. dev account #0 of `npx hardhat node`)",
      ],
    ];
    const lines = await Promise.all(cases.map(([args, key]) => refused(args, key, {}, 2)));
    lines.forEach((line, i) => expect(line, cases[i][0].join(" ")).to.equal(cases[i][2]));
    expect(await chainState()).to.deep.equal(before);
    expect(await oraclePrice(1n)).to.equal(51_000n * 10n ** 18n);
  });

  it("an order signed by one trader is filled by another through the CLI, partly then fully", async function () {
    const { clearingHouse } = system.contracts;
    await fundKeepers(system, [t6.address, t7.address], 1000n * USD);
    const file = path.join(dir, "buy.json");
    const signed = await ok(
      [
        "order",
        "sign",
        "--market",
        "eth-usd",
        "--side",
        "buy",
        "--size",
        "1",
        "--price",
        "2000",
        "--nonce",
        "3",
        "--out",
        file,
      ],
      t6,
    );
    expect(signed).to.include("signed buy 1.000000 ETH-USD at 2,000.00 (nonce 3");
    // The expiry as a date and a lifetime, counted from the later of the clock and the latest block.
    expect(signed).to.match(/, expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, in \d+ (d|h|min)[^)]*\) → /);
    const written = JSON.parse(readFileSync(file, "utf8")) as { hash: string; order: { maker: string } };
    expect(written.order.maker).to.equal(t6.address);

    const partial = await ok(["order", "fill", file, "--size", "0.4"], t7);
    expect(partial).to.match(/^sold 0\.400000 ETH-USD at 2,000\.00; your position now -0\.400000 /);
    expect((await clearingHouse.positionOf(t6.address, ETH_MARKET)).size).to.equal((4n * WAD) / 10n);
    expect((await clearingHouse.positionOf(t7.address, ETH_MARKET)).size).to.equal((-4n * WAD) / 10n);
    expect((await clearingHouse.orderStatus(written.hash)).filled).to.equal((4n * WAD) / 10n);

    // Without --size: what is left, 0.6.
    await ok(["order", "fill", file], t7);
    expect((await clearingHouse.positionOf(t6.address, ETH_MARKET)).size).to.equal(WAD);
    expect((await clearingHouse.positionOf(t7.address, ETH_MARKET)).size).to.equal(-WAD);
    // Nothing left to cancel: refused before anything is sent.
    const block = await system.provider.getBlockNumber();
    expect(await refused(["order", "cancel", file], t6, {}, 2)).to.equal(
      `backstop: order ${written.hash} is fully filled (1.000000): nothing left to cancel`,
    );
    expect(await system.provider.getBlockNumber()).to.equal(block);
    // Fees on 2000 of notional: maker 0.02% = 0.4, taker 0.05% = 1.
    expect(await clearingHouse.collateralOf(t6.address)).to.equal(999_600_000n * SCALE);
    expect(await clearingHouse.collateralOf(t7.address)).to.equal(999n * USD * SCALE);
  });

  it("after cancel and cancel-below, fills are refused with the decoded error and change nothing", async function () {
    const a = path.join(dir, "a.json");
    const b = path.join(dir, "b.json");
    await ok(
      [
        "order",
        "sign",
        "--market",
        "ETH-USD",
        "--side",
        "sell",
        "--size",
        "0.1",
        "--price",
        "2000",
        "--nonce",
        "5",
        "--out",
        a,
      ],
      t1,
    );
    await writeOrder(t1, false, WAD / 10n, 10n, b);
    const hashA = (JSON.parse(readFileSync(a, "utf8")) as { hash: string }).hash;

    expect(await ok(["order", "cancel", a], t1)).to.include(`cancelled order ${hashA}`);
    expect((await system.contracts.clearingHouse.orderStatus(hashA)).cancelled).to.equal(true);
    let before = await chainState();
    expect(await refused(["order", "fill", a], t3)).to.equal(
      `backstop: fillOrder reverted: OrderCancelled(orderHash=${hashA})`,
    );
    expect(await chainState()).to.deep.equal(before);

    await ok(["order", "cancel-below", "11"], t1);
    expect(await system.contracts.clearingHouse.minValidNonce(t1.address)).to.equal(11n);
    before = await chainState();
    expect(await refused(["order", "fill", b], t3)).to.equal(
      `backstop: fillOrder reverted: OrderNonceInvalidated(maker=${t1.address}, nonce=10, minValidNonce=11)`,
    );
    expect(await chainState()).to.deep.equal(before);
  });

  it("positions and health print the right numbers, and the liquidation price is where the contract liquidates", async function () {
    interface PositionsJson {
      positions: {
        market: string;
        side: string;
        size: string;
        entryPrice: string;
        notional: string;
        unrealizedPnl: string;
      }[];
    }
    const positions = await okJson<PositionsJson>(["positions", t1.address]);
    expect(positions.positions).to.have.length(1);
    expect(positions.positions[0]).to.include({
      market: "ETH-USD",
      side: "long",
      size: "1",
      entryPrice: "2000",
      notional: "2000",
      unrealizedPnl: "0",
    });

    interface HealthJson {
      state: string;
      collateral: string;
      equity: string;
      initialMargin: string;
      maintenanceMargin: string;
      freeCollateral: string;
      markets: {
        market: string;
        side: string;
        liquidationPrice: string | null;
        bankruptcyPrice: string | null;
        adlRank: number | null;
        adlQueue: number;
        adlScore: string;
      }[];
    }
    // Trader 1: 1000 − taker fee 1 = 999 collateral, long 1 at 2000: IM 200, MM 100, free min(999, 999 − 200).
    // Liquidatable when 999 + p − 2000 < 0.05·p ⇔ p < 1001/0.95 = 1053.684210526…: last tick 1053.68421052.
    // Bankrupt below 1001.
    const h1 = await okJson<HealthJson>(["health"], t1);
    expect(h1).to.include({
      state: "healthy",
      collateral: "999",
      equity: "999",
      initialMargin: "200",
      maintenanceMargin: "100",
      freeCollateral: "799",
    });
    // At the entry price nobody is in profit: the ADL queue is empty.
    expect(h1.markets[0]).to.include({
      market: "ETH-USD",
      liquidationPrice: "1053.68421052",
      bankruptcyPrice: "1001",
      adlRank: null,
      adlQueue: 0,
    });
    // Trader 2: 1000 − maker fee 0.6 (0.02% of 3000) = 999.4, short 1.5 at 2000. Liquidatable when
    // 999.4 + 3000 − 1.5·p < 0.075·p ⇔ p > 3999.4/1.575 = 2539.301587301…: first tick 2539.30158731.
    const h2 = await okJson<HealthJson>(["health", t2.address]);
    expect(h2.markets[0].liquidationPrice).to.equal("2539.30158731");
    expect(h2.maintenanceMargin).to.equal("150");

    const { clearingHouse } = system.contracts;
    const liquidatable = async (account: string): Promise<boolean> => {
      const h = await clearingHouse.accountHealth(account);
      return h.equity < BigInt(h.maintenanceMargin);
    };
    // Feed answers have 8 decimals: 1053.68421052 is 105368421052.
    await setEthPrice(105_368_421_052n);
    expect(await liquidatable(t1.address)).to.equal(true);
    await setEthPrice(105_368_421_053n);
    expect(await liquidatable(t1.address)).to.equal(false);
    await setEthPrice(253_930_158_731n);
    expect(await liquidatable(t2.address)).to.equal(true);
    await setEthPrice(253_930_158_730n);
    expect(await liquidatable(t2.address)).to.equal(false);

    // At 2100 both longs profit. Both bought at 2,000: entry bucket ⌊256·log2(2000 × 10^18)⌋ = 18114, a long's
    // score 65,536 − 18114 = 47422 for both; equal scores rank by address.
    await setEthPrice(2100n * FEED_UNIT);
    const [a1, a3] = await Promise.all([
      okJson<HealthJson>(["health"], t1),
      okJson<HealthJson>(["health", t3.address]),
    ]);
    const t1First = t1.address.toLowerCase() < t3.address.toLowerCase();
    expect(a1.markets[0]).to.include({ adlRank: t1First ? 1 : 2, adlQueue: 2, adlScore: "47422" });
    expect(a3.markets[0]).to.include({ adlRank: t1First ? 2 : 1, adlQueue: 2, adlScore: "47422" });

    const text = await ok(["health"], t1);
    expect(text).to.match(/equity: +1,099\.00 mUSD\n/);
    expect(text).to.match(
      new RegExp(`ETH-USD +long +1\\.000000 +2,100\\.00 +1,053\\.68 +1,001\\.00 +47422 +${t1First ? 1 : 2} of 2`),
    );

    // A long whose collateral covers a fall to zero has neither a liquidation nor a bankruptcy price: "none",
    // null in JSON (the lens's line extended below zero is not a price). `--side long` is `buy`.
    const file = path.join(dir, "rich-long.json");
    await ok(["deposit", "5000"], t4);
    await ok(
      ["order", "sign", "--market", "ETH-USD", "--side", "long", "--size", "0.5", "--price", "2100", "--out", file],
      t4,
    );
    await ok(["order", "fill", file], t2);
    const rich = await okJson<HealthJson>(["health"], t4);
    expect(rich.markets[0]).to.include({ side: "long", liquidationPrice: null, bankruptcyPrice: null });
    expect(await ok(["health"], t4)).to.match(/ETH-USD +long +0\.500000 +2,100\.00 +none +none /);
  });

  /**
   * ETH falls to 900: trader 1 (999 collateral, long 1 at 2000) is at 999 + 900 − 2000 = −101. ETH is an ADL market
   * and the fund cannot pay that: a case opens, and trader 2, the only short, gives up what it cannot (event 0, its
   * record 0). Then `units` come back through trader 4's repayClaims: all of them are trader 2's. Returns the loss.
   */
  async function deleverageTrader2(units: bigint): Promise<bigint> {
    const { clearingHouse, collateralToken } = system.contracts;
    const keeper = clearingHouse.connect(t4.connect(system.provider));
    await setEthPrice(900n * FEED_UNIT);
    await (await keeper.liquidate(t1.address, ETH_MARKET, 2n ** 255n)).wait();
    const step = await (await keeper.autoDeleverage(t1.address, ETH_MARKET, t2.address, WAD)).wait();
    if (step === null) throw new Error("not mined");
    const deleveraged = step.logs
      .map((log) => clearingHouse.interface.parseLog(log))
      .find((parsed) => parsed?.name === "Deleveraged");
    const loss = deleveraged?.args.loss as bigint;
    expect(loss > 0n && loss <= 101n * WAD).to.equal(true);
    await (
      await collateralToken.connect(t4.connect(system.provider)).approve(await clearingHouse.getAddress(), units * USD)
    ).wait();
    await (await keeper.repayClaims(SHARED_CLAIMS_POOL, units * USD)).wait();
    return loss;
  }

  /** The exact decimal of an 18-decimal integer, as every --json figure of the CLI. */
  function exactWad(value: bigint): string {
    const fraction = (value % WAD).toString().padStart(18, "0").replace(/0+$/, "");
    return `${value / WAD}${fraction === "" ? "" : `.${fraction}`}`;
  }

  it("health shows what ADL took from an account as a repayable claim, in units; --json keeps integers", async function () {
    const loss = await deleverageTrader2(7n);

    interface ClaimsJson {
      claims: { paid: string; repaid: string; repayable: string; records: number };
    }
    const h = await okJson<ClaimsJson>(["health", t2.address]);
    expect(h.claims).to.deep.equal({ paid: exactWad(loss), repaid: "0", repayable: "7", records: 1 });
    const text = await ok(["health", t2.address]);
    expect(text).to.match(/claims paid: +\d[\d,]*\.\d\d mUSD\n/);
    expect(text).to.match(/claims repaid: +0\.00 mUSD\n/);
    expect(text).to.match(/claims repayable now: +7\.00 mUSD\n/);
    // Trader 3 paid nothing: its claims are zero.
    expect((await okJson<ClaimsJson>(["health", t3.address])).claims).to.deep.equal({
      paid: "0",
      repaid: "0",
      repayable: "0",
      records: 0,
    });
  });

  it("claims list shows each record from its events; claims repay credits what claimsOf says, refusing bad input", async function () {
    const { clearingHouse } = system.contracts;
    const loss = await deleverageTrader2(7n);
    interface ListJson {
      account: string;
      paid: string;
      repaid: string;
      repayable: string;
      records: {
        record: number;
        kind: string;
        market: string;
        side: string;
        events: number[];
        paid: string;
        repaid: string;
        block: number;
      }[];
    }
    const list = await okJson<ListJson>(["claims", "list", t2.address]);
    expect(list).to.deep.include({ account: t2.address, paid: exactWad(loss), repaid: "0", repayable: "7" });
    expect(list.records).to.deep.equal([
      {
        record: 0,
        kind: "ADL",
        market: "ETH-USD",
        side: "short",
        events: [0],
        paid: exactWad(loss),
        repaid: "0",
        block: list.records[0].block,
      },
    ]);
    const text = await ok(["claims", "list", t2.address]);
    expect(text).to.match(/0 +ADL +ETH-USD +short +event 0 +\d[\d,]*\.\d\d mUSD +0\.00 mUSD/);
    expect(text).to.include("repayable now 7.00 mUSD");

    // Bad input: refused with one line, nothing sent.
    const before = await chainState();
    expect(await refused(["claims", "repay", "0x1234"], t5, {}, 2)).to.equal("backstop: not an address: '0x1234'");
    expect(await refused(["claims", "repay", t2.address, "--max-records", "0"], t5, {}, 2)).to.match(/--max-records/);
    expect(await refused(["claims", "repay", t3.address], t5, {}, 2)).to.match(/^backstop: nothing repayable now for /);
    expect(await chainState()).to.deep.equal(before);

    // Anyone sends it (trader 5 here); trader 2 is credited exactly the 7 units claimsOf showed.
    const collateral = await clearingHouse.collateralOf(t2.address);
    const repay = JSON.parse(await ok(["claims", "repay", t2.address, "--max-records", "1", "--json"], t5)) as {
      repaid: string;
      records: { record: number; amount: string }[];
    };
    expect(repay.repaid).to.equal("7");
    expect(repay.records).to.deep.equal([{ record: 0, amount: "7" }]);
    expect((await clearingHouse.collateralOf(t2.address)) - collateral).to.equal(7n * WAD);
    const after = await okJson<ListJson>(["claims", "list", t2.address]);
    expect(after).to.deep.include({ repaid: "7", repayable: "0" });
    expect(await refused(["claims", "repay", t2.address], t5, {}, 2)).to.match(/^backstop: nothing repayable now/);

    // loss-events ends with the claims per pool (only the shared one here): the one ADL step's loss, 7 units funded.
    const events = await okJson<{
      claims: { pool: number; market: string | null; issued: string; inflow: string; owed: string; events: number }[];
    }>(["loss-events"]);
    expect(events.claims).to.deep.equal([
      { pool: 0, market: null, issued: exactWad(loss), inflow: "7", owed: exactWad(loss - 7n * WAD), events: 1 },
    ]);
    expect(await ok(["loss-events"])).to.match(
      /\nclaims, shared pool: \d[\d,]*\.\d\d mUSD taken \(loss events: 1\), 7\.00 mUSD funded/,
    );
  });

  it("claims totals reads each pool, claims fund pays into the pool --market names, refusing bad input", async function () {
    const loss = await deleverageTrader2(7n);
    interface TotalsJson {
      pools: { pool: number; market: string | null; events: number; issued: string; inflow: string; owed: string }[];
    }
    const row = (inflow: bigint) => ({
      pool: 0,
      market: null,
      events: 1,
      issued: loss.toString(),
      inflow: inflow.toString(),
      owed: (loss - inflow).toString(),
    });
    // No isolated market here: one pool, the shared one; ETH-USD is a shared market, so --market names it too.
    expect((await okJson<TotalsJson>(["claims", "totals"])).pools).to.deep.equal([row(7n * WAD)]);
    expect((await okJson<TotalsJson>(["claims", "totals", "--market", "ETH-USD"])).pools).to.deep.equal([
      row(7n * WAD),
    ]);
    expect(await ok(["claims", "totals"])).to.match(/shared pool +1 +\d[\d,]*\.\d\d mUSD +7\.00 mUSD +\d/);

    // Bad input: refused with one line, nothing sent.
    const before = await chainState();
    expect(await refused(["claims", "fund", "0"], t4, {}, 2)).to.match(/amount/);
    expect(await refused(["claims", "fund", "1000"], t4, {}, 2)).to.match(
      /^backstop: amount 1,000 mUSD is more than the shared pool still owes in whole units/,
    );
    expect(await refused(["claims", "totals", "--market", "DOGE-USD"], t4, {}, 2)).to.match(
      /unknown market 'DOGE-USD'/,
    );
    expect(await chainState()).to.deep.equal(before);

    // 3 units into the shared pool: its inflow rises by exactly 3.
    const funded = JSON.parse(await ok(["claims", "fund", "3", "--market", "ETH-USD", "--json"], t4)) as {
      pool: number;
      amount: string;
      inflow: string;
      owed: string;
    };
    expect(funded).to.deep.include({ pool: 0, amount: "3000000", inflow: (10n * WAD).toString() });
    expect((await system.contracts.clearingHouse.claimsTotals(SHARED_CLAIMS_POOL))[1]).to.equal(10n * WAD);
    expect(await ok(["claims", "fund", "1"], t4)).to.match(/^funded the shared pool with 1 mUSD; it still owes /);
  });

  it("fund stake, request-unstake, a refused early unstake, then unstake after the cooldown; fund status shows it", async function () {
    const { insuranceFund, collateralToken } = system.contracts;
    expect(await ok(["fund", "stake", "1000"], t4)).to.match(/^staked 1,000 mUSD for 1,000 bINS /);
    // First stake: 1000e6 × (0 + 10^6 virtual shares) / (0 + 1) = 1e15 share units (12 decimals).
    expect(await insuranceFund.balanceOf(t4.address)).to.equal(10n ** 15n);
    expect(await collateralToken.balanceOf(t4.address)).to.equal(9000n * USD);

    await ok(["fund", "request-unstake", "400"], t4);
    const request = await insuranceFund.unstakeRequests(t4.address);
    expect(request.shares).to.equal(400n * 10n ** 12n);
    expect(request.assets).to.equal(400n * USD);

    const before = await chainState();
    const early = await refused(["fund", "unstake"], t4);
    expect(early).to.equal(`backstop: unstake reverted: UnstakeNotConfirmed(staker=${t4.address})`);
    const earlyConfirm = await refused(["fund", "confirm-unstake"], t4);
    expect(earlyConfirm).to.equal(
      `backstop: confirmUnstake reverted: CooldownNotElapsed(staker=${t4.address}, readyAt=${timestamp(request.readyAt)})`,
    );
    expect(await chainState()).to.deep.equal(before);

    interface FundJson {
      totalAssets: string;
      totalShares: string;
      sharePrice: string;
      drawCap: string;
      drawnInWindow: string;
      availableForDraw: string;
      cooldownSeconds: number;
      staker: {
        shares: string;
        value: string;
        pendingUnstakeShares: string;
        pendingUnstakeAssets: string;
        cooldownEnd: number;
        confirmBy: number | null;
        exitAt: number | null;
      };
    }
    const status = await okJson<FundJson>(["fund", "status"], t4);
    expect(status).to.include({
      totalAssets: "1000",
      totalShares: "1000",
      sharePrice: "1",
      drawCap: "1000000000000",
      drawnInWindow: "0",
      availableForDraw: "1000",
      cooldownSeconds: 86_400,
    });
    expect(status.staker).to.deep.include({
      shares: "600",
      value: "600",
      pendingUnstakeShares: "400",
      pendingUnstakeAssets: "400",
      cooldownEnd: Number(request.readyAt),
      confirmBy: Number(request.readyAt) + 86_400,
      exitAt: null,
    });

    await advanceTime(system, 86_400);
    expect(await ok(["fund", "confirm-unstake"], t4)).to.match(/^confirmed unstake; it pays from /);
    const exitAt = await insuranceFund.unstakeExitAt(t4.address);
    const confirmed = await okJson<FundJson>(["fund", "status"], t4);
    expect(confirmed.staker.exitAt).to.equal(Number(exitAt));
    await advanceTime(system, 3600);
    expect(await ok(["fund", "unstake"], t4)).to.match(/^unstaked: received 400 mUSD /);
    expect(await collateralToken.balanceOf(t4.address)).to.equal(9400n * USD);
    expect(await insuranceFund.balanceOf(t4.address)).to.equal(600n * 10n ** 12n);

    await ok(["fund", "request-unstake", "--all"], t4);
    expect((await insuranceFund.unstakeRequests(t4.address)).shares).to.equal(600n * 10n ** 12n);
    expect(await insuranceFund.balanceOf(t4.address)).to.equal(0n);
  });

  it("fund status shows a row per default layer: its size and what it would pay now; --json in token units", async function () {
    const { clearingHouse, collateralToken, defaultLayers } = system.contracts;
    if (defaultLayers === undefined) throw new Error("the local deployment has no default layers");
    // The treasury (account #0) puts 250 in the first loss; t5 stakes 1,000; t4 joins with 100 and has 150 in
    // the clearing house, so it could be assessed min(2 × 100, 150) = 150.
    await (await collateralToken.mint(system.admin.getAddress(), 250n * USD)).wait();
    await (await collateralToken.connect(system.admin).approve(defaultLayers.getAddress(), 250n * USD)).wait();
    await (await defaultLayers.connect(system.admin).fundFirstLoss(250n * USD)).wait();
    await ok(["fund", "stake", "1000"], t5);
    await ok(["member", "join", "100"], t4);
    await ok(["deposit", "150"], t4);
    expect(await clearingHouse.collateralOf(t4.address)).to.equal(150n * USD * SCALE);

    const text = await ok(["fund", "status"]);
    expect(text).to.include(`default layers (${await defaultLayers.getAddress()}), in the order they pay:`);
    const table = text.slice(text.indexOf("layer  "));
    expect(table.split("\n").slice(0, 6)).to.deep.equal([
      "layer          size                 would pay now",
      "first loss     250 mUSD             250 mUSD",
      "stakers        1,000 mUSD           1,000 mUSD",
      "members' fund  100 mUSD             100 mUSD",
      "assessments    200 mUSD (cap left)  150 mUSD",
      "total                               1,500 mUSD",
    ]);
    expect(text).to.match(/\ndrawdown trigger: off\n/);
    expect(text).to.match(/\nmembers: +1, contributions 100 mUSD\n/);
    expect(text).to.match(/\navailable to draw \(all layers\): 1,500 mUSD\n/);

    interface LayersJson {
      availableForDraw: string;
      layers: {
        rows: { layer: string; size: string; wouldPay: string }[];
        availableForDraw: string;
        drawdown: { budget: string | null; tripped: boolean };
        members: number;
        totalContribution: string;
        lastDefaultAt: number | null;
      };
    }
    const json = await okJson<LayersJson>(["fund", "status"]);
    expect(json.availableForDraw).to.equal("1500");
    expect(json.layers.rows).to.deep.equal([
      { layer: "first loss", size: "250000000", wouldPay: "250000000" },
      { layer: "stakers", size: "1000000000", wouldPay: "1000000000" },
      { layer: "members' fund", size: "100000000", wouldPay: "100000000" },
      { layer: "assessments", size: "200000000", wouldPay: "150000000" },
    ]);
    expect(json.layers).to.deep.include({
      availableForDraw: "1500000000",
      drawdown: { ...json.layers.drawdown, budget: null, tripped: false },
      members: 1,
      totalContribution: "100000000",
      lastDefaultAt: null,
    });
  });

  it("fund status: the drawdown trigger armed, then tripped by a default; each isolated market's own fund; --json exact", async function () {
    const { clearingHouse, collateralToken, defaultLayers } = system.contracts;
    if (defaultLayers === undefined) throw new Error("the local deployment has no default layers");
    const admin = system.admin;
    const token = await collateralToken.getAddress();
    const ch = await clearingHouse.getAddress();
    // Arm the trigger (30% of the funded layers within 8 h); the treasury puts 250 in the first loss, the only
    // funded layer: a window's base is 250, its budget 30% × 250 = 75.
    await (await defaultLayers.connect(admin).setParams({ ...LOCAL_LAYERS, ...DRAWDOWN_TRIGGER })).wait();
    await (await collateralToken.mint(admin.getAddress(), 290n * USD)).wait();
    await (await collateralToken.connect(admin).approve(defaultLayers.getAddress(), 250n * USD)).wait();
    await (await defaultLayers.connect(admin).fundFirstLoss(250n * USD)).wait();
    // SOL-USD (market 2) isolated with a vault t5 stakes 300 in; AVAX-USD (market 3) with default layers of its
    // own (the local parameters, trigger off) holding 40 of first loss, no stakers. Neither is in the deployment
    // file: the CLI names them by id.
    const vault = await new InsuranceFund__factory(admin).deploy(
      token,
      ch,
      admin.getAddress(),
      86_400n,
      0n,
      10n ** 12n * USD,
      86_400n,
    );
    const avaxLayers = await new DefaultLayers__factory(admin).deploy(ch, admin.getAddress(), LOCAL_LAYERS);
    for (const [symbol, price, fund] of [
      ["SOL / USD", 100n, vault],
      ["AVAX / USD", 20n, avaxLayers],
    ] as const) {
      const feed = await new MockAggregatorV3__factory(admin).deploy(8, symbol, price * FEED_UNIT);
      const params = { ...LOCAL_RISK, oracleFeed: await feed.getAddress(), lossPolicy: 1n };
      await (await clearingHouse.connect(admin).listIsolatedMarket(params, await fund.getAddress())).wait();
    }
    await (await collateralToken.connect(admin).approve(avaxLayers.getAddress(), 40n * USD)).wait();
    await (await avaxLayers.connect(admin).fundFirstLoss(40n * USD)).wait();
    await (await collateralToken.connect(t5.connect(system.provider)).approve(vault.getAddress(), 300n * USD)).wait();
    await (await vault.connect(t5.connect(system.provider)).deposit(300n * USD, t5.address)).wait();
    const [solFund, avaxFund] = [await vault.getAddress(), await avaxLayers.getAddress()];

    const armed = await ok(["fund", "status"]);
    expect(armed).to.match(
      /\ndrawdown trigger: +30% of the funded layers within 8 h: no draw in the current window \(base 250 mUSD, 75 mUSD may be paid\)\n/,
    );
    const isolatedTable = (text: string): string[] =>
      text.slice(text.indexOf("isolated markets")).trimEnd().split("\n");
    const isolatedRows = [
      "isolated markets, each paid by its own fund only:",
      "market     fund                                        kind    size      fees set aside  would pay now",
      `market #2  ${solFund}  vault   300 mUSD  0.00 mUSD       300 mUSD`,
      `market #3  ${avaxFund}  layers  40 mUSD   0.00 mUSD       40 mUSD`,
    ];
    expect(isolatedTable(armed)).to.deep.equal(isolatedRows);

    // ETH falls to 900: trader 1 (long 1 at 2,000, 999 after its taker fee) is 101 short. The fees set aside
    // (30% of 0.6 + 1.5 = 0.63) and the layers' budget, 75, pay the first 75.63; the ADL counterparty the rest.
    // The layers paid 75 of a 250 base in the window: tripped. The isolated funds are not touched.
    await setEthPrice(900n * FEED_UNIT);
    const liquidator = t6.connect(system.provider);
    await (await collateralToken.mint(t6.address, 5_000n * USD)).wait();
    await (await collateralToken.connect(liquidator).approve(ch, 5_000n * USD)).wait();
    await (await clearingHouse.connect(liquidator).deposit(5_000n * USD)).wait();
    await (await clearingHouse.connect(liquidator).liquidate(t1.address, ETH_MARKET, MaxUint256)).wait();
    // The layers could pay 75.63 < 101: a deleverage case opens; its first step draws them, then trader 2 (short).
    await (await clearingHouse.connect(liquidator).autoDeleverage(t1.address, ETH_MARKET, t2.address, WAD)).wait();
    expect(await defaultLayers.firstLoss()).to.equal(175n * USD);

    const tripped = await ok(["fund", "status"]);
    const { start: windowStart } = await defaultLayers.drawdown();
    expect(tripped).to.include(
      `\ndrawdown trigger: 30% of the funded layers within 8 h: window from ${timestamp(windowStart)}, 75 mUSD of ` +
        "250 mUSD paid, 0 mUSD left — TRIPPED: the loss policy takes the rest until the window ends\n",
    );
    expect(tripped).to.match(/\nfirst loss +175 mUSD +0 mUSD\n/);
    expect(isolatedTable(tripped)).to.deep.equal(isolatedRows);

    interface StatusJson {
      layers: { drawdown: { base: string; drawn: string; budget: string | null; tripped: boolean } };
      isolated: unknown[];
    }
    const json = await okJson<StatusJson>(["fund", "status"]);
    expect(json.layers.drawdown).to.deep.include({ base: "250000000", drawn: "75000000", budget: "0", tripped: true });
    expect(json.isolated).to.deep.equal([
      {
        marketId: 2,
        market: "market #2",
        fund: solFund,
        kind: "vault",
        size: "300000000",
        pendingFees: "0",
        wouldPay: "300000000",
      },
      {
        marketId: 3,
        market: "market #3",
        fund: avaxFund,
        kind: "layers",
        size: "40000000",
        pendingFees: "0",
        wouldPay: "40000000",
      },
    ]);
    expect(await refused(["fund", "status", "0xnot-an-address"])).to.equal(
      "backstop: not an address: '0xnot-an-address'",
    );
  });

  it("member join, status, leave request then complete; a wrong step, notice or window is refused and changes nothing", async function () {
    const { collateralToken, defaultLayers } = system.contracts;
    if (defaultLayers === undefined) throw new Error("the local deployment has no default layers");
    interface MemberJson {
      member: boolean;
      contribution: string;
      shares: string;
      value: string;
      fundShare: string;
      requiredContribution: string;
      assessedInPeriod: string;
      assessmentCap: string;
      assessmentCapLeft: string;
      periodEnd: number | null;
      notice: { stage: string; leaveAt: number | null; closesAt: number | null; blocked: unknown };
    }
    // t1 is long 1 ETH at 2,000 (initial margin 200): the rule asks max(50, 10% × 200) = 50.
    const outsider = await okJson<MemberJson>(["member", "status", t1.address]);
    expect(outsider).to.deep.include({ member: false, contribution: "0", requiredContribution: "50000000" });
    expect(await ok(["member", "status", t1.address])).to.match(/\nrequired contribution: 50 mUSD to join now/);

    const before = await chainState();
    const allowance = await collateralToken.allowance(t4.address, defaultLayers.getAddress());
    expect(await refused(["member", "join", "20"], t4)).to.equal(
      "backstop: amount 20 mUSD is below the contribution a new member must make now: 50 mUSD (the larger of the " +
        "minimum and a share of your initial margin)",
    );
    expect(await refused(["member", "join", "20000"], t4)).to.equal(
      "backstop: amount 20,000 mUSD is more than the wallet holds (10,000 mUSD)",
    );
    expect(await refused(["member", "leave", "sideways"], t4, undefined, 2)).to.equal(
      "backstop: 'member leave' takes 'request' (give notice) or 'complete' (leave after it), not 'sideways'",
    );
    expect(await refused(["member", "leave", "request"], t4)).to.equal(
      `backstop: requestLeave reverted: NotMember(account=${t4.address}): the account is not a member ('member join <amount>' first)`,
    );
    expect(await chainState()).to.deep.equal(before);
    expect(await collateralToken.allowance(t4.address, defaultLayers.getAddress())).to.equal(allowance);

    expect(await ok(["member", "join", "100"], t4)).to.match(
      /^joined the members' fund with 100 mUSD; contribution now 100 mUSD \(tx 0x[0-9a-f]{64}\)\n$/,
    );
    expect(await collateralToken.balanceOf(t4.address)).to.equal(9_900n * USD);
    expect(await ok(["member", "join", "0.5"], t4)).to.match(/^added 0\.5 mUSD; contribution now 100\.5 mUSD /);
    // Shares: 100e6 × (0 + 10^6) / (0 + 1) = 10^14, then 0.5e6 × (10^14 + 10^6) / (100e6 + 1) = 5 × 10^11 (floor).
    const status = await okJson<MemberJson>(["member", "status"], t4);
    expect(status).to.deep.equal({
      ...status,
      member: true,
      contribution: "100500000",
      shares: "100500000000000",
      value: "100500000",
      fundShare: "1000000000000000000",
      requiredContribution: "50000000",
      assessedInPeriod: "0",
      assessmentCap: "201000000",
      assessmentCapLeft: "201000000",
      periodEnd: null,
      notice: { stage: "none", leaveAt: null, closesAt: null, blocked: null },
    });
    const text = await ok(["member", "status"], t4);
    expect(text).to.match(/\nshare of the fund: +100% \(worth 100\.5 mUSD\)\n/);
    expect(text).to.match(/\nassessed this period: +0 mUSD of at most 201 mUSD; 201 mUSD left \(no period running\)\n/);
    expect(text).to.match(/\nnotice to leave: +none given \('member leave request'\)\n$/);

    const noNotice = await refused(["member", "leave", "complete"], t4);
    expect(noNotice).to.equal(
      `backstop: leaveFund reverted: NoNotice(account=${t4.address}): give notice first: 'member leave request'`,
    );
    expect(await ok(["member", "leave", "request"], t4)).to.match(/^notice given: you may leave from /);
    const leaveAt = (await defaultLayers.memberOf(t4.address)).leaveAt;
    const running = await okJson<MemberJson>(["member", "status"], t4);
    expect(running.notice).to.deep.equal({
      stage: "running",
      leaveAt: Number(leaveAt),
      closesAt: Number(leaveAt) + 86_400,
      blocked: null,
    });
    const unchanged = await chainState();
    expect(await refused(["member", "leave", "request"], t4)).to.equal(
      `backstop: requestLeave reverted: NoticeAlreadyGiven(account=${t4.address}, leaveAt=${timestamp(leaveAt)}): ` +
        `you gave notice already; you may leave from ${timestamp(leaveAt)}`,
    );
    expect(await refused(["member", "leave", "complete"], t4)).to.equal(
      `backstop: leaveFund reverted: NoticeNotElapsed(account=${t4.address}, leaveAt=${timestamp(leaveAt)}): ` +
        `your notice runs until ${timestamp(leaveAt)}: 'member leave complete' from then`,
    );
    expect(await chainState()).to.deep.equal(unchanged);

    // Past the notice and its one-day window: lapsed.
    await advanceTime(system, 29 * 86_400);
    expect((await okJson<MemberJson>(["member", "status"], t4)).notice.stage).to.equal("lapsed");
    expect(await refused(["member", "leave", "complete"], t4)).to.equal(
      `backstop: leaveFund reverted: NoticeLapsed(account=${t4.address}, closedAt=${timestamp(leaveAt + 86_400n)}): ` +
        "the window to leave after your notice has closed: give notice again ('member leave request')",
    );

    // Notice again, 28 days: open; leaving pays the share back.
    await ok(["member", "leave", "request"], t4);
    await advanceTime(system, 28 * 86_400);
    expect((await okJson<MemberJson>(["member", "status"], t4)).notice.stage).to.equal("open");
    expect(await ok(["member", "leave", "complete"], t4)).to.match(
      /^left the members' fund: received 100\.5 mUSD \(tx 0x[0-9a-f]{64}\)\n$/,
    );
    expect(await collateralToken.balanceOf(t4.address)).to.equal(10_000n * USD);
    expect((await defaultLayers.memberOf(t4.address)).contribution).to.equal(0n);
    expect((await okJson<MemberJson>(["member", "status"], t4)).member).to.equal(false);
  });

  it("member commands on a deployment without default layers say so", async function () {
    const file = path.join(dir, "no-layers.json");
    const deployment = JSON.parse(readFileSync(system.path, "utf8")) as { contracts: Record<string, string> };
    delete deployment.contracts.defaultLayers;
    writeFileSync(file, JSON.stringify(deployment));
    expect(await refused(["member", "status", t1.address, "--deployment", file])).to.equal(
      "backstop: 'member status': this deployment has no default layers (no members' fund): deploy with layers",
    );
  });

  it("market status shows the oracle price, open interest, funding, parameters and loss policy", async function () {
    interface MarketJson {
      markets: {
        market: string;
        oraclePrice: string;
        longOpenInterest: string;
        shortOpenInterest: string;
        fundingRatePerDay: string;
        lossPolicy: string;
        openDeleverageCases: number;
        params: Record<string, string | number>;
      }[];
    }
    const all = await okJson<MarketJson>(["market", "status"]);
    expect(all.markets.map((m) => [m.market, m.lossPolicy])).to.deep.equal([
      ["ETH-USD", "adl"],
      ["BTC-USD", "socialized"],
    ]);
    const eth = all.markets[0];
    expect(eth).to.include({
      oraclePrice: "2000",
      longOpenInterest: "1.5",
      shortOpenInterest: "1.5",
      fundingRatePerDay: "0",
      openDeleverageCases: 0,
    });
    expect(eth.params).to.include({
      initialMarginRatio: "0.1",
      maintenanceMarginRatio: "0.05",
      makerFeeRatio: "0.0002",
      takerFeeRatio: "0.0005",
      priceBand: "0.05",
      oracleHeartbeat: 86_400,
      liquidationBuffer: "0",
    });
    expect(all.markets[1].oraclePrice).to.equal("60000");
    const text = await ok(["market", "status", "BTC-USD"]);
    expect(text).to.match(/oracle price: +60,000\.00/);
    expect(text).to.match(/liquidation: +discount 1%, fee 1%, restores maintenance \+ 0%/);
    expect(text).to.match(/loss policy: +socialized loss/);
  });

  it("bad input prints one line naming what was wrong, exits non-zero and changes nothing", async function () {
    const signedFile = path.join(dir, "edited.json");
    await writeOrder(t1, true, WAD / 10n, 1n, signedFile);
    const edited = JSON.parse(readFileSync(signedFile, "utf8")) as { order: { size: string } };
    edited.order.size = "5000000000000000000";
    writeFileSync(signedFile, JSON.stringify(edited));

    const before = await chainState();
    const sign = [
      "order",
      "sign",
      "--side",
      "buy",
      "--size",
      "1",
      "--price",
      "2000",
      "--out",
      path.join(dir, "x.json"),
    ];
    const cases: [string[], Wallet | undefined, RegExp][] = [
      [
        [...sign, "--market", "DOGE-USD"],
        t1,
        /^backstop: unknown market 'DOGE-USD' \(this deployment has ETH-USD, BTC-USD\)$/,
      ],
      [["frobnicate"], t1, /^backstop: unknown command 'frobnicate' \(try 'help'\)$/],
      [["order", "fill", signedFile], t3, /^backstop: order file .*edited\.json: hash does not match the order/],
      [["withdraw", "-5"], t1, /^backstop: amount must not be negative: -5$/],
      [["deposit", "1.0000001"], t5, /^backstop: amount has more than 6 decimals: 1\.0000001$/],
      [["deposit", "lots"], t5, /^backstop: amount is not a number: 'lots'$/],
      [["deposit", "20000"], t5, /^backstop: amount 20,000 mUSD is more than the wallet holds \(10,000 mUSD\)$/],
      // Trader 1 holds 999 against an initial margin of 200: withdrawing 900 leaves equity 99.
      [
        ["withdraw", "900"],
        t1,
        new RegExp(
          `^backstop: withdraw reverted: InsufficientMargin\\(account=${t1.address}, equity=99\\.00 mUSD, initialMargin=200\\.00 mUSD\\)$`,
        ),
      ],
      [["fund", "unstake"], t5, new RegExp(`^backstop: unstake reverted: NoUnstakeRequest\\(staker=${t5.address}\\)$`)],
      [
        ["deposit", "1"],
        undefined,
        /^backstop: 'deposit' needs a key: set BACKSTOP_PRIVATE_KEY or give --keystore <file>$/,
      ],
    ];
    const lines = await Promise.all(cases.map(([args, key]) => refused(args, key)));
    lines.forEach((line, i) => expect(line, cases[i][0].join(" ")).to.match(cases[i][2]));
    expect(await chainState()).to.deep.equal(before);
  });
});
