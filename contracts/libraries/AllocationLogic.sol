// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EntryBookLib} from "./EntryBookLib.sol";
import {HaircutLib} from "./HaircutLib.sol";
import {Ledger} from "./Ledger.sol";

/// @title AllocationLogic
/// @notice The position side of loss allocation, deployed once and linked: keeping each side's entry book in step
/// with a fill (ADL markets count positions per bucket for the order; haircut markets sum them, to find the winners
/// of a charge), and in haircut markets settling a position's share of its side's profit haircuts and what a
/// position owes. External so that the clearing house stays under the contract size limit; the index math is in
/// {HaircutLib} and {EntryBookLib}. Socialized markets never call it.
library AllocationLogic {
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
}
