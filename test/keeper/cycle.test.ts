import { expect } from "chai";
import { ZeroAddress } from "ethers";

import {
  WAD,
  type AccountRow,
  type BlockHeader,
  type Deployment,
  type MarketInfo,
  type SyncResult,
  type TrackedPosition,
} from "#sdk";
import { AccountBook } from "../../keeper/src/book.js";
import { Cycle, type CycleDeps } from "../../keeper/src/cycle.js";
import { createLogger, createMetrics } from "#keeper";
import type { ExecResult } from "../../keeper/src/executor.js";

const A = "0x00000000000000000000000000000000000000aa";
const B = "0x00000000000000000000000000000000000000bb";
const PRICE = 2000n * WAD;
const ETH: MarketInfo = { id: 0, lossPolicy: "adl", initialMarginRatio: WAD / 10n, maintenanceMarginRatio: WAD / 20n };
const LONG: TrackedPosition = { marketId: 0, size: WAD, openNotional: 2000n * WAD };

/** The head the keeper reads (latestHeader). */
function block(number: number): BlockHeader {
  const hash = `0x${number.toString(16).padStart(64, "0")}`;
  const parentHash = `0x${(number - 1).toString(16).padStart(64, "0")}`;
  return { number, hash, parentHash, timestamp: BigInt(1_000 + number), baseFeePerGas: 1n };
}

const deployment: Deployment = {
  network: "test",
  chainId: 31337,
  startBlock: 1,
  contracts: {
    clearingHouse: ZeroAddress,
    liquidationLogic: ZeroAddress,
    insuranceFund: ZeroAddress,
    lens: ZeroAddress,
    oracleAdapter: ZeroAddress,
    collateralToken: ZeroAddress,
  },
  markets: [{ id: 0, symbol: "ETH-USD", feed: ZeroAddress, lossPolicy: "adl" }],
};

/** A chain seen through fakes of the reader and the indexer: accounts' rows and the next sync's answer. */
function fakeChain() {
  const rows = new Map<string, AccountRow>();
  const reads: string[][] = [];
  let reorg: SyncResult["reorg"];
  // The first sync sees both accounts' deposits; later blocks carry no event of theirs.
  const touched = [A, B];
  const deps: Pick<CycleDeps, "reader" | "indexer"> = {
    reader: {
      markets: () => Promise.resolve([ETH]),
      deleverageTimeout: () => Promise.resolve(600n),
      prices: () => Promise.resolve(new Map([[0, PRICE]])),
      positions: () => Promise.resolve([LONG]),
      health: (accounts) => {
        reads.push([...accounts]);
        return Promise.resolve(accounts.flatMap((a) => rows.get(a) ?? []));
      },
      cases: () => Promise.resolve([]),
    },
    indexer: {
      sync: (head) =>
        Promise.resolve({
          head,
          fromBlock: head.number,
          toBlock: head.number,
          touched: new Set(touched.splice(0)),
          discovered: new Set<string>(),
          socialized: [],
          marketsChanged: new Set<number>(),
          timeoutChanged: false,
          reorg,
        }),
      accounts: [A, B],
      accountsInMarket: () => [A, B],
      unknownPositions: [],
      setPositions: () => {},
      openCases: [],
      positionsOf: () => [LONG],
      forgetCase: () => {},
    },
  };
  const row = (account: string, equity: bigint): AccountRow => ({
    account,
    collateral: equity,
    equity,
    initialMargin: 200n * WAD,
    maintenanceMargin: 100n * WAD,
    liquidatable: equity < 100n * WAD,
    bankrupt: equity < 0n,
  });
  return {
    deps,
    reads,
    setEquity: (account: string, equity: bigint) => rows.set(account, row(account, equity)),
    reorgNext: (fromBlock: number, toBlock: number) => (reorg = { fromBlock, toBlock }),
  };
}

function cycleOn(chain: ReturnType<typeof fakeChain>) {
  const metrics = createMetrics();
  const cycle = new Cycle({
    ...chain.deps,
    book: new AccountBook({ refreshBlocks: 50, rereadBufferBps: 2000 }),
    deployment,
    config: { minShortfallBps: 1 },
    logger: createLogger({ level: "silent" }),
    metrics,
  });
  return { cycle, metrics };
}

const confirmedLiquidation = (id: string, account: string, block: number): ExecResult => ({
  action: { id, kind: "liquidate", account, marketId: 0 },
  outcome: "confirmed",
  signer: B,
  block,
});

