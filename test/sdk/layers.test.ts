import { expect } from "chai";

import { noticeState, type NoticeInputs } from "../../sdk/layers.js";

const DAY = 86_400n;

/** A member whose notice ends at day 30; the cooling-off period is 28 days; no default, no open case. */
const base: NoticeInputs = {
  leaveAt: 30n * DAY,
  now: 0n,
  leaveWindow: DAY,
  lastDefaultAt: 0n,
  coolingOffPeriod: 28n * DAY,
  openDeleverageCases: 0n,
};

describe("noticeState (DefaultLayers.leaveFund's rules)", function () {
  it("none, running until leaveAt, open for one window, then lapsed", function () {
    const closesAt = 31n * DAY;
    expect(noticeState({ ...base, leaveAt: 0n })).to.deep.equal({ stage: "none" });
    expect(noticeState({ ...base, now: 30n * DAY - 1n })).to.deep.equal({
      stage: "running",
      leaveAt: 30n * DAY,
      closesAt,
    });
    expect(noticeState({ ...base, now: 30n * DAY })).to.deep.equal({
      stage: "open",
      leaveAt: 30n * DAY,
      closesAt,
      blocked: undefined,
    });
    expect(noticeState({ ...base, now: closesAt - 1n }).stage).to.equal("open");
    expect(noticeState({ ...base, now: closesAt })).to.deep.equal({ stage: "lapsed", leaveAt: 30n * DAY, closesAt });
  });

  it("an open notice is blocked within a cooling-off period after a default, then by an open deleverage case", function () {
    const now = 30n * DAY;
    const defaultAt = 5n * DAY; // cooling off until day 33
    expect(noticeState({ ...base, now, lastDefaultAt: defaultAt, openDeleverageCases: 1n })).to.deep.include({
      stage: "open",
      blocked: { reason: "cooling-off", defaultAt, until: 33n * DAY },
    });
    // Day 2's default cools off until day 30: over at now; the open case still blocks.
    expect(noticeState({ ...base, now, lastDefaultAt: 2n * DAY, openDeleverageCases: 1n })).to.deep.include({
      blocked: { reason: "bad-debt-pending" },
    });
    expect(noticeState({ ...base, now, lastDefaultAt: 2n * DAY }).stage).to.equal("open");
  });
});
