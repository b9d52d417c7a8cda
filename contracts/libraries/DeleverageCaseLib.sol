// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {DeleverageCase, MarketState} from "../interfaces/ClearingHouseTypes.sol";
import {IClearingHouseEvents} from "../interfaces/IClearingHouseEvents.sol";
import {Ledger} from "./Ledger.sol";

/// @title DeleverageCaseLib
/// @notice The life of a deleverage case: opened when a bankrupt account's last position is in an ADL market and
/// the insurance layers cannot pay its deficit; closed with its receipt. Internal: inlined into {LiquidationLogic}.
/// @dev While a case is open, the counterparties' side of its market counts it (`longDeleverageCases` or
/// `shortDeleverageCases`): that side is frozen for fills and its accounts cannot withdraw (LedgerLib), and the
/// fund's unstakes wait for `openDeleverageCases` to reach zero. Open and close keep the three counts in step.
library DeleverageCaseLib {
    using SafeCast for uint256;

    /// @dev Records the case; nothing is drawn yet. `fundAvailable` is only reported in the event.
    function open(
        Ledger storage ledger,
        address account,
        uint256 marketId,
        int256 positionSize,
        uint256 deficit,
        uint256 fundAvailable
    ) internal {
        bool longCounterparties = positionSize < 0;
        ledger.deleverageCases[account] = DeleverageCase({
            open: true,
            longCounterparties: longCounterparties,
            marketId: uint32(marketId),
            startedAt: uint64(block.timestamp),
            initialShortfall: deficit.toUint128(),
            fundPaid: 0,
            deleveraged: 0
        });
        MarketState storage state = ledger.marketStates[marketId];
        if (longCounterparties) state.longDeleverageCases += 1;
        else state.shortDeleverageCases += 1;
        ledger.openDeleverageCases += 1;
        emit IClearingHouseEvents.DeleverageRequired(account, marketId, deficit, fundAvailable);
    }

    /// @dev A case is about an account's last position. An account that recovered and traded into other markets
    /// meanwhile is no longer that case: it closes (returns true), and any new deficit goes through liquidate.
    function closeIfNoLongerLast(Ledger storage ledger, address account, uint256 marketId) internal returns (bool) {
        if (ledger.openMarkets[account] == (1 << marketId)) return false;
        closeAsIs(ledger, account);
        return true;
    }

    /// @dev Closes the case with what it has paid so far and nothing socialized.
    function closeAsIs(Ledger storage ledger, address account) internal {
        DeleverageCase storage deleverage = ledger.deleverageCases[account];
        close(ledger, account, deleverage.fundPaid, deleverage.deleveraged, 0, 0);
    }

    /// @dev Ends the account's deleverage case and emits its receipt.
    function close(
        Ledger storage ledger,
        address account,
        uint256 fundPaid,
        uint256 deleveraged,
        uint256 socialized,
        uint256 perUnit
    ) internal {
        DeleverageCase storage deleverage = ledger.deleverageCases[account];
        deleverage.open = false;
        MarketState storage state = ledger.marketStates[deleverage.marketId];
        if (deleverage.longCounterparties) state.longDeleverageCases -= 1;
        else state.shortDeleverageCases -= 1;
        ledger.openDeleverageCases -= 1;
        emit IClearingHouseEvents.BadDebtResolved(
            account,
            deleverage.marketId,
            fundPaid + deleveraged + socialized,
            fundPaid,
            deleveraged,
            socialized,
            perUnit,
            0
        );
    }
}
