// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketSet} from "../../../contracts/libraries/MarketSet.sol";
import {TestBase, Bound} from "../utils/Vm.sol";

/// @notice Unit and fuzz tests of MarketSet, the one-word set of market ids an account holds positions in:
/// membership after add and remove, the smallest id, the count, and the ascending array, against a bit-by-bit
/// reading of the word.
contract MarketSetTest is TestBase {
    using Bound for uint256;

    function _has(uint256 set, uint256 id) internal pure returns (bool) {
        return (set >> id) & 1 == 1;
    }

    /// A worked example: ids 0, 3 and 255 (the highest id the word holds).
    function test_workedExample() public pure {
        uint256 set = MarketSet.add(MarketSet.add(MarketSet.add(0, 3), 255), 0);
        assertEq(set, (1 << 255) | 8 | 1, "word");
        assertEq(MarketSet.count(set), 3, "count");
        assertEq(MarketSet.first(set), 0, "first");
        uint256[] memory ids = MarketSet.toArray(set);
        assertEq(ids.length, 3, "length");
        assertEq(ids[0], 0, "ids[0]");
        assertEq(ids[1], 3, "ids[1]");
        assertEq(ids[2], 255, "ids[2]");
        set = MarketSet.dropFirst(set);
        assertEq(MarketSet.first(set), 3, "first after dropFirst");
        set = MarketSet.remove(set, 255);
        assertEq(set, 8, "after removing 255");
        // Removing an id that is not there and adding one that is change nothing.
        assertEq(MarketSet.remove(set, 7), 8, "remove absent");
        assertEq(MarketSet.add(set, 3), 8, "add present");
        assertEq(MarketSet.count(0), 0, "empty count");
        assertEq(MarketSet.toArray(0).length, 0, "empty array");
    }

    /// add puts exactly one id in, remove takes exactly that id out; no other bit moves.
    function testFuzz_addRemove_touchOneId(uint256 set, uint256 idSeed) public pure {
        uint256 id = idSeed.bound(0, 255);
        uint256 added = MarketSet.add(set, id);
        assertTrue(_has(added, id), "added id present");
        assertEq(added & ~(uint256(1) << id), set & ~(uint256(1) << id), "other ids unchanged by add");
        uint256 removed = MarketSet.remove(added, id);
        assertTrue(!_has(removed, id), "removed id absent");
        assertEq(removed, set & ~(uint256(1) << id), "other ids unchanged by remove");
    }

    /// first is the smallest id, dropFirst removes it and only it, count is the number of set bits.
    function testFuzz_firstAndCount(uint256 set) public pure {
        uint256 bits = 0;
        uint256 lowest = 256;
        for (uint256 id = 0; id < 256; ++id) {
            if (_has(set, id)) {
                ++bits;
                if (lowest == 256) lowest = id;
            }
        }
        assertEq(MarketSet.count(set), bits, "count");
        if (set == 0) return;
        assertEq(MarketSet.first(set), lowest, "first");
        assertEq(MarketSet.dropFirst(set), MarketSet.remove(set, lowest), "dropFirst");
    }

    /// toArray lists every id of the set once, ascending.
    function testFuzz_toArray_ascendingAndComplete(uint256 set) public pure {
        uint256[] memory ids = MarketSet.toArray(set);
        uint256 rebuilt = 0;
        for (uint256 i = 0; i < ids.length; ++i) {
            if (i > 0) assertLt(ids[i - 1], ids[i], "ascending");
            rebuilt = MarketSet.add(rebuilt, ids[i]);
        }
        assertEq(rebuilt, set, "same set");
    }
}
