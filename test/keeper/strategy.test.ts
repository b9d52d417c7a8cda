import { expect } from "chai";

import { MAX_UINT256, WAD } from "#sdk";
import {
  deleverageId,
  liquidateId,
  liquidationOrder,
  entryScore,
  nextDeleverageStep,
  planJobs,
  socializeId,
  type AccountSnapshot,
  type DeleverageInput,
  type Snapshot,
} from "../../keeper/src/strategy.js";

const E = WAD;
const ETH = 0;
const BTC = 1;
const addr = (n: number): string => `0x${n.toString(16).padStart(40, "0")}`;
const [A, B, C, D, K] = [1, 2, 3, 4, 5].map(addr);

const MARKETS = new Map([
  [ETH, { lossPolicy: "adl" as const, maintenanceMarginRatio: WAD / 20n }],
  [BTC, { lossPolicy: "socialized" as const, maintenanceMarginRatio: WAD / 20n }],
]);
const PRICES = new Map([
  [ETH, 2000n * E],
  [BTC, 60_000n * E],
]);

function account(
  a: string,
  equity: bigint,
  maintenanceMargin: bigint,
  positions: AccountSnapshot["positions"],
): AccountSnapshot {
  return { account: a, equity, maintenanceMargin, positions, liquidatableSince: 40 };
}

function snapshot(fields: Partial<Snapshot>): Snapshot {
  return {
    block: 50,
    timestamp: 1_000_000n,
    deleverageTimeout: 3600n,
    markets: MARKETS,
    prices: PRICES,
    accounts: [],
    cases: [],
    busy: new Set(),
    confirmed: new Set(),
    minShortfallBps: 0,
    ...fields,
  };
}

const pos = (marketId: number, size: bigint, openNotional = 0n) => ({ marketId, size, openNotional });

