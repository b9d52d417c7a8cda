// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "../interfaces/external/AggregatorV3Interface.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";

/// @title ChainlinkOracleAdapter
/// @notice Stateless reader of Chainlink `AggregatorV3Interface` feeds. See {IOracleAdapter}.
contract ChainlinkOracleAdapter is IOracleAdapter {
    uint8 private constant _TARGET_DECIMALS = 18;
    uint8 private constant _MAX_FEED_DECIMALS = 36;

    /// @inheritdoc IOracleAdapter
    function getPrice(AggregatorV3Interface feed, uint256 heartbeat) external view returns (uint256 price) {
        (uint80 roundId, int256 answer, , uint256 updatedAt, uint80 answeredInRound) = feed.latestRoundData();
        if (updatedAt == 0 || answeredInRound < roundId) {
            revert OracleRoundIncomplete(address(feed), roundId, answeredInRound);
        }
        if (answer <= 0) revert OracleAnswerNotPositive(address(feed), answer);
        // A timestamp in the future is as untrustworthy as an old one.
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > heartbeat) {
            revert OracleStale(address(feed), updatedAt, heartbeat);
        }

        uint8 feedDecimals = feed.decimals();
        if (feedDecimals > _MAX_FEED_DECIMALS) revert OracleDecimalsUnsupported(address(feed), feedDecimals);
        uint256 raw = uint256(answer);
        if (feedDecimals <= _TARGET_DECIMALS) return raw * 10 ** (_TARGET_DECIMALS - feedDecimals);
        price = raw / 10 ** (feedDecimals - _TARGET_DECIMALS);
        // Truncating a tiny answer to zero would pass a zero price on; refuse it like a non-positive answer.
        if (price == 0) revert OracleAnswerNotPositive(address(feed), answer);
    }
}
