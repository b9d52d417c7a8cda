import { expect } from "chai";
import { Transaction, Wallet, type Provider, type TransactionReceipt } from "ethers";

import { counterTotal, createLogger, createMetrics, type Metrics } from "#keeper";
import { ClearingHouse__factory } from "../../typechain-types/index.js";
import {
  Executor,
  type Action,
  type ExecResult,
  type ExecutorOptions,
  type SignerSlot,
} from "../../keeper/src/executor.js";

const CLEARING_HOUSE = "0x00000000000000000000000000000000000000c1";
const BASE_FEE = 1_000_000_000n;
const GAS = 200_000n;
const iface = ClearingHouse__factory.createInterface();

const account = (n: number): string => `0x${n.toString(16).padStart(40, "0")}`;
const liquidation = (n: number): Action => ({
  id: `liquidate:${account(n)}:0:1`,
  kind: "liquidate",
  account: account(n),
  marketId: 0,
});

/** A revert as ethers reports it: code CALL_EXCEPTION with the custom error's data. */
function revert(name: string, args: unknown[]): Error {
  return Object.assign(new Error(`execution reverted: ${name}`), {
    code: "CALL_EXCEPTION",
    data: iface.encodeErrorResult(name, args),
  });
}
const notLiquidatable = (a: string): Error => revert("NotLiquidatable", [a, 10n, 5n]);

interface Sent {
  hash: string;
  nonce: number;
  gasLimit: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  account: string;
}

/**
 * The part of a node the executor talks to: a pool of broadcast transactions mined on `mine()` in nonce order,
 * a nonce per sender, and a rule per account for what its liquidation does (succeed, or revert once mined or
 * already in the simulation). Counts every call by method.
 */
class FakeChain {
  head = 100;
  /** The next nonce the chain expects (mined), and the pool's view ("pending"). */
  minedNonce = 7;
  pool: Sent[] = [];
  readonly blocks = new Map<number, string[]>();
  readonly receipts = new Map<string, TransactionReceipt>();
  readonly calls = new Map<string, number>();
  /** Accounts whose liquidation reverts when simulated. */
  readonly refuseInSimulation = new Set<string>();
  /** Accounts whose liquidation reverts once mined (another keeper got there first in the same block). */
  readonly revertOnChain = new Set<string>();
  /** Transactions the pool forgets (dropped) instead of mining. */
  readonly drop = new Set<string>();
  /** Gas an account's liquidation needs (GAS unless set): under it, the transaction runs out of gas. */
  readonly gasNeed = new Map<string, bigint>();

  #count(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }

  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  get pendingNonce(): number {
    return Math.max(this.minedNonce, ...this.pool.map((t) => t.nonce + 1));
  }

  /** Mines every pooled transaction whose nonce is next, in nonce order; returns the hashes mined. */
  mine(): string[] {
    this.head++;
    const mined: string[] = [];
    for (;;) {
      const next = this.pool.find((t) => t.nonce === this.minedNonce);
      if (next === undefined) break;
      this.pool = this.pool.filter((t) => t !== next);
      this.minedNonce++;
      mined.push(next.hash);
      const need = this.gasNeed.get(next.account) ?? GAS;
      const outOfGas = next.gasLimit < need;
      const status = this.revertOnChain.has(next.account) || outOfGas ? 0 : 1;
      this.receipts.set(next.hash, {
        hash: next.hash,
        status,
        gasUsed: outOfGas ? next.gasLimit : need,
        blockNumber: this.head,
        logs: [],
      } as unknown as TransactionReceipt);
    }
    this.blocks.set(this.head, mined);
    return mined;
  }

