import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";

import { DeploymentError, readDeployment } from "#sdk";

const dir = mkdtempSync(join(tmpdir(), "keeper-deployment-"));

const A = (n: number): string => `0x${n.toString(16).padStart(40, "0")}`;

function valid(): Record<string, unknown> {
  return {
    network: "localhost",
    chainId: 31337,
    startBlock: 12,
    contracts: {
      clearingHouse: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
      liquidationLogic: A(2),
      insuranceFund: A(3),
      lens: A(4),
      oracleAdapter: A(5),
      collateralToken: A(6),
    },
    markets: [
      { id: 0, symbol: "ETH-USD", feed: A(7), lossPolicy: "adl" },
      { id: 1, symbol: "BTC-USD", feed: A(8), lossPolicy: "socialized" },
    ],
  };
}

let files = 0;
function file(content: string): string {
  const path = join(dir, `deployment-${files++}.json`);
  writeFileSync(path, content);
  return path;
}

function rejects(path: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    readDeployment(path);
  } catch (error) {
    caught = error;
  }
  expect(caught).to.be.instanceOf(DeploymentError);
  const message = (caught as Error).message;
  expect(message).to.match(pattern);
  expect(message, "one line").not.to.include("\n");
}

function withChange(change: (d: Record<string, unknown>) => void): string {
  const d = valid();
  change(d);
  return file(JSON.stringify(d));
}

describe("keeper deployment file", function () {
  it("reads a valid file, checksumming the addresses", function () {
    const d = readDeployment(file(JSON.stringify(valid())));
    expect(d.network).to.equal("localhost");
    expect(d.chainId).to.equal(31337);
    expect(d.startBlock).to.equal(12);
    expect(d.contracts.clearingHouse).to.equal("0x5FbDB2315678afecb367f032d93F642f64180aa3");
    expect(d.markets).to.deep.equal([
      { id: 0, symbol: "ETH-USD", feed: A(7), lossPolicy: "adl" },
      { id: 1, symbol: "BTC-USD", feed: A(8), lossPolicy: "socialized" },
    ]);
  });

  it("missing file", function () {
    rejects(join(dir, "absent.json"), /^deployment file not found: .*absent\.json$/);
  });

  it("bad JSON", function () {
    rejects(file("{ not json"), /deployment-\d+\.json: bad JSON \(/);
    rejects(file("[]"), /not a JSON object/);
  });

  it("missing or invalid addresses", function () {
    rejects(
      withChange((d) => delete (d.contracts as Record<string, unknown>).lens),
      /: contracts\.lens is missing$/,
    );
    rejects(
      withChange((d) => ((d.contracts as Record<string, unknown>).insuranceFund = "0x1234")),
      /: contracts\.insuranceFund is not an address: "0x1234"$/,
    );
    rejects(
      withChange((d) => ((d.markets as Record<string, unknown>[])[1].feed = 42)),
      /: markets\[1\]\.feed is not an address: 42$/,
    );
    rejects(
      withChange((d) => delete d.contracts),
      /: contracts is missing$/,
    );
  });

  it("chainId and startBlock that are not numbers", function () {
    rejects(
      withChange((d) => (d.chainId = "31337")),
      /: chainId is not a number: "31337"$/,
    );
    rejects(
      withChange((d) => delete d.chainId),
      /: chainId is missing$/,
    );
    rejects(
      withChange((d) => (d.chainId = 1.5)),
      /: chainId is not a number: 1\.5$/,
    );
    rejects(
      withChange((d) => (d.startBlock = -1)),
      /: startBlock is not a number: -1$/,
    );
  });

  it("markets: missing, bad policy, duplicate ids", function () {
    rejects(
      withChange((d) => (d.markets = [])),
      /: markets is missing$/,
    );
    rejects(
      withChange((d) => ((d.markets as Record<string, unknown>[])[0].lossPolicy = "insurance")),
      /markets\[0\]\.lossPolicy must be "adl" or "socialized"/,
    );
    rejects(
      withChange((d) => ((d.markets as Record<string, unknown>[])[1].id = 0)),
      /two markets share an id/,
    );
    rejects(
      withChange((d) => (d.network = "")),
      /network is missing/,
    );
  });
});
