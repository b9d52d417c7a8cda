// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

import {
    AdlRank,
    DeleverageCase,
    IsolatedPool,
    LossPolicy,
    MarketParams,
    MarketState,
    Position
} from "../interfaces/IClearingHouse.sol";
import {IClearingHouseErrors} from "../interfaces/IClearingHouseErrors.sol";
import {IClearingHouseEvents} from "../interfaces/IClearingHouseEvents.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";
import {ClaimsLib} from "./ClaimsLib.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {DeleverageCaseLib} from "./DeleverageCaseLib.sol";
import {EntryBookLib} from "./EntryBookLib.sol";
import {FundDrawLib} from "./FundDrawLib.sol";
import {HaircutLib} from "./HaircutLib.sol";
import {Health, Ledger, LedgerLib, Prices} from "./Ledger.sol";
import {LiquidationMath} from "./LiquidationMath.sol";
import {MarketSet} from "./MarketSet.sol";
import {MemberReserveLib} from "./MemberReserveLib.sol";
import {PositionMath} from "./PositionMath.sol";

/// @title LiquidationLogic
/// @notice The loss waterfall: liquidation, insurance-fund draws, auto-deleveraging and socialized loss.
/// Deployed once and linked; the clearing house delegates to it so that both fit the contract size limit.
/// @dev Accounting model of a bad-debt resolution. Positions move between accounts only through
/// LedgerLib.applyFill, with one notional shared by both sides, so realized PnL stays zero-sum. A bankrupt
/// account's last position is handed over at the oracle price, rounded in the account's favour, which leaves
/// its equity unchanged (or up to 1 wei higher). What will then be missing, D = −(collateral + the PnL the
/// hand-over realizes), is paid before the position moves, in this order: the fees set aside for the fund, the
/// fund itself (within its floor and window cap), and then either every position on the other side through the
/// social-loss index (⌈R / OI⌉ per unit, OI as it stands before the hand-over, the caller's own position
/// included), or in a haircut market first the other side's profit (HaircutLib, at most its net profit, the rest
/// socialized), or, in an ADL market, counterparties chosen by the caller, each giving up ⌊(D − A) × q / size⌋
/// against the oracle for the part q it takes back, A being what the fund can pay (the last part takes all
/// but A, which the fund then pays to the flat account). The receipt event states
/// shortfall = fundPaid + deleveraged + socialized + haircut to the wei. A bankrupt account's liquidator gets no reward.
library LiquidationLogic {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;
    using FixedPointMath for uint256;
    using LedgerLib for Ledger;

    /// @notice A partial liquidation that would leave less than this notional (18 decimals) closes everything.
    uint256 internal constant MIN_REMAINING_NOTIONAL = 10e18;

    /// @dev The parties and prices of one liquidation, kept together to stay within the stack.
    struct Liquidation {
        address account;
        address liquidator;
        uint256 marketId;
        int256 positionSize;
        uint256 price;
    }

    // ================================================================ entry points

    /// @notice See {IClearingHouse.liquidate}.
    function liquidate(
        Ledger storage ledger,
        IOracleAdapter oracle,
        uint256 scale,
        address account,
        uint256 marketId,
        uint256 size
    ) external {
        if (size == 0) revert IClearingHouseErrors.ZeroAmount();
        if (msg.sender == account) revert IClearingHouseErrors.SelfLiquidation(account);
        MarketParams memory params = ledger.market(marketId);
        Prices memory prices = LedgerLib.pricesFrom(oracle);
        ledger.settleAll(prices, account);
        Health memory h = ledger.health(prices, account);

        DeleverageCase storage deleverage = ledger.deleverageCases[account];
        if (deleverage.open) {
            if (h.equity < 0) revert IClearingHouseErrors.DeleverageInProgress(account, deleverage.marketId);
            // The account recovered (a deposit or the price): its case ends with nothing socialized, and a
            // healthy account stops here instead of reverting, which would keep the case (and its locks) open.
            DeleverageCaseLib.closeAsIs(ledger, account);
            if (h.equity >= h.maintenanceMargin.toInt256()) return;
        }
        if (h.equity >= h.maintenanceMargin.toInt256()) {
            revert IClearingHouseErrors.NotLiquidatable(account, h.equity, h.maintenanceMargin);
        }
        Liquidation memory t = Liquidation({
            account: account,
            liquidator: msg.sender,
            marketId: marketId,
            positionSize: ledger.positions[account][marketId].size,
            price: LedgerLib.priceOf(prices, marketId, params)
        });
        if (t.positionSize == 0) revert IClearingHouseErrors.NoPosition(account, marketId);

        if (h.equity >= 0) _liquidateSolvent(ledger, prices, params, t, h, size);
        else _liquidateBankrupt(ledger, prices, scale, params, t, h);
    }

    /// @notice See {IClearingHouse.liquidateAccount}.
    /// @dev The sequence of single bankrupt liquidations (every other position first, in market order, the largest
    /// last) in one call: the account is settled and valued once, and since a hand-over at the oracle price leaves its
    /// equity as it was (or up to 1 wei higher, the notional rounding in its favour), the equity each single call
    /// would find is carried along instead of revalued. Where a single call would no longer find the account
    /// bankrupt, this one reverts. The liquidator's margin is checked once, at the end.
    function liquidateAccount(Ledger storage ledger, IOracleAdapter oracle, uint256 scale, address account) external {
        if (msg.sender == account) revert IClearingHouseErrors.SelfLiquidation(account);
        Prices memory prices = LedgerLib.pricesFrom(oracle);
        ledger.settleAll(prices, account);
        int256 equity = ledger.health(prices, account).equity;
        if (equity >= 0) revert IClearingHouseErrors.NotBankrupt(account, equity);
        DeleverageCase storage deleverage = ledger.deleverageCases[account];
        if (deleverage.open) revert IClearingHouseErrors.DeleverageInProgress(account, deleverage.marketId);
        uint256 open = ledger.openMarkets[account];
        if (open == 0) revert IClearingHouseErrors.NoOpenPositions(account);

        Liquidation memory t = Liquidation({
            account: account,
            liquidator: msg.sender,
            marketId: _largestMarket(ledger, prices, account, open),
            positionSize: 0,
            price: 0
        });
        uint256 last = t.marketId;
        bool onlyReduces = true;
        for (open = MarketSet.remove(open, last); open != 0; open = MarketSet.dropFirst(open)) {
            t.marketId = MarketSet.first(open);
            equity += _handOverBankrupt(ledger, prices, t);
            onlyReduces = _passWhole(ledger, t) && onlyReduces;
            if (equity >= 0) revert IClearingHouseErrors.NotBankrupt(account, equity);
        }
        t.marketId = last;
        _handOverBankrupt(ledger, prices, t);
        if (!_openCaseIfFundShort(ledger, scale, ledger.marketParams[last].lossPolicy, t, uint256(-equity))) {
            onlyReduces = _passLast(ledger, scale, t) && onlyReduces;
        }
        ledger.requireMarginAfterFill(prices, t.liquidator, onlyReduces);
    }

    /// @notice See {IClearingHouse.autoDeleverage}.
    function autoDeleverage(
        Ledger storage ledger,
        IOracleAdapter oracle,
        uint256 scale,
        address account,
        uint256 marketId,
        address counterparty,
        uint256 size
    ) external {
        if (size == 0) revert IClearingHouseErrors.ZeroAmount();
        DeleverageCase storage deleverage = ledger.deleverageCases[account];
        if (!deleverage.open || deleverage.marketId != marketId) {
            revert IClearingHouseErrors.NoDeleverageCase(account, marketId);
        }
        MarketParams memory params = ledger.market(marketId);
        if (DeleverageCaseLib.closeIfNoLongerLast(ledger, account, marketId)) return;
        Prices memory prices = LedgerLib.pricesFrom(oracle);
        ledger.settleAll(prices, account);
        Health memory h = ledger.health(prices, account);
        if (h.equity >= 0) revert IClearingHouseErrors.NotBankrupt(account, h.equity);

        // The fund's part is kept for the end, so that the fund never pays while the account still holds a
        // position: when what it can pay now covers the deficit (it may have been refilled since the case
        // opened), the caller takes the whole position over, as in a liquidation, and the case closes; otherwise
        // the counterparty gives up its pro rata share of what the fund cannot pay.
        uint256 deficit = uint256(-h.equity);
        uint256 available = FundDrawLib.available(ledger, scale, marketId);
        Liquidation memory t = Liquidation({
            account: account,
            liquidator: counterparty,
            marketId: marketId,
            positionSize: ledger.positions[account][marketId].size,
            price: LedgerLib.priceOf(prices, marketId, params)
        });
        if (available >= deficit) {
            if (msg.sender == account) revert IClearingHouseErrors.SelfLiquidation(account);
            t.liquidator = msg.sender;
            _takeOver(ledger, prices, scale, t);
            return;
        }
        uint256 loss = _deleverageStep(ledger, prices, t, size, deficit - available);
        deleverage.deleveraged += loss.toUint128();
        // After the last part the account is flat and owes exactly what the fund can pay: it pays now.
        if (ledger.positions[account][marketId].size == 0) _realizeDeficit(ledger, scale, t);
    }

    /// @dev Closes part of the bankrupt position against `t.liquidator`, the counterparty, which gives up
    /// ⌊deficit × q / size⌋ against the oracle (all of it on the last part). Returns what it gave up.
    function _deleverageStep(
        Ledger storage ledger,
        Prices memory prices,
        Liquidation memory t,
        uint256 size,
        uint256 deficit
    ) private returns (uint256 loss) {
        uint256 q;
        uint256 score;
        (q, loss, score) = _deleverageTerms(ledger, prices, t, size, deficit);
        // The bankrupt side closes at the bankruptcy price: a long sells above the oracle, a short buys below. The
        // base notional leaves its mark-to-market value unchanged, so its equity rises by exactly `loss`.
        int256 accountDelta = t.positionSize > 0 ? -q.toInt256() : q.toInt256();
        uint256 notional = LiquidationMath.deleverageNotional(t.positionSize, q, t.price, loss);
        ledger.applyFill(t.account, t.marketId, accountDelta, notional, 0);
        ledger.applyFill(t.liquidator, t.marketId, -accountDelta, notional, 0);
        emit IClearingHouseEvents.Deleveraged(t.account, t.liquidator, t.marketId, q, notional.divWad(q), loss, score);
        // The counterparty's loss is a claim on later inflows, known in full now.
        ClaimsLib.recordDeleverage(ledger, t.liquidator, t.marketId, t.positionSize < 0, loss);
    }

    /// @dev Checks the counterparty (`t.liquidator`) and returns the size it takes back, what it gives up, and its
    /// ADL score (as {_adlRank} computes it, from the same profit, bucket and equity).
    function _deleverageTerms(
        Ledger storage ledger,
        Prices memory prices,
        Liquidation memory t,
        uint256 size,
        uint256 deficit
    ) private returns (uint256 q, uint256 loss, uint256 score) {
        ledger.settle(t.liquidator, t.marketId);
        Position memory other = ledger.positions[t.liquidator][t.marketId];
        if (other.size == 0 || (other.size > 0) == (t.positionSize > 0)) {
            revert IClearingHouseErrors.CounterpartyWrongSide(t.liquidator, other.size);
        }
        int256 otherPnl = PositionMath.unrealizedPnl(other.size, other.openNotional, t.price);
        if (otherPnl <= 0) revert IClearingHouseErrors.CounterpartyNotProfitable(t.liquidator, otherPnl);
        // The order is the contract's, not the caller's: the first entry bucket of the side (the most profit per
        // unit of size at any price) goes first; any position in it may.
        uint256 bucket = EntryBookLib.entryBucket(SignedMath.abs(other.size), SignedMath.abs(other.openNotional));
        (uint256 first, ) = EntryBookLib.firstBucket(
            ledger.entryBooks[t.marketId][other.size > 0 ? 0 : 1],
            other.size > 0
        );
        if (bucket != first) revert IClearingHouseErrors.DeleverageOutOfOrder(t.liquidator, bucket, first);

        int256 otherEquity = ledger.health(prices, t.liquidator).equity;
        uint256 cap;
        (q, loss, cap) = LiquidationMath.deleverageTerms(
            size,
            SignedMath.abs(t.positionSize),
            SignedMath.abs(other.size),
            uint256(otherPnl),
            otherEquity,
            deficit
        );
        if (loss > cap) revert IClearingHouseErrors.DeleverageExceedsProfit(t.liquidator, loss, cap);
        score = LiquidationMath.adlScore(other.size, bucket, otherPnl, otherEquity);
    }

    /// @notice See {IClearingHouse.socializeAfterTimeout}.
    function socializeAfterTimeout(
        Ledger storage ledger,
        IOracleAdapter oracle,
        uint256 scale,
        address account
    ) external {
        DeleverageCase storage deleverage = ledger.deleverageCases[account];
        uint256 marketId = deleverage.marketId;
        if (!deleverage.open) revert IClearingHouseErrors.NoDeleverageCase(account, marketId);
        if (msg.sender == account) revert IClearingHouseErrors.SelfLiquidation(account);
        uint256 readyAt = uint256(deleverage.startedAt) + ledger.deleverageTimeout;
        if (block.timestamp < readyAt) revert IClearingHouseErrors.DeleverageTimeoutNotReached(account, readyAt);

        MarketParams memory params = ledger.market(marketId);
        if (DeleverageCaseLib.closeIfNoLongerLast(ledger, account, marketId)) return;
        Prices memory prices = LedgerLib.pricesFrom(oracle);
        ledger.settleAll(prices, account);
        Health memory h = ledger.health(prices, account);
        if (h.equity >= 0) {
            DeleverageCaseLib.closeAsIs(ledger, account);
            return;
        }
        Liquidation memory t = Liquidation({
            account: account,
            liquidator: msg.sender,
            marketId: marketId,
            positionSize: ledger.positions[account][marketId].size,
            price: LedgerLib.priceOf(prices, marketId, params)
        });
        _takeOver(ledger, prices, scale, t);
    }

    /// @notice See {IClearingHouse.sweepInsuranceFees}.
    function sweepInsuranceFees(Ledger storage ledger, IERC20 token, uint256 scale) external {
        address fund = address(ledger.insuranceFund);
        if (fund == address(0)) revert IClearingHouseErrors.InvalidAddress(fund);
        // Claims first: what they take stays here as their pot (ClaimsLib); the fund gets whole units of the rest.
        uint256 fees = ledger.insuranceFees;
        uint256 toClaims = ClaimsLib.addInflow(ledger, ClaimsLib.SHARED_POOL, fees);
        fees -= toClaims;
        uint256 amount = fees / scale;
        ledger.insuranceFees = (fees - amount * scale).toUint128();
        if (amount == 0) {
            if (toClaims == 0) revert IClearingHouseErrors.ZeroAmount();
            return;
        }
        token.safeTransfer(fund, amount);
        // The fund streams income over 7 days from the first call that notices it: start the stream now, so that
        // nobody can stake between the sweep and that call and catch the whole stream.
        IInsuranceFund(fund).syncIncome();
        emit IClearingHouseEvents.InsuranceFeesSwept(amount);
    }

    /// @notice See {IClearingHouse.sweepIsolatedFees}: an isolated market's pot goes to its own claims pool first
    /// (what they take stays here as their pot), then, in whole units, to its own fund only.
    function sweepIsolatedFees(Ledger storage ledger, IERC20 token, uint256 scale, uint256 marketId) external {
        if (!FundDrawLib.isIsolated(ledger, marketId)) revert IClearingHouseErrors.NotIsolatedMarket(marketId);
        IsolatedPool storage pool = ledger.isolatedPools[marketId];
        uint256 fees = pool.fees;
        uint256 toClaims = ClaimsLib.addInflow(ledger, ClaimsLib.poolOf(ledger, marketId), fees);
        fees -= toClaims;
        uint256 amount = fees / scale;
        pool.fees = (fees - amount * scale).toUint128();
        if (amount == 0) {
            if (toClaims == 0) revert IClearingHouseErrors.ZeroAmount();
            return;
        }
        token.safeTransfer(pool.fund, amount);
        IInsuranceFund(pool.fund).syncIncome();
        emit IClearingHouseEvents.IsolatedFeesSwept(marketId, amount);
    }

    /// @notice See {IClearingHouse.collectAssessment}. The member's health is read, not settled, as accountHealth
    /// reads it; what is taken is at most its free collateral, in whole units.
    function collectAssessment(
        Ledger storage ledger,
        IOracleAdapter oracle,
        IERC20 token,
        uint256 scale,
        address member,
        uint256 amount
    ) external returns (uint256 collected) {
        address fund = msg.sender;
        if (fund != address(ledger.insuranceFund) && ledger.isolatedFunds[fund] == 0) {
            revert IClearingHouseErrors.NotInsuranceFund(fund);
        }
        collected = Math.min(ledger.freeCollateral(member, ledger.health(oracle, member)) / scale, amount);
        if (collected == 0) return 0;
        ledger.addCollateral(member, -(collected * scale).toInt256());
        token.safeTransfer(fund, collected);
        emit IClearingHouseEvents.AssessmentCollected(member, collected);
    }

    /// @notice See {IClearingHouse.withdraw}. Here, beside the waterfall, because two of its checks belong to it: the
    /// deleverage lock and the assessment reserve.
    /// @dev The assessment reserve (the member-dodge rule, MemberReserveLib): a clearing member of the shared layers or
    /// of an isolated market's keeps, as free collateral after the withdrawal, what it may still be assessed this
    /// period (IDefaultLayers.assessmentCapLeft: k × contribution − collected since its period started), until it
    /// has left the fund.
    function withdraw(
        Ledger storage ledger,
        IOracleAdapter oracle,
        IERC20 token,
        uint256 scale,
        uint256 amount
    ) external {
        if (amount == 0) revert IClearingHouseErrors.ZeroAmount();
        address account = msg.sender;
        ledger.requireNoDeleverageLock(account);
        Prices memory prices = LedgerLib.pricesFrom(oracle);
        ledger.settleAll(prices, account);

        uint256 debit = amount * scale;
        int256 available = ledger.accounts[account].collateral;
        if (available < debit.toInt256()) {
            revert IClearingHouseErrors.InsufficientCollateral(account, available, debit);
        }
        ledger.addCollateral(account, -debit.toInt256());
        Health memory h = ledger.health(prices, account);
        if (h.equity < h.initialMargin.toInt256()) {
            revert IClearingHouseErrors.InsufficientMargin(account, h.equity, h.initialMargin);
        }
        // Only a marked member (MemberReserveLib) asks its fund; the mark shares the collateral's slot.
        uint256 reserve = MemberReserveLib.reserveOf(ledger, account, scale);
        if (reserve != 0) {
            uint256 free = ledger.freeCollateral(account, h);
            if (free < reserve) revert IClearingHouseErrors.AssessmentReserveRequired(account, free, reserve);
        }
        token.safeTransfer(account, amount);
        emit IClearingHouseEvents.Withdrawn(account, amount);
    }

    // ================================================================ views

    /// @notice See {IClearingHouse.adlRank}.
    function adlRank(
        Ledger storage ledger,
        IOracleAdapter oracle,
        address account,
        uint256 marketId
    ) external view returns (AdlRank memory) {
        ledger.market(marketId);
        return _adlRank(ledger, oracle, account, marketId);
    }

    /// @notice See {IClearingHouse.bankruptcyPrice}.
    function bankruptcyPrice(
        Ledger storage ledger,
        IOracleAdapter oracle,
        address account,
        uint256 marketId
    ) external view returns (int256) {
        MarketParams memory params = ledger.market(marketId);
        int256 size = ledger.positions[account][marketId].size;
        if (size == 0) return 0;
        return
            LiquidationMath.bankruptcyPrice(
                size,
                LedgerLib.price(oracle, params),
                ledger.health(oracle, account).equity
            );
    }

    // ================================================================ liquidation

    /// @dev Step 1: the account pays from its own margin. Closes no more than restores maintenance margin × (1 +
    /// the market's liquidation buffer).
    function _liquidateSolvent(
        Ledger storage ledger,
        Prices memory prices,
        MarketParams memory params,
        Liquidation memory t,
        Health memory h,
        uint256 size
    ) private {
        uint256 positionAbs = SignedMath.abs(t.positionSize);
        uint256 q = Math.min(
            size,
            LiquidationMath.sizeRestoringMaintenance(
                params.maintenanceMarginRatio,
                params.liquidationDiscount,
                params.liquidationFeeRatio,
                params.liquidationBuffer,
                t.price,
                h.equity,
                h.maintenanceMargin,
                positionAbs
            )
        );
        if ((positionAbs - q).mulWad(t.price) < MIN_REMAINING_NOTIONAL) q = positionAbs;

        (uint256 reward, uint256 fee) = LiquidationMath.penalty(
            params.liquidationDiscount,
            params.liquidationFeeRatio,
            q.mulWad(t.price),
            uint256(h.equity)
        );
        FundDrawLib.addFees(ledger, t.marketId, fee);
        bool onlyReduces = _handOver(ledger, t, q, reward, fee);
        ledger.requireMarginAfterFill(prices, t.liquidator, onlyReduces);
        emit IClearingHouseEvents.Liquidated(
            t.account,
            t.liquidator,
            t.marketId,
            _signed(t.positionSize, q),
            t.price,
            reward,
            fee,
            false
        );
    }

    /// @dev Steps 2 and 3 for a bankrupt account: the whole position passes at the oracle price with no reward,
    /// so that nobody gains by letting an account go bankrupt (the solvent reward already tends to zero with
    /// equity). A position that is not the account's last must not be its largest: the deficit is realized with
    /// the largest, so that it is charged over a side at least that large. On the last position the deficit is
    /// paid before the position moves, unless an ADL market's fund is short (a case opens instead).
    function _liquidateBankrupt(
        Ledger storage ledger,
        Prices memory prices,
        uint256 scale,
        MarketParams memory params,
        Liquidation memory t,
        Health memory h
    ) private {
        if (ledger.openMarkets[t.account] != (1 << t.marketId)) {
            _requireNotLargest(ledger, prices, t);
            ledger.requireMarginAfterFill(prices, t.liquidator, _passWhole(ledger, t));
            return;
        }
        if (_openCaseIfFundShort(ledger, scale, params.lossPolicy, t, uint256(-h.equity))) return;
        _takeOver(ledger, prices, scale, t);
    }

    /// @dev The last position of a bankrupt account owing `deficit`, in an ADL market whose fund cannot pay it all:
    /// opens a deleverage case instead of moving the position, and returns true. Otherwise changes nothing.
    function _openCaseIfFundShort(
        Ledger storage ledger,
        uint256 scale,
        LossPolicy policy,
        Liquidation memory t,
        uint256 deficit
    ) private returns (bool) {
        if (policy != LossPolicy.AutoDeleverage) return false;
        uint256 available = FundDrawLib.available(ledger, scale, t.marketId);
        if (available >= deficit) return false;
        DeleverageCaseLib.open(ledger, t.account, t.marketId, t.positionSize, deficit, available);
        return true;
    }

    /// @dev The account's last position: its deficit is paid (fund, then the other side) while the charged side
    /// still holds everything it held, the liquidator's own position included; only then does the position pass
    /// to the liquidator at the oracle price. Nobody can thus leave the charged side in the transaction that
    /// creates the charge, and the charged side is at least as large as the position (both sides are equal).
    function _takeOver(Ledger storage ledger, Prices memory prices, uint256 scale, Liquidation memory t) private {
        ledger.requireMarginAfterFill(prices, t.liquidator, _passLast(ledger, scale, t));
    }

    /// @dev {_takeOver} without the liquidator's margin check: returns whether the liquidator's position only got
    /// smaller, for the caller's check.
    function _passLast(Ledger storage ledger, uint256 scale, Liquidation memory t) private returns (bool onlyReduces) {
        _realizeDeficit(ledger, scale, t);
        onlyReduces = _passWhole(ledger, t);
    }

    /// @dev A bankrupt account's whole position in `t.marketId` passes to the liquidator at `t.price`, with no
    /// reward or fee; returns whether the liquidator's position only got smaller, for the caller's margin check.
    function _passWhole(Ledger storage ledger, Liquidation memory t) private returns (bool onlyReduces) {
        onlyReduces = _handOver(ledger, t, 0);
        emit IClearingHouseEvents.Liquidated(t.account, t.liquidator, t.marketId, t.positionSize, t.price, 0, 0, true);
    }

    /// @dev The account's market with the largest position by notional at the oracle price, the first of equals: the
    /// one {_requireNotLargest} lets go last.
    function _largestMarket(
        Ledger storage ledger,
        Prices memory prices,
        address account,
        uint256 open
    ) private view returns (uint256 largest) {
        uint256 largestNotional;
        for (bool first = true; open != 0; open = MarketSet.dropFirst(open)) {
            uint256 marketId = MarketSet.first(open);
            uint256 notional = PositionMath.notionalAt(
                ledger.positions[account][marketId].size,
                LedgerLib.priceOf(prices, marketId, ledger.marketParams[marketId])
            );
            if (first || notional > largestNotional) (largest, largestNotional, first) = (marketId, notional, false);
        }
    }

    /// @dev Fills in `t` for the account's position in `t.marketId` (size and oracle price) and returns by how much
    /// its equity will rise when the position passes whole at that price: the PnL the hand-over realizes less the
    /// position's unrealized PnL, 0 or the notional's rounding (the position is settled, so nothing else is owed).
    function _handOverBankrupt(
        Ledger storage ledger,
        Prices memory prices,
        Liquidation memory t
    ) private view returns (int256) {
        Position memory position = ledger.positions[t.account][t.marketId];
        t.positionSize = position.size;
        t.price = LedgerLib.priceOf(prices, t.marketId, ledger.marketParams[t.marketId]);
        return _handOverPnl(ledger, t) - PositionMath.unrealizedPnl(position.size, position.openNotional, t.price);
    }

    /// @dev Reverts when the account's position in `t.marketId` is larger in notional than each of its others.
    function _requireNotLargest(Ledger storage ledger, Prices memory prices, Liquidation memory t) private view {
        uint256 notional = PositionMath.notionalAt(t.positionSize, t.price);
        for (uint256 open = ledger.openMarkets[t.account]; open != 0; open = MarketSet.dropFirst(open)) {
            uint256 marketId = MarketSet.first(open);
            if (marketId == t.marketId) continue;
            uint256 other = PositionMath.notionalAt(
                ledger.positions[t.account][marketId].size,
                LedgerLib.priceOf(prices, marketId, ledger.marketParams[marketId])
            );
            if (other >= notional) return;
        }
        revert IClearingHouseErrors.LargestPositionGoesLast(t.account, t.marketId);
    }

    /// @dev Hands the whole position to the liquidator at the oracle price (see the overload).
    function _handOver(Ledger storage ledger, Liquidation memory t, uint256 reward) private returns (bool) {
        return _handOver(ledger, t, SignedMath.abs(t.positionSize), reward, 0);
    }

    /// @dev Moves `q` of the account's position to the liquidator at the oracle price moved against the account
    /// by `reward`, charging it `fee`. The base notional rounds in the account's favour, so the account's
    /// equity falls by at most reward + fee.
    function _handOver(
        Ledger storage ledger,
        Liquidation memory t,
        uint256 q,
        uint256 reward,
        uint256 fee
    ) private returns (bool liquidatorOnlyReduces) {
        (int256 accountDelta, uint256 notional) = LiquidationMath.handOverTerms(t.positionSize, t.price, q, reward);
        ledger.applyFill(t.account, t.marketId, accountDelta, notional, fee);
        (, liquidatorOnlyReduces) = ledger.applyFill(t.liquidator, t.marketId, -accountDelta, notional, 0);
    }

    // ================================================================ bad debt

    /// @dev Pays the deficit the account will have once its position in `t.marketId` (its last, or none) has
    /// passed at the oracle price: the fund pays what it can, and the rest is socialized over the side opposite
    /// to the position, as that side stands now. Emits the receipt.
    function _realizeDeficit(Ledger storage ledger, uint256 scale, Liquidation memory t) private {
        int256 collateral = ledger.accounts[t.account].collateral + _handOverPnl(ledger, t);
        uint256 deficit = collateral < 0 ? uint256(-collateral) : 0;
        uint256 paid = FundDrawLib.draw(ledger, scale, t.marketId, t.account, t.account, deficit);
        uint256 remainder = deficit - paid;
        uint256 haircut;
        uint256 perUnit;
        if (remainder != 0) {
            // Haircut market: the other side's profit first; what it cannot cover is socialized like the rest.
            if (ledger.isHaircutMarket(t.marketId)) haircut = _haircut(ledger, t, remainder);
            if (remainder > haircut) perUnit = _socialize(ledger, t.marketId, t.positionSize < 0, remainder - haircut);
            ledger.addCollateral(t.account, remainder.toInt256());
        }
        DeleverageCase storage deleverage = ledger.deleverageCases[t.account];
        if (deleverage.open) {
            deleverage.fundPaid += paid.toUint128();
            DeleverageCaseLib.close(ledger, t.account, deleverage.fundPaid, deleverage.deleveraged, remainder, perUnit);
        } else if (deficit != 0) {
            emit IClearingHouseEvents.BadDebtResolved(
                t.account,
                t.marketId,
                deficit,
                paid,
                0,
                remainder - haircut,
                perUnit,
                haircut
            );
        }
    }

    /// @dev The PnL the account realizes when its whole position in `t.marketId` passes at the oracle price
    /// ({_handOver} with no reward), computed before it does. The position must be settled.
    function _handOverPnl(Ledger storage ledger, Liquidation memory t) private view returns (int256 realizedPnl) {
        Position memory position = ledger.positions[t.account][t.marketId];
        if (position.size == 0) return 0;
        (int256 accountDelta, uint256 notional) = LiquidationMath.handOverTerms(
            t.positionSize,
            t.price,
            SignedMath.abs(position.size),
            0
        );
        (, , realizedPnl) = PositionMath.applyFill(position.size, position.openNotional, accountDelta, notional);
    }

    /// @dev Takes up to `amount` from the profit of the side opposite to the bankrupt position, as it stands.
    function _haircut(Ledger storage ledger, Liquidation memory t, uint256 amount) private returns (uint256) {
        MarketState storage state = ledger.marketStates[t.marketId];
        bool longSide = t.positionSize < 0;
        uint256 openInterest = longSide ? state.longOpenInterest : state.shortOpenInterest;
        return HaircutLib.charge(ledger, t.marketId, longSide, amount, t.price, openInterest);
    }

    /// @dev Raises one side's social-loss index so that its open interest pays at least `amount`.
    function _socialize(
        Ledger storage ledger,
        uint256 marketId,
        bool longSide,
        uint256 amount
    ) private returns (uint256 perUnit) {
        MarketState storage state = ledger.marketStates[marketId];
        uint256 openInterest = longSide ? state.longOpenInterest : state.shortOpenInterest;
        // Unreachable while the charge comes before the hand-over (both sides are equal); kept as a guard.
        if (openInterest == 0) revert IClearingHouseErrors.NoPositionsToCharge(marketId, longSide);
        perUnit = Math.mulDiv(amount, FixedPointMath.WAD, openInterest, Math.Rounding.Ceil);
        uint256 indexAfter = (longSide ? state.longSocialLossIndex : state.shortSocialLossIndex) + perUnit;
        if (longSide) state.longSocialLossIndex = indexAfter.toUint128();
        else state.shortSocialLossIndex = indexAfter.toUint128();
        emit IClearingHouseEvents.LossSocialized(marketId, longSide, amount, perUnit);
        ClaimsLib.recordSocialization(ledger, marketId, longSide, amount, openInterest, indexAfter);
    }

    // ================================================================ ranking

    function _adlRank(
        Ledger storage ledger,
        IOracleAdapter oracle,
        address account,
        uint256 marketId
    ) private view returns (AdlRank memory rank) {
        Position memory position = ledger.positions[account][marketId];
        if (position.size == 0) return rank;
        uint256 price = LedgerLib.price(oracle, ledger.marketParams[marketId]);
        rank.unrealizedPnl = PositionMath.unrealizedPnl(position.size, position.openNotional, price);
        rank.collateral = ledger.accounts[account].collateral;
        rank.notional = PositionMath.notionalAt(position.size, price);
        rank.equity = ledger.health(oracle, account).equity;
        // Only profitable positions of solvent accounts rank (see LiquidationMath.deleverageTerms).
        uint256 bucket = EntryBookLib.entryBucket(SignedMath.abs(position.size), SignedMath.abs(position.openNotional));
        rank.score = LiquidationMath.adlScore(position.size, bucket, rank.unrealizedPnl, rank.equity);
    }

    function _signed(int256 like, uint256 amount) private pure returns (int256) {
        return like > 0 ? amount.toInt256() : -amount.toInt256();
    }
}
