// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// solhint-disable interface-starts-with-i
/// @title AggregatorV3Interface
/// @notice The part of Chainlink's price-feed interface that Backstop reads. Declared here because the
/// npm package that ships it either pulls a GitHub-only dependency or ~170 packages for this one file.
interface AggregatorV3Interface {
    /// @notice Number of decimals of the feed's answers.
    function decimals() external view returns (uint8);

    /// @notice Human-readable description of the feed, e.g. "ETH / USD".
    function description() external view returns (string memory);

    /// @notice The most recent round.
    /// @return roundId The round's id.
    /// @return answer The price, with `decimals()` decimals.
    /// @return startedAt When the round started.
    /// @return updatedAt When the answer was last updated; zero for a round that never completed.
    /// @return answeredInRound The round in which the answer was computed; below `roundId` means carried over.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
