// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {HaircutLib} from "./HaircutLib.sol";
import {Ledger} from "./Ledger.sol";

/// @title HaircutLogic
/// @notice The position side of loss policy Haircut, deployed once and linked: settling a position's share of its
/// side's profit haircuts, keeping the side's entry book and the position's snapshot in step with a fill, and
/// what a position owes. External so that the clearing house stays under the contract size limit; the index math
/// is in {HaircutLib}. Only haircut markets call it.
library HaircutLogic {
    /// @notice Settles the position's haircut share into its account's collateral (see {HaircutLib-settle}).
    /// @param ledger The clearing house's state.
    /// @param account The position's account.
    /// @param marketId The position's market.
    /// @param size The position's size since it last settled.
    /// @param openNotional The position's open notional since it last settled.
    function settle(Ledger storage ledger, address account, uint256 marketId, int256 size, int256 openNotional) public {
        HaircutLib.settle(ledger, account, marketId, size, openNotional);
    }

    /// @notice Moves the position in its side's entry book and points its snapshot at its new entry bucket, after
    /// a fill that changed it from (sizeBefore, openNotionalBefore) to (sizeAfter, openNotionalAfter).
    /// @param ledger The clearing house's state.
    /// @param account The position's account.
    /// @param marketId The position's market.
    /// @param sizeBefore Size before the fill.
    /// @param openNotionalBefore Open notional before the fill.
    /// @param sizeAfter Size after the fill.
    /// @param openNotionalAfter Open notional after the fill.
    function afterFill(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        int256 sizeBefore,
        int256 openNotionalBefore,
        int256 sizeAfter,
        int256 openNotionalAfter
    ) public {
        HaircutLib.updateBook(ledger, marketId, sizeBefore, openNotionalBefore, sizeAfter, openNotionalAfter);
        HaircutLib.snap(ledger, account, marketId, sizeAfter, openNotionalAfter);
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
