// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "../../../contracts/interfaces/external/AggregatorV3Interface.sol";
import {LossPolicy, MarketParams} from "../../../contracts/interfaces/IClearingHouse.sol";
import {IClearingHouseErrors} from "../../../contracts/interfaces/IClearingHouseErrors.sol";
import {MarketParamsLib} from "../../../contracts/libraries/MarketParamsLib.sol";
import {TestBase} from "../utils/Vm.sol";

/// @dev MarketParamsLib reads the parameters from calldata: called through this contract.
contract MarketParamsHarness {
    function validate(MarketParams calldata p) external pure {
        MarketParamsLib.validate(p);
    }
}

/// @notice The hard bounds of MarketParamsLib: every parameter accepted at each end of its range and refused one
/// step outside it, with MarketParamOutOfBounds naming the parameter, the value and the range.
contract MarketParamsLibTest is TestBase {
    MarketParamsHarness internal harness = new MarketParamsHarness();

    /// 10x initial, 20x maintenance leverage, 1% discount and fee (the local deployment's parameters).
    function _valid() internal pure returns (MarketParams memory p) {
        p = MarketParams({
            oracleFeed: AggregatorV3Interface(address(0xFEED)),
            oracleHeartbeat: 1 days,
            lossPolicy: LossPolicy.AutoDeleverage,
            initialMarginRatio: 0.1e18,
            maintenanceMarginRatio: 0.05e18,
            liquidationDiscount: 0.01e18,
            liquidationFeeRatio: 0.01e18,
            makerFeeRatio: 0.0002e18,
            takerFeeRatio: 0.0005e18,
            priceBand: 0.05e18,
            maxFundingRate: 0.01e18,
            maxOpenInterest: 1_000_000e18,
            liquidationBuffer: 0
        });
    }

    function _accepts(MarketParams memory p, string memory what) internal view {
        try harness.validate(p) {} catch {
            assertTrue(false, what);
        }
    }

    function _refuses(
        MarketParams memory p,
        string memory name,
        uint256 value,
        uint256 min,
        uint256 max
    ) internal view {
        bytes memory expected = abi.encodeWithSelector(
            IClearingHouseErrors.MarketParamOutOfBounds.selector,
            name,
            value,
            min,
            max
        );
        try harness.validate(p) {
            assertTrue(false, string.concat(name, " accepted out of bounds"));
        } catch (bytes memory reason) {
            assertEq(keccak256(reason) == keccak256(expected), true, string.concat(name, " error"));
        }
    }

    function test_validParams_pass() public view {
        _accepts(_valid(), "valid params");
    }

    function test_feedAndHeartbeat_bounds() public view {
        MarketParams memory p = _valid();
        p.oracleFeed = AggregatorV3Interface(address(0));
        _refuses(p, "oracleFeed", 0, 1, 1);
        p = _valid();
        p.oracleHeartbeat = 1 minutes;
        _accepts(p, "heartbeat at its minimum");
        p.oracleHeartbeat = 1 minutes - 1;
        _refuses(p, "oracleHeartbeat", 59, 60, 2 days);
        p.oracleHeartbeat = 2 days;
        _accepts(p, "heartbeat at its maximum");
        p.oracleHeartbeat = 2 days + 1;
        _refuses(p, "oracleHeartbeat", 2 days + 1, 60, 2 days);
    }

    function test_marginRatios_bounds() public view {
        MarketParams memory p = _valid();
        p.initialMarginRatio = 0.01e18 - 1;
        _refuses(p, "initialMarginRatio", 0.01e18 - 1, 0.01e18, 1e18);
        p.initialMarginRatio = 1e18 + 1;
        _refuses(p, "initialMarginRatio", 1e18 + 1, 0.01e18, 1e18);
        p.initialMarginRatio = 1e18;
        _accepts(p, "initial margin at 100%");
        // Maintenance strictly below initial, at least 0.5%.
        p = _valid();
        p.maintenanceMarginRatio = p.initialMarginRatio;
        _refuses(p, "maintenanceMarginRatio", 0.1e18, 0.005e18, 0.1e18 - 1);
        p.maintenanceMarginRatio = 0.1e18 - 1;
        _accepts(p, "maintenance one wei below initial");
        p = _valid();
        p.liquidationDiscount = 0.001e18;
        p.liquidationFeeRatio = 0;
        p.maintenanceMarginRatio = 0.005e18 - 1;
        _refuses(p, "maintenanceMarginRatio", 0.005e18 - 1, 0.005e18, 0.1e18 - 1);
    }

    /// discount + fee ≤ maintenance: a liquidation at the threshold leaves equity non-negative.
    function test_liquidationDiscountAndFee_withinMaintenance() public view {
        MarketParams memory p = _valid();
        p.liquidationDiscount = 0.001e18 - 1;
        _refuses(p, "liquidationDiscount", 0.001e18 - 1, 0.001e18, 0.05e18);
        p.liquidationDiscount = 0.05e18 + 1;
        _refuses(p, "liquidationDiscount", 0.05e18 + 1, 0.001e18, 0.05e18);
        p = _valid();
        p.liquidationFeeRatio = 0.04e18; // 1% discount + 4% fee = the 5% maintenance margin
        _accepts(p, "discount + fee equal to maintenance");
        p.liquidationFeeRatio = 0.04e18 + 1;
        _refuses(p, "liquidationFeeRatio", 0.04e18 + 1, 0, 0.04e18);
    }

    /// The liquidation buffer: 0 (exactly maintenance) to 100% (twice maintenance), with no other bound moved.
    function test_liquidationBuffer_bounds() public view {
        MarketParams memory p = _valid();
        p.liquidationBuffer = 1e18;
        _accepts(p, "buffer at 100%");
        p.liquidationBuffer = 1e18 + 1;
        _refuses(p, "liquidationBuffer", 1e18 + 1, 0, 1e18);
        p.liquidationBuffer = type(uint64).max;
        _refuses(p, "liquidationBuffer", type(uint64).max, 0, 1e18);
        // A buffer does not relax discount + fee ≤ maintenance.
        p = _valid();
        p.liquidationBuffer = 1e18;
        p.liquidationFeeRatio = 0.04e18 + 1;
        _refuses(p, "liquidationFeeRatio", 0.04e18 + 1, 0, 0.04e18);
    }

    function test_feesBandFundingOpenInterest_bounds() public view {
        MarketParams memory p = _valid();
        p.makerFeeRatio = 0.01e18 + 1;
        _refuses(p, "makerFeeRatio", 0.01e18 + 1, 0, 0.01e18);
        p = _valid();
        p.takerFeeRatio = 0.01e18;
        _accepts(p, "taker fee at 1%");
        p.takerFeeRatio = 0.01e18 + 1;
        _refuses(p, "takerFeeRatio", 0.01e18 + 1, 0, 0.01e18);
        p = _valid();
        p.priceBand = 0.001e18 - 1;
        _refuses(p, "priceBand", 0.001e18 - 1, 0.001e18, 0.2e18);
        p.priceBand = 0.2e18 + 1;
        _refuses(p, "priceBand", 0.2e18 + 1, 0.001e18, 0.2e18);
        p = _valid();
        p.maxFundingRate = 0;
        _accepts(p, "no funding");
        p.maxFundingRate = 0.1e18 + 1;
        _refuses(p, "maxFundingRate", 0.1e18 + 1, 0, 0.1e18);
        p = _valid();
        p.maxOpenInterest = 0;
        _refuses(p, "maxOpenInterest", 0, 1, type(uint128).max);
        p.maxOpenInterest = type(uint128).max;
        _accepts(p, "open interest cap at uint128 max");
    }
}
