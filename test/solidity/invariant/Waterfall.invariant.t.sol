// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {DefaultLayers} from "../../../contracts/insurance/DefaultLayers.sol";
import {InsuranceFund} from "../../../contracts/insurance/InsuranceFund.sol";
import {
    AccountHealth,
    DeleverageCase,
    LossPolicy,
    MarketParams,
    MarketState
} from "../../../contracts/interfaces/IClearingHouse.sol";
import {IDefaultLayers} from "../../../contracts/interfaces/IDefaultLayers.sol";
import {MockAggregatorV3} from "../../../contracts/mocks/MockAggregatorV3.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {ChainlinkOracleAdapter} from "../../../contracts/oracle/ChainlinkOracleAdapter.sol";
import {
    IsolatedWaterfallHandler,
    WaterfallEvents,
    WaterfallHandler,
    WaterfallSetup
} from "../handlers/WaterfallHandler.sol";

/// @notice Stateful invariant tests of the loss waterfall, driven by {WaterfallHandler}: six traders, two keepers and
/// two stakers over ETH-USD (ADL) and BTC-USD (socialized) with the fixture's parameters, a ten-minute deleverage
/// timeout, and default layers as the clearing house's fund (issue 11): no first-loss capital, the stakers' vault
/// (one-hour cooldown, 10,000 USD daily draw cap), then the members' fund and assessments of up to 2x a member's
/// contribution per one-day period (at least 200 USD or 10% of initial margin; 20% of swept fees; no drawdown
/// trigger). Any handler account may join those layers, or the layers of an isolated LINK-USD market nobody trades
/// (the second fund an account may try to join). With no member the layers pass every draw to the vault as before.
/// hardhat-config: invariant.runs = 64
/// hardhat-config: invariant.depth = 80
contract WaterfallInvariantTest is WaterfallSetup {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    uint256 internal constant N = 8; // handler accounts: six traders, two keepers
    uint256 internal constant M = 2;

    WaterfallHandler internal handler;
    DefaultLayers internal layers;
    DefaultLayers internal otherLayers;

    function setUp() public {
        token = new MockERC20("Mock USD", "mUSD", 6);
        adapter = new ChainlinkOracleAdapter();
        ethFeed = new MockAggregatorV3(8, "ETH / USD", 2_000e8);
        btcFeed = new MockAggregatorV3(8, "BTC / USD", 60_000e8);
        clearingHouse = _newClearingHouse();
        layers = new DefaultLayers(clearingHouse, address(this), _memberParams());
        fund = new InsuranceFund(token, address(layers), address(this), 1 hours, 0, 10_000e6, 1 days);
        layers.connectStakers(fund);
        clearingHouse.setInsuranceFund(address(layers));
        clearingHouse.listMarket(_marketParams(ethFeed, LossPolicy.AutoDeleverage));
        clearingHouse.listMarket(_marketParams(btcFeed, LossPolicy.Socialized));
        otherLayers = new DefaultLayers(clearingHouse, address(this), _memberParams());
        MockAggregatorV3 linkFeed = new MockAggregatorV3(8, "LINK / USD", 20e8);
        clearingHouse.listIsolatedMarket(_marketParams(linkFeed, LossPolicy.Socialized), address(otherLayers));
        clearingHouse.setDeleverageTimeout(10 minutes);
        handler = new WaterfallHandler(clearingHouse, fund, layers, otherLayers, ethFeed, btcFeed);
    }

    function _memberParams() internal pure returns (IDefaultLayers.Params memory) {
        return
            IDefaultLayers.Params({
                firstLossTarget: 0,
                refillShare: 0,
                memberFeeShare: 0.2e18,
                minContribution: 200e6,
                contributionRatio: 0.1e18,
                assessmentMultiple: 2e18,
                coolingOffPeriod: 1 days,
                drawdownFraction: 1e18,
                drawdownWindow: 8 hours
            });
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        // Trades, gaps and liquidations weigh more: positions must build up and prices gap for bad debt to appear
        // within a run.
        bytes4[] memory s = new bytes4[](50);
        s[0] = WaterfallHandler.trade.selector;
        s[1] = WaterfallHandler.trade.selector;
        s[2] = WaterfallHandler.trade.selector;
        s[3] = WaterfallHandler.trade.selector;
        s[4] = WaterfallHandler.movePrice.selector;
        s[5] = WaterfallHandler.gapPrice.selector;
        s[6] = WaterfallHandler.gapPrice.selector;
        s[7] = WaterfallHandler.liquidate.selector;
        s[8] = WaterfallHandler.liquidate.selector;
        s[9] = WaterfallHandler.liquidate.selector;
        s[10] = WaterfallHandler.autoDeleverage.selector;
        s[11] = WaterfallHandler.autoDeleverage.selector;
        s[12] = WaterfallHandler.socializeAfterTimeout.selector;
        s[13] = WaterfallHandler.warp.selector;
        s[14] = WaterfallHandler.deposit.selector;
        s[15] = WaterfallHandler.withdraw.selector;
        s[16] = WaterfallHandler.stake.selector;
        s[17] = WaterfallHandler.requestUnstake.selector;
        s[18] = WaterfallHandler.unstake.selector;
        s[19] = WaterfallHandler.sweepInsuranceFees.selector;
        s[20] = WaterfallHandler.deposit.selector;
        // The adversarial moves of issue 9: dust sides, same-block round trips, liquidating with one's own opposite
        // position, refills of the fund while a case is open.
        s[21] = WaterfallHandler.dustTrade.selector;
        s[22] = WaterfallHandler.roundTrip.selector;
        s[23] = WaterfallHandler.liquidateByCounterparty.selector;
        s[24] = WaterfallHandler.liquidateByCounterparty.selector;
        s[25] = WaterfallHandler.refillDuringCase.selector;
        s[26] = WaterfallHandler.cancelUnstake.selector;
        s[27] = WaterfallHandler.confirmBeforeLoss.selector;
        // Issue 10: a keeper choosing whom ADL takes from.
        s[28] = WaterfallHandler.autoDeleverageOutOfTurn.selector;
        s[29] = WaterfallHandler.autoDeleverageOutOfTurn.selector;
        // Issue 10: repayable claims. Inflows of dust, of all that is outstanding and beyond it; claims over one
        // record or many; an inflow and two claims in one block; and the sweep above.
        s[30] = WaterfallHandler.repayClaims.selector;
        s[31] = WaterfallHandler.repayClaims.selector;
        s[32] = WaterfallHandler.claimRepayment.selector;
        s[33] = WaterfallHandler.claimRepayment.selector;
        s[34] = WaterfallHandler.claimRoundTrip.selector;
        s[35] = WaterfallHandler.sweepInsuranceFees.selector;
        // Issue 11: clearing members. Joining (the smallest contribution, more, one unit short, a second fund),
        // notice and leave (on time, early, lapsed, right before and right after a loss), fills against the
        // member's own second account at the band's edges and in dust, same-block round trips, withdrawals to the
        // reserve and one unit past it, and taking positions over by liquidation, ADL and the timeout.
        s[36] = WaterfallHandler.join.selector;
        s[37] = WaterfallHandler.join.selector;
        s[38] = WaterfallHandler.requestLeave.selector;
        s[39] = WaterfallHandler.leaveFund.selector;
        s[40] = WaterfallHandler.leaveAroundLoss.selector;
        s[41] = WaterfallHandler.memberTrade.selector;
        s[42] = WaterfallHandler.memberTrade.selector;
        s[43] = WaterfallHandler.memberRoundTrip.selector;
        s[44] = WaterfallHandler.memberWithdraw.selector;
        s[45] = WaterfallHandler.memberTakeover.selector;
        s[46] = WaterfallHandler.memberTakeover.selector;
        // Issue 15: a bankrupt account in every market in one call, by a keeper, its owner's second account or a member.
        s[47] = WaterfallHandler.liquidateAccount.selector;
        s[48] = WaterfallHandler.liquidateAccount.selector;
        s[49] = WaterfallHandler.liquidateAccount.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: s});
    }

    // ================================================================ invariants

    /// Issue 10. Σ repaid (ClaimRepaid) ≤ Σ issued (LossEventRecorded) and ≤ Σ inflows the handler brought
    /// (repayClaims amounts, the claims part of each sweep computed from the pot before it); the contract's
    /// counters equal those sums.
    function invariant_claimsRepaidWithinIssuedAndInflows() public view {
        _noFailure(handler.F_CLAIMS());
        (uint256 issued, uint256 inflow, ) = clearingHouse.claimsTotals(0);
        assertEq(issued, handler.ghostClaimsIssued(), "claimsIssued == sum of LossEventRecorded");
        assertEq(inflow, handler.ghostClaimsInflow(), "claimsInflow == sum of inflows brought");
        assertLe(handler.ghostClaimsRepaid(), handler.ghostClaimsIssued(), "repaid <= issued");
        assertLe(handler.ghostClaimsRepaid(), handler.ghostClaimsInflow(), "repaid <= inflows");
    }

    /// Issue 10. Repayment order: event k receives nothing until every earlier event is whole.
    function invariant_claimsRepaidInEventOrder() public view {
        (bool ok, string memory why) = handler.checkClaimsOrder();
        assertTrue(ok, why);
    }

    /// Issue 10. No record is repaid beyond what it paid; the records' events agree with claimsOf.
    function invariant_noClaimRepaidBeyondWhatItPaid() public view {
        (bool ok, string memory why) = handler.checkClaimRecords();
        assertTrue(ok, why);
    }

    /// a. Σ shortfall = Σ fundPaid + Σ deleveraged + Σ socialized to the wei, each sum observed on a different party
    /// (the bankrupt account, the fund and its fee pot, the counterparties, the social-loss index); every receipt
    /// equals what was observed for its account; receipts add up.
    function invariant_lossWaterfallAddsUpToTheWei() public view {
        _noFailure(handler.F_BALANCE());
        assertEq(
            handler.ghostShortfall(),
            handler.ghostFundPaid() + handler.ghostDeleveraged() + handler.ghostSocialized(),
            "shortfall == fund + deleveraged + socialized"
        );
        assertEq(handler.receiptShortfall(), handler.receiptParts(), "receipts: shortfall == sum of parts");
    }

    /// a. What the layers delivered equals Σ of their LayerDrawn events; the vault's outflow equals Σ of its Drawn
    /// events and Σ LayerDrawn(Stakers), and its balance is what was staked and passed on as income less what was
    /// unstaked and drawn; the layers hold what members contributed, sweeps and the vault brought and assessments
    /// collected, less what leavers took, the vault's income and what they delivered.
    function invariant_fundOutflowEqualsDrawnEvents() public view {
        _noFailure(handler.F_FUND());
        assertEq(handler.ghostFundOutflow(), handler.ghostLayerDrawnEvents(), "layers' outflow == sum of LayerDrawn");
        assertEq(handler.ghostVaultOutflow(), handler.ghostDrawnEvents(), "vault outflow == sum of Drawn");
        assertEq(
            handler.ghostVaultOutflow(),
            handler.ghostStakersLayerEvents(),
            "vault outflow == LayerDrawn(Stakers)"
        );
        assertEq(
            token.balanceOf(address(fund)),
            handler.ghostStaked() + handler.ghostStakerIncome() - handler.ghostUnstaked() - handler.ghostVaultOutflow(),
            "vault balance == staked + income - unstaked - drawn"
        );
        assertEq(
            token.balanceOf(address(layers)) +
                handler.ghostLeftPaid() +
                handler.ghostStakerIncome() +
                handler.ghostFundOutflow(),
            handler.ghostJoined() + handler.ghostSwept() + handler.ghostVaultOutflow() + handler.ghostAssessed(),
            "layers: balance + left + to the vault + delivered == joined + swept + from the vault + assessed"
        );
    }

    /// a. Tokens held × 1e12 ≥ Σ equity + protocol fees + insurance fees: always with signed equity, and for the
    /// positive equity of everybody whenever no account is bankrupt and no case is open.
    function invariant_clearingHouseSolvent() public view {
        // The runner keeps a reverted move's vm.warp (the clock is not journaled) while the feeds' updates roll back,
        // so a feed can be found past its heartbeat; the clearing house then values no account (OracleStale), and
        // the next warp republishes the prices, where this is checked again.
        if (!_feedsFresh()) return;
        uint256 balance = token.balanceOf(address(clearingHouse)) * SCALE;
        int256 fees = int256(clearingHouse.protocolFees() + clearingHouse.insuranceFees());
        int256 sumEquity;
        int256 sumPositiveEquity;
        bool anyBankrupt;
        for (uint256 i = 0; i < N; ++i) {
            AccountHealth memory h = clearingHouse.accountHealth(handler.account(i));
            sumEquity += h.equity;
            if (h.equity > 0) sumPositiveEquity += h.equity;
            if (h.equity < 0) anyBankrupt = true;
        }
        assertGe(int256(balance), sumEquity + fees, "balance >= sum of signed equity + fees");
        if (!anyBankrupt && clearingHouse.openDeleverageCases() == 0) {
            assertGe(int256(balance), sumPositiveEquity + fees, "no bad debt: balance >= sum of equity + fees");
        }
    }

    function _feedsFresh() internal view returns (bool) {
        for (uint256 m = 0; m < M; ++m) {
            MarketParams memory params = clearingHouse.marketParams(m);
            (, , , uint256 updatedAt, ) = params.oracleFeed.latestRoundData();
            if (block.timestamp > updatedAt + params.oracleHeartbeat) return false;
        }
        return true;
    }

    /// b. Long OI = short OI in every market, each the sum of the handler accounts' sizes on its side.
    function invariant_openInterestMatchesPositions() public view {
        if (!_feedsFresh()) return; // the views price positions (see invariant_clearingHouseSolvent)
        for (uint256 m = 0; m < M; ++m) {
            MarketState memory state = clearingHouse.marketState(m);
            uint256 longs;
            uint256 shorts;
            for (uint256 i = 0; i < N; ++i) {
                int256 size = clearingHouse.positionOf(handler.account(i), m).size;
                if (size > 0) longs += uint256(size);
                else shorts += uint256(-size);
            }
            assertEq(uint256(state.longOpenInterest), uint256(state.shortOpenInterest), "long OI == short OI");
            assertEq(uint256(state.longOpenInterest), longs, "long OI == sum of long sizes");
            assertEq(uint256(state.shortOpenInterest), shorts, "short OI == sum of short sizes");
        }
    }

    /// c. An account with no position and no open case never has negative collateral (checked after every action).
    function invariant_noNegativeCollateralOutsideAllocation() public view {
        for (uint256 i = 0; i < N; ++i) {
            address a = handler.account(i);
            if (clearingHouse.openMarketsOf(a).length != 0 || clearingHouse.deleverageCaseOf(a).open) continue;
            assertGe(clearingHouse.collateralOf(a), int256(0), "flat account without a case: collateral >= 0");
        }
    }

    /// Issue 10: no ADL step took from a counterparty outside its side's first entry bucket, whoever the keeper
    /// named.
    function invariant_adlTakesTheFirstEntryBucketFirst() public view {
        _noFailure(handler.F_ADL_ORDER());
    }

    /// d. No ADL took more from a counterparty than the unrealized profit of the part it took back.
    function invariant_adlNeverTakesMoreThanProfit() public view {
        _noFailure(handler.F_ADL_PROFIT());
    }

    /// d. Every socialized charge settled on a position was ⌈|size| × Δindex⌉ (checked by the handler on each
    /// SocialLossSettled event), and every account view shows exactly that much pending.
    function invariant_socialChargeIsSizeTimesIndexDelta() public view {
        _noFailure(handler.F_SOCIAL_CHARGE());
        // The views price positions: see invariant_clearingHouseSolvent for why a feed can be found stale here.
        if (!_feedsFresh()) return;
        (bool ok, string memory why) = handler.checkSocialLossViews();
        if (!ok) revert(why);
    }

    /// e. No waterfall call failed with a panic (over/underflow, division by zero) or a SafeCast error.
    function invariant_resolutionNeverStuck() public view {
        _noFailure(handler.F_STUCK());
    }

    /// e. The open-case counters equal the cases that are open, in total and per market and side.
    function invariant_openCaseCounterMatchesCases() public view {
        if (!_feedsFresh()) return; // marketState prices the market (see invariant_clearingHouseSolvent)
        uint256 open;
        uint256[2][2] memory perSide; // [market][1 for long counterparties]
        for (uint256 i = 0; i < N; ++i) {
            DeleverageCase memory c = clearingHouse.deleverageCaseOf(handler.account(i));
            if (!c.open) continue;
            ++open;
            ++perSide[c.marketId][c.longCounterparties ? 1 : 0];
        }
        assertEq(clearingHouse.openDeleverageCases(), open, "openDeleverageCases == open cases");
        for (uint256 m = 0; m < M; ++m) {
            MarketState memory state = clearingHouse.marketState(m);
            assertEq(uint256(state.longDeleverageCases), perSide[m][1], "long-side cases");
            assertEq(uint256(state.shortDeleverageCases), perSide[m][0], "short-side cases");
        }
    }

    /// Issue 9, finding 1: every socialized charge is spread over the side as it stood when the transaction began
    /// (nobody, the liquidator included, leaves it in the transaction that creates the charge).
    function invariant_chargeCoversTheWholeSide() public view {
        _noFailure(handler.F_CHARGED_SIDE());
    }

    /// Issue 9, finding 2: a bankrupt liquidation pays no reward.
    function invariant_noRewardOnBankruptLiquidation() public view {
        _noFailure(handler.F_BANKRUPT_REWARD());
    }

    /// Issue 9, finding 4: no staker's exit pays more than min(value at request, value at exitAt).
    function invariant_exitPaysAtMostValueAtRequestAndAtExit() public view {
        _noFailure(handler.F_EXIT());
    }

    /// Conservation of tokens: the clearing house holds exactly what was deposited, less what was withdrawn, plus
    /// what the fund paid in, less what was swept to the fund; so Σ withdrawn ≤ Σ deposited + fund payouts.
    function invariant_tokensConserved() public view {
        uint256 inflow = handler.ghostDeposited() + handler.ghostFundOutflow() + handler.ghostClaimsTokens();
        assertEq(
            token.balanceOf(address(clearingHouse)) +
                handler.ghostWithdrawn() +
                handler.ghostSwept() +
                handler.ghostAssessed(),
            inflow,
            "balance + withdrawn + swept + assessed == deposited + fund payouts + claims repaid in"
        );
        assertLe(handler.ghostWithdrawn(), inflow, "withdrawn <= deposited + fund payouts");
    }

    /// Issue 11, the member-dodge rule: every member fill (as maker or taker, against its own second account
    /// included), withdrawal, liquidation, ADL takeover and timeout takeover that went through left its free
    /// collateral F ≥ min(F before, R), R being what its fund may still assess it; a withdrawal left F ≥ R. Every
    /// refusal of the member rules was exactly the one predicted (AssessmentReserveRequired with the member and its
    /// reserve; ContributionTooSmall; MemberOfAnotherFund naming the other fund; each leave refusal with its
    /// figures) and changed nothing.
    function invariant_memberActsKeepTheirReserve() public view {
        _noFailure(handler.F_MEMBER());
    }

    /// Issue 11, the member registry: no account is a member of two funds, and the fund that marked an account in
    /// the clearing house (MemberMarked) is the one whose member it is; every member was assessed at most k × its
    /// contribution in its period, as the layers count it.
    function invariant_oneFundPerMemberAndCappedAssessments() public view {
        (bool ok, string memory why) = handler.checkMembers();
        assertTrue(ok, why);
        (ok, why) = handler.checkAssessmentCaps();
        assertTrue(ok, why);
    }

    /// No trade, withdrawal, unstake or waterfall call reverted for a reason the handler did not expect, and no
    /// solvent liquidation took more than the account's equity.
    /// Issue 15. Every liquidateAccount left the state and logs the single liquidate calls (others first, the largest
    /// last, in the same block) leave, and refused only what it must (NotBankrupt on a solvent account; a trader or
    /// member caller short of margin or reserve).
    function invariant_liquidateAccountEqualsTheSingleCalls() public view {
        _noFailure(handler.F_ACCOUNT());
    }

    function invariant_noUnexpectedRevert() public view {
        _noFailure(handler.F_UNEXPECTED());
        _noFailure(handler.F_PENALTY());
    }

    // ================================================================ the handler reaches every branch

    /// A fixed sequence of handler actions that goes through every branch of the waterfall, with every invariant
    /// checked after every step: an ADL case resolved by auto-deleveraging, a bankrupt liquidation socialized in BTC,
    /// a second ADL case socialized after the timeout (an unstake waits for it meanwhile), a solvent partial
    /// liquidation, a sweep. The invariants above are therefore not vacuous.
    function test_handlerSequenceWalksTheWholeWaterfall() public {
        // Size seed 300 → 1,000/1,000 of 9x the smaller free collateral; price seed 0 → the oracle price.
        // Trader 0 buys 9 × 20,000 / 2,000 = 90 ETH from trader 1.
        handler.trade(0, 1, 0, true, 300, 0);
        _checkAll();
        assertEq(_size(handler.account(0), ETH), 90e18, "trader 0 long 90 ETH");
        // Gap seed 3001 → 1,000 + 1,500 bp, odd → −25%: ETH 1,500. Trader 0: 20,000 − 36 − 45,000 < 0.
        handler.gapPrice(0, 3001);
        assertEq(handler.oraclePrice(ETH), 1_500e18, "ETH at 1,500");
        // The fund (10,000 staked) cannot pay a 25,036 USD deficit: a case opens, nothing is drawn yet.
        handler.liquidate(0, 0, 0, 0);
        _checkAll();
        assertEq(handler.casesOpened(), 1, "an ADL case opened");
        // Trader 1, the only short, takes the position back; the fund pays its 10,000 first.
        handler.autoDeleverage(0, 0, 1);
        _checkAll();
        assertEq(handler.deleverageSteps(), 1, "one ADL step");
        assertEq(handler.deleveragedReceipts(), 1, "resolved by ADL");
        assertEq(_size(handler.account(0), ETH), 0, "trader 0 flat");

        // Trader 2 sells 9 × 20,000 / 60,000 = 3 BTC to trader 3; BTC gaps −25%; trader 3 is bankrupt and the
        // drained fund leaves the deficit to the shorts.
        handler.trade(2, 3, 1, false, 300, 0);
        handler.gapPrice(1, 3001);
        handler.liquidate(3, 1, 0, 0);
        _checkAll();
        assertEq(handler.socializedReceipts(), 1, "socialized in BTC");

        // Trader 4 buys 9 × 20,000 / 1,500 = 120 ETH from trader 5; ETH gaps −25% to 1,125; another case opens.
        handler.trade(4, 5, 0, true, 300, 0);
        handler.gapPrice(0, 3001);
        handler.liquidate(4, 0, 0, 0);
        _checkAll();
        assertEq(handler.casesOpened(), 2, "a second ADL case");
        // A staker asks to leave, waits out its cooldown, confirms (exitAt = now + 1 hour) and waits out the exit
        // exposure: the open case makes the fund refuse.
        handler.requestUnstake(0, 1_000e12);
        handler.unstake(0, true);
        assertEq(handler.unstakesWaitingForBadDebt(), 1, "unstake waits for the case");
        // Nobody deleverages: after the timeout a keeper takes the position and the rest is socialized.
        handler.socializeAfterTimeout(4, 0, 0);
        _checkAll();
        assertEq(handler.timeoutResolutions(), 1, "socialized after the timeout");
        assertEq(handler.socializedReceipts(), 2, "two socialized receipts");
        handler.unstake(0, false);
        assertEq(handler.unstakes(), 1, "the unstake goes through once no case is open");

        // ETH +26.22% (seed 3244 → 1,000 + 1,622 bp, even → up): trader 5's short is under maintenance margin but
        // solvent; a keeper liquidates part of it; the fee lands in the pot, which is swept to the fund.
        handler.gapPrice(0, 3244);
        handler.liquidate(5, 0, 0, 0);
        _checkAll();
        assertEq(handler.liquidationsSolvent(), 1, "a solvent liquidation");
        handler.sweepInsuranceFees();
        handler.warp(1 hours);
        handler.withdraw(1, 1_000e6);
        _checkAll();
        assertEq(handler.sweeps(), 1, "fees swept");
        assertEq(handler.receipts(), 3, "three receipts");
        assertGt(handler.ghostShortfall(), int256(0), "shortfall observed");
        assertGt(handler.ghostFundPaid(), int256(0), "fund paid");
        assertGt(handler.ghostDeleveraged(), int256(0), "counterparties deleveraged");
        assertGt(handler.ghostSocialized(), int256(0), "losses socialized");
        // The unstake above was observed at its exitAt and paid at most min(value at request, value at exitAt).
        assertEq(handler.failures(handler.F_EXIT()), 0, "exit paid within its bound");
        // Staker 1 asks to leave, waits out the cooldown, confirms, then cancels: its shares come back.
        handler.requestUnstake(1, 1_000e12);
        handler.warp(1 hours);
        handler.unstake(1, false);
        handler.cancelUnstake(1);
        assertEq(handler.unstakeCancels(), 1, "a confirmed request cancelled");
        _checkAll();
    }

    /// A sequence the fuzzer found (CI run of 2026-11-21): an ETH case opens; prices recover and the account trades
    /// again, so its ETH position is no longer its last; the prices gap down again and socializeAfterTimeout closes
    /// the case without settling anything (the case is about the last position only). The handler used to assume
    /// every waterfall call settles the subject's funding first and saw a negative credit.
    function test_caseClosedBeforeSettlementCreditsNothing() public {
        handler.trade(
            3166,
            15467,
            539870827,
            false,
            2166,
            111369887473982945697897258602409287065386435722986207154590940387224246097690
        );
        handler.trade(1051, 12171, 15136, true, 15464, 14230);
        handler.trade(
            1168411735506661811742110087801918863070291604039924928506196396893378933,
            1260453273787228,
            347116398933640331523583658655833010268520,
            true,
            16919986333354244150684229007,
            43966037069718258576433447
        );
        handler.trade(
            20535272172678192,
            263615357094710860162,
            440392362851999043465277286579278263269487231602019,
            true,
            3717247811854684081636320725785754368606574270904826,
            5135814833788369109800297893564991179384745365147688138144613801742690978
        );
        handler.gapPrice(2, 548815500298587483327717);
        handler.gapPrice(8878614450720093, 1397659952140291297496236194371187525386697984122960890725403638363);
        handler.liquidate(
            8387844102235504430021397838752649758762,
            1785,
            15295568780829137724550,
            35237723743683800185061547308495447215001026728348628641939063143700009176
        );
        handler.warp(1542);
        handler.liquidate(
            741929898055282309076342752720285083638518627865251181061505308270002371,
            3761464396772301391383892,
            3749143478885741735368210243342204,
            1178511150263831955447667919316676600813347590330248582015384952153779
        );
        handler.gapPrice(
            444174255389287349276441333430593743358980088812569688306995403625540,
            340909176459680559191142041829382792188220813607703464208097776
        );
        handler.trade(
            8190917525570042619945919933,
            0,
            49799,
            false,
            29432809777967378032983568975961600331105197728122672897650353698507,
            154622280032980790424995123453851017212185800108013532036046096168
        );
        handler.gapPrice(2929262007717633791747716338, 36551052018735558262311537);
        handler.socializeAfterTimeout(24242, 21684, 2880);
        _checkAll();
        assertEq(handler.casesOpened(), 1, "one case opened");
        assertEq(clearingHouse.openDeleverageCases(), 0, "and closed");
    }

    /// The adversarial moves of issue 9 reach their branches: a dust trade, a same-block round trip, and a bankrupt
    /// BTC long liquidated by the short on the other side, which pays the socialized charge on its whole position
    /// before it takes the long over. Every invariant is checked after each step.
    /// Issue 10: the claims moves reach their branches. Trader 1 gives up L in an ADL step (event 0, its record 0);
    /// one token unit of dust comes in and is repaid to it visiting one record; an offer above what is outstanding
    /// is refused; then all that is outstanding comes in within a round trip (claim, claim again in the block: the
    /// second pays nothing), and trader 1 is whole, to the wei.
    function test_claimsMovesRepayInOrder() public {
        handler.trade(0, 1, 0, true, 300, 0);
        handler.gapPrice(0, 3001);
        handler.liquidate(0, 0, 0, 0);
        handler.autoDeleverage(0, 0, 1);
        _checkAll();
        address trader1 = handler.account(1);
        (uint256 issued, , uint256 events) = clearingHouse.claimsTotals(0);
        assertEq(events, 1, "one loss event");
        assertLt(1e12, issued, "the ADL step took more than a unit");
        assertEq(clearingHouse.claimsOf(trader1).paid, issued, "trader 1 paid it all");

        handler.repayClaims(0, 0);
        handler.claimRepayment(1, 0);
        _checkAll();
        assertEq(clearingHouse.claimsOf(trader1).repaid, 1e12, "one unit of dust repaid");

        handler.repayClaims(0, 2);
        assertEq(handler.claimsRefusals(), 1, "an offer above the outstanding refused");
        // Seed U − 1 brings all U = ⌊(issued − 1e12) / 1e12⌋ whole units outstanding (bound: 1 + seed mod U).
        uint256 units = (issued - 1e12) / 1e12;
        handler.claimRoundTrip(1, units - 1);
        _checkAll();
        // Trader 1 is repaid all but the last fraction of a unit.
        uint256 expected = 1e12 + units * 1e12;
        assertEq(clearingHouse.claimsOf(trader1).repaid, expected, "repaid what came in");
        assertEq(handler.ghostClaimsRepaid(), expected, "ClaimRepaid events sum to it");
        assertEq(handler.claimRepaymentsPaying(), 2, "two paying claims, the round trip's second paid nothing");
    }

    function test_adversarialMovesReachTheirBranches() public {
        // Trader 0 buys 9 × 20,000 / 60,000 = 3 BTC from trader 1 at the oracle (size seed 300, price seed 0).
        handler.trade(0, 1, 1, true, 300, 0);
        handler.dustTrade(2, 3, 1, true, 443);
        handler.roundTrip(2, 3, 0, false, 150);
        _checkAll();
        assertEq(handler.dustTrades(), 1, "a dust trade");
        assertEq(handler.roundTrips(), 1, "a round trip");
        // BTC gaps down 40% (seed 6,001: 1,000 + 3,000 bp, odd: down): trader 0 is bankrupt far beyond what the
        // fund may pay in a day (10,000), so the rest is socialized over the shorts: trader 1 and the dust short.
        handler.gapPrice(1, 6001);
        assertLt(clearingHouse.accountHealth(handler.account(0)).equity, int256(-10_000e18), "deeply bankrupt");
        address short = handler.account(1);
        handler.liquidateByCounterparty(0, 0);
        _checkAll();
        assertEq(handler.counterpartyLiquidations(), 1, "liquidated by its counterparty");
        assertEq(_size(handler.account(0), BTC), 0, "bankrupt account flat");
        assertEq(_size(short, BTC), 0, "the short took the long over and is flat");
        assertTrue(clearingHouse.marketState(BTC).shortSocialLossIndex > 0, "the shorts were charged");
        assertGe(clearingHouse.accountHealth(short).equity, int256(0), "and could pay");
    }

    /// Issue 15. Trader 0 goes long BTC against trader 1 and ETH against trader 2 (6.3x of its free collateral each,
    /// size seed 0), both gap down 25%: bankrupt in two markets, BTC the largest. A keeper's liquidateAccount equals
    /// the two single calls and the invariants hold on what it leaves. Then trader 3 does the same against traders 4
    /// and 5, and its counterparty's account (the attacker's second account) calls it; and a solvent account is refused.
    function test_liquidateAccountMovesReachTheirBranches() public {
        handler.trade(0, 1, BTC, true, 0, 0);
        handler.trade(0, 2, ETH, true, 0, 0);
        handler.gapPrice(BTC, 3001);
        handler.gapPrice(ETH, 3001);
        assertLt(clearingHouse.accountHealth(handler.account(0)).equity, int256(0), "trader 0 bankrupt");
        handler.liquidateAccount(0, 0, 0);
        _checkAll();
        assertEq(handler.accountLiquidations(), 1, "one liquidateAccount");
        assertEq(handler.accountLiquidationsMultiMarket(), 1, "in two markets");
        assertEq(clearingHouse.openMarketsOf(handler.account(0)).length, 0, "trader 0 flat");
        assertGt(handler.ghostSocialized(), int256(0), "the rest socialized over BTC's shorts");

        handler.trade(3, 4, BTC, true, 0, 0);
        handler.trade(3, 5, ETH, true, 0, 0);
        handler.gapPrice(BTC, 3001);
        handler.gapPrice(ETH, 3001);
        handler.liquidateAccount(3, 1, 0);
        _checkAll();
        assertEq(
            handler.accountLiquidations() +
                handler.accountLiquidationRefusals() +
                handler.accountLiquidationsUnreplayable(),
            2,
            "the second account's call went through or was refused for its margin"
        );
        // ETH +26.22% (seed 3244): trader 5's short is under maintenance margin but solvent: NotBankrupt.
        handler.gapPrice(ETH, 3244);
        uint256 refusals = handler.accountLiquidationRefusals();
        handler.liquidateAccount(5, 0, 0);
        _checkAll();
        assertGe(handler.accountLiquidationRefusals() + handler.accountLiquidations(), refusals + 1, "a move was made");
    }

    /// The campaign's counterexample for issue 9, finding 4 (seed 0x3547f, shrunk to 15 calls). Staker 1 escrows
    /// 434,614,708,351 shares (value at request 434,614); liquidations draw on the fund before its exitAt, so at
    /// exitAt (t = 7,201) the escrow is worth 322,709 < 434,614. The case stays open (the unstake waits), fee income
    /// streams on, and the timeout's draw takes the fund from 7,483,652,382 to 79,687,721 at t = 18,469. The old fund
    /// paid "value now with the draws after exitAt undone", 322,776: 67 more than the value at exitAt, the income
    /// that vested after exitAt (18,398 s of a 59,164,055 stream on 4.35e-5 of the shares), paid by the stakers who
    /// stayed. Now the payout is the value at confirm scaled by the losses up to exitAt (none in that hour).
    function test_exitPaysNoIncomeVestedAfterExitAt() public {
        address staker = vm.addr(0x57A4E + 1);
        handler.trade(
            225983763108909226363044925072622914056159113128769558303315920682286,
            84885696614150249847756516439179087426693801245562045268871302709496,
            15970971412240433298699284778867971754249892,
            false,
            94313554018395668227,
            1
        );
        handler.requestUnstake(15313099753, 434614708350);
        (uint128 shares, uint128 assetsAtRequest, ) = fund.unstakeRequests(staker);
        assertEq(uint256(shares), 434614708351, "escrowed shares");
        assertEq(uint256(assetsAtRequest), 434614, "value at request");
        handler.trade(22055, 13879, 22229, false, 7188, 14503);
        handler.trade(13553, 37457, 17226, true, 15901, 14253);
        handler.gapPrice(9251, 7515);
        handler.trade(1957, 17657, 12554, false, 16278, 14507);
        handler.sweepInsuranceFees();
        handler.gapPrice(19999999999999999989740, 1428);
        handler.liquidateByCounterparty(25879, 35872);
        handler.liquidate(275, 40637732564565528477557945211010963, 237116, 2172542029907460307634);
        // Waits out the cooldown, confirms at t = 3,601, waits until exitAt = 7,201; a case is open: refused.
        handler.unstake(237531912472581259272470551812228018629047849, true);
        assertEq(fund.unstakeExitAt(staker), 7_201, "exitAt");
        assertEq(block.timestamp, 7_201, "at exitAt");
        uint256 valueAtExit = fund.previewRedeem(shares);
        assertEq(valueAtExit, 322_709, "value at exitAt");
        assertEq(handler.unstakesWaitingForBadDebt(), 1, "the unstake waits for the case");
        handler.warp(11267);
        handler.socializeAfterTimeout(15872, 24156, 19749);
        assertEq(token.balanceOf(address(fund)), 79_687_721, "the timeout drew the fund down");
        handler.warp(4118889529);
        uint256 before = token.balanceOf(staker);
        handler.unstake(2140740498393578176689792903913499847225, true);
        uint256 paid = token.balanceOf(staker) - before;
        assertEq(handler.unstakes(), 1, "paid out");
        assertEq(handler.unstakesBelowRequest(), 1, "the loss bound the payout, not the value at request");
        assertLe(paid, valueAtExit, "paid at most the value at exitAt");
        // No loss between the confirmation (t = 3,601) and exitAt: the value at confirm, 15 below the value at
        // exitAt (the income of the exposure hour stays with the other stakers).
        assertEq(paid, 322_694, "value at confirm");
        assertEq(handler.failures(handler.F_EXIT()), 0, handler.firstFailure(handler.F_EXIT()));
    }

    /// The move confirmBeforeLoss reaches its branch: the exit confirmed just before a loss bears it. Staker 0
    /// escrows 4,000 of its 5,000 USD; trader 2 sells 3 BTC to trader 3 at 60,000; staker 0 confirms after the
    /// cooldown, BTC gaps −15% (seed 1001), and trader 3 is liquidated: the fund pays its deficit within the
    /// exposure hour, so the payout is the value at confirm scaled by that loss.
    function test_exitConfirmedBeforeALossBearsIt() public {
        handler.requestUnstake(0, 4_000e12 - 1);
        (uint128 shares, uint128 atRequest, ) = fund.unstakeRequests(vm.addr(0x57A4E));
        assertEq(uint256(atRequest), 4_000e6, "value at request");
        handler.trade(2, 3, 1, false, 300, 0);
        handler.confirmBeforeLoss(0, 1, 1001, 3);
        assertEq(handler.confirmsBeforeLoss(), 1, "confirmed, then the loss");
        assertTrue(handler.ghostFundOutflow() > 0, "the fund paid within the exposure hour");
        uint256 afterLoss = fund.previewRedeem(shares);
        assertLt(afterLoss, uint256(atRequest), "the escrow lost value");
        address staker = vm.addr(0x57A4E);
        uint256 before = token.balanceOf(staker);
        handler.unstake(0, true);
        uint256 paid = token.balanceOf(staker) - before;
        assertEq(handler.unstakes(), 1, "paid out");
        assertEq(handler.unstakesBelowRequest(), 1, "the loss bound the payout");
        assertLe(paid, afterLoss, "the exit bore the loss");
        // Trader 3 took 3 BTC as taker (fee 90 of 180,000): 19,910 − 27,000 = −7,090; the 37.8 of fees set aside
        // for the fund (30% of 90 + 36) go first, the fund pays 7,052.2 of its 10,000: 4,000 × 2,947.8 / 10,000.
        assertEq(paid, 1_179.12e6, "value at confirm x the loss");
        _checkAll();
    }

    /// Issue 11: the member moves reach their branches, every invariant checked along the way. Trader 0 joins with
    /// the smallest contribution (200: no position, so the minimum) and is refused the isolated market's layers;
    /// trader 1 is refused one unit short of the rule, joins the isolated layers and is refused the shared ones.
    /// Trader 0 withdraws down to its reserve (one unit past it refused with the exact figures); at F = R even a
    /// dust fill is refused; with 1,000 more it opens 3.33 ETH against its second account at the oracle but not
    /// 1.16 ETH more at the band's edge against itself. Its notice matures, BTC gaps and a BTC default walks the
    /// vault (its 10,000 a day), the members' fund (200) and assesses trader 0 its whole cap (400); leaving right
    /// after is refused (CoolingOff); a new notice after the period lets it leave, unmarked.
    function test_memberMovesReachTheirBranches() public {
        address m = handler.account(0);
        handler.join(0, 0, 0);
        assertEq(uint256(layers.memberOf(m).contribution), 200e6, "contributed the minimum");
        assertEq(layers.assessmentCapLeft(m), 400e6, "reserve 2 x 200");
        assertEq(handler.markOf(m), address(layers), "marked by the shared layers");
        handler.join(0, 0, 3);
        handler.join(1, 0, 2);
        handler.join(1, 0, 3);
        handler.join(1, 0, 0);
        assertEq(handler.otherFundRefusals(), 2, "MemberOfAnotherFund both ways");
        assertEq(handler.contributionRefusals(), 1, "one unit short refused");
        assertEq(handler.markOf(handler.account(1)), address(otherLayers), "trader 1 marked by the isolated layers");
        handler.requestLeave(0);
        assertEq(handler.noticesGiven(), 1, "notice given");
        _checkAll();

        handler.memberWithdraw(0, 1, 0);
        assertEq(handler.withdrawReserveRefusals(), 1, "19,601 refused: free 399 < reserve 400");
        handler.memberWithdraw(0, 0, 0);
        assertEq(clearingHouse.accountHealth(m).freeCollateral, 400e18, "withdrew 19,600: free == reserve");
        handler.memberTrade(0, 1, 0, true, 7, 2);
        assertEq(handler.reserveRefusals(), 1, "8 wei at the oracle refused at F == R");
        handler.deposit(0, 0);
        handler.memberTrade(0, 1, 0, true, 10, 5);
        assertEq(handler.memberFills(), 1, "3.33 ETH at the oracle: F 1,400 -> 732 >= 400");
        assertTrue(clearingHouse.positionOf(m, ETH).size > 3.3e18, "long 3.33 ETH");
        handler.memberTrade(0, 1, 0, true, 20, 3);
        assertEq(handler.reserveRefusals(), 2, "1.16 ETH at 2,100 refused: F would be ~384 < 400");
        assertEq(handler.exactReserveRefusals(), 2, "both refusals' figures predicted by the probe");
        _checkAll();

        handler.trade(2, 3, 1, false, 300, 0);
        handler.leaveAroundLoss(0, 1, 3001, 3, false);
        assertEq(handler.exitsAroundLoss(), 1, "exit timed around the loss");
        assertEq(uint256(layers.memberOf(m).assessed), 400e6, "assessed its whole cap");
        assertEq(layers.memberAssets(), 0, "members' fund used up");
        assertEq(handler.coolingOffRefusals(), 1, "leaving right after the default refused");
        _checkAll();

        for (uint256 i = 0; i < 4; ++i) handler.warp(6 hours - 1); // bound(x, 1, 6 h) = 1 + x mod 6 h
        handler.requestLeave(0);
        handler.leaveFund(0, true);
        assertEq(handler.leaves(), 1, "left after the period");
        assertEq(handler.markOf(m), address(0), "mark cleared");
        _checkAll();
    }

    function _checkAll() internal view {
        invariant_liquidateAccountEqualsTheSingleCalls();
        invariant_lossWaterfallAddsUpToTheWei();
        invariant_fundOutflowEqualsDrawnEvents();
        invariant_clearingHouseSolvent();
        invariant_openInterestMatchesPositions();
        invariant_noNegativeCollateralOutsideAllocation();
        invariant_adlNeverTakesMoreThanProfit();
        invariant_socialChargeIsSizeTimesIndexDelta();
        invariant_resolutionNeverStuck();
        invariant_openCaseCounterMatchesCases();
        invariant_noUnexpectedRevert();
        invariant_chargeCoversTheWholeSide();
        invariant_noRewardOnBankruptLiquidation();
        invariant_adlTakesTheFirstEntryBucketFirst();
        invariant_tokensConserved();
        invariant_claimsRepaidWithinIssuedAndInflows();
        invariant_claimsRepaidInEventOrder();
        invariant_noClaimRepaidBeyondWhatItPaid();
        invariant_memberActsKeepTheirReserve();
        invariant_oneFundPerMemberAndCappedAssessments();
    }

    function _noFailure(uint256 category) internal view {
        if (handler.failures(category) != 0) revert(handler.firstFailure(category));
    }
}

