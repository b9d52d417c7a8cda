// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IClearingHouseEvents} from "../interfaces/IClearingHouseEvents.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {Ledger} from "./Ledger.sol";

/// @title FundDrawLib
/// @notice Draws on the insurance layers for a deficit: first the fees set aside for the fund in the clearing house
/// (`insuranceFees`), then the fund itself in whole token units. Internal: inlined into {LiquidationLogic}.
/// @dev A draw asks the fund for ⌈(amount − pot) / scale⌉ token units; what the last unit brings beyond `amount`
/// joins the set-aside pot, so nothing drawn is lost and nobody is paid more than the deficit.
library FundDrawLib {
    using SafeCast for uint256;

    /// @dev Pays up to `amount` (18 decimals) into `recipient`'s collateral. Returns what was paid.
    function draw(
        Ledger storage ledger,
        uint256 scale,
        address account,
        address recipient,
        uint256 amount
    ) internal returns (uint256 paid) {
        if (amount == 0) return 0;
        uint256 pot = ledger.insuranceFees;
        paid = Math.min(pot, amount);
        pot -= paid;
        IInsuranceFund fund = ledger.insuranceFund;
        if (paid < amount && address(fund) != address(0)) {
            uint256 drawn = fund.draw(Math.ceilDiv(amount - paid, scale)) * scale;
            uint256 used = Math.min(drawn, amount - paid);
            pot += drawn - used;
            paid += used;
        }
        ledger.insuranceFees = pot.toUint128();
        if (paid == 0) return 0;
        ledger.collateral[recipient] += paid.toInt256();
        emit IClearingHouseEvents.InsuranceFundDrawn(account, recipient, paid);
    }

    /// @dev What a draw could pay now (18 decimals): the set-aside fees plus what the fund may pay in its window.
    function available(Ledger storage ledger, uint256 scale) internal view returns (uint256) {
        IInsuranceFund fund = ledger.insuranceFund;
        uint256 fromFund = address(fund) == address(0) ? 0 : fund.availableForDraw() * scale;
        return ledger.insuranceFees + fromFund;
    }
}
