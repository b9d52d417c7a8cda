// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Position} from "../../../contracts/interfaces/ClearingHouseTypes.sol";
import {EntryBookLib} from "../../../contracts/libraries/EntryBookLib.sol";
import {HaircutLib} from "../../../contracts/libraries/HaircutLib.sol";
import {Ledger} from "../../../contracts/libraries/Ledger.sol";
import {TestBase, Bound} from "../utils/Vm.sol";

/// @notice Stateful fuzz of HaircutLib on a ledger of its own: up to eight shorts (winners and losers at the charge
/// prices, dust and large, entries spread so that some sit next to the charge price) and one long; two charges at
/// different prices; positions settle in a fuzzed order, some between the charges, one of them closing half in
/// between. Expected shares are computed here from each position's entry, independently of the contract's
/// entry buckets: a short whose entry is at or below the charge price owes nothing for that charge; one whose entry
/// is above P × 1.0028 (past any bucket boundary, buckets being 2^(1/256) ≈ 1.00271 wide) owes rate × its profit;
/// one in between owes between 0 and that. Checked: the rate is not inflated beyond taken / Σ clear winners'
/// profit (a losing position on the side cannot raise it), each position's total lies in its bounds whatever the
/// order of settlement, Σ settled = Σ taken to the wei, and the long side pays nothing.
contract HaircutFuzzTest is TestBase {
    using Bound for uint256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant MARKET = 0;
    uint256 internal constant N = 8;

    Ledger internal ledger;

    address[N] internal accounts;
    uint256 internal count;
    uint256 internal totalTaken;
    uint256 internal totalSettled;
    mapping(address => uint256) internal paid;
    mapping(address => uint256) internal low;
    mapping(address => uint256) internal high;
    mapping(address => uint256) internal slack;
    /// @dev Σ over charges of (winners' profit / 10^18 + 1): what rounding the rate up to 18 decimals may take
    /// beyond the charge before the debt's cap, which then falls short on the last to settle.
    uint256 internal rateSlack;

    function _open(address account, int256 size, int256 openNotional) internal {
        Position storage p = ledger.positions[account][MARKET];
        uint256 bucket = EntryBookLib.move(ledger.entryBooks[MARKET], p.size, p.openNotional, size, openNotional, true);
        HaircutLib.updateCostBasis(ledger, MARKET, p.openNotional, openNotional);
        p.size = int128(size);
        p.openNotional = int128(openNotional);
        HaircutLib.snap(ledger, account, MARKET, size, bucket);
    }

    function _settle(address account) internal {
        Position memory p = ledger.positions[account][MARKET];
        int256 before = ledger.accounts[account].collateral;
        HaircutLib.settle(ledger, account, MARKET, p.size, p.openNotional);
        uint256 amount = uint256(before - ledger.accounts[account].collateral);
        paid[account] += amount;
        totalSettled += amount;
        assertLe(totalSettled, totalTaken, "never more than taken");
    }

    function _shortOpenInterest() internal view returns (uint256 oi) {
        for (uint256 i = 0; i < count; ++i) {
            int256 s = ledger.positions[accounts[i]][MARKET].size;
            if (s < 0) oi += uint256(-s);
        }
    }

    function _setUpSide(uint256[N] memory sizes, uint256[N] memory entries, uint256 price) internal {
        uint256 longSize;
        uint256 longBasis;
        for (uint256 i = 0; i < count; ++i) {
            accounts[i] = address(uint160(0x1000 + i));
            // Dust (1 wei) to 1,000 units; entries 40 … 160, and every third one within ±0.5% of the first price.
            uint256 size = i == 0 ? 1 : sizes[i].bound(1, 1_000e18);
            uint256 entry =
                i % 3 == 2
                    ? entries[i].bound((price * 995) / 1000, (price * 1005) / 1000)
                    : entries[i].bound(40e18, 160e18);
            int256 notional = -int256((size * entry) / WAD);
            _open(accounts[i], -int256(size), notional);
            longSize += size;
            longBasis += uint256(-notional);
        }
        _open(address(0xB0B), int256(longSize), int256(longBasis));
    }

    /// @dev Charges `amount` at `price` and records each position's bounds for it, computed from its entry.
    function _charge(uint256 amount, uint256 price) internal {
        uint256 clearProfit;
        uint256 nearProfit;
        for (uint256 i = 0; i < count; ++i) {
            (uint256 profit, bool clear) = _profit(accounts[i], price);
            if (clear) clearProfit += profit;
            else nearProfit += profit;
        }
        uint256 rateBefore = ledger.haircutSides[MARKET][1].rateIndex;
        uint256 taken = HaircutLib.charge(ledger, MARKET, false, amount, price, _shortOpenInterest());
        totalTaken += taken;
        assertLe(taken, amount, "no more than asked");
        // The contract rounds the side's value once, this test once per position: up to one wei apart each.
        assertLe(taken, clearProfit + nearProfit + count, "no more than the winners' profit");
        uint256 rate = ledger.haircutSides[MARKET][1].rateIndex - rateBefore;
        if (taken == 0) return;
        // The rate is set by the winners alone: never above taken / Σ clear winners' profit, never below
        // taken / Σ all winners' profit (rounded up once).
        rateSlack += (clearProfit + nearProfit) / WAD + 1;
        if (clearProfit != 0) assertLe(rate, (taken * WAD + clearProfit - 1) / clearProfit, "rate not inflated");
        assertGe(rate, (taken * WAD) / (clearProfit + nearProfit + count), "rate not deflated");
        for (uint256 i = 0; i < count; ++i) {
            address a = accounts[i];
            (uint256 profit, bool clear) = _profit(a, price);
            if (clear) low[a] += (rate * profit) / WAD;
            high[a] += (rate * profit + WAD - 1) / WAD;
            slack[a] += uint256(-int256(ledger.positions[a][MARKET].size)) / WAD + 2;
        }
    }

    /// @dev A short's profit at `price` (0 when its entry is not above it) and whether its entry is above P × 1.0028.
    function _profit(address a, uint256 price) internal view returns (uint256 profit, bool clear) {
        Position memory p = ledger.positions[a][MARKET];
        if (p.size == 0) return (0, false);
        uint256 size = uint256(-int256(p.size));
        uint256 notional = uint256(-int256(p.openNotional));
        uint256 value = (size * price + WAD - 1) / WAD;
        if (notional <= value) return (0, false);
        profit = notional - value;
        clear = notional * 10_000 * WAD > size * price * 10_028;
    }

    function _pending(address a) internal view returns (bool) {
        return ledger.haircutSnapshots[a][MARKET].charges != ledger.haircutSides[MARKET][1].charges;
    }

    /// @dev `split` positions settle, the first of them then closing half at the same entry.
    function _settleSome(uint256 split, uint256 seed) internal {
        for (uint256 k = 0; k < split; ++k) {
            address a = accounts[(seed / 7 + k) % count];
            if (!_pending(a)) continue;
            _settle(a);
            Position memory p = ledger.positions[a][MARKET];
            if (k == 0 && p.size < -1) _open(a, p.size / 2, p.openNotional / 2);
        }
    }

    function testFuzz_haircutTakesEachWinnersShareInAnyOrder(
        uint256[N] memory sizes,
        uint256[N] memory entries,
        uint256[2] memory priceSeeds,
        uint256[2] memory amountSeeds,
        uint256 orderSeed,
        uint256 splitSeed
    ) public {
        uint256 price1 = priceSeeds[0].bound(50e18, 150e18);
        uint256 price2 = priceSeeds[1].bound(50e18, 150e18);
        count = (orderSeed % (N - 1)) + 2;
        _setUpSide(sizes, entries, price1);

        _charge(amountSeeds[0].bound(1, 1e24), price1);
        _settleSome(splitSeed % (count + 1), orderSeed);
        _charge(amountSeeds[1].bound(1, 1e24), price2);
        for (uint256 k = 0; k < count; ++k) {
            address a = accounts[(orderSeed / 13 + k) % count];
            if (_pending(a)) _settle(a);
        }
        assertEq(totalSettled, totalTaken, "sum settled = sum taken, to the wei");
        assertEq(ledger.haircutSides[MARKET][1].debt, 0, "debt cleared");
        assertEq(ledger.accounts[address(0xB0B)].collateral, 0, "the other side pays nothing");
        // Each position's rounding is at most its slack (a wei per unit of size); what others overpaid by rounding
        // the debt's cap takes off the last to settle, so a shortfall is bounded by the sum of all slacks.
        uint256 totalSlack = rateSlack;
        for (uint256 i = 0; i < count; ++i) totalSlack += slack[accounts[i]];
        for (uint256 i = 0; i < count; ++i) {
            address a = accounts[i];
            assertLe(paid[a], high[a] + slack[a], "nobody pays more than its share");
            assertGe(paid[a] + totalSlack, low[a], "every clear winner pays its share, whatever the order");
        }
    }
}