/// @notice Issue 9, finding 1, kept as a unit test (the invariant campaign's counterexample on the old
/// LiquidationLogic, shortened): the keeper holds the long side and takes a bankrupt short over. The old code divided
/// the deficit by what was left of the longs after the hand-over, 3 wei, which then owed it all; now the charge comes
/// first, over the 1 BTC + 3 wei that were long when the transaction began, and the keeper pays its share.
contract TinySideSocializationTest is WaterfallSetup {
    uint256 internal constant KEEPER_KEY = 0x4EE9;
    /// 6,500 deposited − 30 taker fee − 9,000 lost on 1 BTC from 60,000 to 69,000.
    uint256 internal constant DEFICIT = 2_530e18;
    /// ⌈2,530e18 × 1e18 / (1e18 + 3)⌉.
    uint256 internal constant PER_UNIT = 2529999999999999992411;

    function setUp() public {
        // Nobody stakes, so the fund is empty, and no fee is set aside for it.
        _deploySystem(1 hours, 1_000_000e6);
        clearingHouse.setInsuranceFeeShare(0);
    }

    function test_liquidatorOnTheChargedSidePaysItsShare() public {
        address tinyLong = _trader(0x71, 1_000e6);
        _trader(0x72, 1_000e6);
        address keeper = _trader(KEEPER_KEY, 10_000_000e6);
        // 0x72 sells 3 wei of BTC to tinyLong at 60,000; a fresh account sells 1 BTC to the keeper at 60,000 with
        // 6,500 USD (6,470 after the fee, IM 6,000).
        _fill(0x72, tinyLong, BTC, false, 3, 60_000e18);
        address bankrupt = _trader(0x1001, 6_500e6);
        _fill(KEEPER_KEY, bankrupt, BTC, true, 1e18, 60_000e18);
        // +15%: equity 6,470 − 9,000 = −2,530.
        _setAnswer(BTC, 69_000e8);
        wvm.recordLogs();
        vm.prank(keeper);
        clearingHouse.liquidate(bankrupt, BTC, type(uint256).max);
        WaterfallEvents.Receipt[] memory r = WaterfallEvents.receipts(wvm.getRecordedLogs(), address(clearingHouse));
        assertEq(r.length, 1, "one receipt");
        assertEq(r[0].shortfall, DEFICIT, "shortfall");
        assertEq(r[0].fundPaid, 0, "empty fund");
        assertEq(r[0].socialized, DEFICIT, "all socialized");
        assertEq(r[0].perUnit, PER_UNIT, "per unit over the side as it stood before the hand-over");
        assertEq(_size(bankrupt, BTC), 0, "bankrupt flat");
        assertEq(clearingHouse.collateralOf(bankrupt), 0, "bankrupt at zero");
        // The keeper settled ⌈1e18 × PER_UNIT / 1e18⌉ when it took the short over (its long closed): 2,530 less
        // 7,589 wei; tinyLong owes ⌈3 × PER_UNIT / 1e18⌉ = 7,590 wei. Together the deficit and 1 wei.
        assertEq(_size(keeper, BTC), 0, "keeper flat");
        assertEq(clearingHouse.collateralOf(keeper), 10_000_000e18 - 12e18 - int256(PER_UNIT) + 9_000e18, "keeper");
        assertEq(clearingHouse.positionOf(tinyLong, BTC).socialLossOwed, 7_590, "tinyLong owes dust");
        assertGe(_equity(tinyLong), int256(0), "tinyLong can pay");
        MarketState memory state = clearingHouse.marketState(BTC);
        assertEq(state.longSocialLossIndex, PER_UNIT, "long index");
        assertEq(uint256(state.longOpenInterest), 3, "3 wei long left");
    }
}

