// liquidateAccount (issue 15): one call for every position of a bankrupt account. Differential against the single
// liquidate calls (same block, same timestamp), a worked example by hand, and its refusals. Set-up: ./account-support.ts.
import { expect } from "chai";

import {
  LOSS_POLICY_ADL,
  LOSS_POLICY_HAIRCUT,
  LOSS_POLICY_SOCIALIZED,
  USD,
  WAD,
  ethers,
  networkHelpers,
} from "../../../devnet/hardhat/fixture.js";
import { mined } from "../../../devnet/hardhat/trading.js";
import { ev, waterfallEvents } from "../../../devnet/hardhat/waterfall.js";
import { accountFixture, fullState, singlesAndAccount } from "./account-support.js";
import type { AccountCtx, AccountSpec, MarketSpec } from "./account-support.js";

const E = WAD;
const ADL = LOSS_POLICY_ADL;
const SOC = LOSS_POLICY_SOCIALIZED;
const HAIRCUT = LOSS_POLICY_HAIRCUT;

function m(policy: bigint, size: bigint, open: bigint, moved: bigint): MarketSpec {
  return { policy, size, open, moved };
}

/** ETH long 2 at 2,000 → 1,800 and BTC long 0.1 at 60,000 → 52,000: equity 1,100 − 2 − 1,200 = −102; BTC largest. */
const TWO = [m(ADL, 2n * E, 2000n * E, 1800n * E), m(SOC, E / 10n, 60_000n * E, 52_000n * E)];
/** Losses 600 + 700 + 600 on 14,000 opened (fees 2.8): equity −402.8; BTC (6,700) largest, ETH and X2 tie at 3,400. */
const THREE_SOC = [
  m(ADL, 2n * E, 2000n * E, 1700n * E),
  m(SOC, -E / 10n, 60_000n * E, 67_000n * E),
  m(SOC, 40n * E, 100n * E, 85n * E),
];
/** Losses 1,500 + 300 + 300 on 16,000 opened (fees 3.2): equity −453.2; ETH (8,500, an ADL market) largest. */
const THREE_ADL = [
  m(ADL, 5n * E, 2000n * E, 1700n * E),
  m(SOC, E / 20n, 60_000n * E, 54_000n * E),
  m(SOC, -30n * E, 100n * E, 110n * E),
];
/**
 * ETH long 2 at 2,000 → 1,000 (loss 2,000, notional 2,000) and BTC short 0.1 at 60,000 → 52,000 (profit 800, notional
 * 5,200, the largest): equity 1,100 − 2 − 2,000 + 800 = −102, but ETH's hand-over alone takes the collateral to −902.
 * The deficit is the account's, realized once with BTC (−102), not ETH's −902 with ETH.
 */
const LOSS_FIRST = [m(ADL, 2n * E, 2000n * E, 1000n * E), m(SOC, -E / 10n, 60_000n * E, 52_000n * E)];
/** Ten markets of every policy, longs and shorts; losses 2,125 on 20,200 opened (fees 4.04): equity −99.04. */
function ten(largestPolicy: bigint, tieAt7 = false): MarketSpec[] {
  return [
    m(ADL, E, 2000n * E, 1800n * E),
    m(SOC, -E / 50n, 60_000n * E, 63_000n * E),
    m(SOC, 20n * E, 100n * E, 90n * E),
    m(ADL, -15n * E, 100n * E, 105n * E),
    m(HAIRCUT, 25n * E, 100n * E, 88n * E),
    m(largestPolicy, 60n * E, 100n * E, 85n * E), // 5,100: the largest
    m(ADL, -10n * E, 100n * E, 110n * E),
    tieAt7 ? m(SOC, 60n * E, 100n * E, 85n * E) : m(SOC, 18n * E, 100n * E, 92n * E),
    m(HAIRCUT, -12n * E, 100n * E, 108n * E),
    m(SOC, 10n * E, 100n * E, 95n * E),
  ];
}

