// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EntryBook} from "../../../contracts/interfaces/ClearingHouseTypes.sol";
import {EntryBookLib} from "../../../contracts/libraries/EntryBookLib.sol";
import {TestBase, Bound} from "../utils/Vm.sol";

/// @notice EntryBookLib: the bucket function against values computed independently (⌊256·log2(p)⌋ to 80 digits
/// in Python's decimal module), its monotonicity and octave step, and the book's prefix and suffix sums against a
/// brute-force sum over the positions, after fuzzed opens, moves and closes (dust and large, both sides, several
/// positions in one bucket, a bucket emptied and refilled); and the first bucket of each side, in books that keep
/// sums and in books that keep counts only (as ADL markets do), against the brute-force lowest or highest entry.
contract EntryBookFuzzTest is TestBase {
    using Bound for uint256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant N = 10;

    EntryBook[2] internal books;
    /// The same positions in books that keep counts only, as ADL markets do.
    EntryBook[2] internal countBooks;
    int256[N] internal sizes;
    int256[N] internal notionals;

    function test_priceBucket_knownValues() public pure {
        assertEq(EntryBookLib.priceBucket(0), 0, "0");
        assertEq(EntryBookLib.priceBucket(1), 0, "1 wei");
        assertEq(EntryBookLib.priceBucket(3), 405, "3 wei");
        assertEq(EntryBookLib.priceBucket(1e18), 15307, "1");
        assertEq(EntryBookLib.priceBucket(70e18), 16876, "70");
        assertEq(EntryBookLib.priceBucket(75e18), 16902, "75");
        assertEq(EntryBookLib.priceBucket(2_000e18), 18114, "2,000");
        assertEq(EntryBookLib.priceBucket(60_000e18), 19370, "60,000");
        assertEq(EntryBookLib.priceBucket(2 ** 200 + 12345), 51200, "2^200 + 12345");
        assertEq(EntryBookLib.priceBucket(type(uint256).max), 65535, "max");
    }

    function testFuzz_priceBucket_monotone(uint256 a, uint256 b) public pure {
        if (a > b) (a, b) = (b, a);
        assertLe(EntryBookLib.priceBucket(a), EntryBookLib.priceBucket(b), "monotone");
    }

    function testFuzz_priceBucket_octave(uint256 p) public pure {
        p = p.bound(1, type(uint256).max / 2);
        assertEq(EntryBookLib.priceBucket(2 * p), EntryBookLib.priceBucket(p) + 256, "doubling adds 256");
    }

    /// @dev Prices a bucket apart differ by at most 2^(1/256): p × 1.00271 is never in p's bucket's next-but-one.
    function testFuzz_priceBucket_width(uint256 p) public pure {
        p = p.bound(1e6, 1e40);
        uint256 up = (p * 100_271) / 100_000 + 1;
        assertLe(EntryBookLib.priceBucket(up), EntryBookLib.priceBucket(p) + 1, "a bucket is at most 0.271% wide");
        uint256 far = (p * 100_272) / 100_000 + 1;
        assertGe(EntryBookLib.priceBucket(far), EntryBookLib.priceBucket(p) + 1, "and at least 0.2705% wide");
    }

    function _set(uint256 i, int256 size, int256 notional) internal {
        EntryBookLib.move(books, sizes[i], notionals[i], size, notional, true);
        EntryBookLib.move(countBooks, sizes[i], notionals[i], size, notional, false);
        (sizes[i], notionals[i]) = (size, notional);
    }

    function _brute(bool longSide, uint256 bucket, bool below) internal view returns (uint256 s, uint256 n) {
        for (uint256 i = 0; i < N; ++i) {
            (bool onSide, uint256 absSize, uint256 absNotional, uint256 b) = _position(i, longSide);
            if (onSide && (below ? b <= bucket : b >= bucket)) (s, n) = (s + absSize, n + absNotional);
        }
    }

    /// @dev Position i's |size|, |notional| and entry bucket, and whether it is open on the given side.
    function _position(
        uint256 i,
        bool longSide
    ) internal view returns (bool onSide, uint256 absSize, uint256 absNotional, uint256 bucket) {
        int256 size = sizes[i];
        if (size == 0 || (size > 0) != longSide) return (false, 0, 0, 0);
        absSize = uint256(size > 0 ? size : -size);
        absNotional = uint256(notionals[i] > 0 ? notionals[i] : -notionals[i]);
        return (true, absSize, absNotional, EntryBookLib.entryBucket(absSize, absNotional));
    }

    /// @dev The lowest entry bucket among the longs, or the highest among the shorts; `none` when the side is flat.
    function _bruteFirst(bool longSide) internal view returns (uint256 first, bool none) {
        none = true;
        for (uint256 i = 0; i < N; ++i) {
            (bool onSide, , , uint256 b) = _position(i, longSide);
            if (!onSide) continue;
            if (none || (longSide ? b < first : b > first)) first = b;
            none = false;
        }
    }

    function testFuzz_sumsMatchBruteForce(
        uint256[N] memory sizeSeeds,
        uint256[N] memory entrySeeds,
        uint256 moves
    ) public {
        for (uint256 step = 0; step < 3 * N; ++step) {
            uint256 i = (moves >> (step % 64)) % N;
            uint256 seed = uint256(keccak256(abi.encode(sizeSeeds[i], entrySeeds[step % N], step)));
            if (seed % 5 == 0) {
                _set(i, 0, 0); // close
                continue;
            }
            // Dust to 10^6 units; entries clustered (many in one bucket) or spread from 1 wei to 10^9.
            uint256 size = seed % 7 == 0 ? 1 : (seed >> 8).bound(1, 1e24);
            uint256 entry = seed % 3 == 0 ? 100e18 + ((seed >> 100) % 1e15) : (seed >> 120).bound(1, 1e27);
            int256 notional = int256((size * entry) / WAD);
            if (seed % 2 == 0) _set(i, int256(size), notional);
            else _set(i, -int256(size), -notional);
        }
        for (uint256 k = 0; k < 8; ++k) {
            uint256 bucket = uint256(keccak256(abi.encode(moves, k))) % 65536;
            if (k < 4) bucket = EntryBookLib.priceBucket(uint256(keccak256(abi.encode(k, moves))) % 1e27); // near use
            for (uint256 side = 0; side < 2; ++side) {
                (uint256 s, uint256 n) = EntryBookLib.sumsAtOrBelow(books[side], bucket);
                (uint256 bs, uint256 bn) = _brute(side == 0, bucket, true);
                assertEq(s, bs, "size at or below");
                assertEq(n, bn, "notional at or below");
                (s, n) = EntryBookLib.sumsAtOrAbove(books[side], bucket);
                (bs, bn) = _brute(side == 0, bucket, false);
                assertEq(s, bs, "size at or above");
                assertEq(n, bn, "notional at or above");
            }
        }
        for (uint256 side = 0; side < 2; ++side) {
            (uint256 first, bool empty) = EntryBookLib.firstBucket(books[side], side == 0);
            (uint256 firstCounted, bool emptyCounted) = EntryBookLib.firstBucket(countBooks[side], side == 0);
            (uint256 expected, bool none) = _bruteFirst(side == 0);
            assertEq(empty, none, "empty side");
            assertEq(emptyCounted, none, "empty side (counts)");
            if (!none) {
                assertEq(first, expected, "first bucket");
                assertEq(firstCounted, expected, "first bucket (counts)");
            }
        }
        // Everything closed: the book is empty again.
        for (uint256 i = 0; i < N; ++i) _set(i, 0, 0);
        assertEq(books[0].wordBitmap | books[1].wordBitmap, 0, "empty book");
        assertEq(countBooks[0].wordBitmap | countBooks[1].wordBitmap, 0, "empty book (counts)");
    }
}
