// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {FundingMath} from "../../../contracts/libraries/FundingMath.sol";
import {TestBase, Bound} from "../utils/Vm.sol";

/// @notice Fuzz tests of FundingMath: the rate clamp, index growth, the premium average, the rounding of what a
/// position owes, and funding over time (settling a position at an intermediate time costs at most 1 wei).
/// Bounds keep every exact product inside int256: |rate| ≤ 1e18, price ≤ 1e24, elapsed ≤ 10 years
/// (rate·price·elapsed ≤ 3.2e50), |size| ≤ 1e27, |index| ≤ 1e30.
contract FundingMathTest is TestBase {
    using Bound for uint256;
    using Bound for int256;

    int256 internal constant WAD = 1e18;
    uint256 internal constant MAX_PRICE = 1e24;
    uint256 internal constant MAX_ELAPSED = 3650 days;
    int256 internal constant MAX_RATE = 1e18; // 100% a day, ten times the hard bound on maxFundingRate
    int256 internal constant MAX_SIZE = 1e27;
    int256 internal constant MAX_INDEX = 1e30;
    int256 internal constant WINDOW = 1 hours;

    /// @dev a / b rounded toward −∞, b > 0.
    function _floorDiv(int256 a, int256 b) internal pure returns (int256 q) {
        q = a / b;
        if (a % b != 0 && a < 0) q -= 1;
    }

    // ------------------------------------------------------------ clampedRate

    function testFuzz_clampedRate_withinBounds(int256 emaSeed, uint256 maxSeed) public pure {
        int256 ema = emaSeed.bound(-int256(type(int128).max), int256(type(int128).max));
        uint256 maxRate = maxSeed.bound(0, type(uint64).max);
        int256 max = int256(maxRate);
        int256 rate = FundingMath.clampedRate(ema, maxRate);
        assertLe(rate, max, "rate <= max");
        assertGe(rate, -max, "rate >= -max");
        if (ema > max) assertEq(rate, max, "clamped high");
        else if (ema < -max) assertEq(rate, -max, "clamped low");
        else assertEq(rate, ema, "inside: unchanged");
    }

    function test_clampedRate_handCases() public pure {
        assertEq(FundingMath.clampedRate(0.02e18, 0.01e18), 0.01e18, "2% clamped to 1%");
        assertEq(FundingMath.clampedRate(-0.02e18, 0.01e18), -0.01e18, "-2% clamped to -1%");
        assertEq(FundingMath.clampedRate(0.005e18, 0.01e18), 0.005e18, "0.5% kept");
        assertEq(FundingMath.clampedRate(0.01e18, 0.01e18), 0.01e18, "edge kept");
        assertEq(FundingMath.clampedRate(123, 0), 0, "zero max");
    }

    // ------------------------------------------------------------ decayedPremium and indexGrowth

    /// @dev The growth of an average `ema` set at age 0, under the hard bound 10% a day as the clamp.
    function _g(int256 ema, uint256 price, uint256 fromAge, uint256 toAge) internal pure returns (int256) {
        return FundingMath.indexGrowth(ema, 0.1e18, price, fromAge, toAge);
    }

    /// The index moves in the direction of the average, not at all without time or average, never faster than
    /// the undecayed rate, and not at all once the average has fallen to zero.
    function testFuzz_indexGrowth_boundedByUndecayedRate(
        int256 emaSeed,
        uint256 priceSeed,
        uint256 fromSeed,
        uint256 toSeed
    ) public pure {
        int256 ema = emaSeed.bound(-0.1e18, 0.1e18);
        uint256 price = priceSeed.bound(1, MAX_PRICE);
        uint256 fromAge = fromSeed.bound(0, MAX_ELAPSED);
        uint256 toAge = toSeed.bound(fromAge, MAX_ELAPSED);
        int256 g = _g(ema, price, fromAge, toAge);
        if (ema == 0 || toAge == fromAge) assertEq(g, int256(0), "no average or no time: no growth");
        else if (ema > 0) assertGe(g, int256(0), "positive average: index does not fall");
        else assertLe(g, int256(0), "negative average: index does not rise");
        // |g| ≤ |ema| × price × (to − from) / (1e18 × 1 day), + 1 for the rounding of a negative growth.
        uint256 undecayed = (Bound.abs(ema) * price * (toAge - fromAge)) / (1e18 * 1 days);
        assertLe(Bound.abs(g), undecayed + 1, "never faster than the undecayed rate");
        // The average is gone after |ema| × 1 h / 10% (the fall is 10% an hour here).
        if (fromAge * 0.1e18 >= Bound.abs(ema) * 1 hours) assertEq(g, int256(0), "decayed: no growth");
    }

    /// Longer time never moves the index less.
    function testFuzz_indexGrowth_monotonicInAge(
        int256 emaSeed,
        uint256 priceSeed,
        uint256 e1Seed,
        uint256 e2Seed
    ) public pure {
        int256 ema = emaSeed.bound(-0.1e18, 0.1e18);
        uint256 price = priceSeed.bound(1, MAX_PRICE);
        uint256 e1 = e1Seed.bound(0, MAX_ELAPSED);
        uint256 e2 = e2Seed.bound(e1, MAX_ELAPSED);
        int256 g1 = _g(ema, price, 0, e1);
        int256 g2 = _g(ema, price, 0, e2);
        if (ema >= 0) assertLe(g1, g2, "ema >= 0: growth non-decreasing");
        if (ema <= 0) assertGe(g1, g2, "ema <= 0: growth non-increasing");
    }

    /// Accruing in two steps loses at most 1 wei of index against one step: the area is exact, only the final
    /// division rounds, so the index does not depend on how often the market is touched.
    function testFuzz_indexGrowth_splitAccrual(
        int256 emaSeed,
        uint256 priceSeed,
        uint256 e1Seed,
        uint256 e2Seed
    ) public pure {
        int256 ema = emaSeed.bound(-0.1e18, 0.1e18);
        uint256 price = priceSeed.bound(1, MAX_PRICE);
        uint256 e1 = e1Seed.bound(0, MAX_ELAPSED / 2);
        uint256 e2 = e2Seed.bound(0, MAX_ELAPSED / 2);
        int256 whole = _g(ema, price, 0, e1 + e2);
        int256 parts = _g(ema, price, 0, e1) + _g(ema, price, e1, e1 + e2);
        assertLe(parts, whole + 1, "split <= whole + 1");
        assertGe(parts, whole - 1, "split >= whole - 1");
    }

    /// @dev The index at t1 and t2 on a path from i0, the average `ema` set at t0.
    function _path(
        int256 i0,
        int256 ema,
        uint256 price,
        uint256 e1,
        uint256 e2
    ) internal pure returns (int256, int256) {
        int256 i1 = i0 + _g(ema, price, 0, e1);
        return (i1, i1 + _g(ema, price, e1, e1 + e2));
    }

    function test_indexGrowth_handCases() public pure {
        // 1% a day at the 1% clamp, price 2,000: the rate falls to 0 in one hour. ∫ rate dt over the hour is
        // 1% × 3,600 / 2 = 18 rate·s, so the index grows 18 × 2,000 / 86,400 = 0.41666… → …666 (down).
        assertEq(FundingMath.indexGrowth(0.01e18, 0.01e18, 2000e18, 0, 1 hours), 416666666666666666, "1 hour");
        assertEq(FundingMath.indexGrowth(0.01e18, 0.01e18, 2000e18, 0, 2 hours), 416666666666666666, "gone");
        assertEq(FundingMath.indexGrowth(0.01e18, 0.01e18, 2000e18, 1 hours, 2 hours), 0, "nothing after");
        // Half an hour: 1% × 1,800 − 1% × 1,800² / 7,200 = 13.5 rate·s → 13.5 × 2,000 / 86,400 = 0.3125 exactly.
        assertEq(FundingMath.indexGrowth(0.01e18, 0.01e18, 2000e18, 0, 30 minutes), 0.3125e18, "half hour");
        assertEq(FundingMath.indexGrowth(-0.01e18, 0.01e18, 2000e18, 0, 30 minutes), -0.3125e18, "negative");
        assertEq(FundingMath.indexGrowth(-0.01e18, 0.01e18, 2000e18, 0, 1 hours), -416666666666666667, "rounded down");
        // 0.5% under a 1% clamp is gone after 30 minutes: ∫ = 0.5%² × 3,600 / (2 × 1%) = 4.5 rate·s → 0.10416…
        assertEq(FundingMath.indexGrowth(0.005e18, 0.01e18, 2000e18, 0, 1 hours), 104166666666666666, "smaller");
        // An average above the clamp counts as the clamp.
        assertEq(FundingMath.indexGrowth(0.05e18, 0.01e18, 2000e18, 0, 1 hours), 416666666666666666, "clamped");
        assertEq(FundingMath.indexGrowth(0.01e18, 0, 2000e18, 0, 1 hours), 0, "zero clamp");
    }

    function test_decayedPremium_handCases() public pure {
        // Falls by the clamp (1%) per hour: after 15 minutes 1% → 0.75%, 0.4% → 0.15%, −0.4% → −0.15%.
        assertEq(FundingMath.decayedPremium(0.01e18, 0.01e18, 15 minutes), 0.0075e18, "quarter hour");
        assertEq(FundingMath.decayedPremium(0.004e18, 0.01e18, 15 minutes), 0.0015e18, "smaller");
        assertEq(FundingMath.decayedPremium(-0.004e18, 0.01e18, 15 minutes), -0.0015e18, "negative");
        assertEq(FundingMath.decayedPremium(0.004e18, 0.01e18, 30 minutes), 0, "gone");
        assertEq(FundingMath.decayedPremium(0.004e18, 0.01e18, 0), 0.004e18, "no time");
    }

    // ------------------------------------------------------------ nextPremiumEma

    function _premium(uint256 fill, uint256 oracle) internal pure returns (int256) {
        return _floorDiv((int256(fill) - int256(oracle)) * WAD, int256(oracle));
    }

    struct PremiumCase {
        int256 ema;
        uint256 fill;
        uint256 oracle;
        uint256 elapsed;
        uint256 fillSize;
        uint256 openInterest;
    }

    function _premiumCase(
        int256 emaSeed,
        uint256 fillSeed,
        uint256 oracleSeed,
        uint256 elapsedSeed,
        uint256 fillSizeSeed,
        uint256 oiSeed
    ) internal pure returns (PremiumCase memory c) {
        c.ema = emaSeed.bound(-1e30, 1e30);
        c.oracle = oracleSeed.bound(1e6, MAX_PRICE);
        c.fill = fillSeed.bound(1, MAX_PRICE);
        c.elapsed = elapsedSeed.bound(0, 3 hours);
        c.fillSize = fillSizeSeed.bound(1, 1e30);
        // Open interest 0 (the first fill of a market) in a quarter of the cases.
        c.openInterest = oiSeed % 4 == 0 ? 0 : (oiSeed >> 2).bound(0, 1e30);
    }

    function _next(PremiumCase memory c) internal pure returns (int256) {
        return
            FundingMath.nextPremiumEma(
                c.ema,
                FundingMath.premium(c.fill, c.oracle),
                c.elapsed,
                c.fillSize,
                c.openInterest
            );
    }

    /// The average moves toward the fill premium, never past it, by about (premium − ema) × min(elapsed, 1 h) / 1 h ×
    /// fillSize / (fillSize + openInterest). Checked with exact cross-multiplied bounds: with S the exact step,
    /// |S| − |premium − ema|/3600 − 1 ≤ |step| ≤ |S| + 1 (the weight is floored, then the step rounds toward −∞).
    function testFuzz_nextPremiumEma_movesTowardPremium(
        int256 emaSeed,
        uint256 fillSeed,
        uint256 oracleSeed,
        uint256 elapsedSeed,
        uint256 fillSizeSeed,
        uint256 oiSeed
    ) public pure {
        PremiumCase memory c = _premiumCase(emaSeed, fillSeed, oracleSeed, elapsedSeed, fillSizeSeed, oiSeed);
        int256 premium = _premium(c.fill, c.oracle);
        int256 next = _next(c);

        int256 lo = c.ema < premium ? c.ema : premium;
        int256 hi = c.ema < premium ? premium : c.ema;
        assertGe(next, lo, "between ema and premium (low side)");
        assertLe(next, hi, "between ema and premium (high side)");
        if (c.elapsed == 0) assertEq(next, c.ema, "weight 0: unchanged");
        if (c.elapsed >= uint256(WINDOW) && c.openInterest == 0) {
            assertEq(next, premium, "full window on an empty market: replaced by the premium");
        }

        // |D| ≤ ~1e36, time weight ≤ 3600, sizes ≤ 1e30: every product below fits in uint256 (≤ ~1e70).
        uint256 gap = Bound.abs(premium - c.ema);
        uint256 timeWeight = c.elapsed < uint256(WINDOW) ? c.elapsed : uint256(WINDOW);
        uint256 total = c.fillSize + c.openInterest;
        uint256 exactTimes = gap * timeWeight * c.fillSize; // |S| × 3600 × total
        uint256 stepTimes = Bound.abs(next - c.ema) * uint256(WINDOW) * total;
        assertLe(stepTimes, exactTimes + uint256(WINDOW) * total, "|step| <= |exact step| + 1");
        uint256 slack = gap * total + uint256(WINDOW) * total;
        if (exactTimes > slack) assertGe(stepTimes, exactTimes - slack, "|step| >= |exact step| - |gap|/3600 - 1");
    }

    /// More time since the last fill, or a bigger fill, or less open interest, moves the average further.
    function testFuzz_nextPremiumEma_monotonic(
        int256 emaSeed,
        uint256 fillSeed,
        uint256 oracleSeed,
        uint256 elapsedSeed,
        uint256 fillSizeSeed,
        uint256 oiSeed,
        uint256 moreSeed
    ) public pure {
        PremiumCase memory c = _premiumCase(emaSeed, fillSeed, oracleSeed, elapsedSeed, fillSizeSeed, oiSeed);
        uint256 step = Bound.abs(_next(c) - c.ema);

        PremiumCase memory later = _copy(c);
        later.elapsed = moreSeed.bound(c.elapsed, 3 hours);
        assertLe(step, Bound.abs(_next(later) - c.ema), "|step| non-decreasing in elapsed");

        PremiumCase memory bigger = _copy(c);
        bigger.fillSize = moreSeed.bound(c.fillSize, 1e30);
        assertLe(step, Bound.abs(_next(bigger) - c.ema), "|step| non-decreasing in fill size");

        PremiumCase memory deeper = _copy(c);
        deeper.openInterest = moreSeed.bound(c.openInterest, 1e30);
        assertGe(step, Bound.abs(_next(deeper) - c.ema), "|step| non-increasing in open interest");
    }

    function _copy(PremiumCase memory c) internal pure returns (PremiumCase memory) {
        return PremiumCase(c.ema, c.fill, c.oracle, c.elapsed, c.fillSize, c.openInterest);
    }

    function test_nextPremiumEma_handCases() public pure {
        // Fill 2020 on oracle 2000: premium 1%; a quarter window on an empty market moves 0 → 0.25%.
        assertEq(
            FundingMath.nextPremiumEma(0, FundingMath.premium(2020e18, 2000e18), 900, 1e18, 0),
            0.0025e18,
            "quarter window"
        );
        // Same, but the fill is a quarter of open interest + fill (1 against 3): weight 900 × 1/4 = 225 s,
        // step 1% × 225/3600 = 0.0625%.
        assertEq(
            FundingMath.nextPremiumEma(0, FundingMath.premium(2020e18, 2000e18), 900, 1e18, 3e18),
            0.000625e18,
            "size-weighted"
        );
        // From 0.25% toward −1% (fill 1980) over half a window, empty market: 0.25% − 1.25%/2 = −0.375%.
        assertEq(
            FundingMath.nextPremiumEma(0.0025e18, FundingMath.premium(1980e18, 2000e18), 1800, 1e18, 0),
            -0.00375e18,
            "half window down"
        );
        // A full window on an empty market replaces it: premium of 1 on 3 = −2/3 → −666666666666666667 (toward −∞).
        assertEq(
            FundingMath.nextPremiumEma(0.5e18, FundingMath.premium(1, 3), 2 hours, 1, 0),
            -666666666666666667,
            "replaced"
        );
        // A full window with fill = open interest goes halfway: 0 → 5% / 2 = 2.5%.
        assertEq(
            FundingMath.nextPremiumEma(0, FundingMath.premium(2100e18, 2000e18), 2 hours, 1e18, 1e18),
            0.025e18,
            "halfway"
        );
        // A 1-wei fill against 1 unit of open interest: weight floor(3600 / (1e18 + 1)) = 0, unchanged.
        assertEq(
            FundingMath.nextPremiumEma(0.004e18, FundingMath.premium(2100e18, 2000e18), 2 hours, 1, 1e18),
            0.004e18,
            "dust fill"
        );
        // Same block: unchanged.
        assertEq(
            FundingMath.nextPremiumEma(0.004e18, FundingMath.premium(2100e18, 2000e18), 0, 1e18, 0),
            0.004e18,
            "no time"
        );
    }

    // ------------------------------------------------------------ owed

    /// A position owes ceil(size × Δindex / 1e18): rounded against the account on both sides.
    function testFuzz_owed_roundsUp(int256 sizeSeed, int256 lastSeed, int256 indexSeed) public pure {
        int256 size = sizeSeed.bound(-MAX_SIZE, MAX_SIZE);
        int256 last = lastSeed.bound(-MAX_INDEX, MAX_INDEX);
        int256 index = indexSeed.bound(-MAX_INDEX, MAX_INDEX);
        int256 o = FundingMath.owed(size, last, index);
        int256 exact = size * (index - last);
        assertGe(o * WAD, exact, "owed >= exact");
        assertLt((o - 1) * WAD, exact, "owed < exact + 1");
        // The opposite position: the two together owe 0 or 1 wei, never less than nothing.
        int256 both = o + FundingMath.owed(-size, last, index);
        assertGe(both, int256(0), "owed(size) + owed(-size) >= 0");
        assertLe(both, int256(1), "owed(size) + owed(-size) <= 1");
    }

    function test_owed_handCases() public pure {
        // 3 wei × 0.5 = 1.5 → 2; −3 wei × 0.5 = −1.5 → −1: together 1 wei for the protocol.
        assertEq(FundingMath.owed(3, 0, 0.5e18), 2, "long rounds up");
        assertEq(FundingMath.owed(-3, 0, 0.5e18), -1, "short rounds up (receives less)");
        // Long 2 over an index move 100 → 130: pays 60; the index falling 130 → 100: receives 60.
        assertEq(FundingMath.owed(2e18, 100e18, 130e18), 60e18, "long pays");
        assertEq(FundingMath.owed(2e18, 130e18, 100e18), -60e18, "long receives");
        assertEq(FundingMath.owed(0, 0, 1e30), 0, "flat owes nothing");
    }

    // ------------------------------------------------------------ funding over time

    /// Funding from t0 to t2 versus t0 → t1 → t2. When the position is settled at t1 on the same index path, it
    /// pays between 0 and 1 wei more (one rounding per settlement). When nobody touched the market at t1, the index
    /// itself is accrued once instead of twice, which differs by at most 1 wei of index (|size|/1e18 wei owed).
    function testFuzz_owed_splitOverTime(
        int256 sizeSeed,
        int256 i0Seed,
        int256 rateSeed,
        uint256 priceSeed,
        uint256 e1Seed,
        uint256 e2Seed
    ) public pure {
        int256 size = sizeSeed.bound(-MAX_SIZE, MAX_SIZE);
        int256 i0 = i0Seed.bound(-MAX_INDEX, MAX_INDEX);
        int256 rate = rateSeed.bound(-0.1e18, 0.1e18);
        uint256 price = priceSeed.bound(1, MAX_PRICE);
        uint256 e1 = e1Seed.bound(0, 30 days);
        uint256 e2 = e2Seed.bound(0, 30 days);

        _checkSplitOverTime(size, i0, rate, price, e1, e2);
    }

    function _checkSplitOverTime(
        int256 size,
        int256 i0,
        int256 rate,
        uint256 price,
        uint256 e1,
        uint256 e2
    ) internal pure {
        // Market touched at t1: the index is accrued at t1 and t2.
        int256 i1 = i0 + _g(rate, price, 0, e1);
        int256 i2 = i1 + _g(rate, price, e1, e1 + e2);
        int256 settledTwice = FundingMath.owed(size, i0, i1) + FundingMath.owed(size, i1, i2);
        int256 settledOnce = FundingMath.owed(size, i0, i2);
        assertGe(settledTwice, settledOnce, "an extra settlement never pays less");
        assertLe(settledTwice, settledOnce + 1, "an extra settlement costs at most 1 wei");

        // Market untouched at t1: one accrual over e1 + e2.
        int256 i2Untouched = i0 + _g(rate, price, 0, e1 + e2);
        assertLe(i2, i2Untouched + 1, "split accrual <= single accrual + 1 wei");
        assertGe(i2, i2Untouched - 1, "split accrual >= single accrual - 1 wei");
        // |size·(i2 − i2Untouched)| ≤ |size|, plus one ceil per settlement.
        int256 diff = settledTwice - FundingMath.owed(size, i0, i2Untouched);
        int256 allowance = int256(Bound.abs(size) / 1e18) + 2;
        assertLe(diff, allowance, "split vs untouched, upper");
        assertGe(diff, -allowance, "split vs untouched, lower");
    }

    /// Balanced positions (Σ size = 0) settled at different times pay the protocol between 0 and
    /// (number of settlements) wei in total: funding moves value between them and creates none.
    function testFuzz_owed_balancedPositionsSumToRoundingOnly(
        int256 aSeed,
        int256 bSeed,
        int256 i0Seed,
        int256 rateSeed,
        uint256 priceSeed,
        uint256 e1Seed,
        uint256 e2Seed
    ) public pure {
        int256 a = aSeed.bound(-MAX_SIZE, MAX_SIZE);
        int256 b = bSeed.bound(-MAX_SIZE, MAX_SIZE);
        int256 c = -(a + b);
        int256 i0 = i0Seed.bound(-MAX_INDEX, MAX_INDEX);
        (int256 i1, int256 i2) = _path(
            i0,
            rateSeed.bound(-0.1e18, 0.1e18),
            priceSeed.bound(1, MAX_PRICE),
            e1Seed.bound(0, 30 days),
            e2Seed.bound(0, 30 days)
        );

        // a settles at t1 and t2, b only at t2, c at t1 and t2: five settlements.
        int256 total =
            FundingMath.owed(a, i0, i1) +
                FundingMath.owed(a, i1, i2) +
                FundingMath.owed(b, i0, i2) +
                FundingMath.owed(c, i0, i1) +
                FundingMath.owed(c, i1, i2);
        assertGe(total, int256(0), "funding creates no value");
        assertLe(total, int256(5), "at most 1 wei per settlement");
    }

    // ------------------------------------------------------------ heldPremium

    /// @dev Three fills of a block: premiums within the widest band (±20%) and sizes 1e6..1e27, recorded as
    /// FundingLogic.recordPremium does (each premium × size rounded toward zero).
    struct Sample {
        int256[3] premiums;
        uint256[3] sizes;
        int256 sum;
        uint256 added;
        int256 min;
        int256 max;
    }

    function _sample(
        int256[3] memory premiumSeeds,
        uint256[3] memory sizeSeeds
    ) internal pure returns (Sample memory s) {
        s.min = type(int256).max;
        s.max = type(int256).min;
        for (uint256 i = 0; i < 3; ++i) {
            s.premiums[i] = premiumSeeds[i].bound(-0.2e18, 0.2e18);
            s.sizes[i] = sizeSeeds[i].bound(1e6, 1e27);
            int256 product = s.premiums[i] * int256(s.sizes[i]);
            s.sum += product / WAD; // Solidity's division rounds toward zero
            s.added += s.sizes[i];
            if (s.premiums[i] < s.min) s.min = s.premiums[i];
            if (s.premiums[i] > s.max) s.max = s.premiums[i];
        }
    }

    /// Any one fill alone is a possible held part: with held = its size, the held premium lies between 0 and that
    /// fill's premium (the round trips that went are the others), never past zero and never beyond the fill's
    /// premium by more than rounding (< 3 wei of the sum, i.e. 3e18 / held).
    function testFuzz_heldPremium_betweenZeroAndAFillThatStayed(
        int256[3] memory premiumSeeds,
        uint256[3] memory sizeSeeds,
        uint256 whichSeed
    ) public pure {
        Sample memory s = _sample(premiumSeeds, sizeSeeds);
        uint256 j = whichSeed % 3;
        int256 held = FundingMath.heldPremium(s.sum, s.added, s.sizes[j], s.min, s.max);
        int256 slack = int256(3e18 / s.sizes[j]) + 1;
        if (s.premiums[j] >= 0) {
            assertGe(held, 0, "not past zero");
            assertLe(held, s.premiums[j] + slack, "not beyond the fill that stayed");
        } else {
            assertLe(held, 0, "not past zero");
            assertGe(held, s.premiums[j] - slack, "not beyond the fill that stayed");
        }
    }

    /// With everything held the held premium is the size-weighted average and within the premium range, up to
    /// rounding (< 3 wei of the sum: 3e18 / added).
    function testFuzz_heldPremium_allHeldIsTheAverage(
        int256[3] memory premiumSeeds,
        uint256[3] memory sizeSeeds
    ) public pure {
        Sample memory s = _sample(premiumSeeds, sizeSeeds);
        int256 held = FundingMath.heldPremium(s.sum, s.added, s.added, s.min, s.max);
        int256 exact;
        for (uint256 i = 0; i < 3; ++i) exact += s.premiums[i] * int256(s.sizes[i]);
        exact /= int256(s.added);
        int256 slack = int256(3e18 / s.added) + 2;
        assertGe(held, s.min - slack, "within the range up to rounding (low)");
        assertLe(held, s.max + slack, "within the range up to rounding (high)");
        assertLe(Bound.abs(held - exact), uint256(slack), "the average up to rounding");
    }

    /// The cases of test/attacks/funding-pinning.test.ts: 10 ETH open, honest 1 ETH held, a 5 ETH round trip.
    function test_heldPremium_handCases() public pure {
        // Honest at 0%, round trip at +4.9%: [max(0.245 − 0.245, 0), min(0.245, 0.049)] ∋ 0.
        assertEq(FundingMath.heldPremium(0.245e18, 6e18, 1e18, 0, 0.049e18), 0, "round trip beside a fill at 0");
        // Honest at +1%: [max(0.255 − 0.245, 0.01), min(0.255 − 0.05, 0.049)] = [0.01, 0.049] → 1%.
        assertEq(FundingMath.heldPremium(0.255e18, 6e18, 1e18, 0.01e18, 0.049e18), 0.01e18, "honest 1% kept");
        // Round trip at −4.9% beside honest +1%: [−0.049, 0.01] ∋ 0.
        assertEq(FundingMath.heldPremium(-0.235e18, 6e18, 1e18, -0.049e18, 0.01e18), 0, "opposite edge: 0");
        // Nothing gone: the plain average, 2 at 1% and 2 at 2% → 1.5%.
        assertEq(FundingMath.heldPremium(0.06e18, 4e18, 4e18, 0.01e18, 0.02e18), 0.015e18, "average");
        // All at −3%, half held: exactly −3% (rounding toward zero on a negative sum).
        assertEq(FundingMath.heldPremium(-0.06e18, 2e18, 1e18, -0.03e18, -0.03e18), -0.03e18, "one premium");
    }
}
