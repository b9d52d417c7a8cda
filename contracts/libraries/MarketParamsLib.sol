// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketParams} from "../interfaces/IClearingHouse.sol";
import {IClearingHouseErrors} from "../interfaces/IClearingHouseErrors.sol";

/// @title MarketParamsLib
/// @notice Hard bounds of market parameters. A risk manager moves parameters only inside them, so that no
/// setting can make liquidation unprofitable, margin meaningless or funding confiscatory.
library MarketParamsLib {
    uint256 internal constant MIN_INITIAL_MARGIN_RATIO = 0.01e18; // at most 100x leverage
    uint256 internal constant MIN_MAINTENANCE_MARGIN_RATIO = 0.005e18;
    uint256 internal constant MAX_MARGIN_RATIO = 1e18;
    uint256 internal constant MIN_LIQUIDATION_DISCOUNT = 0.001e18;
    uint256 internal constant MAX_TRADING_FEE_RATIO = 0.01e18;
    uint256 internal constant MIN_PRICE_BAND = 0.001e18;
    uint256 internal constant MAX_PRICE_BAND = 0.2e18;
    uint256 internal constant MAX_FUNDING_RATE = 0.1e18; // per day
    uint256 internal constant MIN_HEARTBEAT = 1 minutes;
    uint256 internal constant MAX_HEARTBEAT = 2 days;
    /// A partial liquidation restores at most twice the maintenance margin: beyond it a buffer closes most of a
    /// position that has only just crossed maintenance (see LiquidationMath.sizeRestoringMaintenance).
    uint256 internal constant MAX_LIQUIDATION_BUFFER = 1e18;

    /// @notice Reverts with {IClearingHouseErrors.MarketParamOutOfBounds} naming the first parameter out of bounds.
    /// @dev The maintenance ratio must stay at or above discount + fee, so that a liquidation at the
    /// maintenance threshold leaves the account's equity non-negative; the initial ratio must stay above it.
    /// The liquidation buffer does not relax that bound: it sizes a liquidation, it does not move the threshold.
    function validate(MarketParams calldata p) internal pure {
        _check("oracleFeed", address(p.oracleFeed) == address(0) ? 0 : 1, 1, 1);
        _check("oracleHeartbeat", p.oracleHeartbeat, MIN_HEARTBEAT, MAX_HEARTBEAT);
        _check("initialMarginRatio", p.initialMarginRatio, MIN_INITIAL_MARGIN_RATIO, MAX_MARGIN_RATIO);
        _check(
            "maintenanceMarginRatio",
            p.maintenanceMarginRatio,
            MIN_MAINTENANCE_MARGIN_RATIO,
            uint256(p.initialMarginRatio) - 1
        );
        _check("liquidationDiscount", p.liquidationDiscount, MIN_LIQUIDATION_DISCOUNT, p.maintenanceMarginRatio);
        _check(
            "liquidationFeeRatio",
            p.liquidationFeeRatio,
            0,
            uint256(p.maintenanceMarginRatio) - p.liquidationDiscount
        );
        _check("makerFeeRatio", p.makerFeeRatio, 0, MAX_TRADING_FEE_RATIO);
        _check("takerFeeRatio", p.takerFeeRatio, 0, MAX_TRADING_FEE_RATIO);
        _check("priceBand", p.priceBand, MIN_PRICE_BAND, MAX_PRICE_BAND);
        _check("maxFundingRate", p.maxFundingRate, 0, MAX_FUNDING_RATE);
        _check("maxOpenInterest", p.maxOpenInterest, 1, type(uint128).max);
        _check("liquidationBuffer", p.liquidationBuffer, 0, MAX_LIQUIDATION_BUFFER);
    }

    function _check(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert IClearingHouseErrors.MarketParamOutOfBounds(name, value, min, max);
    }
}
