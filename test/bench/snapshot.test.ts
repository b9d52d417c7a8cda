import { expect } from "chai";

import { diffSnapshot, formatDiff, parseSnapshot, snapshotFails } from "../../bench/lib/snapshot.js";

describe("bench gas snapshot", function () {
  const snapshot = {
    deposit: 100_000,
    withdraw: 100_000,
    "fill: open": 100_000,
    "fill: close": 100_000,
    stake: 50_000,
  };

  it("sorts each operation by its change against the tolerance, edges included", function () {
    const diff = diffSnapshot(
      snapshot,
      {
        deposit: 101_000, // +1.000%: at the tolerance, passes
        withdraw: 101_001, // +1.001%: fails
        "fill: open": 98_999, // −1.001%: cheaper, reported
        "fill: close": 99_000, // −1.000%: within
        "ADL against one counterparty": 90_000, // not in the snapshot
      },
      0.01,
    );
    expect(diff.regressions.map((c) => c.operation)).to.deep.equal(["withdraw"]);
    expect(diff.improvements.map((c) => c.operation)).to.deep.equal(["fill: open"]);
    expect(diff.withinTolerance.map((c) => c.operation)).to.deep.equal(["deposit", "fill: close"]);
    expect(diff.missing).to.deep.equal(["ADL against one counterparty"]);
    expect(diff.stale).to.deep.equal(["stake"]);
    expect(Math.abs(diff.regressions[0].change - 0.01001)).to.be.below(1e-12);
    expect(snapshotFails(diff)).to.equal(true);
  });

  it("passes when every operation is within the tolerance or cheaper", function () {
    const diff = diffSnapshot({ deposit: 100_000 }, { deposit: 50_000 }, 0.01);
    expect(diff.improvements).to.have.length(1);
    expect(snapshotFails(diff)).to.equal(false);
  });

  it("prints one clear line per operation and per problem", function () {
    const diff = diffSnapshot({ deposit: 100_000, stake: 1 }, { deposit: 102_000, withdraw: 90_000 }, 0.01);
    expect(formatDiff(diff, 0.01)).to.deep.equal([
      "FAIL  more than 1.00% above the snapshot: deposit: 102000 gas, snapshot 100000 (+2.00%)",
      "FAIL  withdraw: measured but not in the snapshot (npm run gas:snapshot)",
      "FAIL  stake: in the snapshot but no longer measured (npm run gas:snapshot)",
    ]);
    const cheaper = diffSnapshot({ deposit: 100_000 }, { deposit: 97_000 }, 0.01);
    expect(formatDiff(cheaper, 0.01)).to.deep.equal([
      "CHEAPER by more than 1.00%, update the snapshot (npm run gas:snapshot): deposit: 97000 gas, snapshot 100000 (-3.00%)",
    ]);
  });

  it("refuses a negative tolerance", function () {
    expect(() => diffSnapshot(snapshot, snapshot, -0.01)).to.throw("tolerance -0.01 must be ≥ 0");
  });

  it("refuses a malformed snapshot file, naming the operation", function () {
    expect(parseSnapshot({ deposit: 51_697 }, "s.json")).to.deep.equal({ deposit: 51_697 });
    expect(() => parseSnapshot({ deposit: "51697" }, "s.json")).to.throw("s.json: deposit must be a finite number");
    expect(() => parseSnapshot({ deposit: 1.5 }, "s.json")).to.throw(
      "s.json: deposit must be a positive whole gas figure",
    );
    expect(() => parseSnapshot({ deposit: 0 }, "s.json")).to.throw("positive whole gas figure, got 0");
    expect(() => parseSnapshot({}, "s.json")).to.throw("s.json: the snapshot is empty");
    expect(() => parseSnapshot([1], "s.json")).to.throw("s.json: (top level) must be an object");
  });
});
