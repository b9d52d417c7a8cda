import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { readCheckpoint } from "#keeper";
import { readDeleverageCases, readHealth, readPositions, readWaterfall } from "../../../devnet/chain.js";
import type { WaterfallLogs } from "../../../devnet/chain.js";
import { BTC_MARKET, ETH_MARKET, USD } from "../../../devnet/constants.js";
import { deploySystemOverRpc } from "../../../devnet/deploy.js";
import type { DeployedSystem } from "../../../devnet/deploy.js";
import { actionCount, createTestKeeper, notCleared, rpcCalls, runUntilQuiet } from "../../../devnet/keeper.js";
import type { TestKeeper } from "../../../devnet/keeper.js";
import { devWallet } from "../../../devnet/keys.js";
import { startHardhatNode } from "../../../devnet/node.js";
import type { HardhatNode } from "../../../devnet/node.js";
import { DEFAULT_GAP, gapPrices, modelHealth } from "../../../devnet/scenario/plan.js";
import type { RiskClass } from "../../../devnet/scenario/plan.js";
import { buildCrash, fundKeepers, priceGap, takeSnapshot } from "../../../devnet/scenario/crash.js";
import type { Crash } from "../../../devnet/scenario/crash.js";

/** The keeper's default --min-shortfall-bps: solvent accounts short of maintenance by less are left alone. */
const MIN_SHORTFALL_BPS = 1;
const KEEPER_COLLATERAL = 10_000_000n * USD;
/** Dev accounts the keepers sign with. */
const KEEPER_KEYS = [1, 2];

/**
 * A 60-account crash in both markets (ETH: ADL, BTC: socialized) handled by keepers run in process against a
 * `hardhat node`: one keeper, two racing, one restarted from its checkpoint. Every test starts from the same
 * state right after the price gap (evm_snapshot) and asserts on chain state and events.
 */
