// Waterfall: when a deleverage case opens, what it locks while open, and how it closes without an ADL step.
// Set-up and units: ./support.ts.
import { expect } from "chai";

import { ETH_MARKET, USD, ethers, networkHelpers } from "../../../devnet/hardhat/fixture.js";
import { expectPosition, mined, nextBlockAt, latestTime } from "../../../devnet/hardhat/trading.js";
import {
  caseOf,
  ev,
  expectClearingHouseFunds,
  expectCollateral,
  expectFund,
  expectMarket,
  plainMarket,
  quietFunding,
  setFundLimits,
  setPrice,
  waterfallEvents,
  waterfallSnapshot,
} from "../../../devnet/hardhat/waterfall.js";
import {
  E,
  FUND_SHARES,
  accountsOf,
  ethCoveredFixture,
  SCORE_BOB,
  SCORE_ERIN,
  adlSetupFixture,
  adlCaseFixture,
} from "./support.js";

describe("Bad debt: in an ADL market the deficit alone decides whether a deleverage case opens", function () {
  it("pot + fund exactly the deficit: deficit paid in full, then handed over", async function () {
    const c = await networkHelpers.loadFixture(ethCoveredFixture);
    const { clearingHouse, fund, alice, bob, carol } = c;
    // Deficit 131.2 (see above); pot 1.26; cap the fund at 131.2 − 1.26 = 129.94 USD: available = the deficit.
    await setFundLimits(c, 0n, 129_940_000n);
    expect(await fund.availableForDraw()).to.equal(129_940_000n);
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    // 131.2 is not below 131.2: pot 1.26 + 129,940,000 units, then the hand-over at 2250 (realized −750).
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 2250n * E),
      ev("Drawn", 129_940_000n, 9_870_060_000n), // 10,000,000,000 − 129,940,000
      ev("InsuranceFundDrawn", alice.address, alice.address, (1312n * E) / 10n),
      ev("BadDebtResolved", alice.address, ETH_MARKET, (1312n * E) / 10n, (1312n * E) / 10n, 0n, 0n, 0n, 0n),
      ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, -750n * E, 0n),
      ev("PositionChanged", carol.address, ETH_MARKET, -3n * E, -6750n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, -3n * E, 2250n * E, 0n, 0n, true),
    ]);
    await expectCollateral(clearingHouse, alice.address, 0n);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, -3n * E, -6750n * E);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E); // no reward
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, 3n * E, 6000n * E);
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([false, false, 0n, 0n, 0n, 0n, 0n]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
    await expectMarket(clearingHouse, ETH_MARKET, plainMarket(3n * E));
    await expectClearingHouseFunds(c, {
      tokenBalance: 200_749_940_000n, // 200,620 USD deposited + 129.94 drawn
      insuranceFees: 0n,
      protocolFees: (294n * E) / 100n, // 1.2 + 3 − 1.26
    });
    await expectFund(c, { totalAssets: 9_870_060_000n, totalSupply: FUND_SHARES, availableForDraw: 0n });
  });

  it("pot + fund one unit short of the deficit: a case opens, reporting what was available, drawing nothing", async function () {
    const c = await networkHelpers.loadFixture(ethCoveredFixture);
    const { clearingHouse, fund, alice, bob, carol } = c;
    // Cap 129.939999 USD: available 1.26 + 129.939999 = 131.199999 < 131.2.
    await setFundLimits(c, 0n, 129_939_999n);
    const openedAt = (await latestTime()) + 10n;
    await nextBlockAt(openedAt);
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 2250n * E),
      ev("DeleverageRequired", alice.address, ETH_MARKET, (1312n * E) / 10n, 131_199_999n * 10n ** 12n),
    ]);
    // alice is short: the counterparties are long. Nothing paid yet.
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([
      true,
      true,
      ETH_MARKET,
      openedAt,
      (1312n * E) / 10n,
      0n,
      0n,
    ]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(1n);
    // Nothing moved: alice keeps her short and 620 − 1.2 = 618.8; carol gets nothing.
    await expectPosition(clearingHouse, alice.address, ETH_MARKET, -3n * E, -6000n * E);
    await expectCollateral(clearingHouse, alice.address, (6188n * E) / 10n);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 0n, 0n);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, 3n * E, 6000n * E);
    await expectMarket(clearingHouse, ETH_MARKET, { ...plainMarket(3n * E), longDeleverageCases: 1n });
    await expectClearingHouseFunds(c, {
      tokenBalance: 200_620n * USD,
      insuranceFees: (126n * E) / 100n,
      protocolFees: (294n * E) / 100n,
    });
    await expectFund(c, { totalAssets: 10_000n * USD, totalSupply: FUND_SHARES, availableForDraw: 129_939_999n });
  });
});