  provider(): Provider {
    const accountOf = (data: string): string => iface.decodeFunctionData("liquidate", data)[0] as string;
    const fake = {
      estimateGas: (tx: { data: string }) => {
        this.#count("eth_estimateGas");
        const a = accountOf(tx.data);
        return this.refuseInSimulation.has(a)
          ? Promise.reject(notLiquidatable(a))
          : Promise.resolve(this.gasNeed.get(a) ?? GAS);
      },
      call: (tx: { data: string; blockTag: number | string }) => {
        this.#count("eth_call");
        const a = accountOf(tx.data);
        // A simulation at the head, or the replay of a mined revert on the state after its block (where the
        // account was already liquidated by someone else).
        const refused = tx.blockTag === "latest" ? this.refuseInSimulation.has(a) : this.revertOnChain.has(a);
        return refused ? Promise.reject(notLiquidatable(a)) : Promise.resolve("0x");
      },
      getBlock: (tag: number | string) => {
        this.#count("eth_getBlockByNumber");
        const n = tag === "latest" ? this.head : Number(tag);
        return Promise.resolve({
          number: n,
          baseFeePerGas: BASE_FEE,
          gasLimit: 30_000_000n,
          transactions: this.blocks.get(n) ?? [],
        });
      },
      getBlockNumber: () => {
        this.#count("eth_blockNumber");
        return Promise.resolve(this.head);
      },
      getTransactionCount: (_address: string, tag: string) => {
        this.#count("eth_getTransactionCount");
        return Promise.resolve(tag === "pending" ? this.pendingNonce : this.minedNonce);
      },
      getTransactionReceipt: (hash: string) => {
        this.#count("eth_getTransactionReceipt");
        return Promise.resolve(this.receipts.get(hash) ?? null);
      },
      broadcastTransaction: (raw: string) => {
        this.#count("eth_sendRawTransaction");
        const tx = Transaction.from(raw);
        if (tx.nonce < this.minedNonce) return Promise.reject(new Error("nonce too low"));
        const same = this.pool.find((t) => t.nonce === tx.nonce);
        if (same !== undefined && (tx.maxFeePerGas ?? 0n) * 10n < same.maxFeePerGas * 11n) {
          return Promise.reject(new Error("replacement transaction underpriced"));
        }
        const sent: Sent = {
          hash: tx.hash as string,
          nonce: tx.nonce,
          gasLimit: tx.gasLimit,
          maxFeePerGas: tx.maxFeePerGas ?? 0n,
          maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? 0n,
          account: accountOf(tx.data),
        };
        this.pool = this.pool.filter((t) => t.nonce !== tx.nonce);
        if (!this.drop.has(sent.account)) this.pool.push(sent);
        else this.drop.delete(sent.account); // dropped once; a replacement stays
        return Promise.resolve({ hash: sent.hash });
      },
    };
    return fake as unknown as Provider;
  }
}

async function executor(
  chain: FakeChain,
  metrics: Metrics,
  maxInFlight: number,
  feeBumpBlocks = 3,
  headReads?: ExecutorOptions["headReads"],
): Promise<Executor> {
  return Executor.create({
    ...(headReads === undefined ? {} : { headReads }),
    provider: chain.provider(),
    signers: [Wallet.createRandom()],
    clearingHouse: CLEARING_HOUSE,
    interfaces: [iface],
    chainId: 31337n,
    feeBumpBlocks,
    feeBumpPercent: 20,
    maxInFlight,
    pollMs: 5,
    dryRun: false,
    metrics,
    logger: createLogger({ level: "silent" }),
    onPending: () => {},
  });
}

/** Sends and mines a first liquidation, whose gas is estimated (not known yet); returns `calls()` after it. */
async function learnGas(chain: FakeChain, ex: Executor, slot: SignerSlot, calls: () => number): Promise<number> {
  const first = ex.execute(slot, liquidation(1));
  await until(() => chain.pool.length === 1, "the first transaction");
  chain.mine();
  await first;
  return calls();
}

