// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

import {EntryBook, HaircutSide, HaircutSnapshot} from "../interfaces/ClearingHouseTypes.sol";
import {IClearingHouseEvents} from "../interfaces/IClearingHouseEvents.sol";
import {ClaimsLib} from "./ClaimsLib.sol";
import {EntryBookLib} from "./EntryBookLib.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {Ledger, LedgerLib} from "./Ledger.sol";

/// @title HaircutLib
/// @notice Loss policy "haircut" (variation-margin gains haircutting): what the insurance layers cannot pay is taken
/// from the profit of the other side's winning positions, pro rata to each one's profit at the charge price,
/// positions staying open; a losing position gives nothing. Internal: its settlement and view parts are inlined
/// into Ledger (settle, health, applyFill), its charge into {LiquidationLogic}.
/// @dev Who is a winner. A position's profit at price P is p = size·P − openNotional (a short's size and notional
/// are negative, so p = |N| − |size|·P): a long wins when its entry |N|/|size| is below P, a short when it is above.
/// The side's book (EntryBookLib) sums |size| and |N| by entry bucket, so a charge at P sums exactly the positions
/// whose bucket is on the winning side of P's bucket b(P) — below it for longs, above it for shorts — and takes a
/// fraction f = ⌈H / G⌉ of their total profit G. Positions in P's own bucket (entry within a factor 2^(1/256) ≈
/// 0.27% of P, profit at most that share of their notional) neither pay nor count. O(occupied buckets on the
/// losing side of P, ≤ 510 reads), independent of the number of positions.
///
/// Index math. For a winner, f·p = |size|·(f·P) − |N|·f (long) or |N|·f − |size|·(f·P) (short): linear in the
/// position, so each side keeps Σ f_k·P_k (`priceIndex`) and Σ f_k (`rateIndex`). But a position owes charge k
/// only if its bucket β was on the winning side of b_k. The sums over those charges are kept per side in a
/// Fenwick tree indexed by 1 + b_k: for a short, Σ over b_k < β is the prefix up to β; for a long, Σ over b_k > β
/// is the side total minus the prefix up to β + 1. A position snapshots that sum for its bucket when it settles
/// or trades (its bucket only changes when it trades) and owes |size|·ΔpriceIndex − |N|·ΔrateIndex (mirrored for
/// a short) rounded up. Rounding: f up, f·P up for longs and down for shorts, the owed amount up, so Σ owed ≥ H;
/// the side's `debt` counts down what is still owed and nobody pays beyond it, so Σ paid = H to the wei. Each
/// winner pays its pro rata share ⌈f·p⌉, whatever the order of settlement (the last may pay a few wei less).
library HaircutLib {
    using SafeCast for uint256;
    using FixedPointMath for uint256;

    /// @dev Fenwick tree size: one node per bucket (EntryBookLib buckets are 16-bit).
    uint256 private constant TREE_SIZE = 1 << 16;
    uint256 private constant LOW_128 = type(uint128).max;

    /// @dev Takes up to `amount` from the profit of the `longSide` side of `marketId` at `price`; returns what it
    /// took (≤ amount, ≤ the profit of the side's winners). The rest is the caller's to socialize.
    function charge(
        Ledger storage ledger,
        uint256 marketId,
        bool longSide,
        uint256 amount,
        uint256 price,
        uint256 openInterest
    ) internal returns (uint256 taken) {
        uint256 boundary = EntryBookLib.priceBucket(price);
        (uint256 profit, uint256 winnersSize, uint256 winnersNotional) = winners(
            ledger,
            marketId,
            longSide,
            price,
            openInterest,
            boundary
        );
        taken = Math.min(amount, profit);
        if (taken == 0) return 0;
        uint256 rate = Math.mulDiv(taken, FixedPointMath.WAD, profit, Math.Rounding.Ceil);
        // The price term rounds so that a position owes more, never less: up for longs (it adds), down for shorts.
        uint256 priceRate = longSide ? rate.mulWadUp(price) : rate.mulWad(price);
        uint256 charges = _addCharge(ledger, marketId, longSide, boundary, taken, rate | (priceRate << 128));
        emit IClearingHouseEvents.ProfitHaircut(marketId, longSide, taken, profit, rate);
        // Σ of the winners' shares (ClaimsLib): |size|·fP − |N|·f summed over them, mirrored for shorts.
        uint256 shares =
            longSide
                ? winnersSize * priceRate - winnersNotional * rate
                : winnersNotional * rate - winnersSize * priceRate;
        ClaimsLib.recordHaircutCharge(ledger, marketId, longSide, charges, taken, rate, priceRate, boundary, shares);
    }

    /// @dev Adds a charge of `taken` at `packed` = (rate, rate × price) to the side's indices, debt and Fenwick tree
    /// at `boundary`; returns the side's charge count after it.
    function _addCharge(
        Ledger storage ledger,
        uint256 marketId,
        bool longSide,
        uint256 boundary,
        uint256 taken,
        uint256 packed
    ) private returns (uint256 charges) {
        uint256 sideIndex = longSide ? 0 : 1;
        HaircutSide storage side = ledger.haircutSides[marketId][sideIndex];
        side.priceIndex += uint128(packed >> 128);
        side.rateIndex += (packed & LOW_128).toUint96();
        charges = side.charges + 1;
        side.charges = uint32(charges);
        side.debt += taken;
        mapping(uint256 => uint256) storage tree = ledger.haircutCharges[marketId][sideIndex];
        for (uint256 node = boundary + 1; node <= TREE_SIZE; node += node & (~node + 1)) tree[node] += packed;
    }

    /// @dev Σ profit at `price` of the side's positions whose entry bucket is on the winning side of `boundary`
    /// (the bucket of `price`), and their Σ|size| and Σ|openNotional|: the side's totals minus the buckets at or
    /// beyond the boundary.
    function winners(
        Ledger storage ledger,
        uint256 marketId,
        bool longSide,
        uint256 price,
        uint256 openInterest,
        uint256 boundary
    ) internal view returns (uint256 profit, uint256 winnersSize, uint256 winnersNotional) {
        EntryBook storage book = ledger.entryBooks[marketId][longSide ? 0 : 1];
        uint256 basis = ledger.haircutSides[marketId][longSide ? 0 : 1].costBasis;
        (uint256 size, uint256 notional) = longSide
            ? EntryBookLib.sumsAtOrAbove(book, boundary)
            : EntryBookLib.sumsAtOrBelow(book, boundary);
        // What is left are the winners: their value at `price` rounded against them, so the profit is not overstated.
        winnersSize = openInterest - size;
        winnersNotional = basis - notional;
        int256 value = longSide ? winnersSize.mulWad(price).toInt256() : winnersSize.mulWadUp(price).toInt256();
        int256 cost = winnersNotional.toInt256();
        profit = FixedPointMath.positivePart(longSide ? value - cost : cost - value);
    }

    /// @dev Σ (rate, rate × price) over the side's charges a position in entry bucket `bucket` was a winner for.
    function chargesFor(
        Ledger storage ledger,
        uint256 marketId,
        bool longSide,
        uint256 bucket
    ) internal view returns (uint256 rateSum, uint256 priceSum) {
        mapping(uint256 => uint256) storage tree = ledger.haircutCharges[marketId][longSide ? 0 : 1];
        // Shorts win charges with b_k < bucket: tree prefix up to `bucket`. Longs win those with b_k > bucket:
        // the side total minus the prefix up to `bucket + 1`.
        for (uint256 node = longSide ? bucket + 1 : bucket; node != 0; node &= node - 1) {
            uint256 packed = tree[node];
            rateSum += packed & LOW_128;
            priceSum += packed >> 128;
        }
        if (longSide) {
            HaircutSide storage side = ledger.haircutSides[marketId][0];
            (rateSum, priceSum) = (side.rateIndex - rateSum, side.priceIndex - priceSum);
        }
    }

    /// @dev What the position owes to its side's haircut debt since its snapshot (0 for a flat position).
    function owed(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        int256 size,
        int256 openNotional
    ) internal view returns (uint256 amount) {
        if (size == 0) return 0;
        HaircutSnapshot memory snapshot = ledger.haircutSnapshots[account][marketId];
        HaircutSide storage side = ledger.haircutSides[marketId][size > 0 ? 0 : 1];
        if (side.charges == snapshot.charges) return 0;
        (amount, , , ) = _owedNow(ledger, marketId, size, openNotional, snapshot, side.debt);
    }

    /// @dev Settles the position's haircut into collateral and moves its snapshot to now, reading the charge sums
    /// of its bucket once for both. The position's funding and social loss must be settled; its size (non-zero)
    /// and notional are those it held since.
    function settle(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        int256 size,
        int256 openNotional
    ) internal {
        HaircutSnapshot memory snapshot = ledger.haircutSnapshots[account][marketId];
        HaircutSide storage side = ledger.haircutSides[marketId][size > 0 ? 0 : 1];
        uint256 charges = side.charges;
        if (charges == snapshot.charges) return; // nothing new
        (uint256 amount, uint256 rateSum, uint256 priceSum, uint256 bucket) = _owedNow(
            ledger,
            marketId,
            size,
            openNotional,
            snapshot,
            side.debt
        );
        _write(ledger, account, marketId, rateSum, priceSum, charges);
        if (amount == 0) return;
        side.debt -= amount;
        LedgerLib.addCollateral(ledger, account, -amount.toInt256());
        emit IClearingHouseEvents.ProfitHaircutSettled(account, marketId, amount);
        // What it paid is a claim on later inflows, over the charges since its snapshot (ClaimsLib).
        ClaimsLib.recordHaircutPaid(ledger, account, marketId, size, openNotional, snapshot.charges, bucket, amount);
    }

    /// @dev Points the snapshot of a position now in entry bucket `bucket` at that bucket's charge sums (nothing is
    /// owed from before). Needed whenever the position's side or entry bucket may have changed.
    function snap(Ledger storage ledger, address account, uint256 marketId, int256 size, uint256 bucket) internal {
        if (size == 0) return;
        uint256 charges = ledger.haircutSides[marketId][size > 0 ? 0 : 1].charges;
        // A side never charged has all sums zero; a zero snapshot is already right.
        if (charges == 0 && ledger.haircutSnapshots[account][marketId].charges == 0) return;
        uint256 rateSum;
        uint256 priceSum;
        if (charges != 0) (rateSum, priceSum) = chargesFor(ledger, marketId, size > 0, bucket);
        _write(ledger, account, marketId, rateSum, priceSum, charges);
    }

    /// @dev What the position owes since `snapshot` (capped by the side's `debt`) and its bucket's charge sums now.
    function _owedNow(
        Ledger storage ledger,
        uint256 marketId,
        int256 size,
        int256 openNotional,
        HaircutSnapshot memory snapshot,
        uint256 debt
    ) private view returns (uint256 amount, uint256 rateSum, uint256 priceSum, uint256 bucket) {
        (uint256 absSize, uint256 absNotional) = (SignedMath.abs(size), SignedMath.abs(openNotional));
        bucket = EntryBookLib.entryBucket(absSize, absNotional);
        (rateSum, priceSum) = chargesFor(ledger, marketId, size > 0, bucket);
        uint256 priceTerm = absSize * (priceSum - snapshot.priceIndex);
        uint256 basisTerm = absNotional * (rateSum - snapshot.rateIndex);
        uint256 base =
            size > 0
                ? FixedPointMath.positivePart(priceTerm.toInt256() - basisTerm.toInt256())
                : FixedPointMath.positivePart(basisTerm.toInt256() - priceTerm.toInt256());
        amount = Math.min(Math.ceilDiv(base, FixedPointMath.WAD), debt);
    }

    function _write(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        uint256 rateSum,
        uint256 priceSum,
        uint256 charges
    ) private {
        ledger.haircutSnapshots[account][marketId] = HaircutSnapshot({
            priceIndex: priceSum.toUint128(),
            rateIndex: rateSum.toUint96(),
            charges: uint32(charges)
        });
    }

    /// @dev Keeps each side's Σ|openNotional| in step with a position change (after settlement).
    function updateCostBasis(
        Ledger storage ledger,
        uint256 marketId,
        int256 openNotionalBefore,
        int256 openNotionalAfter
    ) internal {
        HaircutSide[2] storage sides = ledger.haircutSides[marketId];
        sides[0].costBasis =
            sides[0].costBasis +
            FixedPointMath.positivePart(openNotionalAfter) -
            FixedPointMath.positivePart(openNotionalBefore);
        sides[1].costBasis =
            sides[1].costBasis +
            FixedPointMath.positivePart(-openNotionalAfter) -
            FixedPointMath.positivePart(-openNotionalBefore);
    }
}
