import { expect } from "chai";
import { Wallet } from "ethers";

import { createLogger } from "#keeper";
import type { ExecResult, PendingTx, SignerSlot } from "../../keeper/src/executor.js";
import { Scheduler, type SignerPool } from "../../keeper/src/scheduler.js";
import { isolatedLane, type Job } from "../../keeper/src/strategy.js";

const A = "0x00000000000000000000000000000000000000aa";
const B = "0x00000000000000000000000000000000000000bb";
const C = "0x00000000000000000000000000000000000000cc";

/** `n` signer slots with room for `capacity` jobs each, the least loaded handed out first, as the executor does. */
function pool(n: number, capacity = 1): SignerPool & { slots: SignerSlot[] } {
  const slots: SignerSlot[] = Array.from({ length: n }, () => {
    const wallet = Wallet.createRandom();
    return { signer: wallet, address: wallet.address, nonce: 7, jobs: 0, unmined: new Set(), lane: Promise.resolve() };
  });
  const take = (slot: SignerSlot): boolean => {
    if (slot.jobs >= capacity) return false;
    slot.jobs++;
    return true;
  };
  return {
    slots,
    acquire: () => {
      const slot = [...slots].sort((a, b) => a.jobs - b.jobs)[0];
      return take(slot) ? slot : undefined;
    },
    take,
    release: (slot) => {
      slot.jobs--;
    },
    slotOf: (address) => slots.find((s) => s.address === address),
  };
}

const socialize = (account: string): Job => ({
  type: "socialize",
  account,
  action: { id: `socialize:${account}`, kind: "socialize", account, marketId: 0 },
});
const deleverage = (account: string, marketId: number): Job => ({
  type: "deleverage",
  account,
  marketId,
  caseStart: 1n,
  longCounterparties: true,
  socializeAt: 2n,
});

const confirmed = (job: Job, signer: string): ExecResult => ({
  action: { id: `${job.type}:${job.account}`, kind: "socialize", account: job.account, marketId: 0 },
  outcome: "confirmed",
  signer,
  block: 10,
});