describe("keeper integration: crash", function () {
  this.timeout(180_000);

  let node: HardhatNode;
  let system: DeployedSystem;
  let crash: Crash;
  let gap: { blockNumber: number };
  let snapshot: { restore(): Promise<void> };
  let fundBefore: bigint;
  /** Designed class of every trader at the gap, from the plan's own margin math (not from the chain). */
  let classes: Map<string, RiskClass>;
  let deficits: Map<string, bigint>;
  const keepers: TestKeeper[] = [];

  before(async function () {
    node = await startHardhatNode();
    system = await deploySystemOverRpc(node.url, devWallet(0));
    crash = await buildCrash(system, { accounts: 60, seed: "keeper-integration" });
    await fundKeepers(
      system,
      KEEPER_KEYS.map((i) => devWallet(i).address),
      KEEPER_COLLATERAL,
    );
    fundBefore = await fundBalance();
    gap = await priceGap(system, DEFAULT_GAP);
    // The model's prices, not the chain's: ETH 2000 → 1700, BTC 60,000 → 69,000.
    const prices = gapPrices(crash.plan.prices, DEFAULT_GAP);
    expect(prices).to.deep.equal({ eth: 1700n * 10n ** 18n, btc: 69_000n * 10n ** 18n });
    classes = new Map();
    deficits = new Map();
    for (const trader of crash.traders) {
      const model = modelHealth(trader, prices);
      classes.set(trader.address, model.riskClass);
      if (model.equity < 0n) deficits.set(trader.address, -model.equity);
    }
    snapshot = await takeSnapshot(system);
  });

  afterEach(async function () {
    await Promise.all(keepers.splice(0).map((k) => k.close()));
    await snapshot?.restore();
  });

  after(async function () {
    system?.provider.destroy();
    await node?.stop();
  });

  function keeper(devKeys: number[], args: string[] = []): TestKeeper {
    const k = createTestKeeper({ url: node.url, deployment: system.path, devKeys, args });
    keepers.push(k);
    return k;
  }

  async function fundBalance(): Promise<bigint> {
    return system.contracts.collateralToken.balanceOf(await system.contracts.insuranceFund.getAddress());
  }

  const byClass = (riskClass: RiskClass): string[] => crash.accounts.filter((a) => classes.get(a) === riskClass);

  /** Liquidated events per account and market, as "account:market" → count. */
  function liquidationsPer(logs: WaterfallLogs): Map<string, number> {
    const counts = new Map<string, number>();
    for (const l of logs.liquidated) {
      const key = `${l.account}:${l.marketId}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * What every run must leave, whoever ran it: nobody short of maintenance beyond the keeper's tolerance,
   * bankrupt accounts flat at zero with one receipt each for their deficit, nothing liquidated twice.
   */
  async function expectCrashCleared(
    liquidators: readonly string[],
    { scoreOrder }: { scoreOrder: boolean },
  ): Promise<WaterfallLogs> {
    const rows = await readHealth(system, [...crash.accounts, ...liquidators]);
    expect(notCleared(rows, MIN_SHORTFALL_BPS).map((r) => r.account)).to.deep.equal([]);

    const logs = await readWaterfall(system, gap.blockNumber);
    expect(new Set(logs.liquidated.map((l) => l.liquidator))).to.satisfy((set: Set<string>) =>
      [...set].every((a) => liquidators.includes(a)),
    );

    // Nothing twice: each (account, market) liquidated at most once. The gap moves no price afterwards and
    // every fill was at the oracle price (funding stays zero), so an account liquidated back to maintenance
    // stays there; a second liquidation would be a duplicate.
    const counts = liquidationsPer(logs);
    for (const [key, count] of counts) expect(count, key).to.equal(1);

    // Every liquidatable account was liquidated in at least one of its markets.
    for (const account of byClass("liquidatable")) {
      expect(
        logs.liquidated.filter((l) => l.account === account && !l.bankrupt),
        account,
      ).to.have.length.greaterThan(0);
    }

    // Bankrupt accounts: no position, zero collateral, one receipt for exactly the deficit the gap made.
    const bankrupt = byClass("bankrupt");
    expect(bankrupt.length).to.be.greaterThan(5);
    const positions = await readPositions(system, bankrupt);
    for (const account of bankrupt) {
      expect(positions.get(account), account).to.deep.equal([]);
      expect(await system.contracts.clearingHouse.collateralOf(account), account).to.equal(0n);
      const receipts = logs.badDebtResolved.filter((r) => r.account === account);
      expect(receipts, account).to.have.length(1);
      const [r] = receipts;
      // Bankrupt positions pass at the oracle price and the fund pays the liquidator's reward: the deficit
      // is the model's negative equity at the gap, to the wei.
      expect(r.shortfall, account).to.equal(deficits.get(account));
      expect(r.fundPaid + r.deleveraged + r.socialized, account).to.equal(r.shortfall);
    }
    expect(logs.badDebtResolved.map((r) => r.account).sort()).to.deep.equal([...bankrupt].sort());

    // The fund: what left its balance is what its Drawn events say; the deficits' share of the draws is
    // what the receipts say the fund paid.
    const drawn = await system.contracts.insuranceFund.queryFilter(
      system.contracts.insuranceFund.filters.Drawn(),
      gap.blockNumber,
      "latest",
    );
    const drawnTotal = drawn.reduce((sum, e) => sum + e.args.amount, 0n);
    expect(drawnTotal).to.be.greaterThan(0n);
    expect(fundBefore - (await fundBalance())).to.equal(drawnTotal);
    const toDeficits = logs.fundDrawn.filter((d) => d.recipient === d.account).reduce((s, d) => s + d.amount, 0n);
    expect(toDeficits).to.equal(logs.badDebtResolved.reduce((s, r) => s + r.fundPaid, 0n));

    // The fund ran dry: both markets reached their third step.
    const adlReceipts = logs.badDebtResolved.filter((r) => r.marketId === ETH_MARKET && r.deleveraged > 0n);
    const socialReceipts = logs.badDebtResolved.filter((r) => r.marketId === BTC_MARKET && r.socialized > 0n);
    expect(adlReceipts.length, "ADL receipts").to.be.greaterThan(0);
    expect(socialReceipts.length, "socialized receipts").to.be.greaterThan(0);

    // The socialized market's index moved by the losses charged to its longs (the BTC losers are short).
    const btc = await system.contracts.clearingHouse.marketState(BTC_MARKET);
    expect(btc.longSocialLossIndex).to.be.greaterThan(0n);
    expect(logs.socialized.every((s) => s.marketId === BTC_MARKET && s.longSide)).to.equal(true);

    // Every ADL case resolved by deleveraging; in score order within each case when one keeper runs them.
    const cases = await readDeleverageCases(system, gap.blockNumber);
    expect(cases.length).to.equal(adlReceipts.length);
    for (const c of cases) {
      expect(c.resolved, c.account).to.equal(true);
      expect(c.steps.length, c.account).to.be.greaterThan(0);
      for (let i = 1; i < c.steps.length && scoreOrder; ++i) {
        expect(c.steps[i].score, `${c.account} step ${i}`).to.be.at.most(c.steps[i - 1].score);
      }
    }
    if (scoreOrder) await expectTopOfQueue(cases);
    return logs;
  }

  /**
   * Each ADL step took the best-scored counterparty on the chain right before it: with automine every step is
   * its own block, so the lens's ranks at the block before are what the keeper could see last.
   */
  async function expectTopOfQueue(cases: Awaited<ReturnType<typeof readDeleverageCases>>): Promise<void> {
    const shorts = crash.traders.filter((t) => t.legs.some((l) => l.marketId === ETH_MARKET && l.side === "short"));
    const candidates = shorts.map((t) => t.address);
    for (const c of cases) {
      for (const step of c.steps) {
        const ranks = await system.contracts.lens.adlRanks(ETH_MARKET, candidates, { blockTag: step.blockNumber - 1 });
        const best = ranks.reduce((max, r) => (r.score > max ? r.score : max), 0n);
        expect(step.score, `${c.account} → ${step.counterparty}`).to.equal(best);
      }
    }
  }

  it("one keeper clears the crash: liquidations, fund draws, ADL in score order, socialized losses", async function () {
    const k = keeper([1, 2]);
    const cycles = await runUntilQuiet(k);
    expect(cycles).to.be.at.least(2);
    await expectCrashCleared(k.addresses, { scoreOrder: true });
    expect(await actionCount(k, "failed")).to.equal(0);
    expect(await actionCount(k, "lost_race")).to.equal(0);
    // Every confirmed action is one mined transaction of its signers, nothing sent in vain.
    const nonces = await Promise.all(k.addresses.map((a) => system.provider.getTransactionCount(a)));
    expect(nonces.reduce((a, b) => a + b, 0)).to.equal(await actionCount(k, "confirmed"));

    // Afterwards a block with nothing to do costs three calls: the head (whose logs bloom rules out the clearing
    // house's logs in an empty block, so no eth_getLogs), one lens call for both markets' oracle prices and one
    // lens batch for the accounts left near maintenance (liquidated back to it exactly), re-read every block.
    const before = await rpcCalls(k.metrics);
    for (let i = 0; i < 3; ++i) {
      await node.rpc("evm_mine");
      expect((await k.cycle()).jobs).to.equal(0);
    }
    const after = await rpcCalls(k.metrics);
    const spent: Record<string, number> = {};
    for (const [method, n] of Object.entries(after.byMethod)) {
      const delta = n - (before.byMethod[method] ?? 0);
      if (delta !== 0) spent[method] = delta;
    }
    expect(spent).to.deep.equal({ eth_getBlockByNumber: 3, eth_call: 6 });
  });

  it("a feed the adapter refuses in one market leaves the other market's accounts handled", async function () {
    const { btcFeed, lens } = system.contracts;
    // The latest BTC round answered in an earlier round: the adapter refuses it as incomplete (time plays no part),
    // so no account holding BTC can be read or liquidated until the round is complete again.
    const [roundId, answer, startedAt, updatedAt, answeredInRound] = await btcFeed.latestRoundData();
    await (await btcFeed.setRoundData(roundId, answer, startedAt, updatedAt, answeredInRound - 1n)).wait();
    const [prices, ok] = await lens.oraclePrices([ETH_MARKET, BTC_MARKET]);
    expect([prices, ok]).to.deep.equal([
      [1700n * 10n ** 18n, 0n],
      [true, false],
    ]);

    const ethOnly = crash.traders.filter((t) => t.legs.every((l) => l.marketId === ETH_MARKET)).map((t) => t.address);
    const holdsBtc = crash.accounts.filter((a) => !ethOnly.includes(a));
    // A liquidatable account is liquidated; a bankrupt one may be closed by ADL alone, but always gets a receipt.
    const handled = (logs: WaterfallLogs, account: string): boolean =>
      classes.get(account) === "bankrupt"
        ? logs.badDebtResolved.some((r) => r.account === account)
        : logs.liquidated.some((l) => l.account === account);
    const due = (accounts: string[]): string[] => accounts.filter((a) => classes.get(a) !== "safe");
    expect(due(ethOnly).length).to.be.greaterThan(5);
    expect(due(holdsBtc).length).to.be.greaterThan(5);

    const k = keeper([1, 2]);
    await runUntilQuiet(k);
    expect(notCleared(await readHealth(system, ethOnly), MIN_SHORTFALL_BPS).map((r) => r.account)).to.deep.equal([]);
    const during = await readWaterfall(system, gap.blockNumber);
    expect(due(ethOnly).filter((a) => !handled(during, a))).to.deep.equal([]);
    const touched = (logs: WaterfallLogs): string[] => [
      ...new Set(
        [...logs.liquidated, ...logs.badDebtResolved].map((e) => e.account).filter((a) => holdsBtc.includes(a)),
      ),
    ];
    expect(touched(during)).to.deep.equal([]);
    expect(await actionCount(k, "failed")).to.equal(0);

    // The round is complete again: the same keeper reads the accounts it could not and handles them too.
    await (await btcFeed.setRoundData(roundId, answer, startedAt, updatedAt, answeredInRound)).wait();
    await runUntilQuiet(k);
    const rows = await readHealth(system, [...crash.accounts, ...k.addresses]);
    expect(notCleared(rows, MIN_SHORTFALL_BPS).map((r) => r.account)).to.deep.equal([]);
    const after = await readWaterfall(system, gap.blockNumber);
    expect(due(holdsBtc).filter((a) => !handled(after, a))).to.deep.equal([]);
    expect(await actionCount(k, "failed")).to.equal(0);
  });

  it("two keepers racing on the same crash: nothing twice, no failures, lost races counted as such", async function () {
    const a = keeper([1]);
    const b = keeper([2]);
    for (let n = 0; ; ++n) {
      expect(n, "cycles").to.be.below(30);
      const [ra, rb] = await Promise.all([a.cycle(), b.cycle()]);
      const acted = [...ra.results, ...rb.results].some((r) => r.outcome === "confirmed");
      if (!acted) break;
    }
    // Not in score order across keepers: two keepers on two cases of the same market each read the ranks,
    // then one's step lowers a counterparty's score before the other's lands (see keeper/README.md).
    const logs = await expectCrashCleared([...a.addresses, ...b.addresses], { scoreOrder: false });
    for (const k of [a, b]) expect(await actionCount(k, "failed")).to.equal(0);
    // They did race: at least one simulation found the work already done by the other.
    const lost = (await actionCount(a, "lost_race")) + (await actionCount(b, "lost_race"));
    expect(lost).to.be.greaterThan(0);
    // Each liquidation effect is one confirmed action of one of them (which one wins is down to timing): a
    // confirmed liquidate either moved a position (Liquidated) or opened an ADL case (DeleverageRequired).
    const confirmed =
      (await actionCount(a, "confirmed", "liquidate")) + (await actionCount(b, "confirmed", "liquidate"));
    const cases = await readDeleverageCases(system, gap.blockNumber);
    expect(confirmed).to.equal(logs.liquidated.length + cases.length);
  });

  it("a keeper restarted from its checkpoint mid-crash misses nothing and repeats nothing", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "keeper-restart-"));
    const checkpoint = path.join(dir, "checkpoint.json");
    // Two transactions in flight: a restart with several unmined, and a queue slow enough to stop halfway.
    const args = ["--checkpoint", checkpoint, "--poll-ms", "50", "--max-in-flight", "2"];
    const first = keeper([1], args);
    const loop = first.keeper.start();
    // Stop once part of the queue is done: liquidations confirmed, others still to come.
    const deadline = Date.now() + 60_000;
    while ((await actionCount(first, "confirmed")) < 8) {
      expect(Date.now()).to.be.below(deadline);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await first.close();
    await loop;
    const saved = readCheckpoint(checkpoint);
    expect(saved?.lastBlock).to.be.greaterThan(gap.blockNumber);
    const confirmedBefore = await actionCount(first, "confirmed");
    expect(Object.keys(saved?.confirmed ?? {})).to.have.length(confirmedBefore);
    const liquidatedBefore = (await readWaterfall(system, gap.blockNumber)).liquidated.length;
    expect(liquidatedBefore).to.be.below(byClass("liquidatable").length + byClass("bankrupt").length);

    const second = keeper([1], args);
    await runUntilQuiet(second);
    await expectCrashCleared(second.addresses, { scoreOrder: true });
    for (const k of [first, second]) expect(await actionCount(k, "failed")).to.equal(0);
    // Nothing sent twice: the signer's transactions are exactly the two runs' confirmed actions.
    const total = (await actionCount(first, "confirmed")) + (await actionCount(second, "confirmed"));
    expect(await system.provider.getTransactionCount(second.addresses[0])).to.equal(total);
    expect(await actionCount(second, "lost_race")).to.equal(0);
  });
});