const CASES: { name: string; spec: AccountSpec; expect: "covered" | "socialized" | "case" }[] = [
  { name: "2 markets, the fund covers", spec: { markets: TWO, deposit: 1_100n, drawCap: 1_000n }, expect: "covered" },
  { name: "2 markets, the fund short", spec: { markets: TWO, deposit: 1_100n, drawCap: 50n }, expect: "socialized" },
  {
    name: "2 markets, the smaller loses more than the collateral, the largest is in profit, the fund short",
    spec: { markets: LOSS_FIRST, deposit: 1_100n, drawCap: 50n },
    expect: "socialized",
  },
  {
    name: "2 markets, the smaller loses more than the collateral, the largest is in profit, the fund covers",
    spec: { markets: LOSS_FIRST, deposit: 1_100n, drawCap: 1_000n },
    expect: "covered",
  },
  {
    name: "3 markets, socialized largest, the fund short, a tie among the others",
    spec: { markets: THREE_SOC, deposit: 1_500n, drawCap: 100n },
    expect: "socialized",
  },
  {
    name: "3 markets, ADL largest, the fund covers",
    spec: { markets: THREE_ADL, deposit: 1_650n, drawCap: 1_000n },
    expect: "covered",
  },
  {
    name: "3 markets, ADL largest, the fund short: a deleverage case opens after the others pass",
    spec: { markets: THREE_ADL, deposit: 1_650n, drawCap: 100n },
    expect: "case",
  },
  {
    name: "10 markets, socialized largest, the fund covers",
    spec: { markets: ten(SOC), deposit: 2_030n, drawCap: 1_000n },
    expect: "covered",
  },
  {
    name: "10 markets, socialized largest, the fund short",
    spec: { markets: ten(SOC), deposit: 2_030n, drawCap: 30n },
    expect: "socialized",
  },
  {
    name: "10 markets, haircut largest, the fund short",
    spec: { markets: ten(HAIRCUT), deposit: 2_030n, drawCap: 30n },
    expect: "socialized",
  },
  {
    name: "10 markets, ADL largest, the fund short",
    spec: { markets: ten(ADL), deposit: 2_030n, drawCap: 30n },
    expect: "case",
  },
  {
    name: "10 markets, two equal largest (the first goes last), the fund short",
    spec: { markets: ten(SOC, true), deposit: 2_450n, drawCap: 10n },
    expect: "socialized",
  },
];

// loadFixture needs one named function per fixture (a computed key names it).
const fixtures = new Map(
  CASES.map((c) => [c.name, { [c.name]: (): Promise<AccountCtx> => accountFixture(c.spec) }[c.name]]),
);

describe("liquidateAccount: equal to the single liquidate calls, to the wei", function () {
  for (const testCase of CASES) {
    it(testCase.name, async function () {
      const fixture = fixtures.get(testCase.name);
      if (fixture === undefined) throw new Error("no fixture");
      const c = await networkHelpers.loadFixture(fixture);
      expect((await c.clearingHouse.accountHealth(c.alice.address)).equity).to.be.lessThan(0n);
      const { singles, account } = await singlesAndAccount(c);

      expect(account.state).to.deep.equal(singles.state);
      expect(account.events).to.deep.equal(singles.events);
      // The path each case is named after.
      const names = account.events.map((e) => e.name);
      const liquidated = names.filter((n) => n === "Liquidated").length;
      const resolved = account.events.find((e) => e.name === "BadDebtResolved")?.args;
      if (testCase.expect === "case") {
        expect(names).to.include("DeleverageRequired");
        expect(liquidated).to.equal(testCase.spec.markets.length - 1);
        expect((await c.clearingHouse.deleverageCaseOf(c.alice.address)).open).to.equal(true);
      } else {
        expect(liquidated).to.equal(testCase.spec.markets.length);
        expect(resolved, "BadDebtResolved").to.not.equal(undefined);
        const socialized = (resolved as bigint[])[5] + (resolved as bigint[])[7];
        if (testCase.expect === "covered") expect(socialized).to.equal(0n);
        else expect(socialized).to.be.greaterThan(0n);
        expect(await c.clearingHouse.openMarketsOf(c.alice.address)).to.deep.equal([]);
      }
    });
  }
});

