// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

/// @title FixedPointMath
/// @notice 18-decimal fixed point with explicit rounding direction, unsigned and signed.
/// @dev Signed results round toward −∞ (`Floor`) or +∞ (`Ceil`), never toward zero, so that the
/// protocol-favouring direction can be chosen without thinking about the sign: an amount credited to an
/// account is floored, an amount charged to it is ceiled.
library FixedPointMath {
    using SafeCast for uint256;

    uint256 internal constant WAD = 1e18;

    /// @dev x × y / 1e18, rounded down.
    function mulWad(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, y, WAD);
    }

    /// @dev x × y / 1e18, rounded up.
    function mulWadUp(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, y, WAD, Math.Rounding.Ceil);
    }

    /// @dev x × 1e18 / y, rounded down.
    function divWad(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, WAD, y);
    }

    /// @dev x × y / d rounded toward −∞.
    function mulDivFloor(int256 x, int256 y, uint256 d) internal pure returns (int256) {
        bool negative = (x < 0) != (y < 0);
        uint256 magnitude = Math.mulDiv(
            SignedMath.abs(x),
            SignedMath.abs(y),
            d,
            negative ? Math.Rounding.Ceil : Math.Rounding.Floor
        );
        return negative ? -magnitude.toInt256() : magnitude.toInt256();
    }

    /// @dev x × y / d rounded toward +∞.
    function mulDivCeil(int256 x, int256 y, uint256 d) internal pure returns (int256) {
        bool negative = (x < 0) != (y < 0);
        uint256 magnitude = Math.mulDiv(
            SignedMath.abs(x),
            SignedMath.abs(y),
            d,
            negative ? Math.Rounding.Floor : Math.Rounding.Ceil
        );
        return negative ? -magnitude.toInt256() : magnitude.toInt256();
    }

    /// @dev The positive part of x.
    function positivePart(int256 x) internal pure returns (uint256) {
        return x > 0 ? uint256(x) : 0;
    }
}
