// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IsolatedPool} from "../interfaces/ClearingHouseTypes.sol";
import {IClearingHouseEvents} from "../interfaces/IClearingHouseEvents.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {Ledger, LedgerLib} from "./Ledger.sol";

/// @title FundDrawLib
/// @notice Draws on the insurance layers for a deficit: first the fees set aside for the fund in the clearing house
/// (`insuranceFees`), then the fund itself in whole token units. Internal: inlined into {LiquidationLogic}.
/// @dev A draw asks the fund for ⌈(amount − pot) / scale⌉ token units; what the last unit brings beyond `amount`
/// joins the set-aside pot, so nothing drawn is lost and nobody is paid more than the deficit.
///
/// Isolated markets. A market in `ledger.isolatedMarkets` has its own pot (`isolatedPools[m].fees`) and fund
/// (`isolatedPools[m].fund`): its fees go there, its deficits are drawn from there only, and the shared pot and
/// fund never see it. Every other market uses the shared pot and fund. Which pair a call uses depends only on the
/// market of the deficit, which is unique because an account in an isolated market holds no other market.
library FundDrawLib {
    using SafeCast for uint256;

    /// @dev Pays up to `amount` (18 decimals) of a deficit in `marketId` into `recipient`'s collateral, from that
    /// market's pot and fund. Returns what was paid.
    function draw(
        Ledger storage ledger,
        uint256 scale,
        uint256 marketId,
        address account,
        address recipient,
        uint256 amount
    ) internal returns (uint256 paid) {
        if (amount == 0) return 0;
        (uint256 pot, IInsuranceFund fund, bool isolated) = _source(ledger, marketId);
        paid = Math.min(pot, amount);
        pot -= paid;
        if (paid < amount && address(fund) != address(0)) {
            uint256 drawn = fund.draw(Math.ceilDiv(amount - paid, scale)) * scale;
            uint256 used = Math.min(drawn, amount - paid);
            pot += drawn - used;
            paid += used;
        }
        if (isolated) ledger.isolatedPools[marketId].fees = pot.toUint128();
        else ledger.insuranceFees = pot.toUint128();
        if (paid == 0) return 0;
        LedgerLib.addCollateral(ledger, recipient, paid.toInt256());
        emit IClearingHouseEvents.InsuranceFundDrawn(account, recipient, paid);
    }

    /// @dev What a draw for a deficit in `marketId` could pay now (18 decimals): that market's set-aside fees plus
    /// what its fund may pay in its window.
    function available(Ledger storage ledger, uint256 scale, uint256 marketId) internal view returns (uint256) {
        (uint256 pot, IInsuranceFund fund, ) = _source(ledger, marketId);
        uint256 fromFund = address(fund) == address(0) ? 0 : fund.availableForDraw() * scale;
        return pot + fromFund;
    }

    /// @dev Sets `amount` (18 decimals) of fees aside for `marketId`'s fund: its own pot if isolated, else the shared.
    function addFees(Ledger storage ledger, uint256 marketId, uint256 amount) internal {
        if (isIsolated(ledger, marketId)) ledger.isolatedPools[marketId].fees += amount.toUint128();
        else ledger.insuranceFees += amount.toUint128();
    }

    function isIsolated(Ledger storage ledger, uint256 marketId) internal view returns (bool) {
        return (ledger.isolatedMarkets >> marketId) & 1 != 0;
    }

    function _source(
        Ledger storage ledger,
        uint256 marketId
    ) private view returns (uint256 pot, IInsuranceFund fund, bool isolated) {
        if (isIsolated(ledger, marketId)) {
            IsolatedPool storage pool = ledger.isolatedPools[marketId];
            return (pool.fees, IInsuranceFund(pool.fund), true);
        }
        return (ledger.insuranceFees, ledger.insuranceFund, false);
    }
}
