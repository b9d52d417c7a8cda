// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AccountHealth, MarketParams, Order} from "../interfaces/ClearingHouseTypes.sol";
import {IClearingHouseErrors} from "../interfaces/IClearingHouseErrors.sol";
import {IClearingHouseEvents} from "../interfaces/IClearingHouseEvents.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {FundDrawLib} from "./FundDrawLib.sol";
import {FundingLogic} from "./FundingLogic.sol";
import {Ledger, LedgerLib, Health, Prices} from "./Ledger.sol";
import {MemberReserveLib} from "./MemberReserveLib.sol";

/// @title FillLogic
/// @notice A fill of a signed order, from the order's checks to both sides' margin, and the margin view
/// {accountHealth} that values an account as a fill's margin check does. Deployed once and linked, like
/// {LiquidationLogic}, so that the clearing house keeps room under the contract size limit; the clearing house
/// keeps the EIP-712 digest (its domain) and the pause flag and passes both in.
/// @dev One library hop per fill: the funding premium intake of the fill ({FundingLogic-takePendingPremium},
/// {FundingLogic-recordPremium}) is internal and compiled in here, not a call of its own.
library FillLogic {
    using SafeCast for uint256;
    using FixedPointMath for uint256;
    using LedgerLib for Ledger;

    /// @notice See {IClearingHouse.fillOrder}: checks and consumes the order, then moves `fillSize` between its
    /// maker and the taker (the caller) at the order's price, with both sides' fees and margin checks.
    /// @param ledger The clearing house's state.
    /// @param oracle The clearing house's oracle adapter.
    /// @param scale 10^(18 − token decimals).
    /// @param order The maker's order.
    /// @param orderHash The order's EIP-712 digest under the clearing house's domain.
    /// @param signature The maker's signature of `orderHash` (ECDSA or ERC-1271).
    /// @param fillSize Base size to fill (18 decimals).
    /// @param paused Whether the clearing house is paused: then only fills that reduce both sides pass.
    function fillOrder(
        Ledger storage ledger,
        IOracleAdapter oracle,
        uint256 scale,
        Order calldata order,
        bytes32 orderHash,
        bytes calldata signature,
        uint256 fillSize,
        bool paused
    ) external {
        if (fillSize == 0) revert IClearingHouseErrors.ZeroAmount();
        MarketParams memory params = ledger.market(order.marketId);
        if (msg.sender == order.maker) revert IClearingHouseErrors.SelfTrade(msg.sender);
        _consumeOrder(ledger, order, orderHash, signature, fillSize);
        // One read of each feed for the whole fill: both margin checks value the filled market at this price.
        _executeFill(ledger, LedgerLib.pricesFrom(oracle), scale, order, orderHash, params, fillSize, paused);
        emit IClearingHouseEvents.OrderFilled(
            orderHash,
            order.maker,
            msg.sender,
            order.marketId,
            order.isBuy,
            fillSize,
            order.limitPrice
        );
    }

    /// @notice See {IClearingHouse.accountHealth}.
    /// @param ledger The clearing house's state.
    /// @param oracle The clearing house's oracle adapter.
    /// @param account The account read.
    /// @return health Its collateral, equity, requirements and free collateral (18 decimals).
    function accountHealth(
        Ledger storage ledger,
        IOracleAdapter oracle,
        address account
    ) external view returns (AccountHealth memory health) {
        Health memory h = ledger.health(oracle, account);
        health.collateral = ledger.accounts[account].collateral;
        health.equity = h.equity;
        health.initialMargin = h.initialMargin;
        health.maintenanceMargin = h.maintenanceMargin;
        health.freeCollateral = ledger.freeCollateral(account, h);
    }

    /// @dev The order is live, not overfilled and signed by its maker; records the filled size.
    function _consumeOrder(
        Ledger storage ledger,
        Order calldata order,
        bytes32 orderHash,
        bytes calldata signature,
        uint256 fillSize
    ) private {
        if (block.timestamp > order.expiry) revert IClearingHouseErrors.OrderExpired(orderHash, order.expiry);
        if (ledger.cancelled[orderHash]) revert IClearingHouseErrors.OrderCancelled(orderHash);
        uint256 minNonce = ledger.minValidNonce[order.maker];
        if (order.nonce < minNonce) {
            revert IClearingHouseErrors.OrderNonceInvalidated(order.maker, order.nonce, minNonce);
        }
        uint256 filled = ledger.filled[orderHash];
        if (filled + fillSize > order.size) {
            revert IClearingHouseErrors.OrderOverfill(orderHash, filled, fillSize, order.size);
        }
        if (!SignatureChecker.isValidSignatureNow(order.maker, orderHash, signature)) {
            revert IClearingHouseErrors.InvalidSignature(order.maker, orderHash);
        }
        ledger.filled[orderHash] = filled + fillSize;
    }

    /// @dev Moves `fillSize` between maker and taker (the caller) at the order's price. In three steps
    /// ({_openFill}, {_fillSides}, {_closeFill}) only because the library's extra parameters (ledger, oracle, scale,
    /// pause flag) would not fit the stack in one function.
    function _executeFill(
        Ledger storage ledger,
        Prices memory prices,
        uint256 scale,
        Order calldata order,
        bytes32 orderHash,
        MarketParams memory params,
        uint256 fillSize,
        bool paused
    ) private {
        uint256 oraclePrice = _openFill(ledger, prices, order, params);
        uint256 openInterestBefore = ledger.marketStates[order.marketId].longOpenInterest;
        (bool makerReduces, bool takerReduces) = _fillSides(
            ledger,
            prices.oracle,
            scale,
            order,
            orderHash,
            params,
            fillSize
        );
        // While paused, only fills that reduce both sides pass: traders can still cut risk, nobody adds any.
        if (paused && !(makerReduces && takerReduces)) revert Pausable.EnforcedPause();
        _closeFill(ledger, prices, order, params, oraclePrice, openInterestBefore, makerReduces, takerReduces);
    }

    /// @dev Before anything moves: the band check, the market's funding accrual and the previous block's premium
    /// sample taken in. Returns the oracle price.
    function _openFill(
        Ledger storage ledger,
        Prices memory prices,
        Order calldata order,
        MarketParams memory params
    ) private returns (uint256 oraclePrice) {
        oraclePrice = LedgerLib.priceOf(prices, order.marketId, params);
        _requireInsideBand(order.limitPrice, oraclePrice, params.priceBand);
        ledger.accrueFunding(order.marketId, params, oraclePrice);
        FundingLogic.takePendingPremium(ledger, order.marketId, params.maxFundingRate);
    }

    /// @dev After both sides moved: the open-interest cap, this block's premium sample and both sides' margin.
    function _closeFill(
        Ledger storage ledger,
        Prices memory prices,
        Order calldata order,
        MarketParams memory params,
        uint256 oraclePrice,
        uint256 openInterestBefore,
        bool makerReduces,
        bool takerReduces
    ) private {
        _requireOpenInterestCap(ledger, order.marketId, openInterestBefore, params.maxOpenInterest);
        FundingLogic.recordPremium(ledger, order.marketId, order.limitPrice, oraclePrice, openInterestBefore);
        ledger.requireMarginAfterFill(prices, order.maker, makerReduces);
        ledger.requireMarginAfterFill(prices, msg.sender, takerReduces);
    }

    /// @dev The maker's side of the fill, then the taker's (a separate function for the stack's sake).
    function _fillSides(
        Ledger storage ledger,
        IOracleAdapter oracle,
        uint256 scale,
        Order calldata order,
        bytes32 orderHash,
        MarketParams memory params,
        uint256 fillSize
    ) private returns (bool makerReduces, bool takerReduces) {
        uint256 notional = fillSize.mulWad(order.limitPrice);
        int256 makerDelta = order.isBuy ? fillSize.toInt256() : -fillSize.toInt256();
        int256 makerBefore;
        (makerBefore, makerReduces) = _fillSide(
            ledger,
            oracle,
            scale,
            order.maker,
            order.marketId,
            makerDelta,
            notional,
            notional.mulWadUp(params.makerFeeRatio)
        );
        if (order.reduceOnly && !makerReduces) {
            revert IClearingHouseErrors.ReduceOnlyViolated(orderHash, makerBefore, makerDelta);
        }
        (, takerReduces) = _fillSide(
            ledger,
            oracle,
            scale,
            msg.sender,
            order.marketId,
            -makerDelta,
            notional,
            notional.mulWadUp(params.takerFeeRatio)
        );
    }

    function _fillSide(
        Ledger storage ledger,
        IOracleAdapter oracle,
        uint256 scale,
        address account,
        uint256 marketId,
        int256 sizeDelta,
        uint256 notional,
        uint256 fee
    ) private returns (int256 sizeBefore, bool onlyReduces) {
        _collectFee(ledger, marketId, fee);
        // A clearing member keeps its assessment reserve (MemberReserveLib); its mark shares the collateral's slot.
        if (ledger.accounts[account].memberOf == 0) {
            (sizeBefore, onlyReduces) = ledger.applyFill(account, marketId, sizeDelta, notional, fee);
        } else {
            (sizeBefore, onlyReduces) = MemberReserveLib.applyFill(
                ledger,
                oracle,
                scale,
                account,
                marketId,
                sizeDelta,
                notional,
                fee
            );
        }
        ledger.requireSideNotFrozen(marketId, sizeBefore, sizeBefore + sizeDelta);
    }

    function _requireInsideBand(uint256 price, uint256 oraclePrice, uint256 band) private pure {
        uint256 distance = price > oraclePrice ? price - oraclePrice : oraclePrice - price;
        if (distance > oraclePrice.mulWad(band)) revert IClearingHouseErrors.PriceOutsideBand(price, oraclePrice, band);
    }

    function _collectFee(Ledger storage ledger, uint256 marketId, uint256 fee) private {
        if (fee == 0) return;
        uint256 toInsurance = fee.mulWad(ledger.insuranceFeeShare);
        FundDrawLib.addFees(ledger, marketId, toInsurance);
        ledger.protocolFees += (fee - toInsurance).toUint128();
        emit IClearingHouseEvents.FeesCollected(marketId, fee, toInsurance);
    }

    /// @dev A fill may not raise open interest above the cap; one that lowers it passes even above a lowered cap.
    function _requireOpenInterestCap(
        Ledger storage ledger,
        uint256 marketId,
        uint256 openInterestBefore,
        uint256 cap
    ) private view {
        // Both sides are equal after a complete fill, so checking one suffices.
        uint256 openInterest = ledger.marketStates[marketId].longOpenInterest;
        if (openInterest > cap && openInterest > openInterestBefore) {
            revert IClearingHouseErrors.OpenInterestCapExceeded(marketId, openInterest, cap);
        }
    }
}
