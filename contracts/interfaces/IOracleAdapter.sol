// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "./external/AggregatorV3Interface.sol";

/// @title IOracleAdapter
/// @notice Reads a Chainlink-style feed, refuses answers that cannot be trusted, and returns the price
/// with 18 decimals. Holds no state: the feed and its heartbeat come from the caller's market parameters.
interface IOracleAdapter {
    /// @notice The feed's latest round is incomplete: never updated, or its answer carried over from an older round.
    error OracleRoundIncomplete(address feed, uint80 roundId, uint80 answeredInRound);

    /// @notice The feed answered zero or a negative price.
    error OracleAnswerNotPositive(address feed, int256 answer);

    /// @notice The feed's answer is older than its heartbeat allows (or dated in the future).
    error OracleStale(address feed, uint256 updatedAt, uint256 heartbeat);

    /// @notice The feed has more decimals than the adapter can normalize (more than 36).
    error OracleDecimalsUnsupported(address feed, uint8 decimals);

    /// @notice The latest price of `feed`, normalized to 18 decimals.
    /// @dev Reverts with one of this interface's errors when the round is incomplete, the answer is not
    /// positive, or `block.timestamp - updatedAt > heartbeat`.
    /// @param feed The Chainlink-compatible aggregator.
    /// @param heartbeat The longest accepted age of the answer, in seconds.
    /// @return price The price with 18 decimals.
    function getPrice(AggregatorV3Interface feed, uint256 heartbeat) external view returns (uint256 price);
}
