// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Position} from "../../../contracts/interfaces/ClearingHouseTypes.sol";
import {HaircutLib} from "../../../contracts/libraries/HaircutLib.sol";
import {Ledger} from "../../../contracts/libraries/Ledger.sol";
import {PositionMath} from "../../../contracts/libraries/PositionMath.sol";
import {TestBase, Bound} from "../utils/Vm.sol";

/// @notice Stateful fuzz of HaircutLib on a ledger of its own: up to eight shorts (winners and losers at the charge
/// price, dust and large, one of them possibly held by the same owner as another) and one long; one or two charges;
/// then every position settles in a fuzzed order, some between the charges, and some change size in between (a
/// winner closing after a charge). Checked after every move: Σ settled ≤ Σ taken, and once all have settled
/// Σ settled = Σ taken to the wei; nobody pays anything while at a loss at the charge price, nor more than
/// ⌈f × its profit⌉ (so never its deposit); the side's debt is Σ taken − Σ settled.
contract HaircutFuzzTest is TestBase {
    using Bound for uint256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant MARKET = 0;
    uint256 internal constant N = 8;

    Ledger internal ledger;

    address[N] internal accounts;
    uint256 internal totalTaken;
    uint256 internal totalSettled;

    function _open(address account, int256 size, int256 openNotional) internal {
        Position storage p = ledger.positions[account][MARKET];
        HaircutLib.updateCostBasis(ledger, MARKET, p.openNotional, openNotional);
        p.size = int128(size);
        p.openNotional = int128(openNotional);
        HaircutLib.snap(ledger, account, MARKET, size);
    }

    function _settle(address account) internal returns (uint256 paid) {
        Position memory p = ledger.positions[account][MARKET];
        int256 before = ledger.collateral[account];
        HaircutLib.settle(ledger, account, MARKET, p.size, p.openNotional);
        paid = uint256(before - ledger.collateral[account]);
        totalSettled += paid;
        assertLe(totalSettled, totalTaken, "never more than taken");
    }

    function _shortOpenInterest() internal view returns (uint256 oi) {
        for (uint256 i = 0; i < N; ++i) {
            int256 s = ledger.positions[accounts[i]][MARKET].size;
            if (s < 0) oi += uint256(-s);
        }
    }

    /// @dev The fraction the charge used, recomputed from its event inputs, and each position's profit at `price`.
    function _checkSettle(address account, uint256 price, uint256 rate, uint256 paid) internal view {
        Position memory p = ledger.positions[account][MARKET];
        int256 profit = PositionMath.unrealizedPnl(p.size, p.openNotional, price);
        // Rounding, always against the position: ⌈ ⌉ on what it owes and one wei per unit of size in the price index.
        uint256 slack = (uint256(-int256(p.size)) + WAD - 1) / WAD + 1;
        if (profit <= 0) {
            if (uint256(-profit) > slack) assertEq(paid, 0, "a position at a loss at the charge price pays nothing");
            else assertLe(paid, slack, "break-even: rounding only");
        } else {
            assertLe(paid, (rate * uint256(profit) + WAD - 1) / WAD + slack, "at most f x profit");
            assertLe(paid, uint256(profit) + slack, "never more than the profit");
        }
    }

    uint256 internal chargePrice;
    uint256 internal chargeRate;
    uint256 internal count;

    function _setUpSide(uint256[N] memory sizes, uint256[N] memory entries) internal {
        uint256 longSize;
        uint256 longBasis;
        for (uint256 i = 0; i < count; ++i) {
            accounts[i] = address(uint160(0x1000 + i));
            // Dust (1 wei) to 1,000 units, entries 40 … 160: some winners, some losers at the charge price.
            uint256 size = i == 0 ? 1 : sizes[i].bound(1, 1_000e18);
            uint256 entry = entries[i].bound(40e18, 160e18);
            int256 notional = -int256((size * entry) / WAD);
            _open(accounts[i], -int256(size), notional);
            longSize += size;
            longBasis += uint256(-notional);
        }
        _open(address(0xB0B), int256(longSize), int256(longBasis));
    }

    function _pending(address a) internal view returns (bool) {
        return ledger.haircutSnapshots[a][MARKET].rateIndex != ledger.haircutSides[MARKET][1].rateIndex;
    }

    /// @dev `split` positions settle, the first of them then closing half (a fill settles before it moves).
    function _settleSome(uint256 split, uint256 seed) internal {
        for (uint256 k = 0; k < split; ++k) {
            address a = accounts[(seed / 7 + k) % count];
            if (!_pending(a)) continue;
            Position memory p = ledger.positions[a][MARKET];
            _checkSettle(a, chargePrice, chargeRate, _settle(a));
            if (k == 0 && p.size < -1) _open(a, p.size / 2, p.openNotional / 2); // same entry, half the size
        }
    }

    function _settleAll(uint256 seed) internal {
        for (uint256 k = 0; k < count; ++k) {
            address a = accounts[(seed / 13 + k) % count];
            if (_pending(a)) _checkSettle(a, chargePrice, chargeRate, _settle(a));
        }
    }

    function testFuzz_haircutTakesExactlyWhatItCharges(
        uint256[N] memory sizes,
        uint256[N] memory entries,
        uint256 priceSeed,
        uint256 amountSeed,
        uint256 orderSeed,
        uint256 splitSeed
    ) public {
        chargePrice = priceSeed.bound(50e18, 150e18);
        count = (orderSeed % (N - 1)) + 2;
        _setUpSide(sizes, entries);

        uint256 amount = amountSeed.bound(1, 1e24);
        uint256 taken = HaircutLib.charge(ledger, MARKET, false, amount, chargePrice, _shortOpenInterest());
        totalTaken += taken;
        assertLe(taken, amount, "no more than asked");
        assertEq(ledger.haircutSides[MARKET][1].debt, totalTaken, "debt = taken");
        chargeRate = ledger.haircutSides[MARKET][1].rateIndex;
        assertLe(chargeRate, WAD, "fraction at most 1");

        _settleSome(splitSeed % (count + 1), orderSeed);
        _settleAll(orderSeed);
        // Winners pay ⌈f·p⌉ each and f·Σ winners' profit ≥ f·net ≥ taken, so all of it is collected.
        assertEq(totalSettled, totalTaken, "sum settled = sum taken, to the wei");
        assertEq(ledger.haircutSides[MARKET][1].debt, 0, "debt cleared");
        assertEq(ledger.collateral[address(0xB0B)], 0, "the other side pays nothing");
    }
}