describe("keeper cycle", function () {
  it("syncs, reads the touched accounts at the head and plans a liquidation for the one below maintenance", async function () {
    const chain = fakeChain();
    chain.setEquity(A, 50n * WAD); // 50 below a 100 maintenance margin
    chain.setEquity(B, 500n * WAD);
    const { cycle, metrics } = cycleOn(chain);

    const seen = await cycle.observe(block(100));
    expect(chain.reads).to.deep.equal([[A, B]]);
    expect(seen.head.number).to.equal(100);
    expect(seen.accounts.map((a) => a.account)).to.deep.equal([A]);
    expect(seen.bankrupt).to.equal(0);
    expect(cycle.lastHeadNumber).to.equal(100);
    expect((await metrics.liquidatableNow.get()).values[0].value).to.equal(1);

    const jobs = cycle.plan(seen, new Set());
    expect(jobs).to.deep.equal([
      {
        type: "liquidate",
        account: A,
        bankrupt: false,
        // Read at the head: the first step may go on that read while the head stays (Action.readAt).
        steps: [
          {
            id: `liquidate:${A}:0:100`,
            kind: "liquidate",
            account: A,
            marketId: 0,
            size: (1n << 256n) - 1n,
            readAt: 100,
          },
        ],
      },
    ]);
    // An account a job or a transaction is under way for is not planned.
    expect(cycle.plan(seen, new Set([A]))).to.deep.equal([]);
    // An action confirmed in the head block itself is not sent again.
    const id = jobs[0].type === "liquidate" ? jobs[0].steps[0].id : "";
    cycle.recordResult(confirmedLiquidation(id, A, 100));
    expect(cycle.plan(seen, new Set())).to.deep.equal([]);
  });

  it("does not read an account its own job is handling, and reads it once the job is over", async function () {
    const chain = fakeChain();
    chain.setEquity(A, 50n * WAD);
    chain.setEquity(B, 500n * WAD);
    const { cycle } = cycleOn(chain);
    await cycle.observe(block(100));
    // A is liquidatable, so due for a read every block; while its job runs it is not read.
    const busy = await cycle.observe(block(101), new Set([A]));
    expect(chain.reads.slice(1).flat()).to.deep.equal([]);
    expect(busy.accounts.map((a) => a.account)).to.deep.equal([A]); // still known liquidatable, from block 100
    expect(cycle.plan(busy, new Set([A]))).to.deep.equal([]);
    // A plan on an older read carries that read's block: the executor sees it is not the head's and checks the
    // account again at the head (a batched read, or its own simulation) before sending.
    const stale = cycle.plan(busy, new Set());
    expect(stale[0].type === "liquidate" && stale[0].steps[0].readAt).to.equal(100);
    cycle.recordResult(confirmedLiquidation(`liquidate:${A}:0:100`, A, 102));
    await cycle.observe(block(102));
    expect(chain.reads.slice(1).flat()).to.deep.equal([A]);
  });

  it("does not plan again what its own confirmed action settled, until a reorganisation undoes it", async function () {
    const chain = fakeChain();
    chain.setEquity(A, 50n * WAD);
    chain.setEquity(B, 500n * WAD);
    const { cycle } = cycleOn(chain);
    const at100 = await cycle.observe(block(100));
    const [job] = cycle.plan(at100, new Set());
    const id = job.type === "liquidate" ? job.steps[0].id : "";

    cycle.recordResult(confirmedLiquidation(id, A, 101));
    expect([...cycle.confirmed]).to.deep.equal([[id, 101]]);
    // A read older than the confirmation is not planned on.
    expect(cycle.plan(at100, new Set())).to.deep.equal([]);
    // The liquidation made A healthy; it is read again at the next block (our action touched it) and left alone.
    chain.setEquity(A, 150n * WAD);
    const at101 = await cycle.observe(block(101));
    expect(chain.reads[1]).to.deep.equal([A]);
    expect(cycle.plan(at101, new Set())).to.deep.equal([]);

    // Block 101 is replaced and the liquidation with it: the confirmation is forgotten, A is planned again.
    chain.setEquity(A, 50n * WAD);
    chain.reorgNext(101, 101);
    const afterReorg = await cycle.observe(block(101));
    expect(cycle.confirmed.size).to.equal(0);
    expect(cycle.plan(afterReorg, new Set()).map((j) => j.account)).to.deep.equal([A]);
  });
});
