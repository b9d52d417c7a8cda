import { readFile } from "node:fs/promises";
import { expect } from "chai";

import { alignByDate, intradayMoves, logReturns, parseOhlcCsv } from "../../stress/lib/data.js";
import { expectNear } from "./near.js";

const HEADER = "Date,Open,High,Low,Close,Adj Close,Volume";
const csv = (...rows: string[]): string => [HEADER, ...rows].join("\n");

describe("stress price data", function () {
  it("parses days, skips all-null rows and lists them", function () {
    const s = parseOhlcCsv(
      csv(
        "2020-01-01,100,110,90,105,105,1",
        "2020-01-02,null,null,null,null,null,null",
        "2020-01-03,105,106,80,100,100,2",
      ),
      "x.csv",
    );
    expect(s.days.map((d) => d.date)).to.deep.equal(["2020-01-01", "2020-01-03"]);
    expect(s.skippedNullDates).to.deep.equal(["2020-01-02"]);
    expect(s.days[1]).to.deep.equal({ date: "2020-01-03", open: 105, high: 106, low: 80, close: 100 });
  });

  it("refuses bad files with the line and the reason", function () {
    expect(() => parseOhlcCsv("a,b\n", "x.csv")).to.throw(`x.csv: header is not "${HEADER}"`);
    expect(() => parseOhlcCsv(csv("2020-01-01,100,110,null,105,105,1"), "x.csv")).to.throw(
      'x.csv line 2: low "null" is not a positive number',
    );
    expect(() => parseOhlcCsv(csv("2020-01-01,100,110,101,105,105,1"), "x.csv")).to.throw(
      "x.csv line 2: low 101 / high 110 do not bracket open 100 and close 105",
    );
    expect(() => parseOhlcCsv(csv("2020-01-02,1,1,1,1,1,1", "2020-01-01,1,1,1,1,1,1"), "x.csv")).to.throw(
      "x.csv line 3: date 2020-01-01 is not after 2020-01-02",
    );
    expect(() => parseOhlcCsv(csv("2020-01-01,1,1,1,1,1"), "x.csv")).to.throw("expected 7 columns, got 6");
    // Blank lines are skipped but still counted, so the line number is the file's.
    expect(() => parseOhlcCsv(csv("", "2020-01-01,1,1,1,1,1"), "x.csv")).to.throw("x.csv line 3: expected 7 columns");
    expect(() => parseOhlcCsv(csv("2020-01-01,1,1,1,1,1,1"), "x.csv")).to.throw("fewer than two days");
  });

  it("takes log returns of consecutive calendar days only", function () {
    const days = parseOhlcCsv(
      csv(
        "2020-02-28,100,100,100,100,0,0",
        "2020-02-29,100,120,90,110,0,0",
        "2020-03-01,110,120,90,99,0,0",
        "2020-03-03,99,99,90,90,0,0",
      ),
      "x.csv",
    ).days;
    const r = logReturns(days);
    // 2020 is a leap year: 28 Feb → 29 Feb → 1 Mar are consecutive; 1 Mar → 3 Mar is a gap.
    expect(r.map((d) => d.date)).to.deep.equal(["2020-02-29", "2020-03-01"]);
    expectNear(r[0].value, Math.log(1.1), 1e-15);
    expectNear(r[1].value, Math.log(0.9), 1e-15);
  });

  it("measures the open-to-low drawdown and the excursions beyond the open–close body", function () {
    const [m] = intradayMoves([{ date: "2020-03-12", open: 100, high: 104, low: 60, close: 80 }]);
    expectNear(m.openToLow, 0.4, 1e-15);
    expectNear(m.down, Math.log(80 / 60), 1e-15);
    expectNear(m.up, Math.log(104 / 100), 1e-15);
  });

  it("finds the crash days of the shipped data as the data README gives them", async function () {
    const btc = parseOhlcCsv(await readFile("stress/data/btc-usd-daily.csv", "utf8"), "btc").days;
    const eth = parseOhlcCsv(await readFile("stress/data/eth-usd-daily.csv", "utf8"), "eth").days;
    const drop = (days: typeof btc, date: string): number =>
      intradayMoves(days.filter((d) => d.date === date))[0].openToLow;
    expectNear(drop(btc, "2020-03-12"), 0.386, 0.0005);
    expectNear(drop(eth, "2020-03-12"), 0.429, 0.0005);
    expectNear(drop(btc, "2021-05-19"), 0.286, 0.0005);
    expectNear(drop(eth, "2021-05-19"), 0.423, 0.0005);
    const pairs = alignByDate(logReturns(btc), logReturns(eth));
    expect(pairs.every(([a, b]) => a.date === b.date)).to.equal(true);
    expect(pairs.length).to.equal(logReturns(eth).length);
  });
});
