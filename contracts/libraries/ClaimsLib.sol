// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

import {ClaimRecord, ClaimSummary, ClaimsPool, LossEvent, LossKind} from "../interfaces/ClearingHouseTypes.sol";
import {IClearingHouseErrors} from "../interfaces/IClearingHouseErrors.sol";
import {IClearingHouseEvents} from "../interfaces/IClearingHouseEvents.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {FundDrawLib} from "./FundDrawLib.sol";
import {Ledger, LedgerLib} from "./Ledger.sol";

/// @title ClaimsLib
/// @notice Repayable claims: every amount an ADL step, a profit haircut or a socialization takes from traders is a
/// claim on later inflows of its claims pool (that pool's swept insurance fees first, then anyone's `repayClaims`
/// naming it), repaid in order of loss event and pro rata within one. Internal: inlined into {AllocationLogic}
/// (records, repayment) and {LiquidationLogic} (events, inflows).
/// @dev Pools. A loss event belongs to the pool of its market: pool 0 for every shared market, pool 1 + m for
/// isolated market m (fixed at listing, so an event's pool never changes). Each pool is its own queue: the shared
/// pot's sweep feeds pool 0 only, isolated market m's sweep feeds pool 1 + m only, so one pool's fees never repay
/// another pool's traders (the isolation rule of FundDrawLib, carried to the claims).
///
/// Order without per-event writes (Liquity-style: one running sum per pool, each event remembers where it starts in
/// it). The events of a pool p, in order k = 0, 1, …, store T_k (what the rule took) and their start within p,
/// S_k = Σ_{j<k in p} T_j; the pool keeps `issued` = Σ T_k over its events (the next start) and one cumulative inflow
/// counter I_p (`inflow`, never above `issued`). Event k has then been given R_k = clamp(I_p − S_k, 0, T_k). So event
/// k gets nothing before every earlier event of its pool is repaid in full, events of other pools neither wait for
/// it nor take from I_p, and an inflow costs one write whatever the number of events.
///
/// Pro rata within an event. A payer's repayment on k is ⌊s × R_k / D_k⌋, s its share and D_k = Σ of all payers'
/// shares, both in the rule's own unit:
/// - ADL step: one payer, s = D_k = T_k = the counterparty's loss.
/// - Haircut charge at price P with rate f and rate × price fP (as HaircutLib rounds them): a winning long owes
///   s = |size|·fP − |N|·f, a winning short |N|·f − |size|·fP (36 decimals; ⌈s / 10^18⌉ is what it pays). These are
///   linear, so D_k = W_size·fP − W_N·f (mirrored for shorts) over the winners' book sums at the charge is exactly
///   Σ s over the positions charged.
/// - Socialization over open interest OI: s = |size|, D_k = OI (each pays ⌈|size| × perUnit⌉, perUnit = ⌈T/OI⌉).
/// Rounding down everywhere, Σ repaid on k ≤ R_k and, per pool, Σ repaid ≤ I_p. A record never repays more than it
/// paid (the haircut's debt cap makes the last payer pay a little less than ⌈s⌉).
///
/// Haircut and socialization are charged lazily: a position pays all charges of its side since it last settled in
/// one settlement. That settlement writes one record (market, side, the window of the side's events it covered,
/// the position's |size|, |N| and entry bucket, which cannot change inside the window since any trade settles
/// first, and the amount paid); the claim recomputes each event's share off the hot path. A record's events are
/// one market's, hence one pool's.
library ClaimsLib {
    using SafeCast for uint256;

    uint256 private constant LOW_16 = type(uint16).max;
    uint256 private constant LOW_32 = type(uint32).max;
    uint256 private constant LOW_64 = type(uint64).max;

    /// @dev The shared claims pool; isolated market m's is 1 + m.
    uint256 internal constant SHARED_POOL = 0;

    // ================================================================ pools

    /// @dev The claims pool of `marketId`'s loss events: its own if isolated, else the shared one.
    function poolOf(Ledger storage ledger, uint256 marketId) internal view returns (uint256) {
        return FundDrawLib.isIsolated(ledger, marketId) ? marketId + 1 : SHARED_POOL;
    }

    /// @dev Reverts unless `pool` is the shared pool or 1 + a listed isolated market.
    function requirePool(Ledger storage ledger, uint256 pool) internal view {
        if (pool == SHARED_POOL) return;
        uint256 marketId = pool - 1;
        if (marketId >= ledger.marketCount) revert IClearingHouseErrors.UnknownMarket(marketId);
        if (!FundDrawLib.isIsolated(ledger, marketId)) revert IClearingHouseErrors.NotIsolatedMarket(marketId);
    }

    // ================================================================ loss events

    /// @dev Records one ADL step: the counterparty gave up `loss` at once.
    function recordDeleverage(
        Ledger storage ledger,
        address counterparty,
        uint256 marketId,
        bool longSide,
        uint256 loss
    ) internal {
        if (loss == 0) return;
        uint256 eventId = _register(ledger, LossKind.AutoDeleverage, marketId, longSide, loss, loss);
        _push(
            ledger,
            counterparty,
            ClaimRecord({
                paid: loss.toUint112(),
                repaid: 0,
                first: uint32(eventId),
                kind: LossKind.AutoDeleverage,
                marketId: 0,
                longSide: false,
                bucket: 0,
                last: 0,
                size: 0,
                basis: 0
            }),
            marketId
        );
    }

    /// @dev Records haircut charge number `charge` of a side: `taken` at (rate, priceRate), charge price in entry
    /// bucket `bucket`, the winners' shares summing to `shares`.
    function recordHaircutCharge(
        Ledger storage ledger,
        uint256 marketId,
        bool longSide,
        uint256 charge,
        uint256 taken,
        uint256 rate,
        uint256 priceRate,
        uint256 bucket,
        uint256 shares
    ) internal {
        uint256 eventId = _register(ledger, LossKind.Haircut, marketId, longSide, taken, shares);
        ledger.haircutEvents[marketId][longSide ? 0 : 1][charge] =
            uint256(eventId.toUint32()) |
            (bucket << 32) |
            (uint256(rate.toUint64()) << 48) |
            (uint256(priceRate.toUint128()) << 112);
    }

    /// @dev Records a socialization of `amount` over a side of open interest `openInterest`, whose social-loss
    /// index is `indexAfter` after it.
    function recordSocialization(
        Ledger storage ledger,
        uint256 marketId,
        bool longSide,
        uint256 amount,
        uint256 openInterest,
        uint256 indexAfter
    ) internal {
        uint256 eventId = _register(ledger, LossKind.Socialized, marketId, longSide, amount, openInterest);
        uint256 side = longSide ? 0 : 1;
        uint256 j = ++ledger.socialEventCount[marketId][side];
        ledger.socialEvents[marketId][side][j] = uint256(eventId.toUint32()) | (uint256(indexAfter.toUint224()) << 32);
    }

    function _register(
        Ledger storage ledger,
        LossKind kind,
        uint256 marketId,
        bool longSide,
        uint256 total,
        uint256 shares
    ) private returns (uint256 eventId) {
        uint256 pool = poolOf(ledger, marketId);
        ClaimsPool storage counters = ledger.claimsPools[pool];
        uint256 start = counters.issued;
        eventId = ledger.lossEvents.length;
        ledger.lossEvents.push(LossEvent({start: uint112(start), total: total.toUint112(), pool: uint16(pool)}));
        if (shares != total) ledger.lossEventShares[eventId] = shares;
        counters.issued = (start + total).toUint112();
        ++counters.events;
        emit IClearingHouseEvents.LossEventRecorded(eventId, marketId, kind, longSide, total);
    }

    // ================================================================ records (at settlement)

    /// @dev A position that paid `paid` in one settlement for its side's haircut charges after `fromCharge` up to the
    /// side's latest, with size `size`, open notional `openNotional` and entry bucket `bucket` throughout.
    function recordHaircutPaid(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        int256 size,
        int256 openNotional,
        uint256 fromCharge,
        uint256 bucket,
        uint256 paid
    ) internal {
        bool longSide = size > 0;
        _push(
            ledger,
            account,
            ClaimRecord({
                paid: paid.toUint112(),
                repaid: 0,
                first: uint32(fromCharge),
                kind: LossKind.Haircut,
                marketId: uint8(marketId),
                longSide: longSide,
                bucket: uint16(bucket),
                last: ledger.haircutSides[marketId][longSide ? 0 : 1].charges,
                size: SignedMath.abs(size).toUint128(),
                basis: SignedMath.abs(openNotional)
            }),
            marketId
        );
    }

    /// @dev A position of |size| `size` that paid `paid` for the socializations on its side since its social-loss
    /// snapshot `fromIndex`, up to the side's latest.
    function recordSocialPaid(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        bool longSide,
        uint256 fromIndex,
        uint256 size,
        uint256 paid
    ) internal {
        _push(
            ledger,
            account,
            ClaimRecord({
                paid: paid.toUint112(),
                repaid: 0,
                first: 0,
                kind: LossKind.Socialized,
                marketId: uint8(marketId),
                longSide: longSide,
                bucket: 0,
                last: uint32(ledger.socialEventCount[marketId][longSide ? 0 : 1]),
                size: size.toUint128(),
                basis: fromIndex
            }),
            marketId
        );
    }

    function _push(Ledger storage ledger, address account, ClaimRecord memory record, uint256 marketId) private {
        ClaimRecord[] storage records = ledger.claimRecords[account];
        records.push(record);
        emit IClearingHouseEvents.ClaimRecorded(account, records.length - 1, record.kind, marketId, record.paid);
    }

    // ================================================================ inflows and repayment

    /// @dev Applies up to `amount` (18 decimals) of inflow to the outstanding claims of `pool`; returns what it
    /// applied.
    function addInflow(Ledger storage ledger, uint256 pool, uint256 amount) internal returns (uint256 applied) {
        ClaimsPool storage counters = ledger.claimsPools[pool];
        uint256 inflow = counters.inflow;
        applied = Math.min(amount, counters.issued - inflow);
        if (applied == 0) return 0;
        counters.inflow = uint112(inflow + applied); // ≤ issued, a uint112
        emit IClearingHouseEvents.ClaimsFunded(pool, applied, inflow + applied);
    }

    /// @dev Pays the account what its records `claimCursor` … + `maxRecords` may be repaid now into its collateral,
    /// one ClaimRepaid per record that pays; moves the cursor past the leading records that are done.
    function claim(Ledger storage ledger, address account, uint256 maxRecords) internal returns (uint256 total) {
        ClaimRecord[] storage records = ledger.claimRecords[account];
        uint256 cursor = ledger.claimCursor[account];
        uint256 end = Math.min(records.length, cursor + maxRecords);
        bool leading = true;
        for (uint256 i = cursor; i < end; ++i) {
            ClaimRecord storage record = records[i];
            (uint256 due, bool complete) = entitled(ledger, record);
            uint256 amount = due - record.repaid;
            if (amount != 0) {
                record.repaid = due.toUint112();
                total += amount;
                emit IClearingHouseEvents.ClaimRepaid(account, i, amount);
            }
            if (leading && (complete || due == record.paid)) cursor = i + 1;
            else leading = false;
        }
        ledger.claimCursor[account] = cursor;
        if (total != 0) LedgerLib.addCollateral(ledger, account, total.toInt256());
    }

    /// @dev The account's records summed, with what claim() would pay now.
    function summary(Ledger storage ledger, address account) internal view returns (ClaimSummary memory s) {
        ClaimRecord[] storage records = ledger.claimRecords[account];
        uint256 cursor = ledger.claimCursor[account];
        s.records = records.length;
        for (uint256 i = 0; i < s.records; ++i) {
            ClaimRecord storage record = records[i];
            s.paid += record.paid;
            s.repaid += record.repaid;
            if (i < cursor) continue;
            (uint256 due, ) = entitled(ledger, record);
            s.repayable += due - record.repaid;
        }
    }

    /// @dev What a record may have been repaid in all at its pool's current inflow (≤ what it paid), and whether
    /// every event it covers is repaid in full (it can then get nothing more).
    function entitled(
        Ledger storage ledger,
        ClaimRecord storage record
    ) internal view returns (uint256 due, bool complete) {
        LossKind kind = record.kind;
        complete = true;
        if (kind == LossKind.AutoDeleverage) {
            (due, complete) = _onEvent(ledger, record.first, record.paid);
        } else if (kind == LossKind.Haircut) {
            (due, complete) = _haircutDue(ledger, record);
        } else {
            (due, complete) = _socialDue(ledger, record);
        }
        due = Math.min(due, record.paid);
    }

    /// @dev ⌊share × R_k / D_k⌋ and whether R_k = T_k, R_k = clamp(I_p − S_k, 0, T_k) with I_p the inflow of the
    /// event's own pool.
    function _onEvent(
        Ledger storage ledger,
        uint256 eventId,
        uint256 share
    ) private view returns (uint256 amount, bool complete) {
        LossEvent storage e = ledger.lossEvents[eventId];
        uint256 start = e.start;
        uint256 total = e.total;
        uint256 inflow = ledger.claimsPools[e.pool].inflow;
        uint256 repaid = inflow <= start ? 0 : Math.min(inflow - start, total);
        complete = repaid == total;
        if (repaid == 0) return (0, complete);
        uint256 shares = ledger.lossEventShares[eventId];
        amount = Math.mulDiv(share, repaid, shares == 0 ? total : shares);
    }

    /// @dev Σ over the side's haircut charges in the record's window that its bucket was a winner for.
    function _haircutDue(
        Ledger storage ledger,
        ClaimRecord storage record
    ) private view returns (uint256 due, bool complete) {
        complete = true;
        mapping(uint256 => uint256) storage charges = ledger.haircutEvents[record.marketId][record.longSide ? 0 : 1];
        for (uint256 j = uint256(record.first) + 1; j <= record.last; ++j) {
            (uint256 amount, bool done) = _haircutOn(ledger, record, charges[j]);
            due += amount;
            complete = complete && done;
        }
    }

    /// @dev The record's repayment on one haircut charge, `packed` as in `haircutEvents`: nothing (and done) when
    /// its bucket was not a winner of the charge.
    function _haircutOn(
        Ledger storage ledger,
        ClaimRecord storage record,
        uint256 packed
    ) private view returns (uint256, bool) {
        bool longSide = record.longSide;
        uint256 bucket = record.bucket;
        uint256 chargeBucket = (packed >> 32) & LOW_16;
        // Longs win a charge whose bucket is above theirs, shorts one whose bucket is below (HaircutLib).
        if (longSide ? bucket >= chargeBucket : bucket <= chargeBucket) return (0, true);
        int256 rateTerm = (record.basis * ((packed >> 48) & LOW_64)).toInt256();
        int256 priceTerm = (uint256(record.size) * (packed >> 112)).toInt256();
        uint256 share = FixedPointMath.positivePart(longSide ? priceTerm - rateTerm : rateTerm - priceTerm);
        return _onEvent(ledger, packed & LOW_32, share);
    }

    /// @dev Σ over the side's socializations after the record's index snapshot, up to its window's end.
    function _socialDue(
        Ledger storage ledger,
        ClaimRecord storage record
    ) private view returns (uint256 due, bool complete) {
        complete = true;
        mapping(uint256 => uint256) storage events = ledger.socialEvents[record.marketId][record.longSide ? 0 : 1];
        uint256 last = record.last;
        uint256 size = record.size;
        for (uint256 j = _firstSocialAfter(events, last, record.basis); j <= last; ++j) {
            (uint256 amount, bool done) = _onEvent(ledger, events[j] & LOW_32, size);
            due += amount;
            complete = complete && done;
        }
    }

    /// @dev The first j in 1 … last whose index after it exceeds `fromIndex` (last + 1 if none): indices grow
    /// strictly with j, and a position's snapshot is always one of them or 0. Binary search.
    function _firstSocialAfter(
        mapping(uint256 => uint256) storage events,
        uint256 last,
        uint256 fromIndex
    ) private view returns (uint256 low) {
        low = 1;
        uint256 high = last + 1;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (events[mid] >> 32 > fromIndex) high = mid;
            else low = mid + 1;
        }
    }
}
