// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";

import {ClaimSummary, ClaimsPool} from "../interfaces/ClearingHouseTypes.sol";
import {IClearingHouseErrors} from "../interfaces/IClearingHouseErrors.sol";
import {IClearingHouseEvents} from "../interfaces/IClearingHouseEvents.sol";
import {ClaimsLib} from "./ClaimsLib.sol";
import {EntryBookLib} from "./EntryBookLib.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {HaircutLib} from "./HaircutLib.sol";
import {Ledger, LedgerLib} from "./Ledger.sol";

/// @title AllocationLogic
/// @notice The position side of loss allocation, deployed once and linked: keeping each side's entry book in step
/// with a fill (ADL markets count positions per bucket for the order; haircut markets sum them, to find the winners
/// of a charge), and in haircut markets settling a position's share of its side's profit haircuts and what a
/// position owes; settling a position's social loss; and the claims those payments give (record, repay, read). External
/// so that the clearing house stays under the contract size limit; the index math is in {HaircutLib},
/// {EntryBookLib} and {ClaimsLib}.
library AllocationLogic {
    using SafeCast for uint256;
    using FixedPointMath for uint256;

    /// @notice Settles the position's haircut share into its account's collateral (see {HaircutLib-settle}).
    /// @param ledger The clearing house's state.
    /// @param account The position's account.
    /// @param marketId The position's market.
    /// @param size The position's size since it last settled.
    /// @param openNotional The position's open notional since it last settled.
    function settle(Ledger storage ledger, address account, uint256 marketId, int256 size, int256 openNotional) public {
        HaircutLib.settle(ledger, account, marketId, size, openNotional);
    }

    /// @notice After a fill that changed the position from (sizeBefore, openNotionalBefore) to (sizeAfter,
    /// openNotionalAfter): moves it in its side's entry book (counts in an ADL market, sums in a haircut market);
    /// in a haircut market also keeps the side's cost basis and points the position's snapshot at its new bucket.
    /// @param ledger The clearing house's state.
    /// @param account The position's account.
    /// @param marketId The position's market.
    /// @param sizeBefore Size before the fill.
    /// @param openNotionalBefore Open notional before the fill.
    /// @param sizeAfter Size after the fill.
    /// @param openNotionalAfter Open notional after the fill.
    /// @param haircut Whether the market's loss policy is Haircut (else AutoDeleverage).
    function afterFill(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        int256 sizeBefore,
        int256 openNotionalBefore,
        int256 sizeAfter,
        int256 openNotionalAfter,
        bool haircut
    ) public {
        uint256 bucket = EntryBookLib.move(
            ledger.entryBooks[marketId],
            sizeBefore,
            openNotionalBefore,
            sizeAfter,
            openNotionalAfter,
            haircut
        );
        if (!haircut) return;
        HaircutLib.updateCostBasis(ledger, marketId, openNotionalBefore, openNotionalAfter);
        HaircutLib.snap(ledger, account, marketId, sizeAfter, bucket);
    }

    /// @notice What the position owes to its side's haircut debt and has not settled.
    /// @param ledger The clearing house's state.
    /// @param account The position's account.
    /// @param marketId The position's market.
    /// @param size The position's size.
    /// @param openNotional The position's open notional.
    /// @return The amount owed (18 decimals).
    function owed(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        int256 size,
        int256 openNotional
    ) public view returns (uint256) {
        return HaircutLib.owed(ledger, account, marketId, size, openNotional);
    }

    /// @notice Settles the socialized loss a position owes between two index values into its account's collateral,
    /// and records the payment as a claim (the caller has moved the position's snapshot to `toIndex`).
    /// @param ledger The clearing house's state.
    /// @param account The position's account.
    /// @param marketId The position's market.
    /// @param size The position's size since `fromIndex` (non-zero).
    /// @param fromIndex The side's social-loss index at the position's last settlement.
    /// @param toIndex The side's social-loss index now.
    function settleSocialLoss(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        int256 size,
        uint256 fromIndex,
        uint256 toIndex
    ) public {
        uint256 absSize = SignedMath.abs(size);
        uint256 loss = absSize.mulWadUp(toIndex - fromIndex);
        LedgerLib.addCollateral(ledger, account, -loss.toInt256());
        emit IClearingHouseEvents.SocialLossSettled(account, marketId, loss);
        ClaimsLib.recordSocialPaid(ledger, account, marketId, size > 0, fromIndex, absSize, loss);
    }

    /// @notice Repays what the account's claim records (from its cursor, at most `maxRecords` of them) may be
    /// repaid now, into its collateral (see {ClaimsLib-claim}).
    /// @param ledger The clearing house's state.
    /// @param account The account repaid.
    /// @param maxRecords Most records to visit (at least 1).
    /// @return repaid What was credited (18 decimals).
    function claimRepayment(
        Ledger storage ledger,
        address account,
        uint256 maxRecords
    ) public returns (uint256 repaid) {
        if (maxRecords == 0) revert IClearingHouseErrors.ZeroAmount();
        return ClaimsLib.claim(ledger, account, maxRecords);
    }

    /// @notice Adds `amount` to the inflow of claims pool `pool`; the caller brings the tokens. Refuses a pool that
    /// is neither the shared one nor an isolated market's, and more than the pool has outstanding.
    /// @param ledger The clearing house's state.
    /// @param pool 0 for the shared pool, 1 + m for isolated market m's.
    /// @param amount The inflow (18 decimals, non-zero).
    function repayClaims(Ledger storage ledger, uint256 pool, uint256 amount) public {
        ClaimsLib.requirePool(ledger, pool);
        if (amount == 0) revert IClearingHouseErrors.ZeroAmount();
        ClaimsPool memory p = ledger.claimsPools[pool];
        uint256 outstanding = p.issued - p.inflow;
        if (amount > outstanding) {
            revert IClearingHouseErrors.ClaimsRepaymentExceedsOutstanding(pool, amount, outstanding);
        }
        ClaimsLib.addInflow(ledger, pool, amount);
    }

    /// @notice The account's claims: paid, repaid, repayable now and the number of records.
    /// @param ledger The clearing house's state.
    /// @param account The account read.
    /// @return The summary (18 decimals).
    function claimsOf(Ledger storage ledger, address account) public view returns (ClaimSummary memory) {
        return ClaimsLib.summary(ledger, account);
    }
}
