// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PositionMath} from "../../../contracts/libraries/PositionMath.sol";
import {TestBase, Bound} from "../utils/Vm.sol";

/// @notice Fuzz tests of PositionMath: fills (open, add, reduce, close, flip), isReducing, unrealized PnL and
/// notional rounding. The library is internal, so its functions are inlined into this contract and called
/// directly. Expected values are computed here with plain integer arithmetic on bounded inputs, where every
/// product fits in int256 (|size| ≤ 1e27, price ≤ 1e24, |openNotional| ≤ 1e33: products ≤ 1e60 < 5.7e76).
contract PositionMathTest is TestBase {
    using Bound for uint256;
    using Bound for int256;

    int256 internal constant MAX_SIZE = 1e27; // 1e9 base units
    uint256 internal constant MAX_PRICE = 1e24; // 1e6 USD per base unit
    int256 internal constant MAX_NOTIONAL = 1e33; // MAX_SIZE × MAX_PRICE / 1e18
    int256 internal constant WAD = 1e18;

    // ------------------------------------------------------------ helpers

    /// @dev A size in [−MAX_SIZE, −1] ∪ [1, MAX_SIZE].
    function _nonZeroSize(int256 seed) internal pure returns (int256 s) {
        s = seed.bound(-MAX_SIZE, MAX_SIZE - 1);
        if (s >= 0) s += 1;
    }

    function _price(uint256 seed) internal pure returns (uint256) {
        return seed.bound(1, MAX_PRICE);
    }

    /// @dev The notional the clearing house passes for a fill: |sizeDelta| × price / 1e18, rounded down.
    function _fillNotional(int256 sizeDelta, uint256 price) internal pure returns (uint256) {
        return (Bound.abs(sizeDelta) * price) / 1e18;
    }

    /// @dev An open notional for a position of `size`: same sign, magnitude up to |size| × MAX_PRICE / 1e18.
    function _openNotional(int256 size, uint256 seed) internal pure returns (int256) {
        int256 magnitude = int256(seed.bound(0, (Bound.abs(size) * MAX_PRICE) / 1e18));
        return size > 0 ? magnitude : -magnitude;
    }

    function _checkIdentity(
        int256 sizeDelta,
        uint256 notional,
        int256 openNotional,
        int256 newOpenNotional,
        int256 pnl
    ) internal pure {
        // realizedPnl − ΔopenNotional = −sign(sizeDelta) × notional, exactly.
        assertEq(
            pnl - (newOpenNotional - openNotional),
            -Bound.sign(sizeDelta) * int256(notional),
            "realizedPnl - dOpenNotional"
        );
    }

    // ------------------------------------------------------------ applyFill: all branches

    /// The identity holds for every input, whichever branch applies, and size arithmetic is exact.
    function testFuzz_applyFill_identityAnyBranch(
        int256 sizeSeed,
        int256 onSeed,
        int256 deltaSeed,
        uint256 nSeed
    ) public pure {
        int256 size = sizeSeed.bound(-MAX_SIZE, MAX_SIZE);
        int256 openNotional = onSeed.bound(-MAX_NOTIONAL, MAX_NOTIONAL);
        int256 sizeDelta = _nonZeroSize(deltaSeed);
        uint256 notional = nSeed.bound(0, uint256(MAX_NOTIONAL));

        (int256 newSize, int256 newOn, int256 pnl) = PositionMath.applyFill(size, openNotional, sizeDelta, notional);

        assertEq(newSize, size + sizeDelta, "newSize");
        _checkIdentity(sizeDelta, notional, openNotional, newOn, pnl);
    }

    /// The two sides of one fill realize, in total, exactly the change of their total open notional.
    function testFuzz_applyFill_twoSidesSumToOpenNotional(
        int256 makerSizeSeed,
        int256 takerSizeSeed,
        uint256 makerOnSeed,
        uint256 takerOnSeed,
        int256 deltaSeed,
        uint256 priceSeed
    ) public pure {
        int256 makerSize = makerSizeSeed.bound(-MAX_SIZE, MAX_SIZE);
        int256 takerSize = takerSizeSeed.bound(-MAX_SIZE, MAX_SIZE);
        int256 makerOn = makerSize == 0 ? int256(0) : _openNotional(makerSize, makerOnSeed);
        int256 takerOn = takerSize == 0 ? int256(0) : _openNotional(takerSize, takerOnSeed);
        int256 delta = _nonZeroSize(deltaSeed);
        uint256 notional = _fillNotional(delta, _price(priceSeed));

        (, int256 makerNewOn, int256 makerPnl) = PositionMath.applyFill(makerSize, makerOn, delta, notional);
        (, int256 takerNewOn, int256 takerPnl) = PositionMath.applyFill(takerSize, takerOn, -delta, notional);

        assertEq(
            makerPnl + takerPnl,
            (makerNewOn - makerOn) + (takerNewOn - takerOn),
            "sum realized == sum dOpenNotional"
        );
    }

    /// Opening from flat: the fill's notional becomes the cost basis, nothing is realized.
    function testFuzz_applyFill_open(int256 deltaSeed, uint256 priceSeed) public pure {
        int256 delta = _nonZeroSize(deltaSeed);
        uint256 price = _price(priceSeed);
        uint256 notional = _fillNotional(delta, price);

        (int256 newSize, int256 newOn, int256 pnl) = PositionMath.applyFill(0, 0, delta, notional);

        assertEq(newSize, delta, "newSize");
        assertEq(newOn, Bound.sign(delta) * int256(notional), "newOpenNotional");
        assertEq(pnl, int256(0), "realizedPnl");
        _checkIdentity(delta, notional, 0, newOn, pnl);
        // Entry price |newOn| / |size| is the fill price rounded down: |newOn|·1e18 ≤ |size|·price < (|newOn|+1)·1e18.
        assertLe(Bound.abs(newOn) * 1e18, Bound.abs(delta) * price, "entry <= price");
        assertLt(Bound.abs(delta) * price, (Bound.abs(newOn) + 1) * 1e18, "entry > price - 1 wei");
    }

    /// Adding on the same side: cost bases add up, nothing is realized.
    function testFuzz_applyFill_add(int256 sizeSeed, uint256 onSeed, uint256 addSeed, uint256 priceSeed) public pure {
        int256 size = _nonZeroSize(sizeSeed);
        int256 openNotional = _openNotional(size, onSeed);
        int256 delta = Bound.sign(size) * int256(addSeed.bound(1, uint256(MAX_SIZE)));
        uint256 notional = _fillNotional(delta, _price(priceSeed));

        (int256 newSize, int256 newOn, int256 pnl) = PositionMath.applyFill(size, openNotional, delta, notional);

        assertEq(newSize, size + delta, "newSize");
        assertEq(Bound.abs(newSize), Bound.abs(size) + Bound.abs(delta), "|newSize| = |size| + |delta|");
        assertEq(newOn, openNotional + Bound.sign(delta) * int256(notional), "newOpenNotional");
        assertEq(pnl, int256(0), "realizedPnl");
        _checkIdentity(delta, notional, openNotional, newOn, pnl);
    }

    /// Reducing: the remaining cost basis keeps the entry price, rounded toward −∞; realized PnL rounds down.
    function testFuzz_applyFill_reduce(
        int256 sizeSeed,
        uint256 onSeed,
        uint256 reduceSeed,
        uint256 priceSeed
    ) public pure {
        int256 size = _nonZeroSize(sizeSeed);
        if (size == 1 || size == -1) size *= 2; // need 1 ≤ |delta| < |size|
        int256 openNotional = _openNotional(size, onSeed);
        uint256 absSize = Bound.abs(size);
        uint256 absDelta = reduceSeed.bound(1, absSize - 1);
        int256 delta = -Bound.sign(size) * int256(absDelta);
        uint256 notional = _fillNotional(delta, _price(priceSeed));

        (int256 newSize, int256 newOn, int256 pnl) = PositionMath.applyFill(size, openNotional, delta, notional);

        assertEq(newSize, size + delta, "newSize");
        assertEq(Bound.sign(newSize), Bound.sign(size), "side kept");
        assertEq(Bound.abs(newSize), absSize - absDelta, "|newSize| = |size| - |delta|");
        _checkIdentity(delta, notional, openNotional, newOn, pnl);

        // Entry price kept: newOn = floor(openNotional × |newSize| / |size|), i.e.
        // newOn·|size| ≤ openNotional·|newSize| < (newOn + 1)·|size|.
        int256 kept = openNotional * int256(Bound.abs(newSize));
        assertLe(newOn * int256(absSize), kept, "newOn <= on * |newSize| / |size|");
        assertLt(kept, (newOn + 1) * int256(absSize), "newOn > on * |newSize| / |size| - 1");

        // Realized PnL rounds down: exact = −sign(delta)·notional − openNotional·|delta|/|size|.
        int256 exactTimesSize =
            -Bound.sign(delta) * int256(notional) * int256(absSize) - openNotional * int256(absDelta);
        assertLe(pnl * int256(absSize), exactTimesSize, "realized <= exact");
        assertLt(exactTimesSize, (pnl + 1) * int256(absSize), "realized > exact - 1");
    }

    /// A full close leaves nothing open and realizes the whole difference to the cost basis.
    function testFuzz_applyFill_close(int256 sizeSeed, uint256 onSeed, uint256 priceSeed) public pure {
        int256 size = _nonZeroSize(sizeSeed);
        int256 openNotional = _openNotional(size, onSeed);
        uint256 notional = _fillNotional(size, _price(priceSeed));

        (int256 newSize, int256 newOn, int256 pnl) = PositionMath.applyFill(size, openNotional, -size, notional);

        assertEq(newSize, int256(0), "newSize");
        assertEq(newOn, int256(0), "newOpenNotional");
        // A long sells at `notional` what cost `openNotional`; a short buys back at `notional` what it sold for.
        assertEq(pnl, Bound.sign(size) * int256(notional) - openNotional, "realizedPnl");
        _checkIdentity(-size, notional, openNotional, newOn, pnl);
    }

    /// Flipping: the old position closes entirely, the rest opens at the fill price on the other side.
    function testFuzz_applyFill_flip(
        int256 sizeSeed,
        uint256 onSeed,
        uint256 extraSeed,
        uint256 priceSeed
    ) public pure {
        int256 size = _nonZeroSize(sizeSeed);
        int256 openNotional = _openNotional(size, onSeed);
        uint256 absSize = Bound.abs(size);
        uint256 absDelta = absSize + extraSeed.bound(1, uint256(MAX_SIZE));
        int256 delta = -Bound.sign(size) * int256(absDelta);
        uint256 price = _price(priceSeed);
        uint256 notional = _fillNotional(delta, price);

        (int256 newSize, int256 newOn, int256 pnl) = PositionMath.applyFill(size, openNotional, delta, notional);

        assertEq(newSize, size + delta, "newSize");
        assertEq(Bound.sign(newSize), Bound.sign(delta), "side flipped");
        _checkIdentity(delta, notional, openNotional, newOn, pnl);

        uint256 absNewSize = Bound.abs(newSize);
        // The new cost basis has the sign of the new size (zero only when it is worth less than 1 wei).
        assertGe(newOn * Bound.sign(newSize), int256(0), "sign(newOn) == sign(newSize)");
        if (absNewSize * price >= 1e18) assertTrue(newOn != 0, "newOn != 0");
        // |newOn| ≈ |newSize| × price: |  |newOn|·1e18 − |newSize|·price  | < 1e18.
        uint256 target = absNewSize * price;
        uint256 scaled = Bound.abs(newOn) * 1e18;
        assertLt(scaled > target ? scaled - target : target - scaled, 1e18, "|newOn| ~ |newSize| * price");

        // The closing part is valued at the fill price too: |pnl + on| = closing notional ≈ |size| × price (2 wei).
        uint256 closing = Bound.abs(pnl + openNotional);
        assertEq(closing + Bound.abs(newOn), notional, "closing + opening == notional");
        uint256 closingTarget = absSize * price;
        uint256 closingScaled = closing * 1e18;
        assertLt(
            closingScaled > closingTarget ? closingScaled - closingTarget : closingTarget - closingScaled,
            2e18,
            "closing ~ |size| * price"
        );
    }

    /// Hand-computed fills, one per branch.
    function test_applyFill_handExamples() public pure {
        int256 newSize;
        int256 newOn;
        int256 pnl;
        // Long 2 @ 100 (on = 200), sell 0.5 @ 110: notional 55; closed = 200·0.5/2 = 50; pnl = 55 − 50 = 5.
        (newSize, newOn, pnl) = PositionMath.applyFill(2e18, 200e18, -0.5e18, 55e18);
        assertEq(newSize, 1.5e18, "reduce size");
        assertEq(newOn, 150e18, "reduce on");
        assertEq(pnl, 5e18, "reduce pnl");
        // Rounding: size 3 wei, on 10 wei, sell 1 wei for 4 wei: closed = ceil(10/3) = 4, pnl = 4 − 4 = 0
        // (exact 0.67 rounded down), on = 6 (exact 6.67 rounded down).
        (newSize, newOn, pnl) = PositionMath.applyFill(3, 10, -1, 4);
        assertEq(newSize, 2, "rounding size");
        assertEq(newOn, 6, "rounding on");
        assertEq(pnl, 0, "rounding pnl");
        // Short side of the same: size −3, on −10, buy 1 wei for 4 wei: closed = ceil(−10/3) = −3, on = −7,
        // pnl = −4 − (−3) = −1 (exact −0.67 rounded down).
        (newSize, newOn, pnl) = PositionMath.applyFill(-3, -10, 1, 4);
        assertEq(newSize, -2, "short rounding size");
        assertEq(newOn, -7, "short rounding on");
        assertEq(pnl, -1, "short rounding pnl");
        // Flip: long 1 @ 100, sell 3 @ 90 (notional 270): closing = 270·1/3 = 90, pnl = 90 − 100 = −10,
        // new on = −270 + 90 = −180 = −2 × 90.
        (newSize, newOn, pnl) = PositionMath.applyFill(1e18, 100e18, -3e18, 270e18);
        assertEq(newSize, -2e18, "flip size");
        assertEq(newOn, -180e18, "flip on");
        assertEq(pnl, -10e18, "flip pnl");
        // Close a short of 4 opened at 50 (on −200) by buying at 45 (notional 180): pnl = 200 − 180 = 20.
        (newSize, newOn, pnl) = PositionMath.applyFill(-4e18, -200e18, 4e18, 180e18);
        assertEq(newSize, 0, "close size");
        assertEq(newOn, 0, "close on");
        assertEq(pnl, 20e18, "close pnl");
        // Add: long 1 @ 100, buy 1 @ 120: on = 220, nothing realized.
        (newSize, newOn, pnl) = PositionMath.applyFill(1e18, 100e18, 1e18, 120e18);
        assertEq(newSize, 2e18, "add size");
        assertEq(newOn, 220e18, "add on");
        assertEq(pnl, 0, "add pnl");
    }

    // ------------------------------------------------------------ isReducing

    /// isReducing ⇔ the position ends flat, or stays on the same side without growing.
    function testFuzz_isReducing(int128 before, int128 after_) public pure {
        bool expected = after_ == 0 || (int256(before) * int256(after_) > 0 && Bound.abs(after_) <= Bound.abs(before));
        assertEq(PositionMath.isReducing(before, after_), expected, "isReducing");
    }

    /// For a real fill, isReducing is true exactly on the reduce and close branches.
    function testFuzz_isReducing_matchesFillBranch(int256 sizeSeed, int256 deltaSeed) public pure {
        int256 size = sizeSeed.bound(-MAX_SIZE, MAX_SIZE);
        int256 delta = _nonZeroSize(deltaSeed);
        (int256 newSize, , ) = PositionMath.applyFill(size, 0, delta, 0);
        bool reducesOrCloses =
            size != 0 && Bound.sign(size) != Bound.sign(delta) && Bound.abs(delta) <= Bound.abs(size);
        assertEq(PositionMath.isReducing(size, newSize), reducesOrCloses, "isReducing after fill");
    }

    function test_isReducing_handCases() public pure {
        assertTrue(PositionMath.isReducing(5, 3), "5 -> 3");
        assertTrue(PositionMath.isReducing(5, 5), "5 -> 5");
        assertTrue(PositionMath.isReducing(5, 0), "5 -> 0");
        assertTrue(PositionMath.isReducing(0, 0), "0 -> 0");
        assertTrue(PositionMath.isReducing(-5, -3), "-5 -> -3");
        assertTrue(!PositionMath.isReducing(5, 6), "5 -> 6");
        assertTrue(!PositionMath.isReducing(5, -1), "5 -> -1");
        assertTrue(!PositionMath.isReducing(0, 1), "0 -> 1");
        assertTrue(!PositionMath.isReducing(0, -1), "0 -> -1");
        assertTrue(!PositionMath.isReducing(-5, -6), "-5 -> -6");
        assertTrue(!PositionMath.isReducing(-5, 2), "-5 -> 2");
    }

    // ------------------------------------------------------------ valuation

    /// unrealizedPnl = floor(size × price / 1e18) − openNotional.
    function testFuzz_unrealizedPnl_roundsDown(int256 sizeSeed, int256 onSeed, uint256 priceSeed) public pure {
        int256 size = sizeSeed.bound(-MAX_SIZE, MAX_SIZE);
        int256 openNotional = onSeed.bound(-MAX_NOTIONAL, MAX_NOTIONAL);
        uint256 price = _price(priceSeed);

        int256 value = PositionMath.unrealizedPnl(size, openNotional, price) + openNotional;
        int256 exact = size * int256(price); // value × 1e18 before rounding
        assertLe(value * WAD, exact, "value <= size * price");
        assertLt(exact, (value + 1) * WAD, "value > size * price - 1");
    }

    function test_unrealizedPnl_handCases() public pure {
        // −3 wei × 0.5 = −1.5 → −2 (toward −∞, against the short).
        assertEq(PositionMath.unrealizedPnl(-3, 0, 0.5e18), -2, "short rounds down");
        // 3 wei × 0.5 = 1.5 → 1.
        assertEq(PositionMath.unrealizedPnl(3, 0, 0.5e18), 1, "long rounds down");
        // Long 2 bought for 3000, price 1600: 3200 − 3000 = 200.
        assertEq(PositionMath.unrealizedPnl(2e18, 3000e18, 1600e18), 200e18, "long profit");
        // Short 2 sold for 3000 (on −3000), price 1600: −3200 + 3000 = −200.
        assertEq(PositionMath.unrealizedPnl(-2e18, -3000e18, 1600e18), -200e18, "short loss");
    }

    /// notionalAt = ceil(|size| × price / 1e18), the same for both sides.
    function testFuzz_notionalAt_roundsUp(int256 sizeSeed, uint256 priceSeed) public pure {
        int256 size = sizeSeed.bound(-MAX_SIZE, MAX_SIZE);
        uint256 price = _price(priceSeed);
        uint256 n = PositionMath.notionalAt(size, price);
        uint256 exact = Bound.abs(size) * price;
        assertGe(n * 1e18, exact, "notional >= exact");
        if (n > 0) assertLt((n - 1) * 1e18, exact, "notional < exact + 1");
        assertEq(PositionMath.notionalAt(-size, price), n, "symmetric");
    }

    function test_notionalAt_handCases() public pure {
        assertEq(PositionMath.notionalAt(3, 0.5e18), 2, "1.5 -> 2");
        assertEq(PositionMath.notionalAt(-3, 0.5e18), 2, "short 1.5 -> 2");
        assertEq(PositionMath.notionalAt(2e18, 1600e18), 3200e18, "exact");
    }
}