/** A job run the test finishes by hand: `finish(account)` resolves it, `fail(account)` throws in it. */
function manualRuns() {
  const started: { account: string; signer: string }[] = [];
  const waiting = new Map<string, { resolve: (r: ExecResult[]) => void; reject: (e: Error) => void }>();
  const run = (slot: SignerSlot, job: Job): Promise<ExecResult[]> => {
    started.push({ account: job.account, signer: slot.address });
    return new Promise((resolve, reject) => waiting.set(job.account, { resolve, reject }));
  };
  const finish = (job: Job, signer: string): void => waiting.get(job.account)!.resolve([confirmed(job, signer)]);
  const fail = (account: string): void => waiting.get(account)!.reject(new Error("node went away"));
  return { started, run, finish, fail };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function pendingTx(id: string, account: string, signer: string): PendingTx {
  return {
    id,
    kind: "liquidate",
    account,
    marketId: 0,
    signer,
    nonce: 3,
    to: C,
    data: "0x",
    gasLimit: "100000",
    maxFeePerGas: "1",
    maxPriorityFeePerGas: "1",
    hashes: ["0x01"],
    sentBlock: 5,
    sentAt: 0,
  };
}

describe("keeper scheduler", function () {
  const logger = createLogger({ level: "silent" });

  /** A scheduler on `signers` whose adoptions confirm at once, with the ids adopted. */
  function adoptingScheduler(signers: SignerPool, run: (slot: SignerSlot, job: Job) => Promise<ExecResult[]>) {
    const adopted: string[] = [];
    const scheduler = new Scheduler({
      logger,
      run,
      adopt: (pending) => {
        adopted.push(pending.id);
        return Promise.resolve({ action: { ...pending }, outcome: "confirmed", signer: pending.signer });
      },
      onResult: () => {},
    });
    scheduler.attach(signers);
    return { scheduler, adopted };
  }

  it("runs jobs on free signers in plan order, queues the rest, and reports every result once", async function () {
    const signers = pool(2);
    const runs = manualRuns();
    const results: ExecResult[] = [];
    const scheduler = new Scheduler({
      logger,
      run: runs.run,
      adopt: () => Promise.reject(new Error("no orphans here")),
      onResult: (r) => results.push(r),
    });
    scheduler.attach(signers);
    const [a, b, c] = [socialize(A), socialize(B), socialize(C)];
    const done = scheduler.schedule([a, b, c]);
    expect(runs.started.map((s) => s.account)).to.deep.equal([A, B]);
    expect(scheduler.inFlight).to.equal(2);
    expect(scheduler.hasWork).to.equal(true);
    expect([...scheduler.busyAccounts()]).to.have.members([A, B]);

    runs.finish(a, signers.slots[0].address);
    await tick();
    // C takes the signer A's job gave back.
    expect(runs.started[2]).to.deep.equal({ account: C, signer: signers.slots[0].address });
    runs.finish(b, signers.slots[1].address);
    runs.finish(c, signers.slots[0].address);
    const all = await done;
    expect(all.map((r) => r.map((x) => x.action.account))).to.deep.equal([[A], [B], [C]]);
    expect(results.map((r) => r.action.account)).to.have.members([A, B, C]);
    expect(scheduler.inFlight).to.equal(0);
    expect(scheduler.hasWork).to.equal(false);
    expect(signers.slots.every((s) => s.jobs === 0)).to.equal(true);
  });

  it("runs one ADL job per market at a time and drops jobs for an account already handled", async function () {
    const signers = pool(3);
    const runs = manualRuns();
    const scheduler = new Scheduler({
      logger,
      run: runs.run,
      adopt: () => Promise.reject(new Error("no orphans here")),
      onResult: () => {},
    });
    scheduler.attach(signers);
    const first = deleverage(A, 0);
    const sameMarket = deleverage(B, 0);
    const otherMarket = deleverage(C, 1);
    const done = scheduler.schedule([first, sameMarket, otherMarket]);
    expect(runs.started.map((s) => s.account)).to.deep.equal([A, C]);

    // A new plan replaces the waiting jobs (B's resolves empty); A's job is still running, so its new one is
    // dropped at once; B's new one waits for market 0.
    const again = scheduler.schedule([deleverage(A, 0), deleverage(B, 0)]);
    expect(runs.started.map((s) => s.account)).to.deep.equal([A, C]);
    runs.finish(first, signers.slots[0].address);
    await tick();
    expect(runs.started.map((s) => s.account)).to.deep.equal([A, C, B]);
    runs.finish(deleverage(B, 0), signers.slots[0].address);
    runs.finish(otherMarket, signers.slots[1].address);
    const [firstPlan, secondPlan] = await Promise.all([done, again]);
    expect(firstPlan.map((r) => r.map((x) => x.action.account))).to.deep.equal([[A], [], [C]]);
    expect(secondPlan.map((r) => r.map((x) => x.action.account))).to.deep.equal([[], [B]]);
  });

  it("keeps an interrupted job's unmined transaction as an orphan and adopts it on its own signer", async function () {
    const signers = pool(1);
    const runs = manualRuns();
    const adopted: PendingTx[] = [];
    const scheduler = new Scheduler({
      logger,
      run: runs.run,
      adopt: (pending) => {
        adopted.push(pending);
        return Promise.resolve({
          action: { id: pending.id, kind: pending.kind, account: pending.account, marketId: pending.marketId },
          outcome: "confirmed",
          signer: pending.signer,
          block: 12,
        });
      },
      onResult: () => {},
    });
    scheduler.attach(signers);
    const signer = signers.slots[0].address;
    const done = scheduler.schedule([socialize(A)]);
    scheduler.onPending("tx-a", pendingTx("tx-a", A, signer));
    expect(Object.keys(scheduler.unmined())).to.deep.equal(["tx-a"]);
    runs.fail(A);
    expect(await done).to.deep.equal([[]]);
    // The signer's nonce is read again before its next transaction; the transaction waits to be adopted.
    expect(signers.slots[0].nonce).to.equal(undefined);
    expect(scheduler.hasWork).to.equal(true);
    expect([...scheduler.busyAccounts()]).to.deep.equal([A]);

    const results = await Promise.all(scheduler.adoptOrphans());
    expect(adopted.map((p) => p.id)).to.deep.equal(["tx-a"]);
    expect(results.flat().map((r) => r.outcome)).to.deep.equal(["confirmed"]);
    expect(scheduler.hasWork).to.equal(false);
  });

  it("runs several jobs on one signer up to its room; an interrupted one orphans only its own transaction", async function () {
    const signers = pool(1, 3);
    const runs = manualRuns();
    const { scheduler, adopted } = adoptingScheduler(signers, runs.run);
    const signer = signers.slots[0].address;
    const D = "0x00000000000000000000000000000000000000dd";
    const jobs = [socialize(A), socialize(B), socialize(C), socialize(D)];
    const done = scheduler.schedule(jobs);
    // Three jobs on the one signer at once; the fourth waits for room.
    expect(runs.started).to.deep.equal([A, B, C].map((account) => ({ account, signer })));
    expect([...scheduler.queuedAccounts()]).to.deep.equal([D]);
    expect(signers.slots[0].jobs).to.equal(3);
    scheduler.onPending("tx-a", pendingTx("tx-a", A, signer));
    scheduler.onPending("tx-b", { ...pendingTx("tx-b", B, signer), nonce: 4 });
    runs.fail(A);
    await tick();
    // A's transaction waits to be adopted; B's is still its running job's; D took A's room.
    expect(Object.keys(scheduler.unmined())).to.have.members(["tx-a", "tx-b"]);
    expect([...scheduler.busyAccounts()]).to.have.members([A, B, C, D]);
    expect(runs.started.map((s) => s.account)).to.deep.equal([A, B, C, D]);
    expect(scheduler.adoptOrphans()).to.deep.equal([]); // no room on the signer yet
    runs.finish(jobs[1], signer);
    runs.finish(jobs[2], signer);
    await tick();
    await Promise.all(scheduler.adoptOrphans());
    expect(adopted).to.deep.equal(["tx-a"]);
    runs.finish(jobs[3], signer);
    expect((await done).map((r) => r.map((x) => x.action.account))).to.deep.equal([[], [B], [C], [D]]);
  });

  it("adopts a checkpoint's transactions only once their signer and account are free", async function () {
    const signers = pool(1);
    const runs = manualRuns();
    const { scheduler, adopted } = adoptingScheduler(signers, runs.run);
    const signer = signers.slots[0].address;
    scheduler.restorePending({ "tx-b": pendingTx("tx-b", B, signer) });
    const job = socialize(A);
    const done = scheduler.schedule([job]);
    expect(scheduler.adoptOrphans()).to.deep.equal([]);
    runs.finish(job, signer);
    await done;
    await Promise.all(scheduler.adoptOrphans());
    expect(adopted).to.deep.equal(["tx-b"]);
  });

  it("starts nothing once halted, and drains the jobs in flight", async function () {
    const signers = pool(1);
    const runs = manualRuns();
    const scheduler = new Scheduler({
      logger,
      run: runs.run,
      adopt: () => Promise.reject(new Error("no orphans here")),
      onResult: () => {},
    });
    scheduler.attach(signers);
    const first = socialize(A);
    const done = scheduler.schedule([first, socialize(B)]);
    scheduler.halt();
    const drained = scheduler.drain();
    runs.finish(first, signers.slots[0].address);
    await drained;
    expect(await done).to.deep.equal([[confirmed(first, signers.slots[0].address)], []]);
    expect(await scheduler.schedule([socialize(C)])).to.deep.equal([[]]);
    expect(runs.started.map((s) => s.account)).to.deep.equal([A]);
  });

  it("runs an isolated market's jobs on its own signer only; a full lane holds back its own jobs, not the other's", async function () {
    // One shared signer and market 5's own signer, one job each at a time.
    const shared = pool(1);
    const own = pool(1);
    const lanes: SignerPool = {
      acquire: (market) => (market === 5 ? own.acquire() : market === undefined ? shared.acquire() : undefined),
      take: (slot) => (own.slots.includes(slot) ? own.take(slot) : shared.take(slot)),
      release: (slot) => (own.slots.includes(slot) ? own.release(slot) : shared.release(slot)),
      slotOf: (address) => own.slotOf(address) ?? shared.slotOf(address),
    };
    const runs = manualRuns();
    const isolated = new Set([5]);
    const scheduler = new Scheduler({
      logger,
      run: runs.run,
      adopt: () => Promise.reject(new Error("no orphans here")),
      onResult: () => undefined,
      lane: (job) => isolatedLane(job, isolated),
    });
    scheduler.attach(lanes);
    const D = "0x00000000000000000000000000000000000000dd";
    const socializeIn = (account: string, marketId: number): Job => ({
      type: "socialize",
      account,
      action: { id: `socialize:${account}`, kind: "socialize", account, marketId },
    });
    const jobs = [socialize(A), deleverage(B, 5), socialize(C), socializeIn(D, 5)];
    const done = scheduler.schedule(jobs);
    await tick();
    // A on the shared signer, B on market 5's; C waits for the shared signer, D for market 5's.
    const [sharedAddress, ownAddress] = [shared.slots[0].address, own.slots[0].address];
    expect(runs.started).to.deep.equal([
      { account: A, signer: sharedAddress },
      { account: B, signer: ownAddress },
    ]);
    runs.finish(jobs[1], ownAddress);
    await tick();
    // Market 5's signer is free: D runs on it, although C (shared) is ahead of it in the queue.
    expect(runs.started.slice(2)).to.deep.equal([{ account: D, signer: ownAddress }]);
    runs.finish(jobs[0], sharedAddress);
    await tick();
    expect(runs.started.slice(3)).to.deep.equal([{ account: C, signer: sharedAddress }]);
    runs.finish(jobs[3], ownAddress);
    runs.finish(jobs[2], sharedAddress);
    expect((await done).map((r) => r.length)).to.deep.equal([1, 1, 1, 1]);
    // The lane of a job: the isolated market it acts in, whatever the kind; none for shared markets.
    const liquidate = (marketIds: number[]): Job => ({
      type: "liquidate",
      account: A,
      bankrupt: true,
      steps: marketIds.map((marketId) => ({ id: `l:${marketId}`, kind: "liquidate", account: A, marketId })),
    });
    expect(isolatedLane(liquidate([0, 1]), isolated)).to.equal(undefined);
    expect(isolatedLane(liquidate([5]), isolated)).to.equal(5);
    expect(isolatedLane(deleverage(B, 5), isolated)).to.equal(5);
    expect(isolatedLane(socializeIn(D, 5), new Set())).to.equal(undefined);
  });
});
