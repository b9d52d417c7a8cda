// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

import {FixedPointMath} from "./FixedPointMath.sol";
import {PositionMath} from "./PositionMath.sol";

/// @title LiquidationMath
/// @notice The pure arithmetic of the loss waterfall, fuzzed on its own (test/solidity/fuzz/LiquidationMath.fuzz.t.sol):
/// the liquidation penalty, the size that restores maintenance margin × (1 + the market's liquidation buffer), the
/// hand-over and deleverage terms, the ADL score and the bankruptcy price. No storage, no oracle: {LiquidationLogic}
/// reads those and calls in here.
/// @dev Rounding follows FixedPointMath: what is paid to someone rounds down, what is charged to an account rounds
/// up, and a hand-over's notional rounds in the account's favour (so it never costs it more than reward + fee).
library LiquidationMath {
    using SafeCast for uint256;
    using FixedPointMath for uint256;

    /// @notice Discount (the liquidator's reward) and fee on `notional`, scaled down together so that they never
    /// take more than the account's equity.
    /// @param discount The market's liquidation discount (18-decimal fraction).
    /// @param feeRatio The market's liquidation fee ratio (18-decimal fraction).
    /// @param notional Notional of the part liquidated (18 decimals).
    /// @param equity The account's equity, ≥ 0.
    /// @return reward Paid to the liquidator, rounded down.
    /// @return fee Charged to the account for the insurance fund, rounded up.
    function penalty(
        uint256 discount,
        uint256 feeRatio,
        uint256 notional,
        uint256 equity
    ) internal pure returns (uint256 reward, uint256 fee) {
        reward = notional.mulWad(discount);
        fee = notional.mulWadUp(feeRatio);
        if (reward + fee <= equity) return (reward, fee);
        reward = Math.mulDiv(equity, discount, discount + feeRatio);
        fee = equity - reward;
    }

    /// @notice The smallest size whose liquidation restores the account's margin to maintenance × (1 + buffer), or
    /// all when it cannot.
    /// @dev Closing q at price P lowers equity E by q·P·(d + f) (reward and fee) and the maintenance margin MM by
    /// q·P·m. The target after the liquidation is E' ≥ (1 + b)·MM', i.e.
    ///     E − q·P·(d + f) ≥ (1 + b)·(MM − q·P·m)  ⇔  q·P·((1 + b)·m − d − f) ≥ (1 + b)·MM − E.
    /// With every ratio an 18-decimal fraction, both sides are multiplied by 10^18 so that (1 + b) is the integer
    /// (10^18 + b) and nothing is rounded before the last step:
    ///     gap     = (10^18 + b)·MM − 10^18·E                       (36 decimals, exact)
    ///     perUnit = (10^18 + b)·m − 10^18·(d + f)                  (36 decimals, exact)
    ///     q       = ⌈gap · 10^36 / (P · perUnit)⌉                  (one 512-bit mulDiv)
    /// With b = 0 both are the unbuffered gap (MM − E) and perUnit (m − d − f) times 10^18, so q is the unbuffered
    /// size to the wei.
    /// Rounding: q rounds up, against the account by less than one wei of size, because the rounded-down size would
    /// miss the target; the ceiling is the smallest integer size that reaches it, so the liquidator gets no more.
    /// (The account-level roundings after it — fee up, each market's margin up — are as without a buffer.)
    /// perUnit: MarketParamsLib keeps m ≥ d + f, so perUnit ≥ b·m·10^18 ≥ 0. It is 0 only when b = 0 and m = d + f:
    /// no size restores margin and the whole position goes. A buffer b > 0 makes it positive even at m = d + f.
    /// The buffer is the liquidated market's, applied to the account's maintenance margin over all its markets.
    /// @param maintenanceRatio The market's maintenance margin ratio m; ≥ discount + feeRatio (MarketParamsLib).
    /// @param discount The market's liquidation discount d.
    /// @param feeRatio The market's liquidation fee ratio f.
    /// @param buffer The market's liquidation buffer b (18-decimal fraction, ≤ 1e18 by MarketParamsLib).
    /// @param price The oracle price P (18 decimals, > 0).
    /// @param equity The account's equity E, ≥ 0 and below `maintenanceMargin`.
    /// @param maintenanceMargin The account's maintenance margin MM over all its markets.
    /// @param positionAbs |size| of the position liquidated.
    /// @return The size to close, at most `positionAbs`.
    function sizeRestoringMaintenance(
        uint256 maintenanceRatio,
        uint256 discount,
        uint256 feeRatio,
        uint256 buffer,
        uint256 price,
        int256 equity,
        uint256 maintenanceMargin,
        uint256 positionAbs
    ) internal pure returns (uint256) {
        uint256 scale = FixedPointMath.WAD + buffer;
        uint256 perUnit = maintenanceRatio * scale - (discount + feeRatio) * FixedPointMath.WAD;
        if (perUnit == 0) return positionAbs;
        uint256 gap = uint256((maintenanceMargin * scale).toInt256() - equity * int256(FixedPointMath.WAD));
        uint256 needed = Math.mulDiv(gap, FixedPointMath.WAD * FixedPointMath.WAD, price * perUnit, Math.Rounding.Ceil);
        return Math.min(needed, positionAbs);
    }

    /// @notice The account's size change and the notional of a hand-over of `q` of its position at `price` moved
    /// against it by `reward`; the notional rounds in the account's favour.
    /// @param positionSize The account's signed size before.
    /// @param price The oracle price.
    /// @param q Base size handed over, ≤ |positionSize|.
    /// @param reward The liquidator's reward on the part handed over.
    /// @return accountDelta The account's signed size change (toward zero).
    /// @return notional The notional both sides trade at.
    function handOverTerms(
        int256 positionSize,
        uint256 price,
        uint256 q,
        uint256 reward
    ) internal pure returns (int256 accountDelta, uint256 notional) {
        accountDelta = positionSize > 0 ? -q.toInt256() : q.toInt256();
        notional = positionSize > 0 ? q.mulWadUp(price) - reward : q.mulWad(price) + reward;
    }

    /// @notice What one ADL step closes and what its counterparty gives up: `q = min(size, |account|, |other|)`
    /// and `⌊deficit × q / |account|⌋` (all of `deficit` on the last part), together with the most it may give
    /// up: the unrealized profit of the part closed, `⌊profit × q / |other|⌋`, and never more than its equity.
    /// @param size The size asked for.
    /// @param accountAbs |size| of the bankrupt position.
    /// @param otherAbs |size| of the counterparty's position.
    /// @param otherPnl The counterparty's unrealized profit at the oracle, > 0.
    /// @param otherEquity The counterparty's equity.
    /// @param deficit What the counterparties must give up in all (the deficit less the fund's part).
    /// @return q The size closed.
    /// @return loss What the counterparty gives up against the oracle.
    /// @return cap The most it may give up; the step is refused when `loss > cap`.
    function deleverageTerms(
        uint256 size,
        uint256 accountAbs,
        uint256 otherAbs,
        uint256 otherPnl,
        int256 otherEquity,
        uint256 deficit
    ) internal pure returns (uint256 q, uint256 loss, uint256 cap) {
        q = Math.min(size, Math.min(accountAbs, otherAbs));
        loss = q == accountAbs ? deficit : Math.mulDiv(deficit, q, accountAbs);
        uint256 profit = Math.mulDiv(otherPnl, q, otherAbs);
        // Nor more than the counterparty's equity: an account bankrupt through its other markets must not be left
        // flat with negative collateral and no position through which its deficit could be realized.
        cap = otherEquity <= 0 ? 0 : Math.min(profit, uint256(otherEquity));
    }

    /// @notice The notional at which the bankrupt side of an ADL step closes `q`: the notional that leaves its
    /// mark-to-market value unchanged, moved by `loss` in its favour (a long sells above, a short buys below the
    /// oracle), so that its equity rises by exactly `loss`.
    /// @param positionSize The bankrupt account's signed size before the step.
    /// @param q Base size closed.
    /// @param price The oracle price.
    /// @param loss What the counterparty gives up.
    /// @return The notional both sides trade at.
    function deleverageNotional(
        int256 positionSize,
        uint256 q,
        uint256 price,
        uint256 loss
    ) internal pure returns (uint256) {
        uint256 base = PositionMath.closingNotional(positionSize, q, price);
        return positionSize > 0 ? base + loss : base - loss;
    }

    /// @notice ADL score: the position's place in its side's queue, which the contract enforces. Profitable
    /// positions of solvent accounts are deleveraged in order of entry price, the most profitable per unit of size
    /// first (the lowest entries of the longs, the highest of the shorts), one entry-price bucket (EntryBookLib,
    /// 1/256 octave) at a time. The score is the bucket counted from the losing end: 65,536 − bucket for a long,
    /// bucket + 1 for a short, so the higher score goes first; 0 when not eligible (no profit, or equity ≤ 0). It
    /// does not move with the price: only the position's own trades change it.
    /// @param size The position's signed size.
    /// @param bucket The position's entry-price bucket.
    /// @param unrealizedPnl The position's unrealized PnL at the oracle.
    /// @param equity The account's equity.
    /// @return score The score, 1 … 65,536, or 0.
    function adlScore(
        int256 size,
        uint256 bucket,
        int256 unrealizedPnl,
        int256 equity
    ) internal pure returns (uint256 score) {
        if (unrealizedPnl <= 0 || equity <= 0) return 0;
        return size > 0 ? 65_536 - bucket : bucket + 1;
    }

    /// @notice The price at which closing the whole position leaves the account's equity at zero: the oracle
    /// moved against the position by equity / |size| (toward −∞ for a long, +∞ for a short).
    /// @param size The position's signed size, non-zero.
    /// @param price The oracle price.
    /// @param equity The account's equity (any sign).
    /// @return The bankruptcy price, which may be ≤ 0 for a long.
    function bankruptcyPrice(int256 size, uint256 price, int256 equity) internal pure returns (int256) {
        int256 shift = FixedPointMath.mulDivFloor(equity, int256(FixedPointMath.WAD), SignedMath.abs(size));
        int256 signedPrice = price.toInt256();
        return size > 0 ? signedPrice - shift : signedPrice + shift;
    }
}
