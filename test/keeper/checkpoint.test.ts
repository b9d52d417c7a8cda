import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, Network } from "ethers";

import { ClearingHouse__factory } from "../../typechain-types/index.js";
import { CheckpointWriter } from "../../keeper/src/checkpoint.js";
import { Indexer, type IndexerProgress } from "#sdk";
import { CheckpointError, readCheckpoint, writeCheckpoint, type Checkpoint } from "#keeper";

const ACCOUNT_A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const ACCOUNT_B = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const ACCOUNT_C = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const HOUSE = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

function sample(lastBlock: number, extraAccounts = 0): Checkpoint {
  const accounts = [ACCOUNT_A, ACCOUNT_B, ACCOUNT_C];
  for (let i = 0; i < extraAccounts; i++) accounts.push(`0x${(i + 1).toString(16).padStart(40, "0")}`);
  return {
    version: 1,
    chainId: 31337,
    clearingHouse: HOUSE,
    lastBlock,
    accounts,
    indexer: {
      lastBlock,
      hashes: [[lastBlock, `0x${"ab".repeat(32)}`]],
      accounts,
      positions: {
        [ACCOUNT_A]: [[0, "-4000000000000000000", "-8000000000000000000000", lastBlock - 2]],
        [ACCOUNT_B]: [[1, "1000000000000000000", "60000000000000000000000", lastBlock - 40]],
        [ACCOUNT_C]: [],
      },
      openCases: [ACCOUNT_A],
    },
    liquidatableSince: { [ACCOUNT_A]: lastBlock - 3 },
    confirmed: { [`liquidate:${ACCOUNT_B}:1:${lastBlock - 10}`]: lastBlock - 9 },
    pending: {
      [`liquidate:${ACCOUNT_A}:0:${lastBlock - 3}`]: {
        id: `liquidate:${ACCOUNT_A}:0:${lastBlock - 3}`,
        kind: "liquidate",
        account: ACCOUNT_A,
        marketId: 0,
        signer: ACCOUNT_C,
        nonce: 7,
        to: HOUSE,
        data: "0x1234",
        gasLimit: "300000",
        maxFeePerGas: "2000000000",
        maxPriorityFeePerGas: "1000000000",
        hashes: [`0x${"cd".repeat(32)}`],
        sentBlock: lastBlock - 1,
        sentAt: 1_700_000_000_000,
      },
    },
  };
}

describe("keeper checkpoint", function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), "keeper-checkpoint-"));
  });

  it("round-trips every field", async function () {
    const path = join(dir, "nested", "keeper.json");
    const checkpoint = sample(120);
    await writeCheckpoint(path, checkpoint);
    expect(readCheckpoint(path)).to.deep.equal(checkpoint);
  });

  it("is absent before the first write, and a damaged file is an error, not a fresh start", function () {
    expect(readCheckpoint(join(dir, "none.json"))).to.equal(undefined);
    const damaged = join(dir, "damaged.json");
    writeFileSync(damaged, '{"version": 1, "lastBlock": ');
    expect(() => readCheckpoint(damaged)).to.throw(CheckpointError, /is not valid JSON/);
    writeFileSync(damaged, JSON.stringify({ version: 99 }));
    expect(() => readCheckpoint(damaged)).to.throw(CheckpointError, /unknown format/);
    writeFileSync(damaged, JSON.stringify({ version: 1, lastBlock: 3 }));
    expect(() => readCheckpoint(damaged)).to.throw(CheckpointError, /incomplete/);
  });

  it("writes atomically: a reader never sees a partial file, and no temporary file is left", async function () {
    const path = join(dir, "keeper.json");
    await writeCheckpoint(path, sample(1, 2000));
    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        const seen = readCheckpoint(path);
        expect(seen, "always a whole checkpoint").not.to.equal(undefined);
        expect(seen?.accounts.length).to.be.greaterThan(3);
        reads++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    // Large files and concurrent writers: a non-atomic write would be caught half-written.
    await Promise.all(Array.from({ length: 30 }, (_, i) => writeCheckpoint(path, sample(i + 2, 2000))));
    reading = false;
    await reader;
    expect(reads).to.be.greaterThan(0);
    expect(readdirSync(dir)).to.deep.equal(["keeper.json"]);
  });

  it("a failed write leaves the previous checkpoint and no temporary file", async function () {
    const path = join(dir, "keeper.json");
    mkdirSync(path);
    let failed = false;
    await writeCheckpoint(path, sample(5)).catch(() => (failed = true));
    expect(failed).to.equal(true);
    expect(readdirSync(dir)).to.deep.equal(["keeper.json"]);
  });

  it("the writer collapses saves and its last write wins", async function () {
    const path = join(dir, "keeper.json");
    const writer = new CheckpointWriter(path);
    let builds = 0;
    const saves = [];
    for (let block = 1; block <= 20; block++) {
      saves.push(
        writer.save(() => {
          builds++;
          return sample(block);
        }),
      );
    }
    await Promise.all(saves);
    await writer.flush();
    expect(readCheckpoint(path)?.lastBlock).to.equal(20);
    expect(builds).to.be.lessThan(20);
  });

  it("resumes indexing reorgDepth blocks before the checkpoint, re-reading positions changed since", function () {
    const progress: IndexerProgress[] = [];
    const indexer = new Indexer({
      // Never called: restoring touches no RPC.
      provider: new JsonRpcProvider("http://127.0.0.1:9", Network.from(31337), { staticNetwork: true }),
      clearingHouse: HOUSE,
      iface: ClearingHouse__factory.createInterface(),
      onProgress: (p) => progress.push(p),
      startBlock: 10,
      logChunk: 2000,
      reorgDepth: 5,
      completeHistory: true,
    });
    indexer.restore(sample(100).indexer);
    expect(indexer.lastBlock).to.equal(95);
    // Restoring reads no head: the accounts are reported, the lag is not.
    expect(progress).to.deep.equal([{ accountsTracked: 3 }]);
    expect(indexer.accounts).to.have.members([ACCOUNT_A, ACCOUNT_B, ACCOUNT_C]);
    expect(indexer.openCases).to.deep.equal([ACCOUNT_A]);
    // A's position last changed at block 98, inside the blocks read again: unknown until read through the lens.
    expect(indexer.positionsOf(ACCOUNT_A)).to.equal(undefined);
    expect(indexer.unknownPositions).to.deep.equal([ACCOUNT_A]);
    expect(indexer.positionsOf(ACCOUNT_B)).to.deep.equal([
      { marketId: 1, size: 10n ** 18n, openNotional: 60_000n * 10n ** 18n },
    ]);
    expect(indexer.positionsOf(ACCOUNT_C)).to.deep.equal([]);
    expect(indexer.accountsOnSide(1, true)).to.deep.equal([ACCOUNT_B]);

    // A checkpoint younger than reorgDepth blocks after the start resumes at the start.
    const early = new Indexer({
      provider: new JsonRpcProvider("http://127.0.0.1:9", Network.from(31337), { staticNetwork: true }),
      clearingHouse: HOUSE,
      iface: ClearingHouse__factory.createInterface(),
      onProgress: (p) => progress.push(p),
      startBlock: 10,
      logChunk: 2000,
      reorgDepth: 5,
      completeHistory: true,
    });
    early.restore(sample(12).indexer);
    expect(early.lastBlock).to.equal(9);
  });
});
