// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ClaimRecord, LossPolicy, MarketState, Position} from "../../../contracts/interfaces/ClearingHouseTypes.sol";
import {FundingMath} from "../../../contracts/libraries/FundingMath.sol";
import {Ledger, LedgerLib} from "../../../contracts/libraries/Ledger.sol";
import {TestBase, Bound} from "../utils/Vm.sol";

/// @notice The packed social-loss indices at their bounds (issue 15): a position keeps its funding index and its
/// side's social-loss index in one slot (int128, uint128), a market its two sides' social-loss indices in one
/// (uint128 each). On a ledger of its own, with every index anywhere in its range (both ends included), settling
/// a position pays exactly ⌈|size| × (index − last) / 10^18⌉ of social loss and its funding, moves both snapshots to
/// the market's and leaves the other fields of both slots as they were; opening or flipping a position snapshots
/// its new side's index, whatever its value.
contract SocialLossIndexFuzzTest is TestBase {
    using Bound for uint256;
    using Bound for int256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant MARKET = 0;
    address internal constant ACCOUNT = address(0xA11CE);

    Ledger internal ledger;

    /// @dev The indices of both sides, the other side's set to a value settling must not touch.
    function _setMarket(bool long, uint128 index, uint128 other, int128 fundingIndex) internal {
        MarketState storage state = ledger.marketStates[MARKET];
        state.longSocialLossIndex = long ? index : other;
        state.shortSocialLossIndex = long ? other : index;
        state.fundingIndex = fundingIndex;
    }

    function testFuzz_settlePaysExactlyAtTheBounds(
        uint256 lastSeed,
        uint256 indexSeed,
        uint128 other,
        uint256 sizeSeed,
        bool long,
        int128 openNotional,
        int128 lastFunding,
        int128 funding
    ) public {
        uint128 last = uint128(lastSeed.bound(0, type(uint128).max));
        uint128 index = uint128(indexSeed.bound(last, type(uint128).max));
        // A claim record keeps what was paid in 112 bits: the size is bounded so that the loss fits.
        uint256 maxSize = index == last ? 1e30 : Math.min(1e30, (uint256(type(uint112).max) * WAD) / (index - last));
        int256 size = int256(sizeSeed.bound(1, maxSize));
        if (!long) size = -size;
        _checkSettle(last, index, other, size, openNotional, lastFunding, funding);
    }

    /// @dev The ends of the range, which a fuzzer may not hit: from 0 to the top, and the last step below it.
    function test_settleAtTheEnds() public {
        uint128 top = type(uint128).max;
        _checkSettle(0, top, top, 1, 1, type(int128).min, type(int128).max);
        _checkSettle(top - 1, top, 0, -1e13, -1, type(int128).max, type(int128).min);
        _checkSettle(top, top, top, 5e29, 0, 0, 0);
    }

    function _checkSettle(
        uint128 last,
        uint128 index,
        uint128 other,
        int256 size,
        int128 openNotional,
        int128 lastFunding,
        int128 funding
    ) internal {
        _setMarket(size > 0, index, other, funding);
        Position storage p = ledger.positions[ACCOUNT][MARKET];
        p.size = int128(size);
        p.openNotional = openNotional;
        p.lastFundingIndex = lastFunding;
        p.lastSocialLossIndex = last;
        int256 collateralBefore = ledger.accounts[ACCOUNT].collateral;
        uint256 recordsBefore = ledger.claimRecords[ACCOUNT].length;

        LedgerLib.settle(ledger, ACCOUNT, MARKET);

        uint256 loss = Math.mulDiv(Bound.abs(size), index - last, WAD, Math.Rounding.Ceil);
        int256 fundingOwed = FundingMath.owed(size, lastFunding, funding);
        assertEq(
            ledger.accounts[ACCOUNT].collateral,
            collateralBefore - fundingOwed - int256(loss),
            "collateral pays funding and the social loss"
        );
        assertEq(p.size, size, "size kept");
        assertEq(p.openNotional, openNotional, "cost kept");
        assertEq(p.lastFundingIndex, funding, "funding snapshot moved to the market's");
        assertEq(p.lastSocialLossIndex, index, "social-loss snapshot moved to the side's");
        MarketState storage state = ledger.marketStates[MARKET];
        assertEq(size > 0 ? state.longSocialLossIndex : state.shortSocialLossIndex, index, "side's index kept");
        assertEq(size > 0 ? state.shortSocialLossIndex : state.longSocialLossIndex, other, "other side's index kept");
        assertEq(state.fundingIndex, funding, "market funding index kept");
        if (index == last) {
            assertEq(ledger.claimRecords[ACCOUNT].length, recordsBefore, "nothing paid, no claim");
        } else {
            ClaimRecord storage r = ledger.claimRecords[ACCOUNT][recordsBefore];
            assertEq(r.paid, loss, "claim: paid");
            assertEq(r.size, Bound.abs(size), "claim: size");
            assertEq(r.basis, last, "claim: index before the window");
        }
    }

    /// @notice A position that opens or changes side starts owing its new side's social loss from that side's
    /// index now, any value of it; its funding snapshot beside it is the market's.
    function testFuzz_openOrFlipSnapshotsTheNewSide(
        uint128 longIndex,
        uint128 shortIndex,
        int128 funding,
        uint256 sizeSeed,
        uint256 deltaSeed
    ) public {
        ledger.marketParams[MARKET].lossPolicy = LossPolicy.Socialized; // no entry book to keep
        MarketState storage state = ledger.marketStates[MARKET];
        state.longSocialLossIndex = longIndex;
        state.shortSocialLossIndex = shortIndex;
        state.fundingIndex = funding;
        // From nothing: the snapshot is the new side's index.
        int256 size = int256(sizeSeed.bound(1, 1e24));
        if (deltaSeed % 2 == 0) size = -size;
        LedgerLib.applyFill(ledger, ACCOUNT, MARKET, size, 1, 0);
        Position storage p = ledger.positions[ACCOUNT][MARKET];
        assertEq(p.lastSocialLossIndex, size > 0 ? longIndex : shortIndex, "open: the side's index");
        assertEq(p.lastFundingIndex, funding, "open: the market's funding index");
        // A flip to the other side (the market's indices unchanged, so settling pays nothing).
        int256 delta = -size - (size > 0 ? int256(1) : int256(-1)) * int256(deltaSeed.bound(1, 1e24));
        LedgerLib.applyFill(ledger, ACCOUNT, MARKET, delta, 1, 0);
        int256 after_ = size + delta;
        assertEq(p.size, after_, "flipped");
        assertEq(p.lastSocialLossIndex, after_ > 0 ? longIndex : shortIndex, "flip: the new side's index");
        assertEq(p.lastFundingIndex, funding, "flip: the market's funding index");
        assertEq(state.longSocialLossIndex, longIndex, "long index kept");
        assertEq(state.shortSocialLossIndex, shortIndex, "short index kept");
    }
}