/** Lets the executor's loops run until `done()` holds (they poll every 5 ms). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("keeper executor: several transactions in flight per signer", function () {
  it("sends without waiting for receipts, in nonce order; one reverted on chain is a lost race, the rest confirm", async function () {
    const chain = new FakeChain();
    const metrics = createMetrics();
    const ex = await executor(chain, metrics, 4);
    const slot = ex.acquire()!;
    for (let i = 1; i < 4; i++) expect(ex.take(slot)).to.equal(true);
    expect(ex.take(slot)).to.equal(false); // room for four jobs, no more
    chain.revertOnChain.add(account(2));

    const runs: Promise<ExecResult>[] = [1, 2, 3, 4].map((n) => ex.execute(slot, liquidation(n)));
    await until(() => chain.pool.length === 4, "four transactions in the pool");
    // All four are in the pool before any block: nonces 7…10, in the order the jobs sent them.
    expect(chain.pool.map((t) => t.nonce)).to.deep.equal([7, 8, 9, 10]);
    expect(chain.pool.map((t) => t.account)).to.deep.equal([1, 2, 3, 4].map(account));
    expect(chain.count("eth_getTransactionCount")).to.equal(1); // read once, then counted locally
    expect(chain.count("eth_getTransactionReceipt")).to.equal(0);
    // Simulation: the first of the kind estimated (limit + 25%), the others one eth_call each at the gas seen + 50%.
    expect(chain.count("eth_estimateGas")).to.equal(1);
    expect(chain.count("eth_call")).to.equal(3);
    expect(chain.pool.map((t) => t.gasLimit)).to.deep.equal([250_000n, 300_000n, 300_000n, 300_000n]);

    chain.mine();
    const results = await Promise.all(runs);
    expect(results.map((r) => r.outcome)).to.deep.equal(["confirmed", "lost_race", "confirmed", "confirmed"]);
    expect(results[1].revert?.name).to.equal("NotLiquidatable");
    expect(await counterTotal(metrics.actions, { outcome: "failed" })).to.equal(0);
    expect(await counterTotal(metrics.actions, { outcome: "lost_race" })).to.equal(1);
    // The reverted transaction used its nonce: the next one follows without asking the chain.
    expect(slot.nonce).to.equal(11);
    expect(slot.unmined.size).to.equal(0);
    // Receipts: one header for the block, then one receipt per transaction of ours in it.
    expect(chain.count("eth_getTransactionReceipt")).to.equal(4);
  });

  it("a call that runs out of the learned gas limit is estimated and sent once more", async function () {
    const chain = new FakeChain();
    const metrics = createMetrics();
    const ex = await executor(chain, metrics, 2);
    const slot = ex.acquire()!;
    const first = ex.execute(slot, liquidation(1));
    await until(() => chain.pool.length === 1, "the first transaction");
    chain.mine();
    expect((await first).outcome).to.equal("confirmed");
    // A bankrupt account's liquidation needs more than the first one used + 50%.
    chain.gasNeed.set(account(2), 3n * GAS);
    const second = ex.execute(slot, liquidation(2));
    await until(() => chain.pool.length === 1, "the second transaction");
    expect(chain.pool[0].gasLimit).to.equal((GAS * 150n) / 100n);
    chain.mine();
    await until(() => chain.pool.length === 1, "the transaction sent again");
    expect(chain.pool[0].gasLimit).to.equal((3n * GAS * 125n) / 100n);
    chain.mine();
    const result = await second;
    expect(result.outcome).to.equal("confirmed");
    expect(chain.count("eth_estimateGas")).to.equal(2);
    // The next of the kind gets the most gas seen so far + 50%.
    const third = ex.execute(slot, liquidation(3));
    await until(() => chain.pool.length === 1, "the third transaction");
    expect(chain.pool[0].gasLimit).to.equal((3n * GAS * 150n) / 100n);
    chain.mine();
    expect((await third).outcome).to.equal("confirmed");
  });

  it("sends a first step planned on a read at the head without its own simulation, only while the head stays", async function () {
    const chain = new FakeChain();
    const ex = await executor(chain, createMetrics(), 3);
    const slot = ex.acquire()!;
    ex.take(slot);
    ex.take(slot);
    const calls = (): number => chain.count("eth_call") + chain.count("eth_estimateGas");
    const before = await learnGas(chain, ex, slot, calls);
    const onRead = ex.execute(slot, { ...liquidation(2), readAt: chain.head });
    await until(() => chain.pool.length === 1, "the step planned on the read");
    expect(calls()).to.equal(before);
    expect(chain.pool[0].gasLimit).to.equal((GAS * 150n) / 100n);
    chain.mine();
    await onRead;
    // Planned on an older read: simulated.
    const older = ex.execute(slot, { ...liquidation(3), readAt: chain.head - 1 });
    await until(() => chain.pool.length === 1, "the step planned on an older read");
    expect(calls()).to.equal(before + 1);
    chain.mine();
    expect((await older).outcome).to.equal("confirmed");
  });

  it("sends first steps planned on an older read on one batched read at the head; the ones it rules out are simulated", async function () {
    const chain = new FakeChain();
    const asked: { account: string; block: number }[] = [];
    const headReads = {
      liquidatable: (a: string, _marketId: number, block: number): Promise<boolean> => {
        asked.push({ account: a, block });
        return Promise.resolve(a !== account(4)); // account 4 recovered since the plan's read
      },
    };
    const ex = await executor(chain, createMetrics(), 4, 3, headReads);
    const slot = ex.acquire()!;
    for (let i = 1; i < 4; i++) ex.take(slot);
    const calls = (): number => chain.count("eth_call") + chain.count("eth_estimateGas");
    const before = await learnGas(chain, ex, slot, calls);
    const planned = chain.head - 3;
    const runs = [2, 3, 4].map((n) => ex.execute(slot, { ...liquidation(n), readAt: planned }));
    await until(() => chain.pool.length === 3, "three transactions");
    // Each asked at the head, none at the plan's block; only the account the read ruled out was simulated.
    expect(asked).to.deep.equal([2, 3, 4].map((n) => ({ account: account(n), block: chain.head })));
    expect(calls()).to.equal(before + 1);
    expect(chain.pool.map((t) => t.account)).to.deep.equal([2, 3, 4].map(account));
    chain.mine();
    expect((await Promise.all(runs)).map((r) => r.outcome)).to.deep.equal(["confirmed", "confirmed", "confirmed"]);
    // A step that is not a job's first (no readAt) is simulated without asking.
    const later = ex.execute(slot, liquidation(5));
    await until(() => chain.pool.length === 1, "a later step");
    expect(asked).to.have.length(3);
    expect(calls()).to.equal(before + 2);
    chain.mine();
    await later;
  });

  it("a simulation that says 'not liquidatable' is a lost race, sent nothing and used no nonce", async function () {
    const chain = new FakeChain();
    const metrics = createMetrics();
    const ex = await executor(chain, metrics, 2);
    const slot = ex.acquire()!;
    chain.refuseInSimulation.add(account(5));
    const result = await ex.execute(slot, liquidation(5));
    expect(result.outcome).to.equal("lost_race");
    expect(result.revert?.name).to.equal("NotLiquidatable");
    expect(chain.count("eth_sendRawTransaction")).to.equal(0);
    expect(slot.nonce).to.equal(undefined);
    expect(await counterTotal(metrics.actions, { outcome: "failed" })).to.equal(0);
    // Quiet when the job said so (a later step of its own made it unnecessary): not counted at all.
    const quiet = await ex.execute(slot, liquidation(5), { quiet: new Set(["NotLiquidatable"]) });
    expect(quiet.outcome).to.equal("rejected");
    expect(await counterTotal(metrics.actions, { outcome: "lost_race" })).to.equal(1);
  });

  it("resyncs the nonce from the chain after 'nonce too low' (another process used it) and sends once more", async function () {
    const chain = new FakeChain();
    const ex = await executor(chain, createMetrics(), 2);
    const slot = ex.acquire()!;
    const first = ex.execute(slot, liquidation(1));
    await until(() => chain.pool.length === 1, "the first transaction");
    chain.mine();
    expect((await first).outcome).to.equal("confirmed");
    expect(slot.nonce).to.equal(8);
    // The same key sends elsewhere: nonces 8 and 9 are used behind the keeper's back.
    chain.minedNonce = 10;
    const second = ex.execute(slot, liquidation(2));
    await until(() => chain.pool.length === 1, "the resent transaction");
    expect(chain.pool[0].nonce).to.equal(10);
    expect(chain.count("eth_getTransactionCount")).to.equal(2); // the first read, and the resync
    chain.mine();
    expect((await second).outcome).to.equal("confirmed");
    expect(slot.nonce).to.equal(11);
  });

  it("replaces only the lowest unmined nonce when it is dropped; the ones behind it wait, then all confirm", async function () {
    const chain = new FakeChain();
    const ex = await executor(chain, createMetrics(), 2, 2);
    const slot = ex.acquire()!;
    ex.take(slot);
    chain.drop.add(account(1));
    const runs = [ex.execute(slot, liquidation(1)), ex.execute(slot, liquidation(2))];
    await until(() => chain.count("eth_sendRawTransaction") === 2, "both sends");
    // Nonce 7 is gone from the pool; 8 cannot be mined before it.
    expect(chain.pool.map((t) => t.nonce)).to.deep.equal([8]);
    const firstFee = chain.pool[0].maxFeePerGas;
    chain.mine();
    chain.mine();
    await until(() => chain.pool.length === 2, "the replacement of nonce 7");
    const replacement = chain.pool.find((t) => t.nonce === 7)!;
    expect(replacement.account).to.equal(account(1));
    expect(replacement.maxFeePerGas).to.equal((firstFee * 120n + 99n) / 100n);
    // Nonce 8 waited behind 7 and was not replaced.
    expect(chain.count("eth_sendRawTransaction")).to.equal(3);
    chain.mine();
    expect((await Promise.all(runs)).map((r) => r.outcome)).to.deep.equal(["confirmed", "confirmed"]);
  });
});
