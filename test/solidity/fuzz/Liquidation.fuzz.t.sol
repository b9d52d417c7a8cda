// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {
    AccountHealth,
    AdlRank,
    DeleverageCase,
    LossPolicy,
    MarketParams,
    MarketState
} from "../../../contracts/interfaces/IClearingHouse.sol";
import {Bound} from "../utils/Vm.sol";
import {WaterfallEvents, WaterfallMath, WaterfallSetup, WaterfallVm} from "../handlers/WaterfallHandler.sol";

/// @notice Fuzz tests of liquidation through a real ClearingHouse (fixture parameters, insurance fund with a one-day
/// cooldown and a 1,000,000 USD daily cap): a solvent account after a max-size liquidation, a bankrupt account in the
/// socialized market, and a bankrupt account deleveraged against its counterparties in the ADL market. Every expected
/// number is computed here from the rules in DESIGN.md and the NatSpec (rounding included), from the state before.
contract LiquidationFuzzTest is WaterfallSetup {
    using Bound for uint256;

    uint256 internal constant TRADER_KEY = 0xA11CE;
    uint256 internal constant KEEPER_KEY = 0x4EE9E4;
    uint256 internal constant FIRST_COUNTERPARTY_KEY = 0xC0;
    uint256 internal constant WAD = 1e18;
    uint256 internal constant MMR = 0.05e18;
    uint256 internal constant DISCOUNT = 0.01e18;
    uint256 internal constant LIQUIDATION_FEE = 0.01e18;
    uint256 internal constant MIN_REMAINING_NOTIONAL = 10e18;

    address internal keeper;
    address internal staker;
    address[3] internal counterparties;

    /// @dev A position just opened: the trader, its signed size and the oracle price it was opened at.
    struct Opened {
        address account;
        uint256 marketId;
        bool isLong;
        uint256 size;
        uint256 entryPrice;
        uint256[3] parts; // sizes taken by the counterparties
    }

    struct SolventCase {
        uint256 price;
        int256 equity;
        uint256 maintenance;
        uint256 pot;
        int256 keeperCash;
    }

    struct SolventExpectation {
        uint256 q;
        uint256 reward;
        uint256 fee;
    }

    /// @dev Fund state before a bankrupt liquidation and what the waterfall must take from it.
    struct FundPlan {
        uint256 pot;
        uint256 available; // token units
        uint256 balance; // token units
        uint256 deficitPaid;
        uint256 deficitDrawn; // token units
        uint256 rewardPaid;
        uint256 rewardDrawn; // token units
    }

    struct DeleverageRun {
        uint256 deficit; // −equity when the case opened
        uint256 fundPaid;
        uint256 deleveraged; // Σ Deleveraged losses
        uint256 steps;
    }

    struct Step {
        address counterparty;
        int256 counterpartySize;
        int256 counterpartyPnl;
        int256 counterpartyCash;
        int256 accountCash;
        int256 accountSize;
        uint256 pot;
        uint256 fundBalance;
    }

    function setUp() public {
        _deploySystem(1 days, 1_000_000e6);
        keeper = _trader(KEEPER_KEY, 10_000_000e6);
        staker = vm.addr(0x57A4E);
        for (uint256 i = 0; i < 3; ++i) {
            // Different collateral gives the counterparties different ADL scores.
            counterparties[i] = _trader(FIRST_COUNTERPARTY_KEY + i, (i + 1) * 3_000_000e6);
        }
    }

    // ================================================================ solvent liquidation

    /// A position of 1,000 to 2,000,000 USD at 2x to 9.5x, long or short, ETH or BTC; the price moves until equity
    /// is 0.1% to 4.9% of the notional (liquidatable at 5%, solvent). A liquidation of size max takes exactly
    /// q = ⌈(maintenance − equity) / (price × (mmr − discount − fee))⌉ (all when less than 10 USD would remain), pays
    /// reward = ⌊1% of q × price⌋, fee = ⌈1% of q × price⌉ (scaled to equity when they exceed it), leaves equity ≥ maintenance margin or
    /// no position, never negative equity, and reward + fee ≤ equity before.
    /// hardhat-config: fuzz.runs = 128
    function testFuzz_solventLiquidationRestoresMaintenanceOrCloses(
        uint256 notionalSeed,
        uint256 leverageSeed,
        uint256 ratioSeed,
        bool isLong,
        bool btc
    ) public {
        Opened memory o = _open(
            btc ? BTC : ETH,
            isLong,
            notionalSeed.bound(1_000e18, 2_000_000e18),
            leverageSeed.bound(20_000, 95_000),
            0,
            1
        );
        SolventCase memory t;
        _setAnswer(o.marketId, _priceAtEquityRatio(o, ratioSeed.bound(0.001e18, 0.049e18)) / 1e10);
        t.price = _price(o.marketId);
        AccountHealth memory h = clearingHouse.accountHealth(o.account);
        t.equity = h.equity;
        t.maintenance = h.maintenanceMargin;
        assertTrue(t.equity >= 0 && t.equity < int256(t.maintenance), "precondition: liquidatable and solvent");
        t.pot = clearingHouse.insuranceFees();
        t.keeperCash = _cash(keeper, o.marketId);

        wvm.recordLogs();
        vm.prank(keeper);
        clearingHouse.liquidate(o.account, o.marketId, type(uint256).max);
        WaterfallEvents.Liquidation[] memory events = WaterfallEvents.liquidations(
            wvm.getRecordedLogs(),
            address(clearingHouse)
        );

        SolventExpectation memory x = _expectSolvent(t, o.size);
        assertEq(events.length, 1, "one Liquidated event");
        assertEq(events[0].size, o.isLong ? int256(x.q) : -int256(x.q), "size liquidated");
        assertEq(events[0].reward, x.reward, "reward");
        assertEq(events[0].fee, x.fee, "fee");
        assertTrue(!events[0].bankrupt, "not bankrupt");
        assertEq(clearingHouse.insuranceFees() - t.pot, x.fee, "the fee went to the fund's pot");
        // The keeper bought (sold) at the oracle notional moved by the reward in its favour.
        assertEq(
            _cash(keeper, o.marketId) - t.keeperCash,
            _oracleCashChange(o.isLong, x.q, t.price) + int256(x.reward),
            "keeper"
        );

        AccountHealth memory after_ = clearingHouse.accountHealth(o.account);
        assertGe(after_.equity, int256(0), "equity never negative");
        assertLe(x.reward + x.fee, uint256(t.equity), "reward + fee <= equity before");
        // Equity falls by reward + fee, less at most 1 wei of rounding in the account's favour.
        assertLe(t.equity - after_.equity, int256(x.reward + x.fee), "equity drop <= reward + fee");
        assertGe(t.equity - after_.equity + 1, int256(x.reward + x.fee), "equity drop >= reward + fee - 1");
        int256 remaining = _size(o.account, o.marketId);
        if (remaining != 0) {
            assertGe(after_.equity, int256(after_.maintenanceMargin), "partial: back above maintenance margin");
            assertGe(
                Math.mulDiv(WaterfallMath.abs(remaining), t.price, WAD),
                MIN_REMAINING_NOTIONAL,
                "partial: no dust left"
            );
        }
    }

    /// The same account with a liquidation buffer b of 0 to 100% on its market. The size is the smallest restoring
    /// maintenance × (1 + b), stated here as q = ⌈((10^18 + b)·MM − 10^18·E) · 10^36 / (P·((10^18 + b)·m − 10^18·(d +
    /// f)))⌉ (all when under 10 USD would remain); reward and fee are as without a buffer. A partial liquidation leaves
    /// equity ≥ (1 + b) × maintenance, short by at most the wei the fee and each margin round (3 wei × (1 + b)).
    /// hardhat-config: fuzz.runs = 128
    function testFuzz_bufferedLiquidationRestoresBufferedMaintenance(
        uint256 notionalSeed,
        uint256 leverageSeed,
        uint256 ratioSeed,
        uint256 bufferSeed,
        bool isLong,
        bool btc
    ) public {
        uint256 buffer = bufferSeed.bound(0, 1e18);
        MarketParams memory p =
            btc ? _marketParams(btcFeed, LossPolicy.Socialized) : _marketParams(ethFeed, LossPolicy.AutoDeleverage);
        p.liquidationBuffer = uint64(buffer);
        clearingHouse.updateMarketParams(btc ? BTC : ETH, p);
        Opened memory o = _open(
            btc ? BTC : ETH,
            isLong,
            notionalSeed.bound(1_000e18, 2_000_000e18),
            leverageSeed.bound(20_000, 95_000),
            0,
            1
        );
        SolventCase memory t;
        _setAnswer(o.marketId, _priceAtEquityRatio(o, ratioSeed.bound(0.001e18, 0.049e18)) / 1e10);
        t.price = _price(o.marketId);
        AccountHealth memory h = clearingHouse.accountHealth(o.account);
        t.equity = h.equity;
        t.maintenance = h.maintenanceMargin;
        assertTrue(t.equity >= 0 && t.equity < int256(t.maintenance), "precondition: liquidatable and solvent");

        wvm.recordLogs();
        vm.prank(keeper);
        clearingHouse.liquidate(o.account, o.marketId, type(uint256).max);
        WaterfallEvents.Liquidation[] memory events = WaterfallEvents.liquidations(
            wvm.getRecordedLogs(),
            address(clearingHouse)
        );
        SolventExpectation memory x = _expectBuffered(t, o.size, buffer);
        assertEq(events.length, 1, "one Liquidated event");
        assertEq(events[0].size, o.isLong ? int256(x.q) : -int256(x.q), "size liquidated");
        assertEq(events[0].reward, x.reward, "reward");
        assertEq(events[0].fee, x.fee, "fee");

        AccountHealth memory after_ = clearingHouse.accountHealth(o.account);
        assertGe(after_.equity, int256(0), "equity never negative");
        if (_size(o.account, o.marketId) != 0) {
            assertGe(
                uint256(after_.equity) * WAD + 3 * (WAD + buffer),
                after_.maintenanceMargin * (WAD + buffer),
                "partial: back at (1 + buffer) x maintenance"
            );
        }
    }

    // ================================================================ bankrupt, socialized market

    /// A BTC position of 1,000 to 1,000,000 USD at 2x to 9.5x against two counterparties, a gap of 1/leverage plus
    /// 0.5% to 30% against it (bankrupt), and 0 to 50,000 USD staked in the fund. The keeper's liquidation hands the
    /// position over at the oracle price; the deficit D = −(collateral after the hand-over) is paid by the fee pot, then
    /// the fund in whole token units, and the rest R is socialized over the counterparties at ⌈R × 1e18 / OI⌉ per unit.
    /// The account ends flat with collateral in [0, 1 wei]; the receipt says D = fundPaid + R.
    /// hardhat-config: fuzz.runs = 128
    function testFuzz_bankruptInSocializedMarketEndsAtZero(
        uint256 notionalSeed,
        uint256 leverageSeed,
        uint256 gapSeed,
        uint256 stakeSeed,
        uint256 splitSeed,
        bool isLong
    ) public {
        uint256 leverageBp = leverageSeed.bound(20_000, 95_000);
        Opened memory o = _open(BTC, isLong, notionalSeed.bound(1_000e18, 1_000_000e18), leverageBp, splitSeed, 2);
        _gapAgainst(o, leverageBp, gapSeed);
        _stake(staker, stakeSeed.bound(0, 50_000e6));
        assertLt(_equity(o.account), int256(0), "precondition: bankrupt");

        uint256 price = _price(BTC);
        // The hand-over closes the whole position at ⌈|s| × price⌉ (long) or ⌊|s| × price⌋ (short).
        int256 received = int256(WaterfallMath.closeNotional(o.isLong, o.size, price));
        int256 collateralAfterHandOver =
            clearingHouse.collateralOf(o.account) -
                clearingHouse.positionOf(o.account, BTC).openNotional +
                (o.isLong ? received : -received);
        assertLt(collateralAfterHandOver, int256(0), "precondition: a deficit to realize");
        uint256 deficit = uint256(-collateralAfterHandOver);
        // No reward on a bankrupt account (issue 9, finding 2): the fund pays the deficit only.
        FundPlan memory f = _planFund(deficit, 0);
        uint256 socialized = deficit - f.deficitPaid;
        uint256 perUnit = Math.mulDiv(socialized, WAD, o.size, Math.Rounding.Ceil);
        int256 keeperCollateral = clearingHouse.collateralOf(keeper);

        wvm.recordLogs();
        vm.prank(keeper);
        clearingHouse.liquidate(o.account, BTC, type(uint256).max);
        WaterfallVm.Log[] memory logs = wvm.getRecordedLogs();

        assertEq(_size(o.account, BTC), int256(0), "flat");
        assertGe(clearingHouse.collateralOf(o.account), int256(0), "collateral >= 0");
        assertLe(clearingHouse.collateralOf(o.account), int256(1), "collateral <= 1 wei");
        WaterfallEvents.Receipt[] memory receipts = WaterfallEvents.receipts(logs, address(clearingHouse));
        assertEq(receipts.length, 1, "one receipt");
        assertEq(receipts[0].shortfall, deficit, "receipt: shortfall is the deficit");
        assertEq(receipts[0].fundPaid, f.deficitPaid, "receipt: fund paid (pot first, then whole units)");
        assertEq(receipts[0].deleveraged, 0, "receipt: nothing deleveraged");
        assertEq(receipts[0].socialized, socialized, "receipt: socialized the rest");
        assertEq(receipts[0].shortfall, receipts[0].fundPaid + receipts[0].socialized, "receipt adds up");
        assertEq(receipts[0].perUnit, perUnit, "receipt: per unit");

        // No reward: the keeper took the position at the oracle, the fund paid the deficit and nothing else.
        WaterfallEvents.Liquidation[] memory events = WaterfallEvents.liquidations(logs, address(clearingHouse));
        assertEq(events.length, 1, "one Liquidated event");
        assertTrue(events[0].bankrupt, "bankrupt liquidation");
        assertEq(events[0].reward, 0, "no reward on a bankrupt account");
        assertEq(clearingHouse.collateralOf(keeper), keeperCollateral, "keeper's collateral unchanged");
        assertEq(f.balance - token.balanceOf(address(fund)), f.deficitDrawn, "fund outflow: the deficit only");
        _checkSocialCharges(o, perUnit, socialized);
    }

    // ================================================================ bankrupt, ADL market

    /// An ETH position of 1,000 to 1,000,000 USD at 2x to 9.5x against three counterparties, a gap that bankrupts it,
    /// and a fund holding less than the deficit: the liquidation opens a case; keepers deleverage it against the
    /// highest-scored profitable counterparty in random chunks. Each counterparty gives up no more than the profit of
    /// the part it takes back; the bankrupt account ends flat at collateral in [0, 1 wei]; the counterparties' losses
    /// add up to the deficit less what the fund paid.
    /// hardhat-config: fuzz.runs = 128
    function testFuzz_adlEndsAtZeroAndLossesCoverDeficitLessFund(
        uint256 notionalSeed,
        uint256 leverageSeed,
        uint256 gapSeed,
        uint256 stakeSeed,
        uint256 splitSeed,
        uint256 chunkSeed,
        bool isLong
    ) public {
        uint256 leverageBp = leverageSeed.bound(20_000, 95_000);
        Opened memory o = _open(ETH, isLong, notionalSeed.bound(1_000e18, 1_000_000e18), leverageBp, splitSeed, 3);
        _gapAgainst(o, leverageBp, gapSeed);
        DeleverageRun memory run;
        run.deficit = uint256(-_equity(o.account));
        // Less than the deficit in the fund and its pot, so that the liquidation opens a case.
        uint256 pot = clearingHouse.insuranceFees();
        _stake(staker, stakeSeed.bound(0, run.deficit > pot ? (run.deficit - pot) / SCALE / 2 : 0));

        vm.prank(keeper);
        clearingHouse.liquidate(o.account, ETH, type(uint256).max);
        DeleverageCase memory c = clearingHouse.deleverageCaseOf(o.account);
        assertTrue(c.open, "a case opened");
        assertEq(uint256(c.initialShortfall), run.deficit, "case: shortfall is -equity");
        assertEq(uint256(c.fundPaid), 0, "case: nothing drawn at opening");
        assertEq(c.longCounterparties, !o.isLong, "case: counterparties on the other side");
        assertEq(_size(o.account, ETH), o.isLong ? int256(o.size) : -int256(o.size), "position kept for ADL");

        WaterfallEvents.Receipt[] memory receipts;
        while (_size(o.account, ETH) != 0) {
            receipts = _deleverageStep(o, run, chunkSeed);
            assertLe(run.steps, 12, "deleveraging ends in bounded steps");
        }

        assertGe(clearingHouse.collateralOf(o.account), int256(0), "collateral >= 0");
        assertLe(clearingHouse.collateralOf(o.account), int256(1), "collateral <= 1 wei");
        assertTrue(!clearingHouse.deleverageCaseOf(o.account).open, "case closed");
        assertEq(clearingHouse.openDeleverageCases(), 0, "no open case");
        assertEq(receipts.length, 1, "one receipt, at the last step");
        assertEq(receipts[0].fundPaid, run.fundPaid, "receipt: fund paid");
        assertEq(receipts[0].deleveraged, run.deleveraged, "receipt: deleveraged");
        assertEq(receipts[0].socialized, 0, "receipt: nothing socialized");
        assertEq(receipts[0].shortfall, run.fundPaid + run.deleveraged, "receipt adds up");
        // Rounding could only account for 1 wei per step; the design asks for the wei.
        assertLe(run.deleveraged, run.deficit - run.fundPaid, "losses <= deficit - fund part");
        assertGe(run.deleveraged + run.steps, run.deficit - run.fundPaid, "losses >= deficit - fund part - steps");
        assertEq(run.deleveraged, run.deficit - run.fundPaid, "losses == deficit - fund part");
    }

    // ================================================================ steps and expectations

    /// @dev One autoDeleverage against the profitable counterparty with the highest ADL score, for a random chunk (or
    /// all) of the bankrupt position. The step is zero-sum between the two accounts and the fund, the counterparty
    /// traded at the oracle price (to the rounding wei) and gave up the event's `loss` on top, which is no more than
    /// the unrealized profit of the part it took back.
    function _deleverageStep(
        Opened memory o,
        DeleverageRun memory run,
        uint256 chunkSeed
    ) internal returns (WaterfallEvents.Receipt[] memory) {
        Step memory s;
        s.counterparty = _bestCounterparty(!o.isLong);
        s.counterpartySize = _size(s.counterparty, ETH);
        s.counterpartyPnl = clearingHouse.positionOf(s.counterparty, ETH).unrealizedPnl;
        s.counterpartyCash = _cash(s.counterparty, ETH);
        s.accountCash = _cash(o.account, ETH);
        s.accountSize = _size(o.account, ETH);
        s.pot = clearingHouse.insuranceFees();
        s.fundBalance = token.balanceOf(address(fund));
        uint256 chunk = uint256(keccak256(abi.encode(chunkSeed, run.steps)));
        uint256 size =
            run.steps < 4 && chunk % 2 == 0
                ? (chunk >> 1).bound(1, WaterfallMath.abs(s.accountSize))
                : type(uint256).max;
        ++run.steps;

        wvm.recordLogs();
        vm.prank(keeper);
        clearingHouse.autoDeleverage(o.account, ETH, s.counterparty, size);
        WaterfallVm.Log[] memory logs = wvm.getRecordedLogs();

        uint256 q = WaterfallMath.abs(s.accountSize) - WaterfallMath.abs(_size(o.account, ETH));
        uint256 loss = WaterfallEvents.deleveragedLoss(logs, address(clearingHouse));
        uint256 fundStep =
            (s.fundBalance - token.balanceOf(address(fund))) * SCALE + s.pot - clearingHouse.insuranceFees();
        int256 counterpartyChange = _cash(s.counterparty, ETH) - s.counterpartyCash;
        assertEq(
            _cash(o.account, ETH) - s.accountCash + counterpartyChange,
            int256(fundStep),
            "zero-sum: the account gained what the fund and the counterparty paid"
        );
        // What the counterparty paid for the long it bought back (received for the short it sold), loss aside.
        int256 traded =
            (o.isLong ? -counterpartyChange : counterpartyChange) + (o.isLong ? -int256(loss) : int256(loss));
        uint256 exact = q * _price(ETH); // × 1e18
        assertLt(WaterfallMath.abs(traded * 1e18 - int256(exact)), 1e18, "traded at the oracle price, to the wei");
        uint256 profit = Math.mulDiv(uint256(s.counterpartyPnl), q, WaterfallMath.abs(s.counterpartySize));
        assertLe(loss, profit, "loss <= unrealized profit of the part taken back");
        run.deleveraged += loss;
        run.fundPaid += fundStep;
        return WaterfallEvents.receipts(logs, address(clearingHouse));
    }

    /// @dev The partial-size rule of the NatSpec and the penalty capped at equity, from the state before.
    function _expectSolvent(
        SolventCase memory t,
        uint256 positionAbs
    ) internal pure returns (SolventExpectation memory x) {
        uint256 gap = t.maintenance - uint256(t.equity);
        uint256 needed = Math.mulDiv(gap, WAD * WAD, t.price * (MMR - DISCOUNT - LIQUIDATION_FEE), Math.Rounding.Ceil);
        x.q = Math.min(needed, positionAbs);
        if (Math.mulDiv(positionAbs - x.q, t.price, WAD) < MIN_REMAINING_NOTIONAL) x.q = positionAbs;
        uint256 notional = Math.mulDiv(x.q, t.price, WAD);
        // The reward is paid to the keeper (rounded down), the fee charged to the account (rounded up).
        x.reward = Math.mulDiv(notional, DISCOUNT, WAD);
        x.fee = Math.mulDiv(notional, LIQUIDATION_FEE, WAD, Math.Rounding.Ceil);
        if (x.reward + x.fee > uint256(t.equity)) {
            x.reward = Math.mulDiv(uint256(t.equity), DISCOUNT, DISCOUNT + LIQUIDATION_FEE);
            x.fee = uint256(t.equity) - x.reward;
        }
    }

    /// @dev A solvent liquidation's size, reward and fee with liquidation buffer `buffer` (see the buffered fuzz test).
    function _expectBuffered(
        SolventCase memory t,
        uint256 positionAbs,
        uint256 buffer
    ) internal pure returns (SolventExpectation memory x) {
        uint256 scale = WAD + buffer;
        uint256 gap = t.maintenance * scale - uint256(t.equity) * WAD;
        uint256 perUnit = MMR * scale - (DISCOUNT + LIQUIDATION_FEE) * WAD;
        x.q = Math.min(Math.mulDiv(gap, WAD * WAD, t.price * perUnit, Math.Rounding.Ceil), positionAbs);
        if (Math.mulDiv(positionAbs - x.q, t.price, WAD) < MIN_REMAINING_NOTIONAL) x.q = positionAbs;
        uint256 notional = Math.mulDiv(x.q, t.price, WAD);
        x.reward = Math.mulDiv(notional, DISCOUNT, WAD);
        x.fee = Math.mulDiv(notional, LIQUIDATION_FEE, WAD, Math.Rounding.Ceil);
        if (x.reward + x.fee > uint256(t.equity)) {
            x.reward = Math.mulDiv(uint256(t.equity), DISCOUNT, DISCOUNT + LIQUIDATION_FEE);
            x.fee = uint256(t.equity) - x.reward;
        }
    }

    /// @dev The fund's part of a bankrupt liquidation: the deficit first, from the pot then the fund in whole token
    /// units (the excess of a draw joins the pot), then the keeper's reward from what is left.
    function _planFund(uint256 deficit, uint256 reward) internal view returns (FundPlan memory f) {
        f.pot = clearingHouse.insuranceFees();
        f.available = fund.availableForDraw();
        f.balance = token.balanceOf(address(fund));
        uint256 pot = f.pot;
        uint256 available = f.available;
        (f.deficitPaid, f.deficitDrawn, pot) = _draw(pot, available, deficit);
        (f.rewardPaid, f.rewardDrawn, ) = _draw(pot, available - f.deficitDrawn, reward);
    }

    function _draw(
        uint256 pot,
        uint256 available,
        uint256 amount
    ) internal pure returns (uint256 paid, uint256 drawn, uint256 potAfter) {
        paid = Math.min(pot, amount);
        potAfter = pot - paid;
        if (paid < amount) {
            drawn = Math.min(Math.ceilDiv(amount - paid, SCALE), available);
            uint256 used = Math.min(drawn * SCALE, amount - paid);
            potAfter += drawn * SCALE - used;
            paid += used;
        }
    }

    /// @dev Each counterparty now owes ⌈|size| × perUnit / 1e18⌉; together at least what was socialized.
    function _checkSocialCharges(Opened memory o, uint256 perUnit, uint256 socialized) internal view {
        MarketState memory state = clearingHouse.marketState(BTC);
        assertEq(o.isLong ? state.shortSocialLossIndex : state.longSocialLossIndex, perUnit, "index rose by perUnit");
        uint256 owed;
        for (uint256 i = 0; i < 2; ++i) {
            uint256 charge = clearingHouse.positionOf(counterparties[i], BTC).socialLossOwed;
            assertEq(
                charge,
                Math.mulDiv(o.parts[i], perUnit, WAD, Math.Rounding.Ceil),
                "charge = ceil(size x perUnit)"
            );
            owed += charge;
        }
        assertGe(owed, socialized, "the side owes at least the socialized amount");
        assertLe(owed, socialized + Math.ceilDiv(o.size, WAD) + 2, "and at most rounding more");
    }

    // ================================================================ setup helpers

    /// @dev The trader deposits notional × 1e4 / leverageBp (+1 token unit) and takes `notional` at the oracle price
    /// from `parts` counterparties, split by `splitSeed`.
    function _open(
        uint256 marketId,
        bool isLong,
        uint256 notional,
        uint256 leverageBp,
        uint256 splitSeed,
        uint256 parts
    ) internal returns (Opened memory o) {
        o.marketId = marketId;
        o.isLong = isLong;
        o.entryPrice = _price(marketId);
        o.size = Math.mulDiv(notional, WAD, o.entryPrice);
        o.account = _trader(TRADER_KEY, Math.mulDiv(notional, 10_000, leverageBp) / SCALE + 1);
        uint256 left = o.size;
        for (uint256 i = 0; i < parts; ++i) {
            uint256 part =
                i + 1 == parts ? left : uint256(keccak256(abi.encode(splitSeed, i))).bound(1, left - (parts - 1 - i));
            o.parts[i] = part;
            left -= part;
            _fill(FIRST_COUNTERPARTY_KEY + i, o.account, marketId, !isLong, part, o.entryPrice);
        }
    }

    /// @dev Moves the price against the position by 1/leverage plus 0.5% to 30%.
    function _gapAgainst(Opened memory o, uint256 leverageBp, uint256 gapSeed) internal {
        uint256 move = Math.mulDiv(WAD, 10_000, leverageBp) + gapSeed.bound(0.005e18, 0.3e18);
        uint256 price =
            o.isLong ? Math.mulDiv(o.entryPrice, WAD - move, WAD) : Math.mulDiv(o.entryPrice, WAD + move, WAD);
        _setAnswer(o.marketId, price / 1e10);
    }

    /// @dev The price at which equity = ratio × |size| × price: for a long c − N + s·p = ρ·s·p, so
    /// p = (N − c) / (s (1 − ρ)); for a short c + |N| − |s|·p = ρ·|s|·p, so p = (c + |N|) / (|s| (1 + ρ)).
    function _priceAtEquityRatio(Opened memory o, uint256 ratio) internal view returns (uint256) {
        int256 collateral = clearingHouse.collateralOf(o.account);
        int256 openNotional = clearingHouse.positionOf(o.account, o.marketId).openNotional;
        if (o.isLong) return Math.mulDiv(uint256(openNotional - collateral), WAD * WAD, o.size * (WAD - ratio));
        return Math.mulDiv(uint256(collateral - openNotional), WAD * WAD, o.size * (WAD + ratio));
    }

    /// @dev The profitable counterparty with the highest ADL score on the given side.
    function _bestCounterparty(bool longSide) internal view returns (address best) {
        uint256 bestScore;
        for (uint256 i = 0; i < 3; ++i) {
            int256 size = _size(counterparties[i], ETH);
            if (size == 0 || (size > 0) != longSide) continue;
            AdlRank memory rank = clearingHouse.adlRank(counterparties[i], ETH);
            if (rank.unrealizedPnl <= 0) continue;
            if (best == address(0) || rank.score > bestScore) {
                best = counterparties[i];
                bestScore = rank.score;
            }
        }
        assertTrue(best != address(0), "a profitable counterparty is left");
    }

    /// @dev collateral − openNotional: moves by exactly the notional a fill pays or receives.
    function _cash(address account, uint256 marketId) internal view returns (int256) {
        return clearingHouse.collateralOf(account) - clearingHouse.positionOf(account, marketId).openNotional;
    }

    /// @dev Change of the cash value of the party that takes `q` over from an account closing a long
    /// (`closingLong`: it buys at ⌈q × price⌉) or a short (it sells at ⌊q × price⌋), at the oracle price.
    function _oracleCashChange(bool closingLong, uint256 q, uint256 price) internal pure returns (int256) {
        int256 notional = int256(WaterfallMath.closeNotional(closingLong, q, price));
        return closingLong ? -notional : notional;
    }
}
