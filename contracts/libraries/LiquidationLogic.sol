// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

import {
    IClearingHouse,
    AdlRank,
    DeleverageCase,
    LossPolicy,
    MarketParams,
    MarketState,
    Position
} from "../interfaces/IClearingHouse.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {Health, Ledger, LedgerLib} from "./Ledger.sol";
import {MarketSet} from "./MarketSet.sol";
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
/// included) or, in an ADL market, counterparties chosen by the caller, each giving up ⌊(D − A) × q / size⌋
/// against the oracle for the part q it takes back, A being what the fund can pay (the last part takes all
/// but A, which the fund then pays to the flat account). The receipt event states
/// shortfall = fundPaid + deleveraged + socialized to the wei. A bankrupt account's liquidator gets no reward.
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
        if (size == 0) revert IClearingHouse.ZeroAmount();
        if (msg.sender == account) revert IClearingHouse.SelfLiquidation(account);
        MarketParams memory params = ledger.market(marketId);
        ledger.settleAll(oracle, account);
        Health memory h = ledger.health(oracle, account);

        DeleverageCase storage deleverage = ledger.deleverageCases[account];
        if (deleverage.open) {
            if (h.equity < 0) revert IClearingHouse.DeleverageInProgress(account, deleverage.marketId);
            // The account recovered (a deposit or the price): its case ends with nothing socialized, and a
            // healthy account stops here instead of reverting, which would keep the case (and its locks) open.
            _closeCase(ledger, account, deleverage.fundPaid, deleverage.deleveraged, 0, 0);
            if (h.equity >= h.maintenanceMargin.toInt256()) return;
        }
        if (h.equity >= h.maintenanceMargin.toInt256()) {
            revert IClearingHouse.NotLiquidatable(account, h.equity, h.maintenanceMargin);
        }
        Liquidation memory t = Liquidation({
            account: account,
            liquidator: msg.sender,
            marketId: marketId,
            positionSize: ledger.positions[account][marketId].size,
            price: LedgerLib.price(oracle, params)
        });
        if (t.positionSize == 0) revert IClearingHouse.NoPosition(account, marketId);

        if (h.equity >= 0) _liquidateSolvent(ledger, oracle, params, t, h, size);
        else _liquidateBankrupt(ledger, oracle, scale, params, t, h);
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
        if (size == 0) revert IClearingHouse.ZeroAmount();
        DeleverageCase storage deleverage = ledger.deleverageCases[account];
        if (!deleverage.open || deleverage.marketId != marketId) {
            revert IClearingHouse.NoDeleverageCase(account, marketId);
        }
        MarketParams memory params = ledger.market(marketId);
        if (_closeIfNoLongerLast(ledger, account, marketId)) return;
        ledger.settleAll(oracle, account);
        Health memory h = ledger.health(oracle, account);
        if (h.equity >= 0) revert IClearingHouse.NotBankrupt(account, h.equity);

        // The fund's part is kept for the end, so that the fund never pays while the account still holds a
        // position: when what it can pay now covers the deficit (it may have been refilled since the case
        // opened), the caller takes the whole position over, as in a liquidation, and the case closes; otherwise
        // the counterparty gives up its pro rata share of what the fund cannot pay.
        uint256 deficit = uint256(-h.equity);
        uint256 available = _availableForDraw(ledger, scale);
        Liquidation memory t = Liquidation({
            account: account,
            liquidator: counterparty,
            marketId: marketId,
            positionSize: ledger.positions[account][marketId].size,
            price: LedgerLib.price(oracle, params)
        });
        if (available >= deficit) {
            if (msg.sender == account) revert IClearingHouse.SelfLiquidation(account);
            t.liquidator = msg.sender;
            _takeOver(ledger, oracle, scale, t);
            return;
        }
        uint256 loss = _deleverageStep(ledger, oracle, t, size, deficit - available);
        deleverage.deleveraged += loss.toUint128();
        // After the last part the account is flat and owes exactly what the fund can pay: it pays now.
        if (ledger.positions[account][marketId].size == 0) _realizeDeficit(ledger, scale, t);
    }

    /// @dev Closes part of the bankrupt position against `t.liquidator`, the counterparty, which gives up
    /// ⌊deficit × q / size⌋ against the oracle (all of it on the last part). Returns what it gave up.
    function _deleverageStep(
        Ledger storage ledger,
        IOracleAdapter oracle,
        Liquidation memory t,
        uint256 size,
        uint256 deficit
    ) private returns (uint256 loss) {
        uint256 q;
        (q, loss) = _deleverageTerms(ledger, oracle, t, size, deficit);
        uint256 score = _adlRank(ledger, oracle, t.liquidator, t.marketId).score;
        // The bankrupt side closes at the bankruptcy price: a long sells above the oracle, a short buys below. The
        // base notional leaves its mark-to-market value unchanged, so its equity rises by exactly `loss`.
        int256 accountDelta = t.positionSize > 0 ? -q.toInt256() : q.toInt256();
        uint256 notional =
            t.positionSize > 0
                ? PositionMath.closingNotional(t.positionSize, q, t.price) + loss
                : PositionMath.closingNotional(t.positionSize, q, t.price) - loss;
        ledger.applyFill(t.account, t.marketId, accountDelta, notional, 0);
        ledger.applyFill(t.liquidator, t.marketId, -accountDelta, notional, 0);
        emit IClearingHouse.Deleveraged(t.account, t.liquidator, t.marketId, q, notional.divWad(q), loss, score);
    }

    /// @dev Checks the counterparty (`t.liquidator`) and returns the size it takes back and what it gives up.
    function _deleverageTerms(
        Ledger storage ledger,
        IOracleAdapter oracle,
        Liquidation memory t,
        uint256 size,
        uint256 deficit
    ) private returns (uint256 q, uint256 loss) {
        ledger.settle(t.liquidator, t.marketId);
        Position memory other = ledger.positions[t.liquidator][t.marketId];
        if (other.size == 0 || (other.size > 0) == (t.positionSize > 0)) {
            revert IClearingHouse.CounterpartyWrongSide(t.liquidator, other.size);
        }
        int256 otherPnl = PositionMath.unrealizedPnl(other.size, other.openNotional, t.price);
        if (otherPnl <= 0) revert IClearingHouse.CounterpartyNotProfitable(t.liquidator, otherPnl);

        uint256 accountAbs = SignedMath.abs(t.positionSize);
        uint256 otherAbs = SignedMath.abs(other.size);
        q = Math.min(size, Math.min(accountAbs, otherAbs));
        loss = q == accountAbs ? deficit : Math.mulDiv(deficit, q, accountAbs);
        uint256 profit = Math.mulDiv(uint256(otherPnl), q, otherAbs);
        // Nor more than the counterparty's equity: an account bankrupt through its other markets must not be
        // left flat with negative collateral and no position through which its deficit could be realized.
        int256 otherEquity = ledger.health(oracle, t.liquidator).equity;
        uint256 cap = otherEquity <= 0 ? 0 : Math.min(profit, uint256(otherEquity));
        if (loss > cap) revert IClearingHouse.DeleverageExceedsProfit(t.liquidator, loss, cap);
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
        if (!deleverage.open) revert IClearingHouse.NoDeleverageCase(account, marketId);
        if (msg.sender == account) revert IClearingHouse.SelfLiquidation(account);
        uint256 readyAt = uint256(deleverage.startedAt) + ledger.deleverageTimeout;
        if (block.timestamp < readyAt) revert IClearingHouse.DeleverageTimeoutNotReached(account, readyAt);

        MarketParams memory params = ledger.market(marketId);
        if (_closeIfNoLongerLast(ledger, account, marketId)) return;
        ledger.settleAll(oracle, account);
        Health memory h = ledger.health(oracle, account);
        if (h.equity >= 0) {
            _closeCase(ledger, account, deleverage.fundPaid, deleverage.deleveraged, 0, 0);
            return;
        }
        Liquidation memory t = Liquidation({
            account: account,
            liquidator: msg.sender,
            marketId: marketId,
            positionSize: ledger.positions[account][marketId].size,
            price: LedgerLib.price(oracle, params)
        });
        _takeOver(ledger, oracle, scale, t);
    }

    /// @notice See {IClearingHouse.sweepInsuranceFees}.
    function sweepInsuranceFees(Ledger storage ledger, IERC20 token, uint256 scale) external {
        address fund = address(ledger.insuranceFund);
        if (fund == address(0)) revert IClearingHouse.InvalidAddress(fund);
        uint256 amount = ledger.insuranceFees / scale;
        if (amount == 0) revert IClearingHouse.ZeroAmount();
        ledger.insuranceFees -= (amount * scale).toUint128();
        token.safeTransfer(fund, amount);
        // The fund streams income over 7 days from the first call that notices it: start the stream now, so that
        // nobody can stake between the sweep and that call and catch the whole stream.
        IInsuranceFund(fund).syncIncome();
        emit IClearingHouse.InsuranceFeesSwept(amount);
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
        Health memory h = ledger.health(oracle, account);
        int256 shift = FixedPointMath.mulDivFloor(h.equity, int256(FixedPointMath.WAD), SignedMath.abs(size));
        int256 price = LedgerLib.price(oracle, params).toInt256();
        return size > 0 ? price - shift : price + shift;
    }

    // ================================================================ liquidation

    /// @dev Step 1: the account pays from its own margin. Closes no more than restores maintenance margin.
    function _liquidateSolvent(
        Ledger storage ledger,
        IOracleAdapter oracle,
        MarketParams memory params,
        Liquidation memory t,
        Health memory h,
        uint256 size
    ) private {
        uint256 positionAbs = SignedMath.abs(t.positionSize);
        uint256 q = Math.min(size, _sizeRestoringMaintenance(params, t.price, h, positionAbs));
        if ((positionAbs - q).mulWad(t.price) < MIN_REMAINING_NOTIONAL) q = positionAbs;

        (uint256 reward, uint256 fee) = _penalty(params, q.mulWad(t.price), uint256(h.equity));
        ledger.insuranceFees += fee.toUint128();
        bool onlyReduces = _handOver(ledger, t, q, reward, fee);
        ledger.requireMarginAfterFill(oracle, t.liquidator, onlyReduces);
        emit IClearingHouse.Liquidated(
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
        IOracleAdapter oracle,
        uint256 scale,
        MarketParams memory params,
        Liquidation memory t,
        Health memory h
    ) private {
        if (ledger.openMarkets[t.account] != (1 << t.marketId)) {
            _requireNotLargest(ledger, oracle, t);
            bool onlyReduces = _handOver(ledger, t, 0);
            ledger.requireMarginAfterFill(oracle, t.liquidator, onlyReduces);
            emit IClearingHouse.Liquidated(t.account, t.liquidator, t.marketId, t.positionSize, t.price, 0, 0, true);
            return;
        }
        if (params.lossPolicy == LossPolicy.AutoDeleverage && _availableForDraw(ledger, scale) < uint256(-h.equity)) {
            _openCase(ledger, scale, t, uint256(-h.equity));
            return;
        }
        _takeOver(ledger, oracle, scale, t);
    }

    /// @dev The account's last position: its deficit is paid (fund, then the other side) while the charged side
    /// still holds everything it held, the liquidator's own position included; only then does the position pass
    /// to the liquidator at the oracle price. Nobody can thus leave the charged side in the transaction that
    /// creates the charge, and the charged side is at least as large as the position (both sides are equal).
    function _takeOver(Ledger storage ledger, IOracleAdapter oracle, uint256 scale, Liquidation memory t) private {
        _realizeDeficit(ledger, scale, t);
        bool onlyReduces = _handOver(ledger, t, 0);
        ledger.requireMarginAfterFill(oracle, t.liquidator, onlyReduces);
        emit IClearingHouse.Liquidated(t.account, t.liquidator, t.marketId, t.positionSize, t.price, 0, 0, true);
    }

    /// @dev Reverts when the account's position in `t.marketId` is larger in notional than each of its others.
    function _requireNotLargest(Ledger storage ledger, IOracleAdapter oracle, Liquidation memory t) private view {
        uint256 notional = PositionMath.notionalAt(t.positionSize, t.price);
        for (uint256 open = ledger.openMarkets[t.account]; open != 0; open = MarketSet.dropFirst(open)) {
            uint256 marketId = MarketSet.first(open);
            if (marketId == t.marketId) continue;
            uint256 other = PositionMath.notionalAt(
                ledger.positions[t.account][marketId].size,
                LedgerLib.price(oracle, ledger.marketParams[marketId])
            );
            if (other >= notional) return;
        }
        revert IClearingHouse.LargestPositionGoesLast(t.account, t.marketId);
    }

    /// @dev Discount (the liquidator's reward) and fee on `notional`, scaled down together so that they never
    /// take more than the account's equity.
    function _penalty(
        MarketParams memory params,
        uint256 notional,
        uint256 equity
    ) private pure returns (uint256 reward, uint256 fee) {
        // The reward is paid to the liquidator (rounded down); the fee is charged to the account (rounded up).
        reward = notional.mulWad(params.liquidationDiscount);
        fee = notional.mulWadUp(params.liquidationFeeRatio);
        if (reward + fee <= equity) return (reward, fee);
        reward = Math.mulDiv(
            equity,
            params.liquidationDiscount,
            uint256(params.liquidationDiscount) + params.liquidationFeeRatio
        );
        fee = equity - reward;
    }

    /// @dev Each unit closed lowers equity by price × (discount + fee) and the maintenance margin by
    /// price × maintenanceMarginRatio; the smallest size that closes the gap, or all when it cannot.
    function _sizeRestoringMaintenance(
        MarketParams memory params,
        uint256 price,
        Health memory h,
        uint256 positionAbs
    ) private pure returns (uint256) {
        uint256 perUnit =
            uint256(params.maintenanceMarginRatio) - params.liquidationDiscount - params.liquidationFeeRatio;
        if (perUnit == 0) return positionAbs;
        uint256 gap = uint256(h.maintenanceMargin.toInt256() - h.equity);
        uint256 needed = Math.mulDiv(gap, FixedPointMath.WAD * FixedPointMath.WAD, price * perUnit, Math.Rounding.Ceil);
        return Math.min(needed, positionAbs);
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
        (int256 accountDelta, uint256 notional) = _handOverTerms(t, q, reward);
        ledger.applyFill(t.account, t.marketId, accountDelta, notional, fee);
        (, liquidatorOnlyReduces) = ledger.applyFill(t.liquidator, t.marketId, -accountDelta, notional, 0);
    }

    /// @dev The account's size change and the notional of a hand-over of `q` (see {_handOver}).
    function _handOverTerms(
        Liquidation memory t,
        uint256 q,
        uint256 reward
    ) private pure returns (int256 accountDelta, uint256 notional) {
        accountDelta = t.positionSize > 0 ? -q.toInt256() : q.toInt256();
        notional = t.positionSize > 0 ? q.mulWadUp(t.price) - reward : q.mulWad(t.price) + reward;
    }

    // ================================================================ bad debt

    /// @dev Pays the deficit the account will have once its position in `t.marketId` (its last, or none) has
    /// passed at the oracle price: the fund pays what it can, and the rest is socialized over the side opposite
    /// to the position, as that side stands now. Emits the receipt.
    function _realizeDeficit(Ledger storage ledger, uint256 scale, Liquidation memory t) private {
        int256 collateral = ledger.collateral[t.account] + _handOverPnl(ledger, t);
        uint256 deficit = collateral < 0 ? uint256(-collateral) : 0;
        uint256 paid = _drawFund(ledger, scale, t.account, t.account, deficit);
        uint256 remainder = deficit - paid;
        uint256 perUnit;
        if (remainder != 0) {
            perUnit = _socialize(ledger, t.marketId, t.positionSize < 0, remainder);
            ledger.collateral[t.account] += remainder.toInt256();
        }
        DeleverageCase storage deleverage = ledger.deleverageCases[t.account];
        if (deleverage.open) {
            deleverage.fundPaid += paid.toUint128();
            _closeCase(ledger, t.account, deleverage.fundPaid, deleverage.deleveraged, remainder, perUnit);
        } else if (deficit != 0) {
            emit IClearingHouse.BadDebtResolved(t.account, t.marketId, deficit, paid, 0, remainder, perUnit);
        }
    }

    /// @dev The PnL the account realizes when its whole position in `t.marketId` passes at the oracle price
    /// ({_handOver} with no reward), computed before it does. The position must be settled.
    function _handOverPnl(Ledger storage ledger, Liquidation memory t) private view returns (int256 realizedPnl) {
        Position memory position = ledger.positions[t.account][t.marketId];
        if (position.size == 0) return 0;
        (int256 accountDelta, uint256 notional) = _handOverTerms(t, SignedMath.abs(position.size), 0);
        (, , realizedPnl) = PositionMath.applyFill(position.size, position.openNotional, accountDelta, notional);
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
        if (openInterest == 0) revert IClearingHouse.NoPositionsToCharge(marketId, longSide);
        perUnit = Math.mulDiv(amount, FixedPointMath.WAD, openInterest, Math.Rounding.Ceil);
        if (longSide) state.longSocialLossIndex += perUnit;
        else state.shortSocialLossIndex += perUnit;
        emit IClearingHouse.LossSocialized(marketId, longSide, amount, perUnit);
    }

    /// @dev Records the case; nothing is drawn yet. Each autoDeleverage step first draws what the fund can
    /// pay then, so an account that recovers before any step keeps no insurance money.
    function _openCase(Ledger storage ledger, uint256 scale, Liquidation memory t, uint256 deficit) private {
        bool longCounterparties = t.positionSize < 0;
        ledger.deleverageCases[t.account] = DeleverageCase({
            open: true,
            longCounterparties: longCounterparties,
            marketId: uint32(t.marketId),
            startedAt: uint64(block.timestamp),
            initialShortfall: deficit.toUint128(),
            fundPaid: 0,
            deleveraged: 0
        });
        MarketState storage state = ledger.marketStates[t.marketId];
        if (longCounterparties) state.longDeleverageCases += 1;
        else state.shortDeleverageCases += 1;
        ledger.openDeleverageCases += 1;
        emit IClearingHouse.DeleverageRequired(t.account, t.marketId, deficit, _availableForDraw(ledger, scale));
    }

    /// @dev A case is about an account's last position. An account that recovered and traded into other markets
    /// meanwhile is no longer that case: it closes, and any new deficit goes through liquidate again.
    function _closeIfNoLongerLast(Ledger storage ledger, address account, uint256 marketId) private returns (bool) {
        if (ledger.openMarkets[account] == (1 << marketId)) return false;
        DeleverageCase storage deleverage = ledger.deleverageCases[account];
        _closeCase(ledger, account, deleverage.fundPaid, deleverage.deleveraged, 0, 0);
        return true;
    }

    /// @dev Ends the account's deleverage case and emits its receipt.
    function _closeCase(
        Ledger storage ledger,
        address account,
        uint256 fundPaid,
        uint256 deleveraged,
        uint256 socialized,
        uint256 perUnit
    ) private {
        DeleverageCase storage deleverage = ledger.deleverageCases[account];
        deleverage.open = false;
        MarketState storage state = ledger.marketStates[deleverage.marketId];
        if (deleverage.longCounterparties) state.longDeleverageCases -= 1;
        else state.shortDeleverageCases -= 1;
        ledger.openDeleverageCases -= 1;
        emit IClearingHouse.BadDebtResolved(
            account,
            deleverage.marketId,
            fundPaid + deleveraged + socialized,
            fundPaid,
            deleveraged,
            socialized,
            perUnit
        );
    }

    /// @dev Pays up to `amount` (18 decimals) into `recipient`'s collateral: first from the fees set aside for
    /// the fund, then from the fund in whole token units; a draw's excess over `amount` joins the set-aside fees.
    function _drawFund(
        Ledger storage ledger,
        uint256 scale,
        address account,
        address recipient,
        uint256 amount
    ) private returns (uint256 paid) {
        if (amount == 0) return 0;
        uint256 pot = ledger.insuranceFees;
        paid = Math.min(pot, amount);
        pot -= paid;
        IInsuranceFund fund = ledger.insuranceFund;
        if (paid < amount && address(fund) != address(0)) {
            uint256 drawn = fund.draw(Math.ceilDiv(amount - paid, scale)) * scale;
            uint256 used = Math.min(drawn, amount - paid);
            pot += drawn - used;
            paid += used;
        }
        ledger.insuranceFees = pot.toUint128();
        if (paid == 0) return 0;
        ledger.collateral[recipient] += paid.toInt256();
        emit IClearingHouse.InsuranceFundDrawn(account, recipient, paid);
    }

    function _availableForDraw(Ledger storage ledger, uint256 scale) private view returns (uint256) {
        IInsuranceFund fund = ledger.insuranceFund;
        uint256 fromFund = address(fund) == address(0) ? 0 : fund.availableForDraw() * scale;
        return ledger.insuranceFees + fromFund;
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
        rank.collateral = ledger.collateral[account];
        rank.notional = PositionMath.notionalAt(position.size, price);
        rank.equity = ledger.health(oracle, account).equity;
        // Only profitable positions of solvent accounts rank (see _deleverageTerms).
        if (rank.unrealizedPnl <= 0 || rank.collateral <= 0 || rank.equity <= 0) return rank;
        uint256 pnlRatio = Math.mulDiv(uint256(rank.unrealizedPnl), FixedPointMath.WAD, uint256(rank.collateral));
        rank.score = Math.mulDiv(pnlRatio, rank.notional, uint256(rank.equity));
    }

    function _signed(int256 like, uint256 amount) private pure returns (int256) {
        return like > 0 ? amount.toInt256() : -amount.toInt256();
    }
}