/// @notice Deterministic reproductions of defects the invariant campaign found; each asserts the behaviour DESIGN.md
/// asks for.
contract WaterfallDefectsTest is WaterfallSetup {
    address internal keeper;

    function setUp() public {
        _deploySystem(1 hours, 1_000_000e6);
        clearingHouse.setDeleverageTimeout(10 minutes);
        keeper = _trader(0x4EE9, 10_000_000e6);
    }

    /// A short opened from a flat position after a loss was socialized over the shorts owes nothing for it: a
    /// socialized charge is the position's size times the index change since it opened (DESIGN invariant 5).
    function test_shortOpenedFromFlatOwesNoEarlierSocialLoss() public {
        address bankrupt = _trader(0xB, 6_500e6);
        address latecomer = _trader(0xE, 1_000_000e6);
        address buyer = _trader(0xD, 1_000_000e6);
        // The keeper sells 1 BTC to `bankrupt` at 60,000; BTC −15% bankrupts it (6,470 − 9,000) and a second keeper
        // liquidates: the 2,530 deficit less the 12.6 of fees set aside (30% of 12 + 30) is socialized over the
        // keeper's short.
        _fill(0x4EE9, bankrupt, BTC, false, 1e18, 60_000e18);
        _setAnswer(BTC, 51_000e8);
        vm.prank(buyer);
        clearingHouse.liquidate(bankrupt, BTC, type(uint256).max);
        assertEq(clearingHouse.marketState(BTC).shortSocialLossIndex, 2_517.4e18, "shorts charged 2,517.4 per BTC");
        // Afterwards the latecomer opens a short of 1 BTC: it was not there when the loss was socialized.
        _fill(0xE, buyer, BTC, false, 1e18, 51_000e18);
        assertEq(_size(latecomer, BTC), -1e18, "latecomer short 1 BTC");
        assertEq(clearingHouse.positionOf(latecomer, BTC).socialLossOwed, 0, "a new short owes no earlier loss");
    }

    /// An account that was long while a loss was socialized over the longs, and closed, can later open a short:
    /// the fill must not revert (today it panics on index − lastIndex underflowing), and the short owes nothing.
    function test_formerLongCanOpenShortAfterLossOnLongs() public {
        address trader = _trader(0xA, 100_000e6);
        address bankrupt = _trader(0xB, 6_500e6);
        address other = _trader(0xD, 1_000_000e6);
        // `trader` buys 1 BTC from `bankrupt` at 60,000; BTC +15% bankrupts the short (6,487 − 9,000 < 0) and the
        // keeper's liquidation socializes the deficit over the only long, `trader`.
        _fill(0xB, trader, BTC, false, 1e18, 60_000e18);
        _setAnswer(BTC, 69_000e8);
        vm.prank(keeper);
        clearingHouse.liquidate(bankrupt, BTC, type(uint256).max);
        assertTrue(clearingHouse.marketState(BTC).longSocialLossIndex > 0, "longs charged");
        // `trader` sells its long to the keeper (settling its charge), then sells 1 BTC more to `other`.
        _fill(0xA, keeper, BTC, false, 1e18, 69_000e18);
        assertEq(_size(trader, BTC), 0, "trader flat");
        _fill(0xA, other, BTC, false, 1e18, 69_000e18);
        assertEq(_size(trader, BTC), -1e18, "trader short 1 BTC");
        assertEq(clearingHouse.positionOf(trader, BTC).socialLossOwed, 0, "the new short owes nothing");
    }

    /// autoDeleverage must not take a bankrupt account as counterparty: it cannot give anything up, and closing its
    /// profitable position leaves it flat with negative collateral and no case, a deficit nobody can realize any more
    /// (DESIGN invariant 4). Today adlRank even ranks such accounts first (score = max when collateral or equity ≤ 0).
    function test_adlNeverLeavesCounterpartyFlatBelowZero() public {
        address x = _trader(0xA, 13_000e6);
        address y = _trader(0xB, 6_500e6);
        _trader(0xD, 1_000_000e6);
        // x buys 1 BTC at 60,000 (fee 30) and sells 30 ETH at 2,000 to y (fee 30; y's maker fee 12):
        // x: 12,940 ≥ IM 12,000; y: 6,488 ≥ IM 6,000.
        _fill(0xD, x, BTC, false, 1e18, 60_000e18);
        _fill(0xB, x, ETH, true, 30e18, 2_000e18);
        // ETH 1,600, BTC 30,000: x = 12,940 + 12,000 − 30,000 = −5,060 (bankrupt, its ETH short in profit);
        // y = 6,488 − 12,000 = −5,512.
        _setAnswer(ETH, 1_600e8);
        _setAnswer(BTC, 30_000e8);
        assertEq(_equity(x), -5_060e18, "x bankrupt");
        assertEq(_equity(y), -5_512e18, "y bankrupt");
        // x's BTC (notional 30,000, below its ETH's 48,000) goes to the keeper (not its last position: nothing
        // realized): x holds collateral −17,060 and a short worth +12,000. y's liquidation opens a case: the fund
        // is empty.
        vm.startPrank(keeper);
        clearingHouse.liquidate(x, BTC, type(uint256).max);
        clearingHouse.liquidate(y, ETH, type(uint256).max);
        vm.stopPrank();
        assertEq(clearingHouse.collateralOf(x), -17_060e18, "x collateral");
        assertTrue(clearingHouse.deleverageCaseOf(y).open, "y's case open");
        assertEq(clearingHouse.adlRank(x, ETH).unrealizedPnl, 12_000e18, "x in profit");

        vm.prank(keeper);
        (bool ok, ) = address(clearingHouse).call(
            abi.encodeCall(clearingHouse.autoDeleverage, (y, ETH, x, type(uint256).max))
        );
        if (ok) {
            // Went through: then x must still be reachable by the waterfall (a position or collateral ≥ 0).
            assertTrue(
                _size(x, ETH) != 0 || clearingHouse.collateralOf(x) >= 0,
                "the counterparty is left flat with negative collateral and no case"
            );
        }
        // Either way x's deficit can still be realized: it holds its short or owes nothing.
        assertTrue(_size(x, ETH) != 0 || _equity(x) >= 0, "x's bad debt is still reachable");
    }

    /// socializeAfterTimeout on an account that holds another market besides its case must not leave it richer:
    /// what the fund and the other side pay is its negative equity, so it ends at equity 0.
    function test_timeoutResolutionLeavesNoProfitInOtherMarkets() public {
        address trader = _trader(0xA, 10_000e6);
        _trader(0xC, 1_000_000e6);
        // 45 ETH long at 2,000 (fee 45); ETH 1,700: equity 9,955 − 13,500 = −3,545, more than the fund (empty)
        // and its pot (18.9) hold: a case opens.
        _fill(0xC, trader, ETH, false, 45e18, 2_000e18);
        _setAnswer(ETH, 1_700e8);
        vm.prank(keeper);
        clearingHouse.liquidate(trader, ETH, type(uint256).max);
        assertTrue(clearingHouse.deleverageCaseOf(trader).open, "case open");
        // The trader deposits 12,000 and buys 0.01 BTC at 60,000 (fee 0.3): equity 8,454.7 ≥ IM 7,650 + 60.
        token.mint(trader, 12_000e6);
        vm.startPrank(trader);
        token.approve(address(clearingHouse), type(uint256).max);
        clearingHouse.deposit(12_000e6);
        vm.stopPrank();
        _fill(0xC, trader, BTC, false, 0.01e18, 60_000e18);
        // After the timeout BTC is 72,000 (+120) and ETH 1,500: equity 21,954.7 − 22,500 + 120 = −425.3.
        vm.warp(block.timestamp + 11 minutes);
        _setAnswer(BTC, 72_000e8);
        _setAnswer(ETH, 1_500e8);
        assertEq(_equity(trader), -425.3e18, "bankrupt by 425.3");

        // The case was about the trader's last position; with another market open it no longer is: the timeout
        // call closes it with nothing resolved, and the new deficit goes through liquidate again.
        wvm.recordLogs();
        vm.prank(keeper);
        clearingHouse.socializeAfterTimeout(trader);
        WaterfallEvents.Receipt[] memory r = WaterfallEvents.receipts(wvm.getRecordedLogs(), address(clearingHouse));
        assertEq(r.length, 1, "one receipt");
        assertEq(r[0].shortfall, 0, "nothing resolved by the stale case");
        assertTrue(!clearingHouse.deleverageCaseOf(trader).open, "stale case closed");
        assertEq(_equity(trader), -425.3e18, "still bankrupt by 425.3, both positions kept");

        // BTC (not the last position) is handed over at the oracle; ETH, now the last, opens a new case (the
        // fund is empty), which the timeout then resolves: the trader ends at zero, nothing gained.
        vm.startPrank(keeper);
        clearingHouse.liquidate(trader, BTC, type(uint256).max);
        clearingHouse.liquidate(trader, ETH, type(uint256).max);
        vm.stopPrank();
        assertTrue(clearingHouse.deleverageCaseOf(trader).open, "new case open");
        vm.warp(block.timestamp + 11 minutes);
        _setAnswer(BTC, 72_000e8);
        _setAnswer(ETH, 1_500e8);
        wvm.recordLogs();
        vm.prank(keeper);
        clearingHouse.socializeAfterTimeout(trader);
        r = WaterfallEvents.receipts(wvm.getRecordedLogs(), address(clearingHouse));
        assertEq(r.length, 1, "one receipt");
        assertLe(r[0].shortfall, 425.3e18, "no more than the negative equity is resolved");
        assertGe(_equity(trader), int256(0), "equity >= 0 after");
        assertLe(_equity(trader), int256(1), "equity <= 1 wei after: nothing gained at the others' expense");
    }
}

