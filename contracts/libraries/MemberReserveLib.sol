// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";

import {IClearingHouseErrors} from "../interfaces/IClearingHouseErrors.sol";
import {IClearingHouseEvents} from "../interfaces/IClearingHouseEvents.sol";
import {IDefaultLayers} from "../interfaces/IDefaultLayers.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {Account, Health, Ledger, LedgerLib} from "./Ledger.sol";

/// @title MemberReserveLib
/// @notice The member-dodge rule (issue 11): a clearing member keeps, as free collateral, what it may still be
/// assessed this period (its fund's `assessmentCapLeft`, the "reserve"), against its own acts. Deployed once and
/// linked; the clearing house calls it only for an account that carries a member mark, so others pay nothing.
/// @dev The registry. A fund the clearing house draws (the shared fund, or an isolated market's) marks an account
/// when it joins and clears the mark when it leaves; the mark is `Account.memberOf`, packed beside the collateral
/// that every fill and withdrawal reads: 1 for the shared fund, 2 + m for isolated market m's fund. One fund per
/// account: the reserve is one call, and two funds' caps on one free collateral could not both be kept.
///
/// The rule. With F the signed free collateral, min(collateral − pending charges, equity − initial margin), and R
/// the reserve in 18 decimals: a withdrawal must leave F ≥ R; a fill must leave F ≥ R or F ≥ F before the fill.
/// So a member's own act never lowers min(F, R), what an assessment can take from it, while a fill that does not
/// lower F (closing at a price whose loss against the oracle, fee included, the released initial margin covers;
/// any price when the member stays above its reserve) always passes: a member can always cut risk near the oracle.
/// A price move can still take F below R; the rule cannot, and does not claim to, cover the market.
library MemberReserveLib {
    using SafeCast for uint256;
    using LedgerLib for Ledger;
    using TransientSlot for bytes32;
    using TransientSlot for TransientSlot.Int256Slot;

    /// @dev Transient slot of the member's free collateral before its fill (kept off the stack, which the fill's
    /// arguments fill): keccak256(abi.encode(uint256(keccak256("backstop.MemberReserveLib.freeBefore")) - 1)).
    bytes32 private constant FREE_BEFORE = 0xaa1410fc5a89de9e6b7c6df4eea7172518a461d6322e7905899d2a1023e3bb04;

    /// @notice See {IClearingHouse.markMember}: the caller is the fund.
    function markMember(Ledger storage ledger, address account, bool member) external {
        address fund = msg.sender;
        uint256 key = 1;
        if (fund != address(ledger.insuranceFund)) {
            key = ledger.isolatedFunds[fund];
            if (key == 0) revert IClearingHouseErrors.NotInsuranceFund(fund);
            ++key;
        }
        Account storage slot = ledger.accounts[account];
        uint256 current = slot.memberOf;
        if (member) {
            if (current != 0 && current != key) {
                revert IClearingHouseErrors.MemberOfAnotherFund(account, fundOf(ledger, current));
            }
            slot.memberOf = uint16(key);
        } else {
            if (current != key) revert IClearingHouseErrors.NotMemberOfFund(account, fund);
            slot.memberOf = 0;
        }
        emit IClearingHouseEvents.MemberMarked(account, fund, member);
    }

    /// @notice A member's side of a fill: {LedgerLib.applyFill}, then the rule (F ≥ R or F not lowered).
    function applyFill(
        Ledger storage ledger,
        IOracleAdapter oracle,
        uint256 scale,
        address account,
        uint256 marketId,
        int256 sizeDelta,
        uint256 notional,
        uint256 fee
    ) external returns (int256 sizeBefore, bool onlyReduces) {
        FREE_BEFORE.asInt256().tstore(_signedFree(ledger, oracle, account, true));
        (sizeBefore, onlyReduces) = ledger.applyFill(account, marketId, sizeDelta, notional, fee);
        _requireKept(
            ledger,
            scale,
            account,
            _signedFree(ledger, oracle, account, onlyReduces),
            FREE_BEFORE.asInt256().tload()
        );
    }

    /// @notice A member's free collateral F before a liquidation, ADL step or socialization it calls, each of which
    /// may hand it a position (see {requireKeptAfter}).
    /// @param ledger The clearing house's ledger.
    /// @param oracle The clearing house's oracle adapter.
    /// @param account The caller, a member.
    /// @return free Its signed free collateral.
    function freeBefore(
        Ledger storage ledger,
        IOracleAdapter oracle,
        address account
    ) external view returns (int256 free) {
        return _signedFree(ledger, oracle, account, true);
    }

    /// @notice The rule after a hand-over to a member: F ≥ R or F ≥ `before`. The hand-over already passed the
    /// margin check, so F is read plain.
    /// @param ledger The clearing house's ledger.
    /// @param oracle The clearing house's oracle adapter.
    /// @param scale Collateral units per token unit (10^(18 − decimals)).
    /// @param account The caller, a member.
    /// @param before Its free collateral before the call ({freeBefore}).
    function requireKeptAfter(
        Ledger storage ledger,
        IOracleAdapter oracle,
        uint256 scale,
        address account,
        int256 before
    ) external view {
        _requireKept(ledger, scale, account, _signedFree(ledger, oracle, account, true), before);
    }

    /// @dev Reverts when `free` is below both `before` and the reserve.
    function _requireKept(
        Ledger storage ledger,
        uint256 scale,
        address account,
        int256 free,
        int256 before
    ) private view {
        if (free >= before) return;
        uint256 reserve = reserveOf(ledger, account, scale);
        if (free < reserve.toInt256()) {
            revert IClearingHouseErrors.AssessmentReserveRequired(account, FixedPointMath.positivePart(free), reserve);
        }
    }

    /// @dev The member's reserve (18 decimals): what its fund may still assess it this period; 0 for no member.
    function reserveOf(Ledger storage ledger, address account, uint256 scale) internal view returns (uint256) {
        uint256 key = ledger.accounts[account].memberOf;
        if (key == 0) return 0;
        return IDefaultLayers(fundOf(ledger, key)).assessmentCapLeft(account) * scale;
    }

    /// @dev The fund of a member mark: the shared fund for 1, isolated market m's for 2 + m.
    function fundOf(Ledger storage ledger, uint256 key) internal view returns (address) {
        return key == 1 ? address(ledger.insuranceFund) : ledger.isolatedPools[key - 2].fund;
    }

    /// @dev min(collateral − pending charges, equity − initial margin), not clamped at 0, so that a member already
    /// below its initial margin cannot lower it further either. After an increasing fill below initial margin it is
    /// type(int256).max: the clearing house's margin check refuses that fill with its own error.
    function _signedFree(
        Ledger storage ledger,
        IOracleAdapter oracle,
        address account,
        bool onlyReduces
    ) private view returns (int256) {
        Health memory h = ledger.health(oracle, account);
        int256 excess = h.equity - h.initialMargin.toInt256();
        if (!onlyReduces && excess < 0) return type(int256).max;
        int256 withdrawable = ledger.accounts[account].collateral - h.pendingCharges;
        return withdrawable < excess ? withdrawable : excess;
    }
}
