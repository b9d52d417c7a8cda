// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {FixedPointMath} from "../../../contracts/libraries/FixedPointMath.sol";
import {TestBase, Bound} from "../utils/Vm.sol";

/// @notice Fuzz tests of FixedPointMath. Where |x|, |y| < 2^126 and d < 2^127 the exact product x·y fits in
/// int256, so floor and ceil are checked against it directly: f·d ≤ x·y < (f+1)·d and (c−1)·d < x·y ≤ c·d.
/// Over the full range (where the product needs 512 bits) floor and ceil are checked against each other through
/// external wrappers, because a result that does not fit in int256 reverts.
contract FixedPointMathTest is TestBase {
    using Bound for uint256;
    using Bound for int256;

    int256 internal constant HALF_RANGE = int256(1) << 126;

    // External wrappers so that reverts can be caught over the full input range.
    function floorExt(int256 x, int256 y, uint256 d) external pure returns (int256) {
        return FixedPointMath.mulDivFloor(x, y, d);
    }

    function ceilExt(int256 x, int256 y, uint256 d) external pure returns (int256) {
        return FixedPointMath.mulDivCeil(x, y, d);
    }

    // ------------------------------------------------------------ signed mulDiv against the exact product

    function testFuzz_mulDiv_bracketsExactProduct(int256 xSeed, int256 ySeed, uint256 dSeed) public pure {
        int256 x = xSeed.bound(-HALF_RANGE + 1, HALF_RANGE - 1);
        int256 y = ySeed.bound(-HALF_RANGE + 1, HALF_RANGE - 1);
        uint256 d = dSeed.bound(1, uint256(1) << 127);
        int256 sd = int256(d);
        int256 p = x * y; // |p| < 2^252

        int256 f = FixedPointMath.mulDivFloor(x, y, d);
        int256 c = FixedPointMath.mulDivCeil(x, y, d);

        assertLe(f * sd, p, "floor * d <= x*y");
        assertLt(p, (f + 1) * sd, "x*y < (floor + 1) * d");
        assertGe(c * sd, p, "ceil * d >= x*y");
        assertLt((c - 1) * sd, p, "(ceil - 1) * d < x*y");
        assertEq(c - f, p % sd == 0 ? int256(0) : int256(1), "ceil - floor");
    }

    /// Small operands too, where the fuzzer rarely lands with the full range.
    function testFuzz_mulDiv_smallOperands(int16 x, int16 y, uint8 dSeed) public pure {
        uint256 d = uint256(dSeed) + 1;
        int256 p = int256(x) * int256(y);
        int256 f = FixedPointMath.mulDivFloor(x, y, d);
        int256 c = FixedPointMath.mulDivCeil(x, y, d);
        assertLe(f * int256(d), p, "floor * d <= x*y");
        assertLt(p, (f + 1) * int256(d), "x*y < (floor + 1) * d");
        assertGe(c * int256(d), p, "ceil * d >= x*y");
        assertLt((c - 1) * int256(d), p, "(ceil - 1) * d < x*y");
    }

    /// Over the whole range of x and d (y kept to int128 so that most results fit in int256 and the check is
    /// not vacuous): whenever both results exist, ceil − floor ∈ {0, 1}; a zero divisor always reverts.
    function testFuzz_mulDiv_ceilMinusFloorFullRange(int256 x, int128 y, uint256 d) public view {
        int256 f;
        int256 c;
        bool floorOk;
        bool ceilOk;
        try this.floorExt(x, y, d) returns (int256 r) {
            (f, floorOk) = (r, true);
        } catch {}
        try this.ceilExt(x, y, d) returns (int256 r) {
            (c, ceilOk) = (r, true);
        } catch {}
        if (d == 0) {
            assertTrue(!floorOk && !ceilOk, "division by zero reverts");
            return;
        }
        if (floorOk && ceilOk) {
            assertGe(c, f, "ceil >= floor");
            assertLe(c - f, int256(1), "ceil - floor <= 1");
        }
    }

    /// Rounding toward −∞ of a value is minus the rounding toward +∞ of its opposite; operand order is irrelevant.
    function testFuzz_mulDiv_signSymmetry(int256 xSeed, int256 ySeed, uint256 dSeed) public pure {
        int256 x = xSeed.bound(-HALF_RANGE + 1, HALF_RANGE - 1);
        int256 y = ySeed.bound(-HALF_RANGE + 1, HALF_RANGE - 1);
        uint256 d = dSeed.bound(1, type(uint256).max);
        assertEq(FixedPointMath.mulDivFloor(-x, y, d), -FixedPointMath.mulDivCeil(x, y, d), "floor(-v) == -ceil(v)");
        assertEq(FixedPointMath.mulDivFloor(x, -y, d), -FixedPointMath.mulDivCeil(x, y, d), "floor(x,-y) == -ceil");
        assertEq(FixedPointMath.mulDivFloor(x, y, d), FixedPointMath.mulDivFloor(y, x, d), "commutative");
    }

    function test_mulDiv_handCases() public pure {
        // 7/2 = 3.5; −7/2 = −3.5.
        assertEq(FixedPointMath.mulDivFloor(7, 1, 2), 3, "floor(3.5)");
        assertEq(FixedPointMath.mulDivCeil(7, 1, 2), 4, "ceil(3.5)");
        assertEq(FixedPointMath.mulDivFloor(-7, 1, 2), -4, "floor(-3.5)");
        assertEq(FixedPointMath.mulDivCeil(-7, 1, 2), -3, "ceil(-3.5)");
        assertEq(FixedPointMath.mulDivFloor(7, -1, 2), -4, "floor(7*-1/2)");
        assertEq(FixedPointMath.mulDivFloor(-7, -1, 2), 3, "floor(-7*-1/2)");
        // Exact results are the same both ways: −6/2 = −3.
        assertEq(FixedPointMath.mulDivFloor(-6, 1, 2), -3, "floor(-3)");
        assertEq(FixedPointMath.mulDivCeil(-6, 1, 2), -3, "ceil(-3)");
        // 1.5e18 × −2e18 / 1e18 = −3e18.
        assertEq(FixedPointMath.mulDivFloor(1.5e18, -2e18, 1e18), -3e18, "wad product");
        // −1 wei × 1 / 1e18 = −1e-18 → floor −1, ceil 0.
        assertEq(FixedPointMath.mulDivFloor(-1, 1, 1e18), -1, "tiny negative floor");
        assertEq(FixedPointMath.mulDivCeil(-1, 1, 1e18), 0, "tiny negative ceil");
    }

    /// A result beyond int256 reverts instead of wrapping: (2^255 − 1) × 2 / 1.
    function test_mulDiv_overflowReverts() public {
        vm.expectRevert(abi.encodeWithSignature("SafeCastOverflowedUintToInt(uint256)", uint256(type(int256).max) * 2));
        this.floorExt(type(int256).max, 2, 1);
    }

    // ------------------------------------------------------------ unsigned WAD helpers

    function testFuzz_mulWad_floorAndCeil(uint128 x, uint128 y) public pure {
        uint256 p = uint256(x) * uint256(y);
        uint256 down = FixedPointMath.mulWad(x, y);
        uint256 up = FixedPointMath.mulWadUp(x, y);
        assertLe(down * 1e18, p, "mulWad * 1e18 <= x*y");
        assertLt(p, (down + 1) * 1e18, "x*y < (mulWad + 1) * 1e18");
        assertGe(up * 1e18, p, "mulWadUp * 1e18 >= x*y");
        assertEq(up - down, p % 1e18 == 0 ? 0 : 1, "up - down");
    }

    function testFuzz_divWad_floor(uint128 x, uint128 ySeed) public pure {
        uint256 y = uint256(ySeed) + 1;
        uint256 q = FixedPointMath.divWad(x, y);
        uint256 p = uint256(x) * 1e18;
        assertLe(q * y, p, "divWad * y <= x * 1e18");
        assertLt(p, (q + 1) * y, "x * 1e18 < (divWad + 1) * y");
    }

    function test_wadHelpers_handCases() public pure {
        assertEq(FixedPointMath.mulWad(1.5e18, 3), 4, "1.5 * 3 wei = 4.5 -> 4");
        assertEq(FixedPointMath.mulWadUp(1.5e18, 3), 5, "1.5 * 3 wei = 4.5 -> 5");
        assertEq(FixedPointMath.divWad(1, 3), 333333333333333333, "1/3");
        assertEq(FixedPointMath.mulWad(2000e18, 0.1e18), 200e18, "10% of 2000");
    }

    function testFuzz_positivePart(int256 x) public pure {
        uint256 p = FixedPointMath.positivePart(x);
        if (x > 0) assertEq(p, uint256(x), "positive");
        else assertEq(p, 0, "non-positive");
    }
}