/// @notice Stateful invariants of isolated markets (issue 11), driven by {IsolatedWaterfallHandler}: BTC-USD on the
/// shared pot and fund (5,000 staked), SOL-USD (100) isolated with its own InsuranceFund vault (300 staked), AVAX-USD
/// (20) isolated with its own DefaultLayers (first loss 100, a stakers' vault of 150, one member contributing 100
/// with 1,000 of collateral, assessable up to 2× its contribution; no drawdown trigger). Both isolated markets
/// socialize what their layers cannot pay, and have funding off.
/// hardhat-config: invariant.runs = 24
/// hardhat-config: invariant.depth = 50
contract IsolatedWaterfallInvariantTest is WaterfallSetup {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    IsolatedWaterfallHandler internal handler;
    InsuranceFund internal solFund;
    DefaultLayers internal avaxLayers;
    InsuranceFund internal avaxStakers;
    MockAggregatorV3 internal solFeed;
    MockAggregatorV3 internal avaxFeed;
    uint256 internal sol;
    uint256 internal avax;
    address internal member;

    function setUp() public {
        _deploySystem(1 hours, 10_000e6);
        _stake(vm.addr(0x57A4E), 5_000e6);
        solFeed = new MockAggregatorV3(8, "SOL / USD", 100e8);
        avaxFeed = new MockAggregatorV3(8, "AVAX / USD", 20e8);
        solFund = new InsuranceFund(token, address(clearingHouse), address(this), 1 hours, 0, 1_000_000e6, 1 days);
        MarketParams memory params = _marketParams(solFeed, LossPolicy.Socialized);
        params.maxFundingRate = 0;
        sol = clearingHouse.listIsolatedMarket(params, address(solFund));
        avaxLayers = new DefaultLayers(
            clearingHouse,
            address(this),
            IDefaultLayers.Params({
                firstLossTarget: 0,
                refillShare: 0,
                memberFeeShare: 0,
                minContribution: 50e6,
                contributionRatio: 0,
                assessmentMultiple: 2e18,
                coolingOffPeriod: 1 days,
                drawdownFraction: 1e18,
                drawdownWindow: 8 hours
            })
        );
        avaxStakers = new InsuranceFund(token, address(avaxLayers), address(this), 1 hours, 0, 1_000_000e6, 1 days);
        avaxLayers.connectStakers(avaxStakers);
        params = _marketParams(avaxFeed, LossPolicy.Socialized);
        params.maxFundingRate = 0;
        avax = clearingHouse.listIsolatedMarket(params, address(avaxLayers));

        token.mint(address(this), 550e6);
        token.approve(address(solFund), 300e6);
        solFund.deposit(300e6, address(this));
        token.approve(address(avaxLayers), 100e6);
        avaxLayers.fundFirstLoss(100e6);
        token.approve(address(avaxStakers), 150e6);
        avaxStakers.deposit(150e6, address(this));
        member = _trader(0x3E3B, 1_000e6);
        token.mint(member, 100e6);
        vm.startPrank(member);
        token.approve(address(avaxLayers), 100e6);
        avaxLayers.join(100e6);
        vm.stopPrank();

        handler = new IsolatedWaterfallHandler(
            clearingHouse,
            [BTC, sol, avax],
            [btcFeed, solFeed, avaxFeed],
            [address(fund), address(solFund), address(avaxLayers)],
            address(avaxStakers),
            member
        );
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        // Trades, crashes and liquidations weigh more: positions must build up and prices gap for bad debt.
        bytes4[] memory s = new bytes4[](20);
        s[0] = IsolatedWaterfallHandler.trade.selector;
        s[1] = IsolatedWaterfallHandler.trade.selector;
        s[2] = IsolatedWaterfallHandler.trade.selector;
        s[3] = IsolatedWaterfallHandler.crash.selector;
        s[4] = IsolatedWaterfallHandler.crash.selector;
        s[5] = IsolatedWaterfallHandler.movePrice.selector;
        s[6] = IsolatedWaterfallHandler.liquidate.selector;
        s[7] = IsolatedWaterfallHandler.liquidate.selector;
        s[8] = IsolatedWaterfallHandler.liquidate.selector;
        s[9] = IsolatedWaterfallHandler.sweep.selector;
        s[10] = IsolatedWaterfallHandler.refill.selector;
        s[11] = IsolatedWaterfallHandler.warp.selector;
        // Adversarial: across the isolation rule, dust, same-block round trips.
        s[12] = IsolatedWaterfallHandler.crossMarket.selector;
        s[13] = IsolatedWaterfallHandler.crossMarket.selector;
        s[14] = IsolatedWaterfallHandler.dustTrade.selector;
        s[15] = IsolatedWaterfallHandler.roundTrip.selector;
        // Claims per pool: sweeps (claims first), anyone's repayClaims (dust, bounded, above the owed, bad pools),
        // settlements and claims.
        s[16] = IsolatedWaterfallHandler.sweep.selector;
        s[17] = IsolatedWaterfallHandler.repayClaims.selector;
        s[18] = IsolatedWaterfallHandler.claim.selector;
        s[19] = IsolatedWaterfallHandler.claim.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: s});
    }

    // ================================================================ invariants

    /// An isolated market's trades, defaults, sweeps and refills never change the shared pot, the shared fund's
    /// token balance or its assets (ghost-tracked: only the shared market's own moves update the ghost).
    function invariant_isolatedMovesLeaveTheSharedPoolUntouched() public view {
        (bool ok, string memory why) = handler.checkGhost(0);
        assertTrue(ok, why);
    }

    /// An isolated market's pot and fund (for the layers: first loss, members' fund, stakers' vault, the member's
    /// collateral) change only in that market's own moves: its fund is drawn for it alone.
    function invariant_isolatedFundDrawnOnlyForItsOwnMarket() public view {
        for (uint256 g = 1; g < 3; ++g) {
            (bool ok, string memory why) = handler.checkGhost(g);
            assertTrue(ok, why);
        }
    }

    /// For each isolated market, Σ shortfall = Σ (its pot + its fund + its loss policy) to the wei, each part observed
    /// on the party that paid; every receipt matched what was observed for it.
    function invariant_isolatedBadDebtAddsUpToTheWei() public view {
        _noFailure(handler.F_SUM());
        for (uint256 g = 1; g < 3; ++g) {
            assertEq(
                int256(handler.ghostShortfall(g)),
                handler.ghostPotPaid(g) + int256(handler.ghostFundPaid(g) + handler.ghostPolicy(g)),
                "isolated shortfall == its pot + its fund + its loss policy"
            );
        }
    }

    /// An isolated pot grows only from its own market's fees: it equals Σ its market's insurance fees and
    /// liquidation fees, less what it paid towards its bad debts, less what its sweeps gave its own claims pool and
    /// sent to its own fund.
    function invariant_isolatedPotGrowsOnlyFromItsOwnFees() public view {
        _noFailure(handler.F_POT());
        for (uint256 g = 1; g < 3; ++g) {
            assertEq(
                int256(uint256(clearingHouse.isolatedPool(handler.marketOf(g)).fees)),
                int256(handler.ghostFeesIn(g)) -
                    handler.ghostPotPaid(g) -
                    int256(handler.ghostPotToClaims(g) + handler.ghostSwept(g) * SCALE),
                "isolated pot == its fees in - paid - to its claims - swept"
            );
        }
    }

    /// Claims per pool: each pool's issued total is Σ of its own market's loss events, its inflow counter moved only
    /// in its own group's sweeps and repayClaims (by exactly what they brought), and Σ repaid to its accounts' records
    /// ≤ that pool's inflows. An isolated market's traders are never repaid from the shared pool, nor the reverse.
    function invariant_claimsPoolsRepaidOnlyFromTheirOwnInflows() public view {
        _noFailure(handler.F_CLAIMS());
        for (uint256 g = 0; g < 3; ++g) {
            (uint256 issued, uint256 inflow, ) = clearingHouse.claimsTotals(handler.poolOf(g));
            assertEq(issued, handler.ghostClaimsIssued(g), "pool issued == its own market's loss events");
            assertEq(inflow, handler.ghostClaimsInflow(g), "pool inflow moved only by its own sweeps and repays");
            assertLe(handler.ghostClaimsRepaid(g), inflow, "sum repaid to the pool's accounts <= its inflows");
            assertLe(inflow, issued, "pool inflow <= issued");
        }
    }

    /// No account holds an isolated market together with any other market; every call across the rule was refused
    /// with IsolatedMarketConflict naming the account, and changed nothing.
    function invariant_noAccountHoldsAnIsolatedAndAnotherMarket() public view {
        _noFailure(handler.F_CONFLICT());
        for (uint256 i = 0; i < handler.accounts(); ++i) _checkIsolation(handler.account(i));
        _checkIsolation(member);
    }

    /// No fill, liquidation or sweep reverted for a reason the handler did not expect.
    function invariant_isolatedNoUnexpectedRevert() public view {
        _noFailure(handler.F_UNEXPECTED());
    }

    // ================================================================ the handler reaches every branch

    /// A fixed sequence through the branches the invariants watch, checking them after every step: SOL and AVAX
    /// defaults (SOL's taken over by the bankrupt account's counterparty; AVAX's walking first loss, stakers,
    /// members' fund and an assessment), refused cross-market fills and liquidations, a dust fill, a round trip, a
    /// sweep of each pot.
    function test_handlerSequenceReachesIsolatedDefaults() public {
        // Size seed 300 → 9x the smaller free collateral, at the oracle: trader 0 of SOL buys 180 SOL from trader 1.
        handler.trade(1, 0, 0, true, 300, 0);
        assertEq(clearingHouse.positionOf(handler.account(4), sol).size, 180e18, "SOL trader 0 long 180");
        handler.trade(2, 0, 0, true, 300, 0); // AVAX: 900 long
        handler.trade(0, 0, 0, true, 300, 0); // BTC: 0.3 long
        _checkAll();
        // An account in SOL tries BTC and AVAX, as taker and maker, and liquidating: all refused.
        handler.crossMarket(4, 0, 1, 0);
        handler.crossMarket(4, 1, 1, 1);
        handler.crossMarket(0, 0, 0, 0);
        assertEq(handler.conflictsRefused(), 3, "three refusals");
        handler.dustTrade(0, 1, 2, true, 7);
        handler.roundTrip(1, 1, 2, true, 5e18);
        assertEq(handler.dustFills(), 1, "a dust fill");
        assertEq(handler.roundTrips(), 1, "a round trip");
        handler.sweep(1);
        handler.sweep(2);
        handler.sweep(0);
        _checkAll();
        // −40% on SOL and AVAX (seed 6001: 1,000 + 3,000 bp, odd → down).
        handler.crash(1, 6001);
        handler.crash(2, 6001);
        // SOL trader 0 is taken over by its counterparty, trader 1 (one owner on both sides: its short closes);
        // AVAX trader 0 by AVAX's keeper.
        handler.liquidate(1, 0, true, 0);
        handler.liquidate(2, 0, false, 0);
        assertEq(handler.counterpartyLiquidations(), 1, "liquidated by its counterparty");
        assertEq(handler.badDebts(1), 1, "a SOL bad debt");
        assertEq(handler.badDebts(2), 1, "an AVAX bad debt");
        assertEq(handler.assessedDraws(), 1, "the member was assessed");
        assertEq(avaxLayers.firstLoss(), 0, "AVAX's first loss used up");
        assertEq(avaxLayers.memberAssets(), 0, "AVAX's members' fund used up");
        assertTrue(handler.ghostPolicy(1) > 0 && handler.ghostPolicy(2) > 0, "both reached their loss policy");
        _checkAll();
        // Claims: SOL's shorts settle (records), SOL trades to fill its pot, SOL's sweep funds SOL's pool only; a
        // treasury repays AVAX's pool; bad pools and too much are refused; the payers claim.
        assertTrue(handler.ghostClaimsIssued(1) > 0, "SOL's pool has claims");
        assertTrue(handler.ghostClaimsIssued(2) > 0, "AVAX's pool has claims");
        for (uint256 i = 4; i < 7; ++i) handler.claim(i, 0);
        handler.trade(1, 1, 2, true, 0, 0);
        handler.sweep(1);
        assertTrue(handler.ghostClaimsInflow(1) > 0, "SOL's sweep funded SOL's pool");
        handler.repayClaims(2, 7, 1);
        handler.repayClaims(2, 0, 2); // one unit above AVAX's owed: refused
        handler.repayClaims(1, 0, 3); // BTC named as a pool: refused
        handler.repayClaims(1, 1, 3); // an unlisted market: refused
        assertEq(handler.claimsRefusals(), 3, "three refusals");
        for (uint256 i = 4; i < 12; ++i) handler.claim(i, 2);
        assertTrue(handler.claimsPaidOut() > 0, "records repaid");
        assertEq(handler.ghostClaimsInflow(0), 0, "the shared pool got nothing from isolated moves");
        _checkAll();
    }

    function _checkAll() internal view {
        invariant_isolatedMovesLeaveTheSharedPoolUntouched();
        invariant_isolatedFundDrawnOnlyForItsOwnMarket();
        invariant_isolatedBadDebtAddsUpToTheWei();
        invariant_isolatedPotGrowsOnlyFromItsOwnFees();
        invariant_noAccountHoldsAnIsolatedAndAnotherMarket();
        invariant_isolatedNoUnexpectedRevert();
        invariant_claimsPoolsRepaidOnlyFromTheirOwnInflows();
    }

    function _checkIsolation(address a) internal view {
        uint256[] memory held = clearingHouse.openMarketsOf(a);
        for (uint256 k = 0; k < held.length; ++k) {
            if (held[k] == sol || held[k] == avax) assertEq(held.length, 1, "an isolated market is held alone");
        }
    }

    function _noFailure(uint256 category) internal view {
        if (handler.failures(category) != 0) revert(handler.firstFailure(category));
    }
}