/**
 * Worked example (fees and funding off). alice deposits 1,400 and, as maker at the oracle, buys 2 ETH at 2,000 from
 * bob (ETH, ADL), buys 0.1 BTC at 60,000 from erin (BTC, socialized) and sells 30 X2 at 100 to frank (X2,
 * socialized): 13,000 of notional, initial margin 1,300. ETH falls to 1,800, BTC to 52,000, X2 rises to 110: alice's
 * equity = 1,400 − 400 − 800 − 300 = −100. Notionals 3,600, 5,200 and 3,300: BTC is the largest and goes last. The
 * fund (10,000 staked) may pay 60 today.
 */
const WORKED: AccountSpec = {
  markets: [
    m(ADL, 2n * E, 2000n * E, 1800n * E),
    m(SOC, E / 10n, 60_000n * E, 52_000n * E),
    m(SOC, -30n * E, 100n * E, 110n * E),
  ],
  deposit: 1_400n,
  drawCap: 60n,
  quiet: true,
};
const workedFixture = (): Promise<AccountCtx> => accountFixture(WORKED);

describe("liquidateAccount: worked example, three markets", function () {
  it("ETH and X2 pass at the oracle, then BTC: the fund pays 60, 40 goes over BTC's shorts, 400 per BTC", async function () {
    const c = await networkHelpers.loadFixture(workedFixture);
    const { clearingHouse, alice, bob, carol, erin, frank } = c;
    const [eth, btc, x2] = c.markets;
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(-100n * E);
    const fundBefore = await c.fund.totalAssets();
    const houseBefore = await c.token.balanceOf(await clearingHouse.getAddress());

    const receipt = await mined(clearingHouse.connect(carol).liquidateAccount(alice.address));
    const events = waterfallEvents(clearingHouse, c.fund, receipt);
    // ETH: realized 3,600 − 4,000 = −400 (collateral 1,000). X2: 3,000 − 3,300 = −300 (collateral 700). BTC would
    // realize 5,200 − 6,000 = −800, leaving −100: the fund pays 60, the other 40 is socialized over the BTC shorts'
    // OI 0.1 (40 / 0.1 = 400 per BTC), and alice's collateral 700 + 60 + 40 − 800 = 0.
    expect(events.filter((e) => e.name !== "FundingAccrued")).to.deep.equal([
      ev("PositionChanged", alice.address, eth, 0n, 0n, -400n * E, 0n),
      ev("PositionChanged", carol.address, eth, 2n * E, 3600n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, eth, 2n * E, 1800n * E, 0n, 0n, true),
      ev("PositionChanged", alice.address, x2, 0n, 0n, -300n * E, 0n),
      ev("PositionChanged", carol.address, x2, -30n * E, -3300n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, x2, -30n * E, 110n * E, 0n, 0n, true),
      ev("Drawn", 60n * USD, 9_940n * USD),
      ev("InsuranceFundDrawn", alice.address, alice.address, 60n * E),
      ev("LossSocialized", btc, false, 40n * E, 400n * E),
      ev("BadDebtResolved", alice.address, btc, 100n * E, 60n * E, 0n, 40n * E, 400n * E, 0n),
      ev("PositionChanged", alice.address, btc, 0n, 0n, -800n * E, 0n),
      ev("PositionChanged", carol.address, btc, E / 10n, 5200n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, btc, E / 10n, 52_000n * E, 0n, 0n, true),
    ]);
    const h = await clearingHouse.accountHealth(alice.address);
    expect([h.collateral, h.equity]).to.deep.equal([0n, 0n]);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    // carol holds the three positions at the oracle price, with no reward: equity 100,000 exactly.
    expect((await clearingHouse.accountHealth(carol.address)).equity).to.equal(100_000n * E);
    expect(await clearingHouse.openMarketsOf(carol.address)).to.deep.equal([eth, btc, x2]);
    // The counterparties: only erin, on BTC's short side, owes the 40.
    expect((await clearingHouse.positionOf(erin.address, btc)).socialLossOwed).to.equal(40n * E);
    expect((await clearingHouse.positionOf(bob.address, eth)).socialLossOwed).to.equal(0n);
    expect((await clearingHouse.positionOf(frank.address, x2)).socialLossOwed).to.equal(0n);
    expect((await clearingHouse.marketState(btc)).shortSocialLossIndex).to.equal(400n * E);
    expect(await c.fund.totalAssets()).to.equal(fundBefore - 60n * USD);
    expect(await c.token.balanceOf(await clearingHouse.getAddress())).to.equal(houseBefore + 60n * USD);
    // The claims ledger holds the 40 socialized as one loss event of the shared pool.
    expect(await clearingHouse.claimsTotals(0n)).to.deep.equal([40n * E, 0n, 1n]);
  });
});

