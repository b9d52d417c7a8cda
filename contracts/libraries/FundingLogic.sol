// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {MarketParams, MarketState} from "../interfaces/IClearingHouse.sol";
import {IClearingHouseErrors} from "../interfaces/IClearingHouseErrors.sol";
import {IClearingHouseEvents} from "../interfaces/IClearingHouseEvents.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {FundingMath} from "./FundingMath.sol";
import {Ledger, LedgerLib} from "./Ledger.sol";
import {MarketParamsLib} from "./MarketParamsLib.sol";

/// @title FundingLogic
/// @notice The premium intake of funding: each fill adds to its block's premium sample, and the first fill of a
/// later block takes that sample into the premium average. Both steps are internal: {FillLogic} compiles them into
/// the fill, so that a fill's premium work costs no library call of its own. Listing and a change of market
/// parameters are external here (deployed once and linked, like {LiquidationLogic}, so that the clearing house fits
/// the contract size limit); a change of parameters must close the funding owed under the old clamp first.
/// @dev The fills of one block form a sample: Σ premium × open interest added (`pendingPremium`) over Σ open
/// interest added (`pendingOpenInterestAdded`), with `pendingBaseOpenInterest` the open interest before the block.
/// At the first fill of a later block, before that fill moves anything,
///
///     held = min(added, open interest now − base)          (0 when open interest now ≤ base)
///
/// is the part of what the sample added that is still open. The average takes in the premium of that part, as
/// the value closest to zero that the sample's sum and premium range allow (`pendingMinPremium`,
/// `pendingMaxPremium`; FundingMath.heldPremium), with weight min(elapsed, PREMIUM_WINDOW) / PREMIUM_WINDOW ×
/// min(held, base) / (min(held, base) + base) (FundingMath.nextPremiumEma). Open interest added and closed in one
/// block is not held, so a round trip alone moves nothing, and beside an honest fill it cannot pull the sample
/// past that fill's premium; a first fill (base 0) has no weight.
library FundingLogic {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;
    using MarketParamsLib for MarketParams;
    using LedgerLib for Ledger;

    /// @notice See {IClearingHouse.updateMarketParams}: accrues funding and takes the pending premium under the
    /// old parameters, then stores the new ones.
    /// @param ledger The clearing house's state.
    /// @param oracle The clearing house's oracle adapter.
    /// @param marketId The market.
    /// @param params The new parameters (validated here; the loss policy may not change).
    function updateMarketParams(
        Ledger storage ledger,
        IOracleAdapter oracle,
        uint256 marketId,
        MarketParams calldata params
    ) external {
        MarketParams memory current = ledger.market(marketId);
        if (params.lossPolicy != current.lossPolicy) revert IClearingHouseErrors.LossPolicyImmutable(marketId);
        params.validate();
        // Funding up to now is owed at the old clamp. It is priced through the new feed, which must answer
        // anyway, so that a dead feed can still be replaced.
        ledger.accrueFunding(marketId, current, LedgerLib.price(oracle, params));
        // The average is re-set now under the old clamp, so that its fall follows the new clamp from here.
        takePendingPremium(ledger, marketId, current.maxFundingRate);
        ledger.marketParams[marketId] = params;
        emit IClearingHouseEvents.MarketParamsUpdated(marketId, params);
    }

    /// @notice Takes the previous block's premium sample into the average, weighted by how much of the open
    /// interest it added is still open and for how long, and re-anchors the decay at now. Called before a fill
    /// moves anything, so that a fill cannot count its own open interest as held, and before a change of the
    /// funding clamp, so that the average so far falls under the old clamp. The market must be accrued.
    /// @param ledger The clearing house's state.
    /// @param marketId The market.
    /// @param maxFundingRate The market's funding clamp in force until now (18 decimals, per day).
    function takePendingPremium(Ledger storage ledger, uint256 marketId, uint256 maxFundingRate) internal {
        MarketState storage state = ledger.marketStates[marketId];
        uint256 sampleTime = state.pendingPremiumTime;
        if (sampleTime == block.timestamp) return;
        int256 ema = FundingMath.decayedPremium(
            state.premiumEma,
            maxFundingRate,
            block.timestamp - state.lastPremiumTime
        );
        uint256 base = state.pendingBaseOpenInterest;
        uint256 openInterest = state.longOpenInterest;
        uint256 added = state.pendingOpenInterestAdded;
        // Held: added and still open now. It weighs at most as much as the base, so that one sample moves the
        // average at most halfway.
        uint256 held = openInterest > base ? Math.min(openInterest - base, added) : 0;
        if (held != 0 && base != 0) {
            int256 sample = FundingMath.heldPremium(
                state.pendingPremium,
                added,
                held,
                state.pendingMinPremium,
                state.pendingMaxPremium
            );
            ema = FundingMath.nextPremiumEma(ema, sample, block.timestamp - sampleTime, Math.min(held, base), base);
        }
        state.premiumEma = FundingMath.clampedRate(ema, maxFundingRate).toInt128();
        state.lastPremiumTime = uint64(block.timestamp);
        state.pendingPremium = 0;
        state.pendingOpenInterestAdded = 0;
    }

    /// @notice Adds a fill to this block's premium sample, weighted by the open interest it added (none when it
    /// added none). The first fill of a block also records the open interest before it as the sample's base.
    /// @param ledger The clearing house's state.
    /// @param marketId The market.
    /// @param fillPrice The fill's price (18 decimals).
    /// @param oraclePrice The oracle price the fill was checked against (18 decimals).
    /// @param openInterestBefore One side's open interest before the fill.
    function recordPremium(
        Ledger storage ledger,
        uint256 marketId,
        uint256 fillPrice,
        uint256 oraclePrice,
        uint256 openInterestBefore
    ) internal {
        MarketState storage state = ledger.marketStates[marketId];
        if (state.pendingPremiumTime != block.timestamp) {
            state.pendingPremiumTime = uint64(block.timestamp);
            state.pendingBaseOpenInterest = openInterestBefore.toUint128();
        }
        uint256 openInterest = state.longOpenInterest;
        if (openInterest <= openInterestBefore) return;
        uint256 added = openInterest - openInterestBefore;
        int256 premium = FundingMath.premium(fillPrice, oraclePrice);
        // The premium range of the fills that added interest bounds what the held part can show (heldPremium).
        int64 premium64 = premium.toInt64();
        if (state.pendingOpenInterestAdded == 0) {
            (state.pendingMinPremium, state.pendingMaxPremium) = (premium64, premium64);
        } else if (premium64 < state.pendingMinPremium) {
            state.pendingMinPremium = premium64;
        } else if (premium64 > state.pendingMaxPremium) {
            state.pendingMaxPremium = premium64;
        }
        // Rounded toward zero, as FundingMath.heldPremium rounds the sample.
        int256 weighted =
            premium < 0
                ? FixedPointMath.mulDivCeil(premium, added.toInt256(), FixedPointMath.WAD)
                : FixedPointMath.mulDivFloor(premium, added.toInt256(), FixedPointMath.WAD);
        state.pendingPremium = (state.pendingPremium + weighted).toInt128();
        state.pendingOpenInterestAdded = (state.pendingOpenInterestAdded + added).toUint128();
    }

    /// @notice See {IClearingHouse.setInsuranceFund}: once, and never a fund that backs an isolated market. Here, as
    /// an administrative path, to keep the clearing house under the size limit.
    /// @param ledger The clearing house's state.
    /// @param fund The shared fund.
    function setInsuranceFund(Ledger storage ledger, address fund) external {
        if (fund == address(0)) revert IClearingHouseErrors.InvalidAddress(fund);
        address current = address(ledger.insuranceFund);
        if (current != address(0)) revert IClearingHouseErrors.InsuranceFundAlreadySet(current);
        if (ledger.isolatedFunds[fund] != 0) revert IClearingHouseErrors.FundAlreadyInUse(fund);
        ledger.insuranceFund = IInsuranceFund(fund);
        emit IClearingHouseEvents.InsuranceFundSet(fund);
    }

    /// @notice See {IClearingHouse.withdrawProtocolFees} (an administrative path, here for the same reason).
    /// @param ledger The clearing house's state.
    /// @param token The collateral token.
    /// @param scale 10^(18 − token decimals).
    /// @param to The recipient.
    /// @param amount Token decimals.
    function withdrawProtocolFees(
        Ledger storage ledger,
        IERC20 token,
        uint256 scale,
        address to,
        uint256 amount
    ) external {
        if (amount == 0) revert IClearingHouseErrors.ZeroAmount();
        if (to == address(0)) revert IClearingHouseErrors.InvalidAddress(to);
        uint256 debit = amount * scale;
        uint256 available = ledger.protocolFees;
        if (debit > available) revert IClearingHouseErrors.InsufficientProtocolFees(available, debit);
        ledger.protocolFees = uint128(available - debit);
        token.safeTransfer(to, amount);
        emit IClearingHouseEvents.ProtocolFeesWithdrawn(to, amount);
    }

    /// @notice See {IClearingHouse.listMarket}: checks the parameters' bounds and that the feed answers now (a feed
    /// that cannot would make the market untradeable), then starts its funding clock. Here rather than in the
    /// clearing house so that the bounds checks are compiled once, with {updateMarketParams}.
    /// @param ledger The clearing house's state.
    /// @param oracle The clearing house's oracle adapter.
    /// @param params The new market's parameters.
    /// @param maxMarkets Most markets that may be listed.
    /// @return marketId The new market's id.
    function listMarket(
        Ledger storage ledger,
        IOracleAdapter oracle,
        MarketParams calldata params,
        uint256 maxMarkets
    ) external returns (uint256 marketId) {
        return _list(ledger, oracle, params, maxMarkets);
    }

    /// @notice See {IClearingHouse.listIsolatedMarket}: lists the market, then gives it `fund` and a pot of its own.
    /// A fund serves one market only, never also the shared layers: otherwise one market's default would reach
    /// another's resources through it.
    /// @param ledger The clearing house's state.
    /// @param oracle The clearing house's oracle adapter.
    /// @param params The new market's parameters.
    /// @param maxMarkets Most markets that may be listed.
    /// @param fund The market's own insurance fund.
    /// @return marketId The new market's id.
    function listIsolatedMarket(
        Ledger storage ledger,
        IOracleAdapter oracle,
        MarketParams calldata params,
        uint256 maxMarkets,
        address fund
    ) external returns (uint256 marketId) {
        if (fund == address(0)) revert IClearingHouseErrors.InvalidAddress(fund);
        if (ledger.isolatedFunds[fund] != 0 || fund == address(ledger.insuranceFund)) {
            revert IClearingHouseErrors.FundAlreadyInUse(fund);
        }
        marketId = _list(ledger, oracle, params, maxMarkets);
        ledger.isolatedMarkets |= 1 << marketId;
        ledger.isolatedPools[marketId].fund = fund;
        ledger.isolatedFunds[fund] = marketId + 1;
        emit IClearingHouseEvents.IsolatedMarketListed(marketId, fund);
    }

    function _list(
        Ledger storage ledger,
        IOracleAdapter oracle,
        MarketParams calldata params,
        uint256 maxMarkets
    ) private returns (uint256 marketId) {
        marketId = ledger.marketCount;
        if (marketId == maxMarkets) revert IClearingHouseErrors.MarketLimitReached(maxMarkets);
        params.validate();
        LedgerLib.price(oracle, params);
        ledger.marketCount = marketId + 1;
        ledger.marketParams[marketId] = params;
        MarketState storage state = ledger.marketStates[marketId];
        state.lastFundingTime = uint64(block.timestamp);
        state.lastPremiumTime = uint64(block.timestamp);
        emit IClearingHouseEvents.MarketListed(marketId, params);
    }
}
