import { expect } from "chai";

import { WAD } from "#sdk";

import {
  concentration,
  DEFAULT_POPULATION,
  generatePopulation,
  parsePopulationCsv,
  POPULATION_HEADER,
} from "../../stress/lib/population.js";

const PRICES = { "ETH-USD": 2000n * WAD, "BTC-USD": 60_000n * WAD };
const sum = (x: bigint[]): bigint => x.reduce((a, b) => a + b, 0n);

describe("stress population", function () {
  it("is reproducible from its seed and differs for another seed", function () {
    const a = generatePopulation(DEFAULT_POPULATION, PRICES);
    expect(generatePopulation(DEFAULT_POPULATION, PRICES)).to.deep.equal(a);
    expect(generatePopulation({ ...DEFAULT_POPULATION, seed: 2 }, PRICES)).to.not.deep.equal(a);
    expect(a.filter((h) => h.account.startsWith("trader-"))).to.have.length(200);
  });

  it("balances each market with a maker, so long and short open interest are equal", function () {
    const holdings = generatePopulation(DEFAULT_POPULATION, PRICES);
    for (const market of ["ETH-USD", "BTC-USD"]) {
      expect(sum(holdings.filter((h) => h.market === market).map((h) => h.size))).to.equal(0n);
    }
  });

  it("keeps leverage within the cap and notionals within the Pareto bounds", function () {
    for (const h of generatePopulation(DEFAULT_POPULATION, PRICES).filter((x) => x.account.startsWith("trader-"))) {
      const notional = Number(((h.size < 0n ? -h.size : h.size) * h.entryPrice) / WAD / WAD);
      expect(notional).to.be.within(999, 2_000_001);
      expect(notional / (Number(h.collateral) / 1e6)).to.be.within(0.99, 10.01);
    }
  });

  it("reports concentration: the shares of the largest accounts", function () {
    const c = concentration([
      { account: "a", market: "ETH-USD", size: 3n * WAD, entryPrice: 2000n * WAD, collateral: 1n },
      { account: "b", market: "ETH-USD", size: -WAD, entryPrice: 2000n * WAD, collateral: 1n },
      { account: "c", market: "ETH-USD", size: -2n * WAD, entryPrice: 2000n * WAD, collateral: 1n },
    ]);
    expect([c.totalNotionalUsd, c.top1Share, c.top2Share]).to.deep.equal([12_000, 0.5, 10_000 / 12_000]);
    expect(c.largest.map((x) => x.account)).to.deep.equal(["a", "c", "b"]);
  });

  it("loads a population file, adding a maker for the net size", function () {
    const holdings = parsePopulationCsv(
      `${POPULATION_HEADER}\nalice,ETH-USD,long,1.5,2000,300.25\nbob,BTC-USD,short,0.1,60000,1000\n`,
      "pop.csv",
      2,
    );
    expect(holdings[0]).to.deep.equal({
      account: "alice",
      market: "ETH-USD",
      size: 1_500_000_000_000_000_000n,
      entryPrice: 2000n * WAD,
      collateral: 300_250_000n,
    });
    expect(holdings.map((h) => h.account)).to.deep.equal(["alice", "bob", "maker-ETH-USD", "maker-BTC-USD"]);
    // The ETH maker: short 1.5 at 2,000 = 3,000 USD at 2x: 1,500 USD in the 6-decimal token.
    expect(holdings[2]).to.include({ size: -1_500_000_000_000_000_000n, collateral: 1_500_000_000n });
  });

  it("refuses a bad population file with the line and what was wrong", function () {
    const bad =
      (body: string): (() => unknown) =>
      () =>
        parsePopulationCsv(`${POPULATION_HEADER}\n${body}`, "p.csv", 2);
    expect(() => parsePopulationCsv("account,size\n", "p.csv", 2)).to.throw(
      `p.csv:1: header is not "${POPULATION_HEADER}"`,
    );
    expect(bad("a,ETH-USD,long,1,2000")).to.throw("p.csv:2: expected 6 fields, got 5");
    expect(bad("a,SOL-USD,long,1,2000,10")).to.throw('p.csv:2: market "SOL-USD" is not one of ETH-USD, BTC-USD');
    expect(bad("a,ETH-USD,up,1,2000,10")).to.throw('p.csv:2: side "up" is not long or short');
    expect(bad("a,ETH-USD,long,-1,2000,10")).to.throw('p.csv:2: size "-1" is not a positive decimal number');
    expect(bad("a,ETH-USD,long,1,2000,0")).to.throw("p.csv:2: collateral is zero");
    expect(bad("a,ETH-USD,long,1,2000,1.0000001")).to.throw("has more than 6 decimals");
    expect(bad("a,ETH-USD,long,1,2000,10\na,BTC-USD,long,1,2000,10")).to.throw(
      'p.csv:3: account "a" appears twice; one position per account',
    );
    expect(bad("")).to.throw("p.csv: no accounts");
  });
});
