// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

import {HaircutSide, HaircutSnapshot} from "../interfaces/ClearingHouseTypes.sol";
import {IClearingHouseEvents} from "../interfaces/IClearingHouseEvents.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {Ledger} from "./Ledger.sol";

/// @title HaircutLib
/// @notice Loss policy "haircut" (variation-margin gains haircutting): what the insurance layers cannot pay is taken
/// from the profit of the other side's positions, pro rata to each position's profit at the charge price, in O(1),
/// positions staying open. Internal: its settlement and view parts are inlined into LedgerLib (settle, health,
/// applyFill), its charge into {LiquidationLogic}.
/// @dev Index math. A position's profit at price P is p = size·P − openNotional (a short's size and notional are
/// negative, so p = |N| − |size|·P). A charge takes a fraction f of every position's profit at its price P_k:
/// f·p = |size|·(f·P_k) − |N|·f for a long, |N|·f − |size|·(f·P_k) for a short. Both terms are linear, so each side
/// keeps two cumulative indexes, `priceIndex` = Σ f_k·P_k and `rateIndex` = Σ f_k, and a position snapshots them when
/// it opens or is settled; it owes |size|·ΔpriceIndex − |N|·ΔrateIndex (mirrored for a short), rounded up, when next
/// touched. A position whose profit at the charge price was not positive owes nothing (the sum is floored at zero).
///
/// The fraction is f = ⌈H / net⌉ where H is the amount taken and net = Σ p over the side, known in O(1) from the
/// side's open interest and Σ|openNotional| (`costBasis`, kept by every fill). H ≤ net, so f ≤ 1: nobody gives up
/// more than its profit at the charge price, nor anything while at a loss. If the side holds no losing position,
/// net is exactly its total profit and every winner owes ⌈f·p⌉, exactly pro rata. A losing position lowers net below
/// the winners' total profit, so f·Σ winners' profit > H: to take exactly H, the side's `debt` counts down what is
/// still owed and a position never pays more than it; Σ paid = H to the wei once the winners have settled. In that
/// case the first winners to settle pay at f, the last may pay less (O(1) cannot know Σ of positive parts alone; see
/// docs/DESIGN-NOTES.md, "Issue 10"). What exceeds the side's net profit is left to the socialized index.
library HaircutLib {
    using SafeCast for uint256;
    using FixedPointMath for uint256;

    /// @dev Takes up to `amount` from the profit of the `longSide` side of `marketId` at `price`; returns what it
    /// took (≤ amount, ≤ the side's net profit). The rest is the caller's to socialize.
    function charge(
        Ledger storage ledger,
        uint256 marketId,
        bool longSide,
        uint256 amount,
        uint256 price,
        uint256 openInterest
    ) internal returns (uint256 taken) {
        HaircutSide storage side = ledger.haircutSides[marketId][longSide ? 0 : 1];
        uint256 value = longSide ? openInterest.mulWad(price) : openInterest.mulWadUp(price);
        uint256 basis = side.costBasis;
        uint256 net =
            longSide
                ? FixedPointMath.positivePart(value.toInt256() - basis.toInt256())
                : FixedPointMath.positivePart(basis.toInt256() - value.toInt256());
        taken = Math.min(amount, net);
        if (taken == 0) return 0;
        uint256 rate = Math.mulDiv(taken, FixedPointMath.WAD, net, Math.Rounding.Ceil);
        // The price term rounds so that a position owes more, never less: up for longs (it adds), down for shorts.
        side.priceIndex += longSide ? rate.mulWadUp(price) : rate.mulWad(price);
        side.rateIndex += rate.toUint128();
        side.debt += taken.toUint128();
        emit IClearingHouseEvents.ProfitHaircut(marketId, longSide, taken, net, rate);
    }

    /// @dev What the position owes to its side's haircut debt since its snapshot (0 for a flat position).
    function owed(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        int256 size,
        int256 openNotional
    ) internal view returns (uint256) {
        if (size == 0) return 0;
        HaircutSide storage side = ledger.haircutSides[marketId][size > 0 ? 0 : 1];
        HaircutSnapshot storage snapshot = ledger.haircutSnapshots[account][marketId];
        uint256 rateDelta = side.rateIndex - snapshot.rateIndex;
        if (rateDelta == 0) return 0;
        uint256 priceTerm = SignedMath.abs(size) * (side.priceIndex - snapshot.priceIndex);
        uint256 basisTerm = SignedMath.abs(openNotional) * rateDelta;
        uint256 base =
            size > 0
                ? FixedPointMath.positivePart(priceTerm.toInt256() - basisTerm.toInt256())
                : FixedPointMath.positivePart(basisTerm.toInt256() - priceTerm.toInt256());
        return Math.min(Math.ceilDiv(base, FixedPointMath.WAD), side.debt);
    }

    /// @dev Settles the position's haircut into collateral and moves its snapshot to the side's indexes. The
    /// position's funding and social loss must be settled; its size and notional are those it held since.
    function settle(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        int256 size,
        int256 openNotional
    ) internal {
        HaircutSide storage side = ledger.haircutSides[marketId][size > 0 ? 0 : 1];
        if (side.rateIndex == ledger.haircutSnapshots[account][marketId].rateIndex) return; // nothing new
        uint256 amount = owed(ledger, account, marketId, size, openNotional);
        snap(ledger, account, marketId, size);
        if (amount == 0) return;
        side.debt -= amount.toUint128();
        ledger.collateral[account] -= amount.toInt256();
        emit IClearingHouseEvents.ProfitHaircutSettled(account, marketId, amount);
    }

    /// @dev Points the position's snapshot at its side's current indexes (nothing is owed from before).
    function snap(Ledger storage ledger, address account, uint256 marketId, int256 size) internal {
        if (size == 0) return;
        HaircutSide storage side = ledger.haircutSides[marketId][size > 0 ? 0 : 1];
        HaircutSnapshot storage snapshot = ledger.haircutSnapshots[account][marketId];
        snapshot.priceIndex = side.priceIndex;
        snapshot.rateIndex = side.rateIndex;
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
