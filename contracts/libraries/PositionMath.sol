// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMath} from "./FixedPointMath.sol";

/// @title PositionMath
/// @notice Position accounting: how a fill changes size, cost basis and realized PnL.
/// @dev Accounting model. A position is (size, openNotional): signed base size and the signed sum of
/// size × price of its open part. A fill of signed `sizeDelta` carries one notional |sizeDelta| × price,
/// rounded down once and used for both sides of the trade. For every fill and every account:
///
///     realizedPnl − ΔopenNotional = −sign(sizeDelta) × notional
///
/// and the two sides of a fill have opposite signs, so Σ realizedPnl = Σ openNotional across all accounts
/// exactly, whatever rounding is used to split the cost basis on a partial close. Unrealized PnL is
/// size × price − openNotional, so realized plus unrealized PnL sums to zero (Σ size = 0 per market).
/// On a partial close the closed part of the cost basis is rounded toward +∞, which rounds the realized
/// PnL of this close down; the wei stays in the open part and is realized later.
library PositionMath {
    using SafeCast for uint256;

    /// @notice Applies a fill to a position.
    /// @param size Current signed size.
    /// @param openNotional Current signed cost basis.
    /// @param sizeDelta Signed size traded by this account (positive: bought).
    /// @param notional |sizeDelta| × fill price, 18 decimals.
    /// @return newSize The size after the fill.
    /// @return newOpenNotional The cost basis after the fill.
    /// @return realizedPnl PnL realized by the closing part of the fill.
    function applyFill(
        int256 size,
        int256 openNotional,
        int256 sizeDelta,
        uint256 notional
    ) internal pure returns (int256 newSize, int256 newOpenNotional, int256 realizedPnl) {
        int256 signedNotional = sizeDelta > 0 ? notional.toInt256() : -notional.toInt256();
        newSize = size + sizeDelta;

        // Opening or adding: the whole fill joins the cost basis.
        if (size == 0 || (size > 0) == (sizeDelta > 0)) {
            return (newSize, openNotional + signedNotional, 0);
        }

        uint256 absSize = SignedMath.abs(size);
        uint256 absDelta = SignedMath.abs(sizeDelta);
        if (absDelta <= absSize) {
            // Reducing or closing: release the matching share of the cost basis.
            int256 closedNotional = FixedPointMath.mulDivCeil(openNotional, int256(absDelta), absSize);
            return (newSize, openNotional - closedNotional, -signedNotional - closedNotional);
        }

        // Flipping: close everything at the share of the fill's notional that closes, open the rest.
        uint256 closingPart = (notional * absSize) / absDelta;
        int256 signedClosing = sizeDelta > 0 ? closingPart.toInt256() : -closingPart.toInt256();
        realizedPnl = -signedClosing - openNotional;
        newOpenNotional = signedNotional - signedClosing;
    }

    /// @notice True when a fill moved a position toward zero without crossing it.
    function isReducing(int256 sizeBefore, int256 sizeAfter) internal pure returns (bool) {
        if (sizeAfter == 0) return true;
        return (sizeBefore > 0) == (sizeAfter > 0) && SignedMath.abs(sizeAfter) <= SignedMath.abs(sizeBefore);
    }

    /// @notice size × price − openNotional, rounded down.
    function unrealizedPnl(int256 size, int256 openNotional, uint256 price) internal pure returns (int256) {
        return FixedPointMath.mulDivFloor(size, price.toInt256(), FixedPointMath.WAD) - openNotional;
    }

    /// @notice The notional at which closing `q` of a position leaves its mark-to-market value unchanged:
    /// |⌊size × price⌋ − ⌊(size ∓ q) × price⌋|, the same floors that {unrealizedPnl} uses.
    function closingNotional(int256 size, uint256 q, uint256 price) internal pure returns (uint256) {
        int256 signedPrice = price.toInt256();
        int256 rest = size > 0 ? size - q.toInt256() : size + q.toInt256();
        int256 difference =
            FixedPointMath.mulDivFloor(size, signedPrice, FixedPointMath.WAD) -
                FixedPointMath.mulDivFloor(rest, signedPrice, FixedPointMath.WAD);
        return SignedMath.abs(difference);
    }

    /// @notice |size| × price, rounded up (margin requirements are charged on it).
    function notionalAt(int256 size, uint256 price) internal pure returns (uint256) {
        return FixedPointMath.mulWadUp(SignedMath.abs(size), price);
    }
}
