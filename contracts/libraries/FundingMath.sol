// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMath} from "./FixedPointMath.sol";

/// @title FundingMath
/// @notice Continuous funding through a cumulative index per market.
/// @dev Accounting model. `fundingIndex` is the funding paid by one unit of long size since listing, in
/// collateral units (18 decimals). Between two updates it grows by
///
///     rate × oraclePrice × elapsed / 1 day,   rate = clamp(premiumEma, ±maxFundingRate)
///
/// where `premiumEma` is an average of (fillPrice − oracle) / oracle over recent fills: each fill moves it
/// toward its premium by min(elapsed, PREMIUM_WINDOW) / PREMIUM_WINDOW × fillSize / (fillSize + openInterest),
/// so fills in the same block cannot move it and a fill small against the open interest barely does. A position owes size × (index − lastIndex): longs pay shorts when the index rises.
/// Because Σ size = 0 in every market, payments sum to zero; each is rounded toward +∞ (against the
/// account), so the dust stays with the protocol.
library FundingMath {
    using SafeCast for uint256;

    /// @dev Funding rates are quoted per day.
    uint256 internal constant FUNDING_PERIOD = 1 days;
    /// @dev Time over which a fill premium fully replaces the average.
    uint256 internal constant PREMIUM_WINDOW = 1 hours;

    /// @notice The premium average clamped to ±maxFundingRate: the daily funding rate.
    function clampedRate(int256 premiumEma, uint256 maxFundingRate) internal pure returns (int256) {
        int256 max = maxFundingRate.toInt256();
        if (premiumEma > max) return max;
        if (premiumEma < -max) return -max;
        return premiumEma;
    }

    /// @notice Growth of the funding index over `elapsed` seconds at `rate` per day and `price`.
    function indexGrowth(int256 rate, uint256 price, uint256 elapsed) internal pure returns (int256) {
        return FixedPointMath.mulDivFloor(rate, (price * elapsed).toInt256(), FixedPointMath.WAD * FUNDING_PERIOD);
    }

    /// @notice The premium average after taking in a fill of `fillSize` at `fillPrice`.
    /// @param elapsed Seconds since the average last took in a fill.
    /// @param openInterest One side's open interest before the fill.
    function nextPremiumEma(
        int256 premiumEma,
        uint256 fillPrice,
        uint256 oraclePrice,
        uint256 elapsed,
        uint256 fillSize,
        uint256 openInterest
    ) internal pure returns (int256) {
        int256 premium = FixedPointMath.mulDivFloor(
            fillPrice.toInt256() - oraclePrice.toInt256(),
            int256(FixedPointMath.WAD),
            oraclePrice
        );
        // Weighted by time, so that fills in one block cannot move it twice, and by size against the open
        // interest, so that a dust fill at the band's edge cannot set the rate for everyone.
        uint256 timeWeight = elapsed < PREMIUM_WINDOW ? elapsed : PREMIUM_WINDOW;
        uint256 weight = Math.mulDiv(timeWeight, fillSize, fillSize + openInterest);
        return premiumEma + FixedPointMath.mulDivFloor(premium - premiumEma, weight.toInt256(), PREMIUM_WINDOW);
    }

    /// @notice Funding a position of `size` owes for an index move from `lastIndex` to `index`, rounded up.
    function owed(int256 size, int256 lastIndex, int256 index) internal pure returns (int256) {
        return FixedPointMath.mulDivCeil(size, index - lastIndex, FixedPointMath.WAD);
    }
}
