// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title MarketSet
/// @notice A set of market ids below 256 kept in one word, one bit per market.
/// @dev One storage slot per account instead of an array plus an index map: opening the first position of an
/// account costs one SSTORE, and iterating visits only the set bits, lowest id first.
library MarketSet {
    /// @notice The set with `marketId` added.
    function add(uint256 set, uint256 marketId) internal pure returns (uint256) {
        return set | (1 << marketId);
    }

    /// @notice The set with `marketId` removed.
    function remove(uint256 set, uint256 marketId) internal pure returns (uint256) {
        return set & ~(1 << marketId);
    }

    /// @notice The smallest id in a non-empty set.
    function first(uint256 set) internal pure returns (uint256) {
        unchecked {
            return Math.log2(set & (~set + 1));
        }
    }

    /// @notice The set without its smallest id.
    function dropFirst(uint256 set) internal pure returns (uint256) {
        unchecked {
            return set & (set - 1);
        }
    }

    /// @notice Number of ids in the set.
    function count(uint256 set) internal pure returns (uint256 n) {
        for (; set != 0; set = dropFirst(set)) ++n;
    }

    /// @notice The ids in the set, ascending.
    function toArray(uint256 set) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](count(set));
        for (uint256 i = 0; set != 0; ++i) {
            ids[i] = first(set);
            set = dropFirst(set);
        }
    }
}