describe("Bad debt: partly covered by the fund, then deleveraged (ETH)", function () {
  it("liquidate opens a deleverage case without drawing the fund or moving the position", async function () {
    const c = await networkHelpers.loadFixture(adlSetupFixture);
    const { clearingHouse, fund, alice, bob, carol, erin, frank } = c;
    // alice: 700 − 1.2 + 3 × (1700 − 2000) = −201.2. Available: pot 1.68 + fund 49 = 50.68 < 201.2, so a case
    // opens. Its event reports the 50.68 that could have been paid; nothing is drawn until an ADL step.
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal((-2012n * E) / 10n);
    const openedAt = (await latestTime()) + 10n;
    await nextBlockAt(openedAt);
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("DeleverageRequired", alice.address, ETH_MARKET, (2012n * E) / 10n, (5068n * E) / 100n),
    ]);
    // alice long → counterparties short; fundPaid starts at 0.
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([
      true,
      false,
      ETH_MARKET,
      openedAt,
      (2012n * E) / 10n,
      0n,
      0n,
    ]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(1n);
    // Not moved and not paid: collateral 700 − 1.2 = 698.8; equity 698.8 − 900 = −201.2.
    await expectPosition(clearingHouse, alice.address, ETH_MARKET, 3n * E, 6000n * E);
    await expectCollateral(clearingHouse, alice.address, (6988n * E) / 10n);
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal((-2012n * E) / 10n);
    // Bankruptcy price: 1700 − ⌊−201.2 / 3⌋ = 1700 + 67.066666666666666667 (rounded up for a long).
    expect(await clearingHouse.bankruptcyPrice(alice.address, ETH_MARKET)).to.equal(1_767_066_666_666_666_666_667n);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 0n, 0n);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, -2n * E, -4000n * E);
    await expectPosition(clearingHouse, erin.address, ETH_MARKET, -2n * E, -4000n * E);
    await expectPosition(clearingHouse, frank.address, ETH_MARKET, E, 2000n * E);
    await expectMarket(clearingHouse, ETH_MARKET, { ...plainMarket(4n * E), shortDeleverageCases: 1n });
    // 121,700 deposited, nothing drawn; the pot keeps its 1.68; protocol fees 5.6 − 1.68 = 3.92.
    await expectClearingHouseFunds(c, {
      tokenBalance: 121_700n * USD,
      insuranceFees: (168n * E) / 100n,
      protocolFees: (392n * E) / 100n,
    });
    await expectFund(c, { totalAssets: 10_000n * USD, totalSupply: FUND_SHARES, availableForDraw: 49n * USD });

    // The ADL queue is by entry bucket; bob and erin both sold at 2,000, so they share the first bucket and score.
    const bobRank = await clearingHouse.adlRank(bob.address, ETH_MARKET);
    expect([...bobRank]).to.deep.equal([SCORE_BOB, 600n * E, 998n * E, 3400n * E, 1598n * E]);
    const erinRank = await clearingHouse.adlRank(erin.address, ETH_MARKET);
    expect([...erinRank]).to.deep.equal([SCORE_ERIN, 600n * E, 9998n * E, 3400n * E, 10_598n * E]);
    // frank is long and losing 300: no score (collateral 10000 − 0.4, equity 9999.6 − 300).
    const frankRank = await clearingHouse.adlRank(frank.address, ETH_MARKET);
    expect([...frankRank]).to.deep.equal([0n, -300n * E, (99_996n * E) / 10n, 1700n * E, (96_996n * E) / 10n]);
  });

  it("while the case is open: counterparties' side cannot withdraw, the fund cannot unstake, liquidate waits", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse, fund, alice, bob, carol, dave, erin, frank } = c;
    await networkHelpers.time.increase(60); // dave's cooldown is over
    await setPrice(c.ethFeed, 1700n * E);
    const accounts = accountsOf(c);
    const before = await waterfallSnapshot(c, accounts);

    await expect(clearingHouse.connect(bob).withdraw(USD))
      .to.be.revertedWithCustomError(clearingHouse, "WithdrawalLockedByDeleverage")
      .withArgs(bob.address, ETH_MARKET);
    await expect(clearingHouse.connect(erin).withdraw(USD))
      .to.be.revertedWithCustomError(clearingHouse, "WithdrawalLockedByDeleverage")
      .withArgs(erin.address, ETH_MARKET);
    await expect(fund.connect(dave).unstake()).to.be.revertedWithCustomError(fund, "BadDebtPending");
    await expect(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, E))
      .to.be.revertedWithCustomError(clearingHouse, "DeleverageInProgress")
      .withArgs(alice.address, ETH_MARKET);
    // frank is long, on alice's side: not a counterparty.
    await expect(clearingHouse.connect(carol).autoDeleverage(alice.address, ETH_MARKET, frank.address, E))
      .to.be.revertedWithCustomError(clearingHouse, "CounterpartyWrongSide")
      .withArgs(frank.address, E);
    expect(await waterfallSnapshot(c, accounts)).to.deep.equal(before);

    // frank's own withdrawal is not locked: 9999.6 − 1.
    const receipt = await mined(clearingHouse.connect(frank).withdraw(USD));
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("Withdrawn", frank.address, USD),
    ]);
    await expectCollateral(clearingHouse, frank.address, (99_986n * E) / 10n);
  });

  it("an account that recovers above maintenance margin: liquidate closes its case and stops without reverting", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse, fund, alice, bob, carol, frank } = c;
    // frank tops alice up by 1000 USD: collateral 698.8 + 1000 = 1698.8, equity 1698.8 − 900 = 798.8,
    // above maintenance 3 × 1700 × 5% = 255: healthy again.
    await mined(clearingHouse.connect(frank).depositFor(alice.address, 1000n * USD));
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal((7988n * E) / 10n);

    // liquidate only closes the case: an all-zero receipt, no position change, no revert.
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("BadDebtResolved", alice.address, ETH_MARKET, 0n, 0n, 0n, 0n, 0n, 0n),
    ]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
    await expectPosition(clearingHouse, alice.address, ETH_MARKET, 3n * E, 6000n * E);
    await expectCollateral(clearingHouse, alice.address, (16_988n * E) / 10n);
    // A second call is an ordinary healthy-account liquidation: NotLiquidatable(798.8, 255).
    await expect(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256))
      .to.be.revertedWithCustomError(clearingHouse, "NotLiquidatable")
      .withArgs(alice.address, (7988n * E) / 10n, 255n * E);
    // The shorts' withdrawal lock is gone with the case: bob can withdraw.
    await mined(clearingHouse.connect(bob).withdraw(USD));
  });

  it("an account that recovers by a deposit before any ADL step gets nothing from the fund; liquidate closes its case", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse, fund, alice, bob, carol, dave, frank } = c;
    // frank tops alice up by 300 USD: collateral 698.8 + 300 = 998.8 exactly (the deposit and nothing else),
    // equity 998.8 − 900 = 98.8: solvent, but below maintenance 3 × 1700 × 5% = 255.
    const deposit = await mined(clearingHouse.connect(frank).depositFor(alice.address, 300n * USD));
    expect(waterfallEvents(clearingHouse, fund, deposit)).to.deep.equal([
      ev("Deposited", alice.address, frank.address, 300n * USD),
    ]);
    await expectCollateral(clearingHouse, alice.address, (9988n * E) / 10n);
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal((988n * E) / 10n);
    await expect(clearingHouse.connect(carol).autoDeleverage(alice.address, ETH_MARKET, bob.address, E))
      .to.be.revertedWithCustomError(clearingHouse, "NotBankrupt")
      .withArgs(alice.address, (988n * E) / 10n);
    // The case is still open and nothing has been paid toward it.
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([
      true,
      false,
      ETH_MARKET,
      c.openedAt,
      (2012n * E) / 10n,
      0n,
      0n,
    ]);

    // liquidate closes the case with an all-zero receipt (fund 0, deleveraged 0, socialized 0), then liquidates
    // alice as a solvent account. Gap 255 − 98.8 = 156.2 needs ⌈156.2 / (1700 × 3%)⌉ > 3 ETH: all 3 go.
    // Reward and fee (51 + 51) would exceed equity 98.8: they split it, 98.8 × 1% / 2% = 49.4 each.
    // alice sells 3 at 5100 − 49.4 = 5050.6: realized 5050.6 − 6000 = −949.4, fee 49.4 → 998.8 − 998.8 = 0.
    const receipt = await mined(clearingHouse.connect(carol).liquidate(alice.address, ETH_MARKET, ethers.MaxUint256));
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("BadDebtResolved", alice.address, ETH_MARKET, 0n, 0n, 0n, 0n, 0n, 0n),
      ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, (-9494n * E) / 10n, (494n * E) / 10n),
      ev("PositionChanged", carol.address, ETH_MARKET, 3n * E, (50_506n * E) / 10n, 0n, 0n),
      ev(
        "Liquidated",
        alice.address,
        carol.address,
        ETH_MARKET,
        3n * E,
        1700n * E,
        (494n * E) / 10n,
        (494n * E) / 10n,
        false,
      ),
    ]);
    await expectCollateral(clearingHouse, alice.address, 0n);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 3n * E, (50_506n * E) / 10n);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    expect(await caseOf(clearingHouse, alice.address)).to.deep.equal([
      false,
      false,
      ETH_MARKET,
      c.openedAt,
      (2012n * E) / 10n,
      0n,
      0n,
    ]);
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
    await expectMarket(clearingHouse, ETH_MARKET, plainMarket(4n * E));
    // The fund paid nothing: 10,000 USD, 49 still available. The pot took the fee: 1.68 + 49.4 = 51.08.
    // 121,700 + 300 deposited.
    await expectFund(c, { totalAssets: 10_000n * USD, totalSupply: FUND_SHARES, availableForDraw: 49n * USD });
    await expectClearingHouseFunds(c, {
      tokenBalance: 122_000n * USD,
      insuranceFees: (5108n * E) / 100n,
      protocolFees: (392n * E) / 100n,
    });

    // The shorts' lock and the fund's unstake wait are over: dave's half is worth its full value at request,
    // ⌊5×10^15 × (10^10 + 1) / (10^16 + 10^6)⌋ = 5,000,000,000 units, then and now.
    await mined(clearingHouse.connect(bob).withdraw(USD));
    await expectCollateral(clearingHouse, bob.address, 997n * E); // 1000 − 2 − 1
    await networkHelpers.time.increase(3600); // the exit exposure after confirming
    const unstake = await mined(fund.connect(dave).unstake());
    expect(waterfallEvents(clearingHouse, fund, unstake)).to.deep.equal([
      ev("Transfer", await fund.getAddress(), ethers.ZeroAddress, FUND_SHARES / 2n),
      ev("Unstaked", dave.address, FUND_SHARES / 2n, 5_000_000_000n),
    ]);
  });

  it("when the fund, refilled since the case opened, covers the whole deficit, the caller takes the position over", async function () {
    const c = await networkHelpers.loadFixture(adlCaseFixture);
    const { clearingHouse, fund, alice, bob, carol } = c;
    // The fund may now pay 1,000 USD a day: pot 1.68 + 199.52 USD (199,520,000 token units, exact) cover the
    // 201.2 deficit; the pot is empty afterwards. An account whose deficit the fund paid keeps no position
    // (issue 9, finding 7): the caller, carol, takes alice's 3 ETH at the oracle as in a liquidation, and bob
    // (the named counterparty) is not touched.
    await setFundLimits(c, 0n, 1_000n * USD, 60n);
    const receipt = await mined(clearingHouse.connect(carol).autoDeleverage(alice.address, ETH_MARKET, bob.address, E));
    // alice sells 3 at ⌈3 × 1700⌉ = 5100: realized 5100 − 6000 = −900; collateral 698.8 + 201.2 − 900 = 0.
    expect(waterfallEvents(clearingHouse, fund, receipt)).to.deep.equal([
      quietFunding(ETH_MARKET, 1700n * E),
      ev("Drawn", 19_952n * (USD / 100n), 980_048n * (USD / 100n)),
      ev("InsuranceFundDrawn", alice.address, alice.address, (2012n * E) / 10n),
      ev("BadDebtResolved", alice.address, ETH_MARKET, (2012n * E) / 10n, (2012n * E) / 10n, 0n, 0n, 0n, 0n),
      ev("PositionChanged", alice.address, ETH_MARKET, 0n, 0n, -900n * E, 0n),
      ev("PositionChanged", carol.address, ETH_MARKET, 3n * E, 5100n * E, 0n, 0n),
      ev("Liquidated", alice.address, carol.address, ETH_MARKET, 3n * E, 1700n * E, 0n, 0n, true),
    ]);
    await expectPosition(clearingHouse, alice.address, ETH_MARKET, 0n, 0n);
    await expectCollateral(clearingHouse, alice.address, 0n);
    expect(await clearingHouse.openMarketsOf(alice.address)).to.deep.equal([]);
    await expectPosition(clearingHouse, carol.address, ETH_MARKET, 3n * E, 5100n * E);
    await expectCollateral(clearingHouse, carol.address, 100_000n * E);
    await expectPosition(clearingHouse, bob.address, ETH_MARKET, -2n * E, -4000n * E);
    expect(await clearingHouse.openDeleverageCases()).to.equal(0n);
    expect(await clearingHouse.insuranceFees()).to.equal(0n);
    // A price recovery is now carol's, not alice's.
    await setPrice(c.ethFeed, 2000n * E);
    expect((await clearingHouse.accountHealth(alice.address)).equity).to.equal(0n);
  });
});
