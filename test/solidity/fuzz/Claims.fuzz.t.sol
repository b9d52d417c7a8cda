// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ClaimRecord, LossEvent, Position} from "../../../contracts/interfaces/ClearingHouseTypes.sol";
import {ClaimsLib} from "../../../contracts/libraries/ClaimsLib.sol";
import {EntryBookLib} from "../../../contracts/libraries/EntryBookLib.sol";
import {HaircutLib} from "../../../contracts/libraries/HaircutLib.sol";
import {Ledger} from "../../../contracts/libraries/Ledger.sol";
import {TestBase, Bound} from "../utils/Vm.sol";

/// @notice Stateful fuzz of the repayable claims (ClaimsLib) on a ledger of its own, against a model kept here
/// from the positions themselves (not from the entry books or the records). Six accounts hold positions on either
/// side of one market (dust to 1,000 units, entries 40 … 160; accounts 0 and 1 are one owner, on opposite sides);
/// a seeded sequence of moves: ADL steps, haircut charges on either side at any price (HaircutLib), socializations,
/// settlements in any order, trades that resize, flip or close a position, inflows of any size, claims with a
/// small record budget and claims twice in a row. The model computes each loss event's share of every position
/// when the event happens (haircut: |size|·fP − |N|·f for a position whose entry bucket wins; socialization:
/// |size|), the event's Σ shares by adding them up over the positions, its start from the events before it, and a
/// record's due as Σ ⌊share × R_k / D_k⌋ capped by what it paid. Checked after every move: Σ repaid ≤ Σ inflow ≤
/// Σ issued; no record repaid more than it paid; every record visited by a claim is repaid exactly the model's due
/// (so event k got nothing before every earlier event was repaid in full, and shares are pro rata); records not
/// visited never exceed it; the event's stored Σ shares (from the book sums) equals the model's sum over positions.
/// At the end, with every position settled and everything outstanding inflowed, every record is done after one
/// visit, and no account, nor the owner of both sides, got back more than it paid.
contract ClaimsFuzzTest is TestBase {
    using Bound for uint256;
    using SafeCast for uint256;

    uint256 internal constant WAD = 1e18;
    uint256 internal constant MARKET = 0;
    uint256 internal constant N = 6;
    uint256 internal constant DEPTH = 50;

    Ledger internal ledger;

    struct ModelRecord {
        uint256[] events;
        uint256[] shares;
        uint256 paid;
    }

    struct Pending {
        uint256[] events;
        uint256[] shares;
    }

    address[N] internal accounts;
    uint256[2] internal socialIndex;
    // Model of the events: start, total and Σ shares over the positions at the event.
    uint256[] internal starts;
    uint256[] internal totals;
    uint256[] internal shareSums;
    uint256 internal issued;
    uint256 internal inflow;
    uint256 internal repaidTotal;
    mapping(address => ModelRecord[]) internal records;
    mapping(address => Pending) internal pendingHaircut;
    mapping(address => Pending) internal pendingSocial;
    Pending internal scratch;
    mapping(address => uint256) internal paidBy;
    mapping(address => uint256) internal repaidTo;

    // ---------------------------------------------------------------- model

    function _event(uint256 total, uint256 shares) internal returns (uint256 id) {
        id = starts.length;
        starts.push(issued);
        totals.push(total);
        shareSums.push(shares);
        issued += total;
        assertEq(ledger.lossEvents.length, id + 1, "one event per loss");
        LossEvent memory e = ledger.lossEvents[id];
        assertEq(e.start, starts[id], "event start");
        assertEq(e.total, total, "event total");
        assertEq(e.pool, ClaimsLib.SHARED_POOL, "a shared market's event is the shared pool's");
        uint256 stored = ledger.lossEventShares[id];
        assertEq(stored == 0 ? total : stored, shares, "event shares = sum over the positions");
    }

    function _repaidOn(uint256 k) internal view returns (uint256) {
        if (inflow <= starts[k]) return 0;
        return Math.min(inflow - starts[k], totals[k]);
    }

    function _due(address a, uint256 i) internal view returns (uint256 due) {
        ModelRecord storage r = records[a][i];
        for (uint256 j = 0; j < r.events.length; ++j) {
            uint256 k = r.events[j];
            due += Math.mulDiv(r.shares[j], _repaidOn(k), shareSums[k]);
        }
        due = Math.min(due, r.paid);
    }

    function _record(address a, Pending storage p, uint256 paid) internal {
        ModelRecord storage r = records[a].push();
        r.events = p.events;
        r.shares = p.shares;
        r.paid = paid;
        paidBy[a] += paid;
        ClaimRecord storage c = ledger.claimRecords[a][records[a].length - 1];
        assertEq(c.paid, paid, "record paid");
    }

    // ---------------------------------------------------------------- positions

    function _size(address a) internal view returns (int256) {
        return ledger.positions[a][MARKET].size;
    }

    function _open(address a, int256 size, int256 openNotional) internal {
        Position storage p = ledger.positions[a][MARKET];
        int256 before = p.size;
        uint256 bucket = EntryBookLib.move(ledger.entryBooks[MARKET], p.size, p.openNotional, size, openNotional, true);
        HaircutLib.updateCostBasis(ledger, MARKET, p.openNotional, openNotional);
        p.size = int128(size);
        p.openNotional = int128(openNotional);
        HaircutLib.snap(ledger, a, MARKET, size, bucket);
        // As LedgerLib.applyFill: a position that opens or changes side owes that side's social loss from now on.
        if (size != 0 && (before == 0 || (before > 0) != (size > 0))) {
            p.lastSocialLossIndex = socialIndex[size > 0 ? 0 : 1].toUint128();
        }
    }

    function _openInterest(bool longSide) internal view returns (uint256 oi) {
        for (uint256 i = 0; i < N; ++i) {
            int256 s = _size(accounts[i]);
            if (s != 0 && (s > 0) == longSide) oi += Bound.abs(s);
        }
    }

    /// @dev Haircut then social loss, as LedgerLib.settle; each payment becomes a record.
    function _settle(address a) internal {
        Position storage p = ledger.positions[a][MARKET];
        int256 size = p.size;
        if (size == 0) return;
        int256 before = ledger.accounts[a].collateral;
        HaircutLib.settle(ledger, a, MARKET, size, p.openNotional);
        uint256 paid = uint256(before - ledger.accounts[a].collateral);
        if (paid != 0) _record(a, pendingHaircut[a], paid);
        delete pendingHaircut[a];
        uint256 index = socialIndex[size > 0 ? 0 : 1];
        uint256 last = p.lastSocialLossIndex;
        if (index != last) {
            uint256 loss = Math.mulDiv(Bound.abs(size), index - last, WAD, Math.Rounding.Ceil);
            ledger.accounts[a].collateral -= int240(int256(loss));
            p.lastSocialLossIndex = index.toUint128();
            ClaimsLib.recordSocialPaid(ledger, a, MARKET, size > 0, last, Bound.abs(size), loss);
            _record(a, pendingSocial[a], loss);
        }
        delete pendingSocial[a];
    }

    // ---------------------------------------------------------------- moves

    function _adl(uint256 who, uint256 amount) internal {
        address a = accounts[who % N];
        uint256 loss = amount.bound(1, 1e22);
        ClaimsLib.recordDeleverage(ledger, a, MARKET, true, loss);
        uint256 id = _event(loss, loss);
        delete scratch;
        scratch.events.push(id);
        scratch.shares.push(loss);
        _record(a, scratch, loss);
    }

    function _haircut(uint256 seed, uint256 amount) internal {
        bool longSide = seed % 2 == 0;
        uint256 price = (seed >> 8).bound(40e18, 160e18);
        uint256 oi = _openInterest(longSide);
        (uint128 priceBefore, uint96 rateBefore, , , ) = _side(longSide);
        uint256 events = ledger.lossEvents.length;
        uint256 taken = HaircutLib.charge(ledger, MARKET, longSide, amount.bound(1, 1e22), price, oi);
        if (taken == 0) {
            assertEq(ledger.lossEvents.length, events, "no event for nothing taken");
            return;
        }
        (uint128 priceAfter, uint96 rateAfter, , , ) = _side(longSide);
        uint256 boundary = EntryBookLib.priceBucket(price);
        uint256[N] memory shares;
        uint256 sum;
        for (uint256 i = 0; i < N; ++i) {
            shares[i] = _shareOf(accounts[i], longSide, boundary, rateAfter - rateBefore, priceAfter - priceBefore);
            sum += shares[i];
        }
        uint256 id = _event(taken, sum);
        for (uint256 i = 0; i < N; ++i) {
            if (shares[i] == 0) continue;
            pendingHaircut[accounts[i]].events.push(id);
            pendingHaircut[accounts[i]].shares.push(shares[i]);
        }
    }

    /// @dev A position's share of a haircut charge: |size|·fP − |N|·f (mirrored for a short) if its entry bucket
    /// is strictly on the winning side of the charge price's bucket, else 0.
    function _shareOf(
        address a,
        bool longSide,
        uint256 boundary,
        uint256 rate,
        uint256 priceRate
    ) internal view returns (uint256) {
        Position memory p = ledger.positions[a][MARKET];
        if (p.size == 0 || (p.size > 0) != longSide) return 0;
        uint256 bucket = EntryBookLib.entryBucket(Bound.abs(p.size), Bound.abs(p.openNotional));
        if (longSide ? bucket >= boundary : bucket <= boundary) return 0;
        uint256 priceTerm = Bound.abs(p.size) * priceRate;
        uint256 rateTerm = Bound.abs(p.openNotional) * rate;
        return longSide ? priceTerm - rateTerm : rateTerm - priceTerm;
    }

    function _side(bool longSide) internal view returns (uint128, uint96, uint32, uint256, uint256) {
        (uint128 a, uint96 b, uint32 c, uint256 d, uint256 e) = (
            ledger.haircutSides[MARKET][longSide ? 0 : 1].priceIndex,
            ledger.haircutSides[MARKET][longSide ? 0 : 1].rateIndex,
            ledger.haircutSides[MARKET][longSide ? 0 : 1].charges,
            ledger.haircutSides[MARKET][longSide ? 0 : 1].debt,
            ledger.haircutSides[MARKET][longSide ? 0 : 1].costBasis
        );
        return (a, b, c, d, e);
    }

    function _socialize(uint256 seed, uint256 amount) internal {
        bool longSide = seed % 2 == 0;
        uint256 oi = _openInterest(longSide);
        if (oi == 0) return;
        // The index rises by at most 10^36 a move (10^18 collateral units per unit of size), so DEPTH moves stay far
        // below the uint128 the clearing house keeps it in; its own charges are far smaller (the charged side holds
        // at least the bankrupt position), but here open interest may be a few wei.
        uint256 total = amount.bound(1, Math.min(1e22, oi * WAD));
        uint256 perUnit = Math.mulDiv(total, WAD, oi, Math.Rounding.Ceil);
        socialIndex[longSide ? 0 : 1] += perUnit;
        ClaimsLib.recordSocialization(ledger, MARKET, longSide, total, oi, socialIndex[longSide ? 0 : 1]);
        uint256 id = _event(total, oi);
        for (uint256 i = 0; i < N; ++i) {
            int256 s = _size(accounts[i]);
            if (s == 0 || (s > 0) != longSide) continue;
            pendingSocial[accounts[i]].events.push(id);
            pendingSocial[accounts[i]].shares.push(Bound.abs(s));
        }
    }

    /// @dev Resizes, flips or closes a position (dust included); it settles first, as every fill does.
    function _trade(uint256 who, uint256 seed) internal {
        address a = accounts[who % N];
        _settle(a);
        uint256 mode = seed % 5;
        if (mode == 0) return _open(a, 0, 0);
        uint256 size = mode == 1 ? (seed >> 8).bound(1, 1e6) : (seed >> 8).bound(1, 1_000e18);
        uint256 entry = (seed >> 100).bound(40e18, 160e18);
        int256 notional = int256(Math.mulDiv(size, entry, WAD));
        if (notional == 0) notional = 1;
        bool long = (seed >> 200) % 2 == 0;
        _open(a, long ? int256(size) : -int256(size), long ? notional : -notional);
    }

    function _inflow(uint256 amount) internal {
        uint256 applied = ClaimsLib.addInflow(ledger, ClaimsLib.SHARED_POOL, Math.min(amount, 2e22));
        inflow += applied;
        assertEq(ledger.claimsPools[ClaimsLib.SHARED_POOL].inflow, inflow, "inflow counter");
        assertLe(inflow, issued, "never more inflow than issued");
    }

    function _claim(uint256 who, uint256 max) internal {
        _claimWith(who, max.bound(1, 3));
    }

    function _claimAll(uint256 who) internal {
        _claimWith(who, type(uint128).max);
    }

    function _claimWith(uint256 who, uint256 budget) internal {
        address a = accounts[who % N];
        uint256 cursor = ledger.claimCursor[a];
        int256 before = ledger.accounts[a].collateral;
        uint256 paidOut = ClaimsLib.claim(ledger, a, budget);
        assertEq(uint256(ledger.accounts[a].collateral - before), paidOut, "credited what it returned");
        repaidTo[a] += paidOut;
        repaidTotal += paidOut;
        uint256 end = Math.min(records[a].length, cursor + budget);
        for (uint256 i = cursor; i < end; ++i) {
            assertEq(ledger.claimRecords[a][i].repaid, _due(a, i), "visited record repaid its due");
        }
    }

    // ---------------------------------------------------------------- checks

    function _check() internal view {
        assertLe(repaidTotal, inflow, "sum repaid <= sum inflow");
        assertLe(inflow, issued, "sum inflow <= sum issued");
        assertEq(ledger.claimsPools[ClaimsLib.SHARED_POOL].issued, issued, "issued counter");
        for (uint256 n = 0; n < N; ++n) {
            address a = accounts[n];
            assertEq(ledger.claimRecords[a].length, records[a].length, "records");
            for (uint256 i = 0; i < records[a].length; ++i) {
                ClaimRecord storage c = ledger.claimRecords[a][i];
                assertLe(c.repaid, c.paid, "no record repaid more than it paid");
                assertLe(c.repaid, _due(a, i), "no record ahead of its due");
            }
            assertLe(repaidTo[a], paidBy[a], "no account repaid more than it paid");
        }
        assertLe(repaidTo[accounts[0]] + repaidTo[accounts[1]], paidBy[accounts[0]] + paidBy[accounts[1]], "owner");
    }

    function _setUp(uint256 seed) internal {
        for (uint256 i = 0; i < N; ++i) {
            accounts[i] = address(uint160(0x1000 + i));
            uint256 r = uint256(keccak256(abi.encode(seed, "open", i)));
            uint256 size = i == 2 ? 1 : (r >> 8).bound(1e15, 1_000e18); // account 2: dust
            uint256 entry = (r >> 100).bound(40e18, 160e18);
            int256 notional = int256(Math.mulDiv(size, entry, WAD)) + 1;
            // The owner (accounts 0 and 1) holds both sides; the others are drawn.
            bool long = i == 0 || (i != 1 && r % 2 == 0);
            _open(accounts[i], long ? int256(size) : -int256(size), long ? notional : -notional);
        }
    }

    function testFuzz_claimsRepayInOrderProRataAndNeverMoreThanPaid(uint256 seed) public {
        _setUp(seed);
        for (uint256 i = 0; i < DEPTH; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 a = uint256(keccak256(abi.encode(r, 1)));
            uint256 b = uint256(keccak256(abi.encode(r, 2)));
            uint256 move = r % 12;
            if (move == 0) _adl(a, b);
            else if (move < 3) _haircut(a, b);
            else if (move < 5) _socialize(a, b);
            else if (move < 7) _settle(accounts[a % N]);
            else if (move == 7) _trade(a, b);
            else if (move == 8)
                _inflow(b % 3 == 0 ? b % 1e6 : b % 2e22); // dust inflows too
            else if (move == 9) _claim(a, b);
            else if (move == 10) {
                // Twice in a row over all the records: the second pays nothing new.
                _claimAll(a);
                uint256 again = repaidTotal;
                _claimAll(a);
                assertEq(repaidTotal, again, "a second claim at the same inflow pays nothing");
            } else _inflow(issued); // everything outstanding
            _check();
        }
        // Wind down: everyone settles, everything outstanding comes in, everyone claims all.
        for (uint256 i = 0; i < N; ++i) _settle(accounts[i]);
        while (inflow < issued) _inflow(issued - inflow);
        for (uint256 i = 0; i < N; ++i) {
            address a = accounts[i];
            // Every event is repaid in full now: each visit moves the cursor past the records it visits.
            for (uint256 visits = 0; ledger.claimCursor[a] < records[a].length; ++visits) {
                assertLt(visits, records[a].length, "the cursor moves past every visited record");
                _claim(i, 3);
            }
            _check();
        }
        assertEq(inflow, issued, "all inflowed");
        assertLe(repaidTotal, issued, "repaid <= issued");
    }
}