describe("keeper strategy", function () {
  describe("planJobs", function () {
    it("plans nothing for healthy accounts", function () {
      const jobs = planJobs(snapshot({ accounts: [account(A, 100n * E, 50n * E, [pos(ETH, E)])] }));
      expect(jobs).to.deep.equal([]);
    });

    it("orders accounts by shortfall, largest first", function () {
      const jobs = planJobs(
        snapshot({
          accounts: [
            account(A, 90n * E, 100n * E, [pos(ETH, E)]), // shortfall 10
            account(B, 10n * E, 100n * E, [pos(ETH, E)]), // 90
            account(C, 60n * E, 100n * E, [pos(ETH, E)]), // 40
            account(D, 500n * E, 100n * E, [pos(ETH, E)]), // healthy
          ],
        }),
      );
      expect(jobs.map((j) => j.account)).to.deep.equal([B, C, A]);
    });

    it("a solvent account: one liquidate(account, market, max) per open market, largest requirement first", function () {
      const [job] = planJobs(
        snapshot({ accounts: [account(A, 10n * E, 100n * E, [pos(ETH, 2n * E), pos(BTC, -(E / 10n))])] }),
      );
      // ETH: 2 × 2000 = 4000 of notional; BTC: 0.1 × 60000 = 6000 → BTC first.
      expect(job).to.deep.equal({
        type: "liquidate",
        account: A,
        bankrupt: false,
        steps: [
          { id: liquidateId(A, BTC, 40), kind: "liquidate", account: A, marketId: BTC, size: MAX_UINT256 },
          { id: liquidateId(A, ETH, 40), kind: "liquidate", account: A, marketId: ETH, size: MAX_UINT256 },
        ],
      });
    });

    it("a bankrupt account: every market, the largest notional last", function () {
      const [job] = planJobs(
        snapshot({ accounts: [account(A, -5n * E, 100n * E, [pos(BTC, -(E / 10n)), pos(ETH, 5n * E)])] }),
      );
      expect(job.type).to.equal("liquidate");
      if (job.type !== "liquidate") return;
      expect(job.bankrupt).to.equal(true);
      // BTC 6000 < ETH 10000: ETH, the larger position, realizes the deficit under its policy.
      expect(job.steps.map((s) => s.marketId)).to.deep.equal([BTC, ETH]);
    });

    it("skips busy accounts, confirmed actions and accounts whose positions are unknown", function () {
      const jobs = planJobs(
        snapshot({
          accounts: [
            account(A, 10n * E, 100n * E, [pos(ETH, E)]),
            account(B, 10n * E, 100n * E, [pos(ETH, E), pos(BTC, E / 100n)]),
            account(C, 10n * E, 100n * E, undefined),
          ],
          busy: new Set([A]),
          confirmed: new Set([liquidateId(B, ETH, 40)]),
        }),
      );
      expect(jobs).to.have.length(1);
      expect(jobs[0].type === "liquidate" && jobs[0].steps.map((s) => s.id)).to.deep.equal([liquidateId(B, BTC, 40)]);
    });

    it("leaves solvent accounts only dust short of maintenance, never bankrupt ones", function () {
      const accounts = [
        account(A, 99_999n, 100_000n, [pos(ETH, E)]), // 0.1 bp short
        account(B, 99_989n, 100_000n, [pos(ETH, E)]), // 1.1 bp short
        account(C, -1n, 1n, [pos(ETH, E)]), // bankrupt by a wei
      ];
      const jobs = planJobs(snapshot({ accounts, minShortfallBps: 1 }));
      expect(jobs.map((j) => j.account)).to.have.members([B, C]);
      expect(planJobs(snapshot({ accounts, minShortfallBps: 0 })).map((j) => j.account)).to.have.members([A, B, C]);
    });

    it("a bankrupt account with an open case gets an ADL job, never a liquidation", function () {
      const jobs = planJobs(
        snapshot({
          accounts: [account(A, -50n * E, 100n * E, [pos(ETH, 5n * E)])],
          cases: [{ account: A, marketId: ETH, startedAt: 999_000n, longCounterparties: false }],
        }),
      );
      expect(jobs).to.deep.equal([
        {
          type: "deleverage",
          account: A,
          marketId: ETH,
          caseStart: 999_000n,
          longCounterparties: false,
          socializeAt: 999_000n + 3600n,
        },
      ]);
    });

    it("a case whose account recovered: liquidated if still below maintenance, else closed after the timeout", function () {
      const still = planJobs(
        snapshot({
          accounts: [account(A, 10n * E, 100n * E, [pos(ETH, 5n * E)])],
          cases: [{ account: A, marketId: ETH, startedAt: 999_000n, longCounterparties: false }],
        }),
      );
      expect(still.map((j) => j.type)).to.deep.equal(["liquidate"]);

      const recovered = { account: B, marketId: ETH, startedAt: 990_000n, longCounterparties: true };
      expect(planJobs(snapshot({ cases: [recovered], timestamp: 990_000n + 3599n }))).to.deep.equal([]);
      expect(planJobs(snapshot({ cases: [recovered], timestamp: 990_000n + 3600n }))).to.deep.equal([
        {
          type: "socialize",
          account: B,
          action: { id: socializeId(B, ETH, 990_000n), kind: "socialize", account: B, marketId: ETH },
        },
      ]);
    });
  });

  describe("liquidationOrder", function () {
    it("breaks ties by market id", function () {
      const order = liquidationOrder([pos(BTC, E), pos(ETH, 30n * E)], false, PRICES, MARKETS);
      expect(order.map((p) => p.marketId)).to.deep.equal([ETH, BTC]);
      const flat = liquidationOrder([pos(BTC, 0n), pos(ETH, E)], true, PRICES, MARKETS);
      expect(flat.map((p) => p.marketId)).to.deep.equal([ETH]);
    });
  });

  describe("nextDeleverageStep", function () {
    const rank = (account: string, score: bigint, unrealizedPnl = 100n * E, notional = 1000n * E) => ({
      account,
      score,
      unrealizedPnl,
      notional,
    });
    const input = (fields: Partial<DeleverageInput>): DeleverageInput => ({
      account: A,
      marketId: ETH,
      caseStart: 500n,
      bankruptSize: 5n * E,
      ranks: [],
      sizes: new Map(),
      excluded: new Set(),
      now: 600n,
      socializeAt: 4100n,
      ...fields,
    });

    it("takes the highest ADL score first, for the smaller of both sizes", function () {
      const step = nextDeleverageStep(
        input({
          ranks: [rank(B, 3n * E), rank(C, 7n * E), rank(D, 5n * E)],
          sizes: new Map([
            [B, -E],
            [C, -2n * E],
            [D, -9n * E],
          ]),
        }),
      );
      expect(step).to.deep.equal({
        kind: "deleverage",
        score: 7n * E,
        action: {
          id: deleverageId(A, ETH, 500n, C),
          kind: "deleverage",
          account: A,
          marketId: ETH,
          counterparty: C,
          size: 2n * E,
        },
      });
      const bigger = nextDeleverageStep(input({ ranks: [rank(D, E)], sizes: new Map([[D, -9n * E]]) }));
      expect(bigger.kind === "deleverage" && bigger.action.size).to.equal(5n * E);
    });

    it("only profitable positions, never the account itself or an excluded counterparty", function () {
      const step = nextDeleverageStep(
        input({
          ranks: [
            rank(A, 99n * E),
            rank(B, 0n, -5n * E),
            rank(C, 9n * E, 100n * E, 0n),
            rank(D, 8n * E),
            rank(K, 2n * E),
          ],
          excluded: new Set([D]),
        }),
      );
      expect(step.kind === "deleverage" && step.action.counterparty).to.equal(K);
    });

    it("breaks equal scores by address, and treats an infinite score (no collateral) as the highest", function () {
      const tie = nextDeleverageStep(input({ ranks: [rank(C, 4n), rank(B, 4n)] }));
      expect(tie.kind === "deleverage" && tie.action.counterparty).to.equal(B);
      const inf = nextDeleverageStep(input({ ranks: [rank(B, 10n ** 30n), rank(C, MAX_UINT256)] }));
      expect(inf.kind === "deleverage" && inf.action.counterparty).to.equal(C);
    });

    it("no eligible counterparty: wait, then the socialized path once the timeout has passed", function () {
      const none = [rank(B, 0n, 0n)];
      expect(nextDeleverageStep(input({ ranks: none, now: 4099n }))).to.deep.equal({ kind: "wait" });
      expect(nextDeleverageStep(input({ ranks: none, now: 4100n }))).to.deep.equal({
        kind: "socialize",
        action: { id: socializeId(A, ETH, 500n), kind: "socialize", account: A, marketId: ETH },
      });
    });

    describe("the side's first entry bucket (issue 15)", function () {
      // Shorts: B sold 1 ETH at 2,100 (bucket 18132, score 18133), C 2 ETH at 2,000 (bucket 18114, score 18115);
      // the buckets are those test/attacks/adl-order.test.ts computes independently.
      const side = new Map([
        [B, { size: -E, openNotional: -2100n * E }],
        [C, { size: -2n * E, openNotional: -4000n * E }],
      ]);
      const ranked = (bEquity: bigint) => [
        { ...rank(B, bEquity > 0n ? 18_133n : 0n, 400n * E), equity: bEquity },
        { ...rank(C, 18_115n, 600n * E), equity: 1_000n * E },
      ];

      it("computes the contract's entry score, whatever the profit", function () {
        expect(entryScore(side.get(B)!)).to.equal(18_133n);
        expect(entryScore(side.get(C)!)).to.equal(18_115n);
        expect(entryScore({ size: E, openNotional: 2000n * E })).to.equal(65_536n - 18_114n);
        expect(entryScore({ size: 0n, openNotional: 0n })).to.equal(0n);
      });

      it("held by an account with equity ≤ 0: liquidate it first instead of a refused step down the queue", function () {
        expect(nextDeleverageStep(input({ ranks: ranked(-5n * E), side }))).to.deep.equal({
          kind: "unblock",
          accounts: [B],
        });
        expect(nextDeleverageStep(input({ ranks: ranked(0n), side }))).to.deep.equal({
          kind: "unblock",
          accounts: [B],
        });
        // Without the side the keeper would have named C, which the contract refuses (DeleverageOutOfOrder).
        const blind = nextDeleverageStep(input({ ranks: ranked(-5n * E) }));
        expect(blind.kind === "deleverage" && blind.action.counterparty).to.equal(C);
      });

      it("once the holder is gone, the next bucket goes; an eligible holder goes first", function () {
        const after = nextDeleverageStep(
          input({ ranks: ranked(-5n * E).slice(1), side: new Map([[C, side.get(C)!]]) }),
        );
        expect(after.kind === "deleverage" && after.action.counterparty).to.equal(C);
        const eligible = nextDeleverageStep(input({ ranks: ranked(50n * E), side }));
        expect(eligible.kind === "deleverage" && eligible.action.counterparty).to.equal(B);
      });

      it("held by a solvent account the simulation ruled out: nobody below it; wait, then socialize", function () {
        const ruledOut = input({ ranks: ranked(50n * E), side, excluded: new Set([B]) });
        expect(nextDeleverageStep({ ...ruledOut, now: 4099n })).to.deep.equal({ kind: "wait" });
        expect(nextDeleverageStep({ ...ruledOut, now: 4100n }).kind).to.equal("socialize");
      });
    });

    it("done once the bankrupt position is gone", function () {
      expect(nextDeleverageStep(input({ bankruptSize: 0n, ranks: [rank(B, E)] }))).to.deep.equal({ kind: "done" });
    });
  });
});
