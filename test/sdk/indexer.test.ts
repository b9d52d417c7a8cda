import { expect } from "chai";
import type { Log, Provider } from "ethers";

import { Indexer, bloomMayContain, isLogRangeError, type BlockHeader } from "#sdk";
import { ethers } from "../../devnet/hardhat/fixture.js";
import { ClearingHouse__factory } from "../../typechain-types/index.js";

const CLEARING_HOUSE = "0x00000000000000000000000000000000000000c1";
const EMPTY_BLOOM = `0x${"00".repeat(256)}`;

const header = (number: number, logsBloom?: string): BlockHeader => ({
  number,
  hash: `0x${number.toString(16).padStart(64, "0")}`,
  parentHash: `0x${(number - 1).toString(16).padStart(64, "0")}`,
  timestamp: BigInt(number),
  baseFeePerGas: 1n,
  logsBloom,
});

/** A provider that serves no logs and refuses, as Alchemy-like providers do, any range over `maxSpan` blocks. */
function cappedProvider(maxSpan: number) {
  const ranges: [number, number][] = [];
  const provider = {
    getLogs: ({ fromBlock, toBlock }: { fromBlock: number; toBlock: number }): Promise<Log[]> => {
      ranges.push([fromBlock, toBlock]);
      if (toBlock - fromBlock + 1 > maxSpan) {
        return Promise.reject(
          Object.assign(new Error("could not coalesce error"), {
            code: "UNKNOWN_ERROR",
            error: { code: -32005, message: "query returned more than 10000 results" },
          }),
        );
      }
      return Promise.resolve([]);
    },
    // The chain agrees with the headers of this test (reorganisation checks).
    getBlock: (n: number) => Promise.resolve({ hash: header(n).hash }),
  };
  return { provider: provider as unknown as Provider, ranges };
}

function indexer(provider: Provider, logChunk: number): Indexer {
  return new Indexer({
    provider,
    clearingHouse: CLEARING_HOUSE,
    iface: ClearingHouse__factory.createInterface(),
    startBlock: 1,
    logChunk,
    reorgDepth: 5,
    completeHistory: true,
  });
}

describe("sdk indexer: fewer eth_getLogs (issue 15)", function () {
  it("splits a range the provider refuses and keeps the smaller span for the next reads", async function () {
    const { provider, ranges } = cappedProvider(100);
    const ix = indexer(provider, 1_000);
    const sync = await ix.sync(header(350));
    expect([sync.fromBlock, sync.toBlock]).to.deep.equal([1, 350]);
    expect(ranges).to.deep.equal([
      [1, 350], // refused: 350 blocks
      [1, 175], // refused: 175
      [1, 87],
      [88, 174],
      [175, 261],
      [262, 348],
      [349, 350],
    ]);
    expect(ix.lastBlock).to.equal(350);
  });

  it("passes on an error that is not about the range, and a single block the provider still refuses", async function () {
    const down = {
      getLogs: () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })),
    };
    await expect(indexer(down as unknown as Provider, 1_000).sync(header(10))).to.be.rejectedWith("ECONNREFUSED");
    const { provider, ranges } = cappedProvider(0);
    await expect(indexer(provider, 4).sync(header(4))).to.be.rejected;
    expect(ranges).to.deep.equal([
      [1, 4],
      [1, 2],
      [1, 1],
    ]);
  });

  it("recognizes the providers' range and result-count refusals, and nothing else", function () {
    const nested = (message: string, code = -32000) => ({ code: "UNKNOWN_ERROR", error: { code, message } });
    expect(isLogRangeError(nested("query returned more than 10000 results"))).to.equal(true);
    expect(isLogRangeError(nested("eth_getLogs is limited to a 10,000 block range"))).to.equal(true);
    expect(
      isLogRangeError(
        nested("Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range"),
      ),
    ).to.equal(true);
    expect(isLogRangeError(nested("something", -32005))).to.equal(true);
    expect(isLogRangeError(nested("execution reverted"))).to.equal(false);
    expect(isLogRangeError(new Error("connect ECONNREFUSED"))).to.equal(false);
  });

  it("skips eth_getLogs for one new block whose bloom rules out the clearing house, and only then", async function () {
    const { provider, ranges } = cappedProvider(1_000);
    const ix = indexer(provider, 1_000);
    await ix.sync(header(10));
    expect(ranges).to.have.length(1);
    await ix.sync(header(11, EMPTY_BLOOM));
    expect(ranges).to.have.length(1); // no log of the clearing house can be in block 11
    expect(ix.lastBlock).to.equal(11);
    await ix.sync(header(12)); // no bloom read: ask
    await ix.sync(header(14, EMPTY_BLOOM)); // two blocks: one bloom says nothing of block 13
    expect(ranges.slice(1)).to.deep.equal([
      [12, 12],
      [13, 14],
    ]);
  });

  it("reads a real block's bloom: the emitting contract may be in it, an address that emitted nothing is not", async function () {
    const token = await ethers.deployContract("MockERC20", ["T", "T", 6]);
    const [holder] = await ethers.getSigners();
    const receipt = await (await token.mint(holder.address, 1n)).wait();
    const raw = (await ethers.provider.send("eth_getBlockByNumber", [
      `0x${receipt!.blockNumber.toString(16)}`,
      false,
    ])) as { logsBloom: string };
    expect(bloomMayContain(raw.logsBloom, await token.getAddress())).to.equal(true);
    expect(bloomMayContain(raw.logsBloom, "0x000000000000000000000000000000000000dEaD")).to.equal(false);
    expect(bloomMayContain(EMPTY_BLOOM, await token.getAddress())).to.equal(false);
  });
});
