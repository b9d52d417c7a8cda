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
    /// (sizeAfter, notionalAfter); [0] is the long side, [1] the short side. With `withSums` (haircut markets) the
    /// buckets keep Σ|size| and Σ|openNotional|; without (ADL markets, which only need the order) a count of
    /// positions, left alone when the position stays in its bucket (a reduction keeps its entry price). Returns the
    /// position's bucket after (0 when flat).
    function move(
        EntryBook[2] storage books,
        int256 sizeBefore,
        int256 notionalBefore,
        int256 sizeAfter,
        int256 notionalAfter,
        bool withSums
    ) internal returns (uint256 bAfter) {
        (uint256 sBefore, uint256 nBefore) = (SignedMath.abs(sizeBefore), SignedMath.abs(notionalBefore));
        (uint256 sAfter, uint256 nAfter) = (SignedMath.abs(sizeAfter), SignedMath.abs(notionalAfter));
        uint256 bBefore = sBefore == 0 ? 0 : entryBucket(sBefore, nBefore);
        bAfter = sAfter == 0 ? 0 : entryBucket(sAfter, nAfter);
        if (!withSums && sBefore != 0 && sAfter != 0 && (sizeBefore > 0) == (sizeAfter > 0) && bBefore == bAfter) {
            return bAfter;
        }
        if (sBefore != 0) {
            EntryBook storage book = books[sizeBefore > 0 ? 0 : 1];
            if (withSums) _remove(book, bBefore, sBefore, nBefore);
            else _count(book, bBefore, false);
        }
        if (sAfter != 0) {
            EntryBook storage book = books[sizeAfter > 0 ? 0 : 1];
            if (withSums) _add(book, bAfter, sAfter, nAfter);
            else _count(book, bAfter, true);
        }
    }

    /// @dev The occupied bucket at the winning end of a side in any price fall (longs: the lowest entry) or rise
    /// (shorts: the highest); `empty` when the side holds no position.
    function firstBucket(EntryBook storage book, bool longSide) internal view returns (uint256 bucket, bool empty) {
        uint256 words = book.wordBitmap;
        if (words == 0) return (0, true);
        uint256 word = longSide ? _lowestBit(words) : Math.log2(words);
        uint256 bits = book.bucketBitmap[word];
        return ((word << 8) | (longSide ? _lowestBit(bits) : Math.log2(bits)), false);
    }

    function _lowestBit(uint256 x) private pure returns (uint256) {
        return Math.log2(x & (~x + 1));
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
        uint256 sums = book.bucketSums[bucket];
        if (sums == 0) _occupy(book, bucket, true);
        book.bucketSums[bucket] = _pack((sums & LOW_128) + size, (sums >> 128) + notional);
        uint256 wordSums = book.wordSums[bucket >> 8];
        book.wordSums[bucket >> 8] = _pack((wordSums & LOW_128) + size, (wordSums >> 128) + notional);
    }

    function _remove(EntryBook storage book, uint256 bucket, uint256 size, uint256 notional) private {
        uint256 sums = book.bucketSums[bucket];
        uint256 left = (sums & LOW_128) - size;
        // A bucket's notional is the sum of its positions' notionals, so it empties with its size.
        book.bucketSums[bucket] = left == 0 ? 0 : _pack(left, (sums >> 128) - notional);
        if (left == 0) _occupy(book, bucket, false);
        uint256 wordSums = book.wordSums[bucket >> 8];
        uint256 wordLeft = (wordSums & LOW_128) - size;
        book.wordSums[bucket >> 8] = wordLeft == 0 ? 0 : _pack(wordLeft, (wordSums >> 128) - notional);
    }

    /// @dev One position more (`add`) or less in a bucket of a book that keeps counts only.
    function _count(EntryBook storage book, uint256 bucket, bool add) private {
        uint256 count = book.counts[bucket];
        if (add && count == 0) _occupy(book, bucket, true);
        if (!add && count == 1) _occupy(book, bucket, false);
        book.counts[bucket] = add ? count + 1 : count - 1;
    }

    /// @dev Sets or clears a bucket's bit, and its word's bit when the word's first bucket fills or last empties.
    function _occupy(EntryBook storage book, uint256 bucket, bool occupied) private {
        uint256 word = bucket >> 8;
        uint256 bits = book.bucketBitmap[word];
        uint256 bit = uint256(1) << (bucket & 255);
        if (occupied) {
            if (bits == 0) book.wordBitmap |= uint256(1) << word;
            book.bucketBitmap[word] = bits | bit;
        } else {
            bits &= ~bit;
            book.bucketBitmap[word] = bits;
            if (bits == 0) book.wordBitmap &= ~(uint256(1) << word);
        }
    }

    function _pack(uint256 size, uint256 notional) private pure returns (uint256) {
        return uint256(size.toUint128()) | (uint256(notional.toUint128()) << 128);
    }
}