describe("liquidateAccount: refusals change nothing", function () {
  it("a solvent account: NotBankrupt with its equity", async function () {
    const c = await networkHelpers.loadFixture(workedFixture);
    const { clearingHouse, alice, carol } = c;
    await mined(clearingHouse.connect(alice).deposit(150n * USD)); // equity −100 + 150 = 50, below maintenance
    const before = await fullState(c);
    await expect(clearingHouse.connect(carol).liquidateAccount(alice.address))
      .to.be.revertedWithCustomError(clearingHouse, "NotBankrupt")
      .withArgs(alice.address, 50n * E);
    expect(await fullState(c)).to.deep.equal(before);
  });

  it("the account itself: SelfLiquidation", async function () {
    const c = await networkHelpers.loadFixture(workedFixture);
    const before = await fullState(c);
    await expect(c.clearingHouse.connect(c.alice).liquidateAccount(c.alice.address))
      .to.be.revertedWithCustomError(c.clearingHouse, "SelfLiquidation")
      .withArgs(c.alice.address);
    expect(await fullState(c)).to.deep.equal(before);
  });

  it("an account with no position and no debt: NotBankrupt(0)", async function () {
    const c = await networkHelpers.loadFixture(workedFixture);
    await expect(c.clearingHouse.connect(c.carol).liquidateAccount(c.dave.address))
      .to.be.revertedWithCustomError(c.clearingHouse, "NotBankrupt")
      .withArgs(c.dave.address, 0n);
  });

  it("a liquidator that cannot carry the positions: InsufficientMargin, nothing changes", async function () {
    const c = await networkHelpers.loadFixture(workedFixture);
    const { clearingHouse, alice, carol } = c;
    // carol keeps 1,000: the 12,100 of notional she would take needs 1,210 of initial margin.
    await mined(clearingHouse.connect(carol).withdraw(99_000n * USD));
    const before = await fullState(c);
    await expect(clearingHouse.connect(carol).liquidateAccount(alice.address))
      .to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin")
      .withArgs(carol.address, 1_000n * E, 1_210n * E);
    expect(await fullState(c)).to.deep.equal(before);
  });

  it("while the account's deleverage case is open: DeleverageInProgress", async function () {
    const c = await networkHelpers.loadFixture(
      fixtures.get(
        "3 markets, ADL largest, the fund short: a deleverage case opens after the others pass",
      ) as () => Promise<AccountCtx>,
    );
    const { clearingHouse, alice, carol } = c;
    await mined(clearingHouse.connect(carol).liquidateAccount(alice.address));
    expect((await clearingHouse.deleverageCaseOf(alice.address)).open).to.equal(true);
    const before = await fullState(c);
    await expect(clearingHouse.connect(carol).liquidateAccount(alice.address))
      .to.be.revertedWithCustomError(clearingHouse, "DeleverageInProgress")
      .withArgs(alice.address, c.markets[0]);
    expect(await fullState(c)).to.deep.equal(before);
  });

  it("a single liquidate of the largest first still reverts LargestPositionGoesLast (the rule liquidateAccount keeps)", async function () {
    const c = await networkHelpers.loadFixture(workedFixture);
    await expect(c.clearingHouse.connect(c.carol).liquidate(c.alice.address, c.markets[1], ethers.MaxUint256))
      .to.be.revertedWithCustomError(c.clearingHouse, "LargestPositionGoesLast")
      .withArgs(c.alice.address, c.markets[1]);
  });
});
