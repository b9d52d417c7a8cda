// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

import {EntryBook} from "../interfaces/ClearingHouseTypes.sol";
import {FixedPointMath} from "./FixedPointMath.sol";

/// @title EntryBookLib
/// @notice The positions of one market side, summed by entry price: Σ|size| and Σ|openNotional| per entry-price
/// bucket, with occupancy bitmaps. A position's entry price |openNotional| / |size| moves only when the position
/// itself trades, never with the market price, so a price splits the side into the buckets in profit and the
/// buckets at a loss without touching any position: that is what lets a haircut be pro rata to profit over exactly
/// the winners, in gas that does not grow with the number of positions.
/// @dev Buckets are 1/256 of an octave of the entry price (18 decimals): bucket = ⌊256·log2(price)⌋, a 16-bit
/// number whose high byte is the integer log2 (the "word", 0..255) and whose low byte is the first eight
/// fractional bits. Adjacent buckets differ by a factor 2^(1/256) ≈ 1.0027. `priceBucket` is monotone
/// (non-decreasing), so bucket(a) < bucket(b) implies a < b: every position in a bucket strictly below the
/// bucket of price P has its entry strictly below P. Each word keeps the sums of its 256 buckets as well, so a
/// prefix sum reads at most 255 buckets of the price's word and 255 words, skipping empty ones by bitmap.
/// Sums are packed in one slot: |size| in the low 128 bits, |openNotional| in the high 128 bits.
library EntryBookLib {
    using SafeCast for uint256;

    uint256 private constant LOW_128 = type(uint128).max;

    /// @dev ⌊256·log2(price)⌋ by the binary-logarithm method (integer part by bit length, each fractional bit by
    /// squaring a 128-bit mantissa). Truncation keeps it monotone. Price 0 is bucket 0.
    function priceBucket(uint256 price) internal pure returns (uint256) {
        if (price == 0) return 0;
        uint256 integer = Math.log2(price);
        // Mantissa in [2^127, 2^128): price / 2^integer as a 127-bit fixed-point number.
        uint256 m = integer >= 127 ? price >> (integer - 127) : price << (127 - integer);
        uint256 fraction;
        for (uint256 i = 0; i < 8; ++i) {
            m = (m * m) >> 127; // in [2^127, 2^129)
            fraction <<= 1;
            if (m >= 1 << 128) {
                m >>= 1;
                fraction |= 1;
            }
        }
        return (integer << 8) | fraction;
    }

    /// @dev The bucket of a position's entry price |openNotional| / |size| (18 decimals, rounded down).
    function entryBucket(uint256 absSize, uint256 absNotional) internal pure returns (uint256) {
        return priceBucket(Math.mulDiv(absNotional, FixedPointMath.WAD, absSize));
    }

    /// @dev Keeps a market's two books in step with one position changing from (sizeBefore, notionalBefore) to
    /// (sizeAfter, notionalAfter); [0] is the long side, [1] the short side.
    function move(
        EntryBook[2] storage books,
        int256 sizeBefore,
        int256 notionalBefore,
        int256 sizeAfter,
        int256 notionalAfter
    ) internal {
        if (sizeBefore != 0) {
            (uint256 size, uint256 notional) = (SignedMath.abs(sizeBefore), SignedMath.abs(notionalBefore));
            _remove(books[sizeBefore > 0 ? 0 : 1], entryBucket(size, notional), size, notional);
        }
        if (sizeAfter != 0) {
            (uint256 size, uint256 notional) = (SignedMath.abs(sizeAfter), SignedMath.abs(notionalAfter));
            _add(books[sizeAfter > 0 ? 0 : 1], entryBucket(size, notional), size, notional);
        }
    }

    /// @dev Σ|size| and Σ|openNotional| over the buckets at or below `bucket`.
    function sumsAtOrBelow(
        EntryBook storage book,
        uint256 bucket
    ) internal view returns (uint256 size, uint256 notional) {
        uint256 word = bucket >> 8;
        uint256 bit = bucket & 255;
        uint256 inWord = bit == 255 ? type(uint256).max : (uint256(1) << (bit + 1)) - 1;
        (size, notional) = _sumBuckets(book, word, book.bucketBitmap[word] & inWord);
        (uint256 s, uint256 n) = _sumWords(book, book.wordBitmap & ((uint256(1) << word) - 1));
        (size, notional) = (size + s, notional + n);
    }

    /// @dev Σ|size| and Σ|openNotional| over the buckets at or above `bucket`.
    function sumsAtOrAbove(
        EntryBook storage book,
        uint256 bucket
    ) internal view returns (uint256 size, uint256 notional) {
        uint256 word = bucket >> 8;
        uint256 inWord = ~((uint256(1) << (bucket & 255)) - 1);
        (size, notional) = _sumBuckets(book, word, book.bucketBitmap[word] & inWord);
        uint256 above = word == 255 ? 0 : ~((uint256(1) << (word + 1)) - 1);
        (uint256 s, uint256 n) = _sumWords(book, book.wordBitmap & above);
        (size, notional) = (size + s, notional + n);
    }

    function _sumBuckets(
        EntryBook storage book,
        uint256 word,
        uint256 bits
    ) private view returns (uint256 size, uint256 notional) {
        while (bits != 0) {
            uint256 i = Math.log2(bits);
            bits ^= uint256(1) << i;
            uint256 sums = book.bucketSums[(word << 8) | i];
            size += sums & LOW_128;
            notional += sums >> 128;
        }
    }

    function _sumWords(EntryBook storage book, uint256 words) private view returns (uint256 size, uint256 notional) {
        while (words != 0) {
            uint256 w = Math.log2(words);
            words ^= uint256(1) << w;
            uint256 sums = book.wordSums[w];
            size += sums & LOW_128;
            notional += sums >> 128;
        }
    }

    function _add(EntryBook storage book, uint256 bucket, uint256 size, uint256 notional) private {
        uint256 word = bucket >> 8;
        uint256 sums = book.bucketSums[bucket];
        if (sums == 0) book.bucketBitmap[word] |= uint256(1) << (bucket & 255);
        book.bucketSums[bucket] = _pack((sums & LOW_128) + size, (sums >> 128) + notional);
        uint256 wordSums = book.wordSums[word];
        if (wordSums == 0) book.wordBitmap |= uint256(1) << word;
        book.wordSums[word] = _pack((wordSums & LOW_128) + size, (wordSums >> 128) + notional);
    }

    function _remove(EntryBook storage book, uint256 bucket, uint256 size, uint256 notional) private {
        uint256 word = bucket >> 8;
        uint256 sums = book.bucketSums[bucket];
        uint256 left = (sums & LOW_128) - size;
        // A bucket's notional is the sum of its positions' notionals, so it empties with its size.
        book.bucketSums[bucket] = left == 0 ? 0 : _pack(left, (sums >> 128) - notional);
        if (left == 0) book.bucketBitmap[word] &= ~(uint256(1) << (bucket & 255));
        uint256 wordSums = book.wordSums[word];
        uint256 wordLeft = (wordSums & LOW_128) - size;
        book.wordSums[word] = wordLeft == 0 ? 0 : _pack(wordLeft, (wordSums >> 128) - notional);
        if (wordLeft == 0) book.wordBitmap &= ~(uint256(1) << word);
    }

    function _pack(uint256 size, uint256 notional) private pure returns (uint256) {
        return uint256(size.toUint128()) | (uint256(notional.toUint128()) << 128);
    }
}
