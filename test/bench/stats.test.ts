import { expect } from "chai";

import {
  batchPacking,
  grows,
  largestWithin,
  median,
  percentile,
  quadraticThrough,
  ratio,
  scalePoints,
  summarize,
} from "../../bench/lib/stats.js";

describe("bench stats", function () {
  it("takes percentiles by nearest rank", function () {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
    expect(percentile(hundred, 50)).to.equal(50);
    expect(percentile(hundred, 99)).to.equal(99);
    expect(percentile(hundred, 100)).to.equal(100);
    expect(percentile([7, 3], 50)).to.equal(3);
    expect(percentile([7, 3], 51)).to.equal(7);
    expect(() => percentile([], 50)).to.throw("percentile of no samples");
    expect(() => percentile([1], 0)).to.throw("percentile: 0 is not in (0, 100]");
  });

  it("packs batches of a fixed and a per-item cost under a per-transaction cap into a block", function () {
    // The measured fit 152,068 + 103,236 × n: (2^24 − 152,068) / 103,236 = 161.04 → 161 items a transaction
    // (16,773,064 gas); the block's 30,000,000 − 16,773,064 = 13,226,936 left hold (13,226,936 − 152,068) /
    // 103,236 = 126.65 → 126 more (13,159,804 gas); the 67,132 then left are less than one item.
    expect(batchPacking(152_068, 103_236, 16_777_216, 30_000_000)).to.deep.equal({
      itemsPerTransaction: 161,
      perBlock: 287,
    });
    // Without a cap below the block, one transaction: ⌊(1,000 − 100) / 100⌋ = 9.
    expect(batchPacking(100, 100, 10_000, 1_000)).to.deep.equal({ itemsPerTransaction: 99, perBlock: 9 });
    expect(() => batchPacking(100, 1_000, 1_000, 30_000)).to.throw("exceeds the cap");
  });

  it("takes the middle sample, or the mean of the two middle ones", function () {
    expect(median([300, 100, 200])).to.equal(200);
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    expect(median([7])).to.equal(7);
  });

  it("refuses no samples and non-numbers", function () {
    expect(() => median([])).to.throw("median of no samples");
    expect(() => median([1, Number.NaN])).to.throw("sample NaN is not a finite number");
  });

  it("summarizes median, min, max and the number of runs", function () {
    expect(summarize([5, 1, 9, 3, 7])).to.deep.equal({ median: 5, min: 1, max: 9, runs: 5 });
  });

  it("divides by a positive baseline only", function () {
    expect(ratio(150, 100)).to.equal(1.5);
    expect(() => ratio(1, 0)).to.throw("baseline 0 is not positive");
  });

  it("orders scale points by n with ratios to the smallest n", function () {
    const points = scalePoints(
      new Map([
        [1000, 110],
        [1, 100],
        [100, 100],
      ]),
    );
    expect(points).to.deep.equal([
      { n: 1, gas: 100, ratio: 1 },
      { n: 100, gas: 100, ratio: 1 },
      { n: 1000, gas: 110, ratio: 1.1 },
    ]);
  });

  it("calls a curve growing only above the tolerance", function () {
    // 101,000 / 100,000 is exactly 1% above: not more than the tolerance.
    const atEdge = scalePoints(
      new Map([
        [1, 100_000],
        [1000, 101_000],
      ]),
    );
    const overEdge = scalePoints(
      new Map([
        [1, 100_000],
        [1000, 101_001],
      ]),
    );
    expect(grows(atEdge, 0.01)).to.equal(false);
    expect(grows(overEdge, 0.01)).to.equal(true);
    expect(() => grows(atEdge, -0.1)).to.throw("negative tolerance");
  });

  it("fits a parabola through three points and finds the largest x under a limit", function () {
    // y = 5 + 2x + 0.5x²: (1, 7.5), (2, 11), (4, 21).
    const fit = quadraticThrough([
      { x: 1, y: 7.5 },
      { x: 2, y: 11 },
      { x: 4, y: 21 },
    ]);
    expect(Math.abs(fit.a - 5)).to.be.below(1e-9);
    expect(Math.abs(fit.b - 2)).to.be.below(1e-9);
    expect(Math.abs(fit.c - 0.5)).to.be.below(1e-9);
    // At x = 10: 5 + 20 + 50 = 75.
    expect(largestWithin({ a: 5, b: 2, c: 0.5 }, 75)).to.equal(10);
    expect(largestWithin({ a: 5, b: 2, c: 0.5 }, 74.9)).to.equal(9);
    expect(largestWithin({ a: 5, b: 2, c: 0.5 }, 4)).to.equal(0);
    // Linear: 3x ≤ 10 → 3.
    expect(largestWithin({ a: 0, b: 3, c: 0 }, 10)).to.equal(3);
    expect(() =>
      quadraticThrough([
        { x: 1, y: 1 },
        { x: 1, y: 2 },
        { x: 3, y: 3 },
      ]),
    ).to.throw("the x values must differ");
  });
});
