// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {EntryBookLib} from "../../../contracts/libraries/EntryBookLib.sol";
import {LiquidationMath} from "../../../contracts/libraries/LiquidationMath.sol";
import {PositionMath} from "../../../contracts/libraries/PositionMath.sol";
import {TestBase, Bound} from "../utils/Vm.sol";

/// @notice Fuzz tests of LiquidationMath on its own, against plain integer arithmetic on bounded inputs where every
/// product fits in 256 bits (|size| ≤ 1e27, price ≤ 1e24, amounts ≤ 1e33, ratios ≤ 1e18): penalty, size restoring
/// maintenance, hand-over and deleverage terms, the deleverage notional, the ADL score and the bankruptcy price.
contract LiquidationMathTest is TestBase {
    using Bound for uint256;
    using Bound for int256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_SIZE = 1e27;
    uint256 internal constant MAX_PRICE = 1e24;
    uint256 internal constant MAX_AMOUNT = 1e33;

    // ------------------------------------------------------------ penalty

    /// Reward and fee are ⌊n·d⌋ and ⌈n·f⌉ when the equity pays both; otherwise they split the equity exactly, in the
    /// ratio d : f (reward rounded down). Never more than max(equity, the unscaled sum).
    function testFuzz_penalty(uint256 dSeed, uint256 fSeed, uint256 nSeed, uint256 eSeed) public pure {
        uint256 d = dSeed.bound(0.001e18, 0.5e18);
        uint256 f = fSeed.bound(0, 0.5e18);
        uint256 n = nSeed.bound(0, MAX_AMOUNT);
        uint256 e = eSeed.bound(0, MAX_AMOUNT);
        (uint256 reward, uint256 fee) = LiquidationMath.penalty(d, f, n, e);
        uint256 fullReward = (n * d) / WAD;
        uint256 fullFee = (n * f + WAD - 1) / WAD;
        if (fullReward + fullFee <= e) {
            assertEq(reward, fullReward, "reward = floor(n d)");
            assertEq(fee, fullFee, "fee = ceil(n f)");
        } else {
            assertEq(reward + fee, e, "scaled: reward + fee = equity");
            assertEq(reward, (e * d) / (d + f), "scaled: reward = floor(e d / (d + f))");
            assertLe(reward, fullReward, "scaled reward <= full reward");
        }
    }

    /// Continuity across the solvency boundary: the reward never exceeds the equity, so it tends to 0 with it.
    function testFuzz_penalty_rewardBoundedByEquity(uint256 nSeed, uint256 eSeed) public pure {
        uint256 n = nSeed.bound(0, MAX_AMOUNT);
        uint256 e = eSeed.bound(0, MAX_AMOUNT);
        (uint256 reward, ) = LiquidationMath.penalty(0.01e18, 0.01e18, n, e);
        assertLe(reward, e, "reward <= equity");
    }

    // ------------------------------------------------------------ size restoring maintenance

    /// The size returned is the smallest whose liquidation closes the gap: q·price·perUnit ≥ gap·1e36 and
    /// (q − 1)·price·perUnit < gap·1e36, unless it is the whole position.
    function testFuzz_sizeRestoringMaintenance(
        uint256 pSeed,
        uint256 gapSeed,
        uint256 mmSeed,
        uint256 absSeed,
        uint256 perUnitSeed
    ) public pure {
        uint256 price = pSeed.bound(1e6, MAX_PRICE);
        uint256 positionAbs = absSeed.bound(1, MAX_SIZE);
        uint256 mm = mmSeed.bound(1, 1e30);
        uint256 gap = gapSeed.bound(1, mm); // equity = mm − gap ∈ [0, mm)
        uint256 perUnit = perUnitSeed.bound(0, 0.08e18);
        uint256 q = LiquidationMath.sizeRestoringMaintenance(
            0.02e18 + perUnit,
            0.01e18,
            0.01e18,
            0,
            price,
            int256(mm - gap),
            mm,
            positionAbs
        );
        assertLe(q, positionAbs, "q <= position");
        if (perUnit == 0) {
            assertEq(q, positionAbs, "nothing restores margin: all of it");
            return;
        }
        if (q == positionAbs) {
            assertLe((q - 1) * price * perUnit, gap * WAD * WAD, "whole position: (q-1) does not close the gap");
        } else {
            assertGe(q * price * perUnit, gap * WAD * WAD, "q closes the gap");
            assertLt((q - 1) * price * perUnit, gap * WAD * WAD, "q - 1 does not");
        }
    }

    /// @dev Inputs of a buffered sizing: market ratios inside MarketParamsLib's bounds and an account below maintenance.
    struct Sizing {
        uint256 m;
        uint256 d;
        uint256 f;
        uint256 b;
        uint256 price;
        uint256 mm;
        uint256 equity;
        uint256 positionAbs;
    }

    function _sizing(uint256[8] memory seeds) internal pure returns (Sizing memory z) {
        z.m = seeds[0].bound(0.005e18, 0.5e18);
        z.d = seeds[1].bound(0.001e18, z.m);
        z.f = seeds[2].bound(0, z.m - z.d);
        z.b = seeds[3].bound(0, 1e18);
        z.price = seeds[4].bound(1e6, MAX_PRICE);
        z.mm = seeds[5].bound(1, 1e30);
        z.equity = seeds[6].bound(0, z.mm - 1);
        z.positionAbs = seeds[7].bound(1, MAX_SIZE);
    }

    function _size(Sizing memory z, uint256 buffer) internal pure returns (uint256) {
        return
            LiquidationMath.sizeRestoringMaintenance(
                z.m,
                z.d,
                z.f,
                buffer,
                z.price,
                int256(z.equity),
                z.mm,
                z.positionAbs
            );
    }

    /// Whether closing q reaches E' ≥ (1 + b)·MM' in exact arithmetic: q·P·((1 + b)·m − d − f) ≥ (1 + b)·MM − E,
    /// both sides times 10^54 and compared as 512-bit products (no division, no rounding).
    function _reaches(Sizing memory z, uint256 q) internal pure returns (bool) {
        uint256 perUnit = (WAD + z.b) * z.m - WAD * (z.d + z.f); // ≤ 1e36
        uint256 gap = (WAD + z.b) * z.mm - WAD * z.equity; // ≤ 2e48
        (uint256 lhsHigh, uint256 lhsLow) = Math.mul512(q, z.price * perUnit);
        (uint256 rhsHigh, uint256 rhsLow) = Math.mul512(gap, WAD * WAD);
        return lhsHigh > rhsHigh || (lhsHigh == rhsHigh && lhsLow >= rhsLow);
    }

    /// With a buffer b the size returned is the smallest that brings equity to (1 + b) × maintenance (in the linear
    /// model above): closing it reaches the target and one wei of size less does not; the whole position when even
    /// that does not reach it.
    function testFuzz_sizeRestoringBufferedMaintenance_isMinimalAndReaches(uint256[8] memory seeds) public pure {
        Sizing memory z = _sizing(seeds);
        uint256 q = _size(z, z.b);
        assertLe(q, z.positionAbs, "q <= position");
        if (q < z.positionAbs) assertTrue(_reaches(z, q), "q reaches (1 + b) x maintenance");
        else if (!_reaches(z, q)) return; // the whole position, and it does not reach the target: all of it
        assertTrue(q == 0 || !_reaches(z, q - 1), "q - 1 does not");
    }

    /// Buffer 0 is the unbuffered rule to the wei: the formula before the buffer existed, restated here.
    function testFuzz_sizeRestoringMaintenance_bufferZeroIsUnbuffered(uint256[8] memory seeds) public pure {
        Sizing memory z = _sizing(seeds);
        uint256 perUnit = z.m - z.d - z.f;
        uint256 expected =
            perUnit == 0
                ? z.positionAbs
                : Math.min(
                    Math.mulDiv(z.mm - z.equity, WAD * WAD, z.price * perUnit, Math.Rounding.Ceil),
                    z.positionAbs
                );
        assertEq(_size(z, 0), expected, "buffer 0 = today's size");
    }

    /// A larger buffer never closes less, once the position's own maintenance is part of the account's (|size|·P·m ≤
    /// MM, as always on chain). q_b tends to MM / (P·m) as b grows; below E·m < MM·(d + f) it falls toward it, but
    /// there every q_b is above MM / (P·m) ≥ |size|, so the whole position goes whatever the buffer.
    function testFuzz_sizeRestoringMaintenance_monotoneInBuffer(uint256[8] memory seeds, uint256 more) public pure {
        Sizing memory z = _sizing(seeds);
        uint256 cap = Math.min(MAX_SIZE, Math.mulDiv(z.mm, WAD * WAD, z.price * z.m));
        if (cap == 0) return;
        z.positionAbs = z.positionAbs.bound(1, cap);
        uint256 larger = more.bound(z.b, 1e18);
        assertLe(_size(z, z.b), _size(z, larger), "more buffer, at least as much closed");
    }

    // ------------------------------------------------------------ hand-over

    /// A hand-over moves the account toward zero by q, at a notional that costs it at most the reward against the
    /// exact oracle value: a long sells for ≥ q·price − reward, a short buys for ≤ q·price + reward.
    function testFuzz_handOverTerms(int256 sizeSeed, uint256 pSeed, uint256 qSeed, uint256 rSeed) public pure {
        int256 size = sizeSeed.bound(-int256(MAX_SIZE), int256(MAX_SIZE));
        if (size == 0) size = 1;
        uint256 abs = size > 0 ? uint256(size) : uint256(-size);
        uint256 price = pSeed.bound(1, MAX_PRICE);
        uint256 q = qSeed.bound(0, abs);
        uint256 reward = rSeed.bound(0, (q * price) / WAD);
        (int256 delta, uint256 notional) = LiquidationMath.handOverTerms(size, price, q, reward);
        assertEq(delta, size > 0 ? -int256(q) : int256(q), "delta toward zero");
        if (size > 0) assertGe(notional * WAD + reward * WAD, q * price, "long sells at >= value - reward");
        else assertLe(notional * WAD, q * price + reward * WAD, "short buys at <= value + reward");
    }

    // ------------------------------------------------------------ deleverage

    /// q is the smallest of the three sizes; the loss is the pro rata share of the deficit (all of it on the last
    /// part) and the cap the pro rata profit, never above a positive equity and zero for a non-positive one.
    function testFuzz_deleverageTerms(
        uint256 sizeSeed,
        uint256 aSeed,
        uint256 oSeed,
        uint256 pnlSeed,
        int256 eqSeed,
        uint256 dSeed
    ) public pure {
        uint256 accountAbs = aSeed.bound(1, MAX_SIZE);
        uint256 otherAbs = oSeed.bound(1, MAX_SIZE);
        uint256 size = sizeSeed.bound(1, 2 * MAX_SIZE);
        uint256 pnl = pnlSeed.bound(1, MAX_AMOUNT);
        int256 equity = eqSeed.bound(-int256(MAX_AMOUNT), int256(MAX_AMOUNT));
        uint256 deficit = dSeed.bound(0, MAX_AMOUNT);
        (uint256 q, uint256 loss, uint256 cap) = LiquidationMath.deleverageTerms(
            size,
            accountAbs,
            otherAbs,
            pnl,
            equity,
            deficit
        );
        uint256 smallest = size < accountAbs ? size : accountAbs;
        if (otherAbs < smallest) smallest = otherAbs;
        assertEq(q, smallest, "q = min");
        if (q == accountAbs) assertEq(loss, deficit, "last part takes the whole deficit");
        else assertEq(loss, (deficit * q) / accountAbs, "loss = floor(deficit q / size)");
        uint256 profit = (pnl * q) / otherAbs;
        if (equity <= 0) assertEq(cap, 0, "insolvent counterparty: cap 0");
        else assertEq(cap, profit < uint256(equity) ? profit : uint256(equity), "cap = min(profit, equity)");
    }

    /// The bankrupt side of a step closes at the notional that raises its equity (mark-to-market value plus
    /// realized PnL at the oracle) by exactly `loss`, checked through PositionMath.
    function testFuzz_deleverageNotional_raisesEquityByLoss(
        int256 sizeSeed,
        int256 entrySeed,
        uint256 pSeed,
        uint256 qSeed,
        uint256 lossSeed
    ) public pure {
        int256 size = sizeSeed.bound(-int256(MAX_SIZE), int256(MAX_SIZE));
        if (size == 0) size = -1;
        uint256 abs = size > 0 ? uint256(size) : uint256(-size);
        uint256 price = pSeed.bound(1, MAX_PRICE);
        int256 openNotional = (size * int256(entrySeed.bound(1, int256(MAX_PRICE)))) / int256(WAD);
        uint256 q = qSeed.bound(1, abs);
        uint256 base = PositionMath.closingNotional(size, q, price);
        uint256 loss = lossSeed.bound(0, size > 0 ? MAX_AMOUNT : base);
        uint256 notional = LiquidationMath.deleverageNotional(size, q, price, loss);

        int256 before = PositionMath.unrealizedPnl(size, openNotional, price);
        int256 delta = size > 0 ? -int256(q) : int256(q);
        (int256 newSize, int256 newOpen, int256 realized) = PositionMath.applyFill(size, openNotional, delta, notional);
        int256 afterValue = realized + PositionMath.unrealizedPnl(newSize, newOpen, price);
        assertEq(afterValue - before, int256(loss), "equity rises by exactly the loss");
    }

    // ------------------------------------------------------------ ADL score

    /// Zero unless the position is profitable and equity is positive; otherwise a key in 1 … 65,536 by entry
    /// bucket: for two positions on one side, the one whose entry is more profitable per unit at any price (lower
    /// for longs, higher for shorts) never has the lower key, and a higher key means a more profitable entry.
    function testFuzz_adlScore(uint256 eA, uint256 eB, int256 pnlSeed, int256 eSeed, bool long) public pure {
        int256 pnl = pnlSeed.bound(-int256(MAX_AMOUNT), int256(MAX_AMOUNT));
        int256 equity = eSeed.bound(-int256(MAX_AMOUNT), int256(MAX_AMOUNT));
        int256 size = long ? int256(1) : -1;
        (eA, eB) = (eA.bound(1, MAX_PRICE), eB.bound(1, MAX_PRICE));
        uint256 a = LiquidationMath.adlScore(size, EntryBookLib.priceBucket(eA), pnl, equity);
        uint256 b = LiquidationMath.adlScore(size, EntryBookLib.priceBucket(eB), pnl, equity);
        if (pnl <= 0 || equity <= 0) {
            assertEq(a + b, 0, "not eligible: 0");
            return;
        }
        assertGe(a, 1, "eligible: at least 1");
        assertLe(a, 65_536, "at most 65,536");
        bool aBetter = long ? eA < eB : eA > eB;
        if (aBetter) assertGe(a, b, "a more profitable entry never ranks lower");
        if (a > b) assertTrue(long ? eA < eB : eA > eB, "a higher key is a more profitable entry");
    }

    // ------------------------------------------------------------ bankruptcy price

    /// Closing the whole position at the bankruptcy price moves equity to within one unit of size of zero:
    /// |size|·(price − bp) ∈ (equity·1e18 − |size|, equity·1e18] for a long, the mirror for a short.
    function testFuzz_bankruptcyPrice(int256 sizeSeed, uint256 pSeed, int256 eSeed) public pure {
        int256 size = sizeSeed.bound(-int256(MAX_SIZE), int256(MAX_SIZE));
        if (size == 0) size = 1;
        int256 abs = size > 0 ? size : -size;
        int256 price = int256(pSeed.bound(1, MAX_PRICE));
        int256 equity = eSeed.bound(-int256(MAX_AMOUNT), int256(MAX_AMOUNT));
        int256 bp = LiquidationMath.bankruptcyPrice(size, uint256(price), equity);
        int256 move = size > 0 ? price - bp : bp - price; // the adverse move that eats the equity
        int256 eaten = abs * move; // 1e36 scale
        int256 target = equity * int256(WAD);
        assertLe(eaten, target, "the move eats at most the equity");
        assertGt(eaten, target - abs, "and within one unit of size of it");
    }
}
